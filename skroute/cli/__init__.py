"""Command line interface: ``skroute benchmark``."""

import argparse
import sys

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
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "benchmark":
        from skroute.cli._benchmark import format_results, run_benchmark

        results = run_benchmark(
            args.n_samples, range(args.seeds), args.cost_sensitivity
        )
        print(format_results(results, args.cost_sensitivity, args.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
