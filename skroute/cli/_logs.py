"""``skroute fit`` and ``skroute evaluate``: routers on a user's own log files."""

import csv
import io
import sys
from pathlib import Path

import numpy as np

from skroute.causal import LoggedNuisances
from skroute.cli._files import check_outputs, find_embeddings
from skroute.datasets import load_logs
from skroute.datasets._loaders import _read_table
from skroute.utils import atomic_write
from skroute.utils._checks_data import load_array_file

ROUTERS = ("causal", "interval", "decoupled", "best-single")


def _named_columns(args):
    """The columns the command line names for a role other than the embedding."""
    return {
        option: column
        for option, column in (
            ("--model-column", args.model_column),
            ("--quality-column", args.quality_column),
            ("--cost-column", args.cost_column),
            ("--propensity-column", args.propensity_column),
        )
        if column is not None
    }


_COLUMN_OPTIONS = {
    "model": "--model-column",
    "quality": "--quality-column",
    "cost": "--cost-column",
    "propensity": "--propensity-column",
}


def read_logs(args):
    """The log file named on the command line, as a :func:`load_logs` Bunch."""
    path = Path(args.logs)
    if not path.exists():
        raise ValueError(f"{path}: no such file (the log file).")
    try:
        logs = _read_logs(args, path)
    except ValueError as exc:
        message = str(exc)
        for what, option in _COLUMN_OPTIONS.items():
            if f"missing {what} column" in message:
                raise ValueError(f"{message} Name it with {option}.") from None
        raise
    if logs.cost is not None and args.cost_scale != 1.0:
        logs.cost = logs.cost * args.cost_scale
    return logs


def _features(logs):
    """The logged queries, as a table named by its embedding columns if it has any."""
    if logs.get("feature_names") is None:
        return logs.X
    import pandas

    return pandas.DataFrame(logs.X, columns=logs.feature_names)


def _read_logs(args, path):
    embedding_columns = embeddings = None
    if args.embedding_prefix is not None:
        if args.embeddings is not None:
            raise ValueError("pass one of --embeddings and --embedding-prefix.")
        header = [str(c) for c in _read_table(path).columns]
        named = _named_columns(args)
        embedding_columns = [
            c
            for c in header
            if c.startswith(args.embedding_prefix) and c not in named.values()
        ]
        skipped = [
            f"{c!r} ({option})"
            for option, c in named.items()
            if c in header and c.startswith(args.embedding_prefix)
        ]
        if skipped:
            print(
                f"skroute: --embedding-prefix {args.embedding_prefix!r} leaves out "
                f"{', '.join(skipped)}, named for another role",
                file=sys.stderr,
            )
        if not embedding_columns:
            raise ValueError(
                f"{path}: no column starts with --embedding-prefix "
                f"{args.embedding_prefix!r} (the columns are {header})."
            )
    else:
        embeddings = args.embeddings or find_embeddings(path)
    logs = load_logs(
        path,
        model_column=args.model_column,
        quality_column=args.quality_column,
        cost_column=args.cost_column,
        propensity_column=args.propensity_column,
        embedding_columns=embedding_columns,
        embeddings=embeddings,
    )
    logs.feature_names = embedding_columns
    return logs


def _embedding_inputs(args):
    """The input files of a log-reading command, by what they are called."""
    inputs = {"the log file": args.logs, "--embeddings": args.embeddings}
    if args.embeddings is None and args.embedding_prefix is None:
        try:
            inputs["the embeddings beside the logs"] = find_embeddings(Path(args.logs))
        except (OSError, ValueError):
            pass
    return inputs


def check_out(args):
    """Refuse an ``--out`` that is an input, or cannot be written (before any fit)."""
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise ValueError(
            f"--out {args.out}: a router file ends in .npz (arrays and JSON, read "
            "without running code); name it e.g. router.npz."
        )
    check_outputs({"--out": out}, _embedding_inputs(args))
    return out


def build_router(args):
    from skroute.routers import (
        BestSingleModelRouter,
        CausalRouterClassifier,
        DecoupledRouter,
        IntervalCostRouter,
    )

    seed = args.random_state
    lam = 0.0 if args.cost_sensitivity is None else args.cost_sensitivity
    # verbose=1: a progress bar of the fit's stages when it lasts over 2 s.
    if args.router == "interval":
        return IntervalCostRouter(
            cost_range=tuple(args.cost_range),
            cost_sensitivity=lam,
            random_state=seed,
            verbose=1,
        )
    if args.router == "causal":
        return CausalRouterClassifier(
            cost_sensitivity=lam, random_state=seed, verbose=1
        )
    if args.router == "decoupled":
        return DecoupledRouter(cost_sensitivity=lam)
    return BestSingleModelRouter(cost_sensitivity=lam, random_state=seed)


