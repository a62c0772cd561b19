"""Command line interface: ``skroute benchmark``."""

import argparse
import sys
from pathlib import Path

from skroute.utils import check_cost_sensitivity


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _cost_sensitivity(text):
    try:
        return check_cost_sensitivity(float(text), "--cost-sensitivity")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skroute", description="Learn LLM routing policies from logs."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "benchmark",
        help="fit the causal router and the baselines on a generated routing "
        "problem and print their test regret",
    )
    bench.add_argument(
        "--seeds", type=_positive_int, default=3, help="number of seeds (default 3)"
    )
    bench.add_argument(
        "--n-samples",
        type=_positive_int,
        default=4000,
        help="logged training rows; as many full-feedback test rows (default 4000)",
    )
    bench.add_argument(
        "--cost-sensitivity",
        type=_cost_sensitivity,
        default=0.05,
        help="lambda in quality - lambda * cost (default 0.05)",
    )
    bench.add_argument(
        "--data",
        help="a full-feedback table in RouterBench layout (<model> and "
        "<model>|total_cost columns; CSV, pickle or parquet) instead of the "
        "generated problem",
    )
    bench.add_argument(
        "--embeddings",
        help="row-aligned .npy embeddings of --data (default: the <stem>_emb*.npy "
        "file beside it, or the only .npy there)",
    )
    bench.add_argument(
        "--cost-scale",
        type=float,
        default=1.0,
        help="multiply the table's costs, e.g. 1000 for USD per 1,000 queries",
    )
    bench.add_argument(
        "--logging-policy",
        choices=["linear", "topic", "uniform"],
        default="linear",
        help="the simulated logging policy (topic needs --topic-column with --data)",
    )
    bench.add_argument("--topic-column", help="the table's topic or task column")
    bench.add_argument("--out", help="write per-seed results to a .json or .csv file")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "benchmark":
        from skroute.cli._benchmark import format_results, run_benchmark, write_results

        if args.out is not None and Path(args.out).suffix not in (".json", ".csv"):
            raise SystemExit(f"skroute: --out must end in .json or .csv: {args.out}")
        if args.logging_policy == "topic" and args.data and not args.topic_column:
            raise SystemExit("skroute: --logging-policy topic needs --topic-column")
        try:
            results = run_benchmark(
                args.n_samples,
                range(args.seeds),
                args.cost_sensitivity,
                data=args.data,
                embeddings=args.embeddings,
                cost_scale=args.cost_scale,
                logging_policy=args.logging_policy,
                topic_column=args.topic_column,
            )
        except (OSError, ValueError) as exc:
            raise SystemExit(f"skroute: {exc}") from exc
        source = "Generated routing problem" if args.data is None else args.data
        print(format_results(results, args.cost_sensitivity, args.seeds, source))
        if args.out is not None:
            write_results(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
