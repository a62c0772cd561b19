"""``skroute fit`` and ``skroute evaluate``: routers on a user's own log files."""

import sys
from pathlib import Path

import numpy as np

from skroute.causal import LoggedNuisances
from skroute.datasets import load_logs
from skroute.datasets._loaders import _read_table

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


def _read_logs(args, path):
    embedding_columns = embeddings = None
    if args.embedding_prefix is not None:
        if args.embeddings is not None:
            raise ValueError("pass one of --embeddings and --embedding-prefix.")
        header = [str(c) for c in _read_table(path, trusted=args.trust_pickle).columns]
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
        from skroute.cli._benchmark import _find_embeddings

        embeddings = args.embeddings or _find_embeddings(path)
    return load_logs(
        path,
        model_column=args.model_column,
        quality_column=args.quality_column,
        cost_column=args.cost_column,
        propensity_column=args.propensity_column,
        embedding_columns=embedding_columns,
        embeddings=embeddings,
        trusted=args.trust_pickle,
    )


def _same_file(first, second):
    try:
        return Path(first).resolve() == Path(second).resolve() or (
            Path(first).exists()
            and Path(second).exists()
            and Path(first).samefile(second)
        )
    except OSError:
        return False


def check_out(args):
    """Refuse an ``--out`` that is an input or has no folder (before any fit)."""
    out = Path(args.out)
    inputs = {"the log file": args.logs}
    if args.embeddings is not None:
        inputs["--embeddings"] = args.embeddings
    else:
        found = None
        if args.embedding_prefix is None:
            from skroute.cli._benchmark import _find_embeddings

            try:
                found = _find_embeddings(Path(args.logs))
            except (OSError, ValueError):
                found = None
        if found is not None:
            inputs["the embeddings"] = found
    for what, path in inputs.items():
        if _same_file(out, path):
            raise ValueError(
                f"--out {args.out} is {what}: saving there would destroy it; "
                "choose another path."
            )
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out {args.out}: no folder {folder}; create it first.")
    if out.is_dir():
        raise ValueError(f"--out {args.out} is a folder; give a file path.")
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
    if args.router == "interval":
        return IntervalCostRouter(
            cost_range=tuple(args.cost_range), cost_sensitivity=lam, random_state=seed
        )
    if args.router == "causal":
        return CausalRouterClassifier(cost_sensitivity=lam, random_state=seed)
    if args.router == "decoupled":
        return DecoupledRouter(cost_sensitivity=lam)
    return BestSingleModelRouter(cost_sensitivity=lam, random_state=seed)


def fit_command(args, out):
    """Fit a router on a log file and save it atomically."""
    from skroute.persistence import save_router

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
            logs.X,
            logs.action,
            reward=logs.reward,
            cost=logs.cost,
            propensity=logs.propensity,
        )
    else:
        router, n_fitted = _fit_to_budget(router, logs, args, out)
    save_router(router, target)
    if replaced:
        print(f"skroute: replaced {target}", file=sys.stderr)
    if args.export is not None:
        router.export(args.export)
    shares = _shares(router.classes_, logs.action)
    print(
        f"fitted {router!r} on {n_fitted} logged rows of {args.logs} "
        f"({router.classes_.size} models; logged shares {shares}); saved to "
        f"{args.out}",
        file=out,
    )


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
        logs.X,
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity,
    )
    result = budgeted.budget_result_
    bound = " (its 95% upper bound)" if args.conservative else ""
    print(
        f"budget {args.budget:g} per query{bound}: lambda = "
        f"{result.cost_sensitivity:.4g}, estimated on {result.n_samples} held-out "
        f"rows at mean cost {result.estimated_cost:.4g} ± {result.cost_se:.2g} "
        f"and mean quality {result.estimated_quality:.4g} ± "
        f"{result.quality_se:.2g}",
        file=out,
    )
    # The fitted interval router is the CLI's own (a clone fitted by the
    # BudgetRouter): it is saved with the chosen lambda as its default.
    fitted = budgeted.router_.set_params(cost_sensitivity=result.cost_sensitivity)
    return fitted, logs.X.shape[0] - result.n_samples


def _shares(classes, chosen):
    chosen = np.asarray(chosen)
    return ", ".join(f"{m}: {np.mean(chosen == m):.0%}" for m in classes.tolist())