def fit_command(args, out):
    """Fit a router on a log file and save its router file atomically."""
    from skroute.persistence import save_router

    if args.export is not None:
        raise ValueError(
            "--export is gone: --out writes the router file (arrays and JSON) "
            "that `skroute route` and `skroute evaluate` read; drop --export."
        )
    if args.cost_scale is None:
        args.cost_scale = 1.0
    target = check_out(args)
    _check_budget_options(args)
    replaced = target.exists()
    logs = read_logs(args)
    if args.budget is not None and logs.cost is None:
        raise ValueError("--budget needs the logged cost; name it with --cost-column.")
    router = build_router(args)
    n_fitted = logs.X.shape[0]
    if args.budget is None:
        router.fit(
            _features(logs),
            logs.action,
            reward=logs.reward,
            cost=logs.cost,
            propensity=logs.propensity,
        )
    else:
        router, n_fitted = _fit_to_budget(router, logs, args, out)
    save_router(router, target, cost_scale=args.cost_scale, cost_unit=_cost_unit(args))
    if replaced:
        print(f"skroute: replaced {target}", file=sys.stderr)
    shares = _shares(router.classes_, logs.action)
    print(
        f"fitted {router!r} on {n_fitted} logged rows of {args.logs} "
        f"({router.classes_.size} models; logged shares {shares}); saved to "
        f"{args.out}",
        file=out,
    )


def _cost_unit(args):
    if args.cost_column is None:
        return None
    if args.cost_scale == 1:
        return f"the log column {args.cost_column!r}"
    return f"the log column {args.cost_column!r} x {args.cost_scale:g}"


def _check_budget_options(args):
    if args.budget is None:
        if args.conservative:
            raise ValueError("--conservative applies to --budget; pass --budget B.")
        args.router = args.router or "causal"
        return
    if args.router not in (None, "interval"):
        raise ValueError(
            f"--budget fits an interval router; drop --router {args.router} or "
            "pass --router interval."
        )
    if args.cost_sensitivity is not None:
        raise ValueError(
            "--budget chooses lambda itself; drop --cost-sensitivity (or drop "
            "--budget to fix lambda)."
        )
    args.router = "interval"


def _fit_to_budget(router, logs, args, out):
    """Fit on most rows, choose lambda to meet the budget on the rest.

    Returns the router at that lambda (saved as any interval router, so that
    ``evaluate`` and ``route`` read it as one) and the number of rows fitted.
    """
    from skroute.routers import BudgetRouter

    budgeted = BudgetRouter(
        router,
        budget=args.budget,
        conservative=args.conservative,
        cv=args.calibration_fraction,
        random_state=args.random_state,
    ).fit(
        _features(logs),
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity,
    )
    result = budgeted.budget_result_
    bound = " (its 95% upper bound)" if args.conservative else ""
    scale = "" if args.cost_scale == 1 else f" x {args.cost_scale:g}"
    print(
        f"budget {args.budget:g} per query, in units of {args.cost_column!r}"
        f"{scale}{bound}: lambda = "
        f"{result.cost_sensitivity:.4g}, estimated on {result.n_samples} held-out "
        f"rows at mean cost {result.estimated_cost:.4g} ± {result.cost_se:.2g} "
        f"and mean quality {result.estimated_quality:.4g} ± "
        f"{result.quality_se:.2g}",
        file=out,
    )
    _say_if_lambda_is_idle(budgeted.router_, logs.X, out)
    # Saved as its interval router with the chosen lambda as its default.
    return budgeted, logs.X.shape[0] - result.n_samples


def _say_if_lambda_is_idle(router, X, out):
    """A line when the deployed policy routes alike at every lambda of the range."""
    low, high = router.cost_grid_[0], router.cost_grid_[-1]
    at_low = router.predict(X, cost_sensitivity=low)
    if np.array_equal(at_low, router.predict(X, cost_sensitivity=high)):
        print(
            f"note: the fitted router routes the logged queries alike at every lambda "
            f"in [{low:g}, {high:g}] ({_shares(router.classes_, at_low)}), so lambda, "
            "and the budget, change nothing; more logged rows or more exploration "
            "give its learned policy a chance (see safety_report_).",
            file=out,
        )