def evaluate_command(args, out):
    """Off-policy estimates of a saved router's utility, quality and cost."""
    from skroute.persistence import load_router
    from skroute.routers import IntervalCostRouter

    router = load_router(args.router_file, trusted=args.trust_pickle)
    logs = read_logs(args)
    lam = args.cost_sensitivity
    if lam is None:
        lam = router.cost_sensitivity
    if isinstance(router, IntervalCostRouter):
        chosen = router.predict(logs.X, cost_sensitivity=lam)
    else:
        chosen = router.predict(logs.X)
    evaluation = LoggedNuisances(
        logs.action,
        reward=logs.reward,
        cost=logs.cost,
        propensity=logs.propensity,
        X=logs.X,
        classes=router.classes_,
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
    print(
        f"{args.router_file} on {logs.X.shape[0]} logged rows of {args.logs}, "
        f"cost_sensitivity={lam:g}, {args.method} estimates:",
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


def _load_queries(args):
    path = Path(args.queries)
    if not path.exists():
        raise ValueError(f"{path}: no such file (the queries to route).")
    if args.embedding_prefix is not None and args.text_column is not None:
        raise ValueError("pass one of --embedding-prefix and --text-column.")
    if path.suffix.lower() == ".npy":
        if args.embedding_prefix is not None or args.text_column is not None:
            raise ValueError(
                "--embedding-prefix and --text-column apply to a table, not a .npy "
                "file."
            )
        return np.load(path, allow_pickle=False)
    if args.embedding_prefix is None and args.text_column is None:
        raise ValueError(
            f"{path}: a table of queries needs --embedding-prefix (the columns of "
            "the embedding) or --text-column (prompts to embed), or pass the "
            "embeddings as a .npy file."
        )
    table = _read_table(path, trusted=args.trust_pickle)
    if args.text_column is not None:
        return _embedded_prompts(table, path, args.text_column)
    columns = [c for c in table.columns if c.startswith(args.embedding_prefix)]
    if not columns:
        raise ValueError(
            f"{path}: no column starts with --embedding-prefix "
            f"{args.embedding_prefix!r} (the columns are {list(table.columns)})."
        )
    from skroute.utils import check_numeric

    return check_numeric(table[columns].to_numpy(), f"{path}: the embedding columns")


def _embedded_prompts(table, path, column):
    """The prompts of one table column, embedded by PromptEmbedder's default."""
    if column not in table.columns:
        raise ValueError(
            f"{path}: no column {column!r} (--text-column); the columns are "
            f"{list(table.columns)}."
        )
    try:
        from skroute.text import PromptEmbedder

        embedder = PromptEmbedder().fit(table[column].astype(str).tolist())
    except ImportError as exc:
        raise ImportError(
            f"--text-column needs the text extra: pip install 'skroute[text]' ({exc})."
        ) from None
    return embedder.transform(table[column].astype(str).tolist())


def route_command(args, out):
    """Route the queries of a file with a saved or exported router."""
    path = Path(args.router_file)
    if not path.exists():
        raise ValueError(f"{path}: no such file (the router).")
    X = _load_queries(args)
    if path.suffix.lower() == ".npz":
        from skroute.serving import load_exported

        router = load_exported(path)
        takes_lambda = router.router == "IntervalCostRouter"
    else:
        from skroute.persistence import load_router
        from skroute.routers import IntervalCostRouter

        router = load_router(path, trusted=args.trust_pickle)
        takes_lambda = isinstance(router, IntervalCostRouter)
    if args.cost_sensitivity is not None and not takes_lambda:
        raise ValueError(
            "--cost-sensitivity applies to an interval router; this router was "
            "fitted at one lambda (refit it to change it)."
        )
    if takes_lambda:
        routes = router.predict(X, cost_sensitivity=args.cost_sensitivity)
    else:
        routes = router.predict(X)
    import pandas

    target = Path(args.out)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out {args.out}: no folder {folder}; create it first.")
    pandas.DataFrame({"model": routes}).to_csv(target, index=False)
    print(
        f"routed {len(routes)} queries with {path}: "
        f"{_shares(router.classes_, routes)}; written to {target}",
        file=out,
    )