def _shares(classes, chosen):
    chosen = np.asarray(chosen)
    return ", ".join(f"{m}: {np.mean(chosen == m):.0%}" for m in classes.tolist())


def _load_router_file(path, text_model=None):
    from skroute.persistence import load_router

    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file (the router).")
    return load_router(path, text_model=text_model)


def _cost_scale(args, router):
    """The cost scale of new logs: the router's own, which --cost-scale must match."""
    if args.cost_scale is None:
        return router.cost_scale
    if args.cost_scale != router.cost_scale:
        raise ValueError(
            f"--cost-scale {args.cost_scale:g}: {args.router_file} was fitted on costs "
            f"x {router.cost_scale:g}, and its lambda is in those units; drop "
            "--cost-scale (the router's own is applied) or refit the router."
        )
    return args.cost_scale


def _lambda(args, router):
    """The lambda to route and judge at: the router's own, or one of its range."""
    lam = args.cost_sensitivity
    if lam is None:
        return router.cost_sensitivity
    if router.cost_range is None and lam != router.cost_sensitivity:
        raise ValueError(
            f"--cost-sensitivity {lam:g}: {args.router_file} was fitted at lambda = "
            f"{router.cost_sensitivity:g} and routes at it alone; drop "
            "--cost-sensitivity, or refit the router at that lambda (or fit an "
            "interval router: --router interval)."
        )
    return lam


def _classes_with_unseen(classes, action):
    """The router's models, then those the logs hold and the router never
    routes to (said on stderr): their rows count as rows it did not choose."""
    known = set(np.asarray(classes).astype(str).tolist())
    names, counts = np.unique(np.asarray(action).astype(str), return_counts=True)
    unseen = [(n, c) for n, c in zip(names.tolist(), counts.tolist()) if n not in known]
    if not unseen:
        return classes
    listed = ", ".join(f"{name} ({count} rows)" for name, count in unseen)
    print(
        f"skroute: the logs hold models the router does not route to: {listed}; "
        "their rows count as rows the router did not choose",
        file=sys.stderr,
    )
    return np.concatenate([np.asarray(classes).astype(str), [n for n, _ in unseen]])


def evaluate_command(args, out):
    """Off-policy estimates of a router file's utility, quality and cost."""
    router = _load_router_file(args.router_file)
    args.cost_scale = _cost_scale(args, router)
    lam = _lambda(args, router)
    logs = read_logs(args)
    queries = _features(logs)
    if router.cost_range is not None:
        chosen = router.predict(queries, cost_sensitivity=lam)
    else:
        chosen = router.predict(queries)
    classes = _classes_with_unseen(router.classes_, logs.action)
    if classes is not router.classes_:
        chosen = chosen.astype(str)  # as the classes, now named as in the logs
    evaluation = LoggedNuisances(
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity,
        X=logs.X,
        classes=classes,
        method=args.method,
        random_state=args.random_state,
    )
    if logs.cost is None and lam != 0:
        print(
            f"skroute: no --cost-column: cost_sensitivity={lam:g} is not applied, "
            "the utility is the quality",
            file=sys.stderr,
        )
        lam = 0.0
    options = {"min_propensity": args.min_propensity}
    rows = [("utility", evaluation.value(chosen, cost_weight=-lam, **options))]
    rows.append(("quality", evaluation.value(chosen, **options)))
    if logs.cost is not None:
        cost = evaluation.value(chosen, reward_weight=0.0, cost_weight=1.0, **options)
        rows.append(("cost", cost))
    observed = logs.reward - (0.0 if logs.cost is None else lam * logs.cost)
    scale = "" if args.cost_scale == 1 else f", costs x {args.cost_scale:g}"
    print(
        f"{args.router_file} on {logs.X.shape[0]} logged rows of {args.logs}, "
        f"cost_sensitivity={lam:g}{scale}, {args.method} estimates:",
        file=out,
    )
    for name, value in rows:
        low, high = value.confidence_interval
        print(
            f"  {name:<8} {value.estimate:.4f}  (95% interval [{low:.4f}, "
            f"{high:.4f}], standard error {value.standard_error:.4f})",
            file=out,
        )
    print(f"  the logging policy's observed utility: {observed.mean():.4f}", file=out)
    print(f"  routes: {_shares(router.classes_, chosen)}", file=out)


def _load_queries(args, router):
    """The queries to route and their ids (None without --id-column):
    embeddings (by the router's feature names when it has them), or prompts
    for a router that embeds them."""
    path = Path(args.queries)
    if not path.exists():
        raise ValueError(f"{path}: no such file (the queries to route).")
    if args.embedding_prefix is not None and args.text_column is not None:
        raise ValueError("pass one of --embedding-prefix and --text-column.")
    embeds = router.embedder_settings is not None
    if embeds and args.text_column is None:
        raise ValueError(
            f"{args.router_file} embeds prompts itself (its Pipeline starts with a "
            "PromptEmbedder): pass a table of prompts with --text-column."
        )
    if path.suffix.lower() == ".npy":
        if any(
            option is not None
            for option in (args.embedding_prefix, args.text_column, args.id_column)
        ):
            raise ValueError(
                "--embedding-prefix, --text-column and --id-column apply to a "
                "table, not a .npy file."
            )
        return load_array_file(path, "the queries"), None
    if args.embedding_prefix is None and args.text_column is None:
        raise ValueError(
            f"{path}: a table of queries needs --embedding-prefix (the columns of "
            "the embedding) or --text-column (prompts to embed), or pass the "
            "embeddings as a .npy file."
        )
    labels = () if args.id_column is None else (args.id_column,)
    table = _read_table(path, label_columns=labels)
    ids = None
    if args.id_column is not None:
        ids = _text_column(table, args.id_column, "--id-column", path)
    if args.text_column is not None:
        texts = _text_column(table, args.text_column, "--text-column", path)
        return (texts if embeds else _embedded_prompts(texts)), ids
    columns = [
        c
        for c in table.columns
        if c.startswith(args.embedding_prefix) and c != args.id_column
    ]
    if not columns:
        raise ValueError(
            f"{path}: no column starts with --embedding-prefix "
            f"{args.embedding_prefix!r} (the columns are {list(table.columns)})."
        )
    from skroute.utils import check_numeric

    check_numeric(table[columns].to_numpy(), f"{path}: the embedding columns")
    # By name: the router selects and orders the columns it was fitted on.
    return table[columns].astype(np.float64), ids


def _text_column(table, column, option, path):
    """The cells of the column an option names, as strings."""
    if column not in table.columns:
        raise ValueError(
            f"{path}: no column {column!r} ({option}); the columns are "
            f"{list(table.columns)}."
        )
    return table[column].astype(str).tolist()


def _embedded_prompts(texts):
    """Prompts embedded by PromptEmbedder's default model."""
    try:
        from skroute.text import PromptEmbedder

        embedder = PromptEmbedder().fit(texts[:1] or ["prompt"])
    except ImportError as exc:
        raise ImportError(
            "--text-column needs the text extra: pip install "
            f"'scikit-route[text]' ({exc})."
        ) from None
    return embedder.transform(texts)


def route_command(args, out):
    """Route the queries of a file with a router file."""
    to_stdout = args.out == "-"
    target = None if to_stdout else Path(args.out)
    if target is not None:
        check_outputs(
            {"--out": target},
            {"the router file": args.router_file, "the queries": args.queries},
        )
    router = _load_router_file(args.router_file, args.text_model)
    lam = _lambda(args, router)
    X, ids = _load_queries(args, router)
    if router.cost_range is not None:
        routes = router.predict(X, cost_sensitivity=lam)
    else:
        routes = router.predict(X)
    rows = io.StringIO(newline="")
    writer = csv.writer(rows)
    if ids is None:
        writer.writerow(["model"])
        writer.writerows([route] for route in routes.tolist())
    else:
        writer.writerow([args.id_column, "model"])
        writer.writerows(zip(ids, routes.tolist()))
    text = rows.getvalue()
    summary = (
        f"routed {len(routes)} queries with {args.router_file}: "
        f"{_shares(router.classes_, routes)}"
    )
    if to_stdout:
        sys.stdout.write(text)
        sys.stdout.flush()
        print(summary, file=sys.stderr)  # standard output holds the routes alone
        return
    atomic_write(target, lambda file: file.write(text.encode("utf-8")))
    print(f"{summary}; written to {target}", file=out)
