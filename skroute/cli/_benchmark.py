"""``skroute benchmark``: routers and baselines on simulated logs of a full table."""

import csv
import io
import json
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from tabulate import tabulate
from tqdm import tqdm

from skroute.causal import LoggedNuisances
from skroute.cli._files import find_embeddings
from skroute.datasets import (
    costs_from_token_prices,
    load_model_prices,
    load_wide_table,
    make_routing_problem,
    simulate_logging,
)
from skroute.metrics import routing_summary
from skroute.routers import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    IntervalCostRouter,
    PolicyFallbackWarning,
    RandomRouter,
)
from skroute.utils import atomic_write

# Offset of the seed of the logs simulated on the test half (for the
# off-policy estimates), so that they differ from the training logs.
_TEST_LOG_SEED = 10_007
FULL_FEEDBACK = "full-feedback reference"
INTERVAL = "interval DR-softmax"


def _routers(cost_sensitivity, seed, models):
    """The routers refitted at each cost sensitivity, by display name."""

    def causal(surrogate="softmax"):
        return CausalRouterClassifier(
            surrogate,
            cost_sensitivity=cost_sensitivity,
            classes=models,
            random_state=seed,
        )

    return {
        "causal DR-softmax": causal(),
        "causal DR-classification": causal("classification"),
        "decoupled": DecoupledRouter(cost_sensitivity=cost_sensitivity, classes=models),
        "best single model": BestSingleModelRouter(
            cost_sensitivity=cost_sensitivity, classes=models, random_state=seed
        ),
        "random": RandomRouter(classes=models, random_state=seed),
        FULL_FEEDBACK: causal(),
    }


def load_problem(
    data,
    embeddings=None,
    cost_scale=1.0,
    topic_column=None,
    *,
    prices=None,
    text_column=None,
    output_tokens=256,
):
    """A full-feedback problem from a wide table (RouterBench layout).

    With ``prices`` (a JSON file of token prices), the models are the file's
    and each query's cost comes from :func:`costs_from_token_prices` applied
    to ``text_column``; otherwise the table's ``<model>|total_cost`` columns
    give the costs.
    """
    path = Path(data)
    models = None
    if prices is not None:
        if text_column is None:
            raise ValueError(
                "costs from token prices need the prompt text; pass --text-column."
            )
        prices = load_model_prices(prices)
        models = list(prices)
    table = load_wide_table(
        path,
        models=models,
        embeddings=find_embeddings(path) if embeddings is None else embeddings,
        task_column=topic_column,
        text_column=text_column,
    )
    cost = table.cost
    if prices is not None:
        cost = costs_from_token_prices(
            table.text, prices, models=models, output_tokens=output_tokens
        )
    elif cost is None:
        raise ValueError(
            f"{path}: the table has no '<model>|total_cost' columns; pass "
            "--prices with a JSON file of token prices."
        )
    return Bunch(
        X=table.X,
        reward=table.reward,
        expected_reward=table.reward,
        cost=cost * cost_scale,
        models=table.models,
        topic=table.task,
    )


def _split_problem(table, n_samples, seed):
    """The seed's problem, and its logged (train) and full-feedback (test) rows."""
    if table is None:
        problem = make_routing_problem(n_samples=2 * n_samples, random_state=seed)
        order = np.arange(2 * n_samples)
    else:
        problem = table
        order = np.random.default_rng(seed).permutation(len(table.X))
    half = len(order) // 2
    return problem, order[:half], order[half:]


def _simulate(problem, rows, logging_policy, is_generated, seed):
    groups = None
    if logging_policy == "topic":
        groups = (problem.cluster if is_generated else problem.topic)[rows]
    return simulate_logging(
        problem.X[rows],
        problem.reward[rows],
        problem.cost[rows],
        logging_policy=logging_policy,
        groups=groups,
        models=problem.models,
        random_state=seed,
    )


def run_benchmark(
    n_samples,
    seeds,
    cost_sensitivities,
    *,
    data=None,
    embeddings=None,
    cost_scale=1.0,
    logging_policy="linear",
    topic_column=None,
    prices=None,
    text_column=None,
    output_tokens=256,
    err=None,
    n_jobs=1,
    threads=1,
):
    """Fit every router on simulated logs; return one record per (router, seed, λ).

    Without ``data``, each seed generates a problem of ``2 * n_samples`` rows
    and logs its first half; with a table, each seed logs a random half of
    it. The other half, with full feedback, measures the true regret, and
    logs simulated on it give each router's doubly robust off-policy estimate
    of its utility, with a 95% interval. The full-feedback reference is the
    causal router trained on the complete quality and cost matrices of the
    training half (what routing could reach if every model had answered every
    query); with two lambdas or more, the interval router is fitted once per
    seed over the whole grid, and that one fit's time is reported at each.

    With ``n_jobs`` above 1 the fits run in that many processes of
    ``threads`` threads each (torch and BLAS), a lambda of a seed (or its
    interval router) per task; the records are those of a run one fit at a
    time with ``threads`` threads.
    """
    err = sys.stderr if err is None else err
    cost_sensitivities = sorted({float(c) for c in cost_sensitivities})
    table = None
    if data is not None:
        table = load_problem(
            data,
            embeddings,
            cost_scale,
            topic_column,
            prices=prices,
            text_column=text_column,
            output_tokens=output_tokens,
        )
    with_interval = len(cost_sensitivities) >= 2
    per_grid = len(_routers(0.0, 0, None)) * len(cost_sensitivities) + with_interval
    # tqdm comes with skorch. On a terminal it redraws one line; elsewhere (a
    # log file, CI) it writes a line at most every 30 s.
    progress = tqdm(
        total=per_grid * len(seeds),
        file=err,
        unit="fit",
        mininterval=0.2 if getattr(err, "isatty", lambda: False)() else 30.0,
        dynamic_ncols=True,
        leave=True,
    )
    # Each seed's logs and test rows are made here; its fits are units of work
    # (the routers at one lambda, or the interval router over the grid) that
    # run here one after the other, or in n_jobs processes at once.
    units = []
    for seed in seeds:
        data = _seed_data(seed, table, n_samples, logging_policy)
        units += [(data, lam) for lam in cost_sensitivities]
        if with_interval:
            # First: the longest fits start before the short ones.
            units.insert(0, (data, tuple(cost_sensitivities)))
    if n_jobs == 1:
        step = partial(_step, progress)
        results = [_unit_records(*unit, step=step) for unit in units]
    else:
        results = _parallel_units(units, n_jobs, threads, progress)
    found = {(unit[0].seed, unit[1]): result for unit, result in zip(units, results)}
    records = []
    for seed in seeds:
        interval = found.get((seed, tuple(cost_sensitivities)), {})
        for lam in cost_sensitivities:
            routers, references = found[seed, lam]
            records += routers
            if lam in interval:
                records.append(interval[lam])
            records += references
    progress.close()
    return records


def _seed_data(seed, table, n_samples, logging_policy):
    """One seed's logs, fit arguments, test rows and off-policy evaluation."""
    problem, train, test = _split_problem(table, n_samples, seed)
    logs = _simulate(problem, train, logging_policy, table is None, seed)
    test_logs = _simulate(
        problem, test, logging_policy, table is None, seed + _TEST_LOG_SEED
    )
    evaluation = LoggedNuisances(
        test_logs.action,
        reward=test_logs.reward,
        cost=test_logs.cost,
        propensity=test_logs.propensity,
        X=test_logs.X,
        classes=problem.models,
        method="dr",
        random_state=seed,
    )
    truth = Bunch(
        X=problem.X[test],
        reward=problem.expected_reward[test],
        cost=problem.cost[test],
        models=problem.models,
    )
    return Bunch(
        seed=seed,
        models=problem.models,
        logs=logs,
        fit_params={
            "reward": logs.reward,
            "cost": logs.cost,
            "propensity": logs.propensity,
        },
        full_params={"reward": problem.reward[train], "cost": problem.cost[train]},
        truth=truth,
        evaluation=evaluation,
    )


def _unit_records(data, lambdas, step=None):
    """The records of one unit of a seed's fits; ``step(message)`` after each fit.

    ``lambdas`` is one lambda (every router fitted at it: their records, and
    the single models' and oracle's) or the tuple of the grid (the interval
    router fitted once over it: its record at each lambda).
    """
    step = step or (lambda message: None)
    seed, truth, evaluation = data.seed, data.truth, data.evaluation
    if isinstance(lambdas, tuple):
        router = IntervalCostRouter(
            cost_range=(lambdas[0], lambdas[-1]),
            cost_sensitivity=lambdas[0],
            classes=data.models,
            random_state=seed,
        )
        router, seconds = _timed_fit(router, data.logs, data.fit_params)
        step(f"seed {seed}: {INTERVAL}")
        return {
            lam: _record(
                INTERVAL,
                seed,
                lam,
                router.predict(truth.X, cost_sensitivity=lam),
                truth,
                evaluation,
            )
            | {"fit_seconds": seconds, **_check(router)}
            for lam in lambdas
        }
    lam = lambdas
    records = []
    for name, router in _routers(lam, seed, data.models).items():
        params = data.full_params if name == FULL_FEEDBACK else data.fit_params
        router, seconds = _timed_fit(router, data.logs, params)
        records.append(
            _record(name, seed, lam, router.predict(truth.X), truth, evaluation)
            | {"fit_seconds": seconds, **_check(router)}
        )
        step(f"seed {seed}, λ={lam:g}: {name}")
    return records, _reference_records(seed, lam, truth, evaluation)


def _parallel_units(units, n_jobs, threads, progress):
    """The units' results from ``n_jobs`` processes of ``threads`` threads each.

    Each unit runs as it would alone (its own random states, ``threads``
    threads), so the records are those of a run one unit at a time; the
    progress bar moves a unit at a time, and the warnings a unit raised are
    raised here, each once.
    """
    from joblib import Parallel, delayed

    results, raised = [], {}
    done = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
        delayed(_unit_in_worker)(data, lambdas, threads) for data, lambdas in units
    )
    for (data, lambdas), (result, unit_warnings) in zip(units, done):
        results.append(result)
        for category, message in unit_warnings:
            raised.setdefault((category, message), None)
        fits = 1 if isinstance(lambdas, tuple) else len(result[0])
        what = INTERVAL if isinstance(lambdas, tuple) else f"λ={lambdas:g}"
        progress.set_postfix_str(f"seed {data.seed}, {what}", refresh=False)
        progress.update(fits)
    for category, message in raised:
        warnings.warn(message, category, stacklevel=2)
    return results


def _unit_in_worker(data, lambdas, threads):
    """One unit's results and warnings, in a worker process of ``threads`` threads."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    with threadpool_limits(threads), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _unit_records(data, lambdas)
    return result, [(w.category, str(w.message)) for w in caught]


def _step(progress, message):
    progress.set_postfix_str(message, refresh=False)
    progress.update()


def _reference_records(seed, cost_sensitivity, truth, evaluation):
    """Each single model and the oracle at one lambda (``kind`` says which)."""
    n_rows = truth.reward.shape[0]
    references = [
        (f"only {model}", "model", np.full(n_rows, model, dtype=object))
        for model in truth.models
    ]
    utility = truth.reward - cost_sensitivity * truth.cost
    oracle = np.asarray(truth.models, dtype=object)[utility.argmax(axis=1)]
    references.append(("oracle", "oracle", oracle))
    return [
        _record(name, seed, cost_sensitivity, chosen, truth, evaluation, kind=kind)
        | {"fit_seconds": 0.0, **_check(None)}
        for name, kind, chosen in references
    ]


def _timed_fit(router, logs, params):
    start = time.perf_counter()
    # A benchmark fits many routers: fallbacks are counted in the table's
    # footnote ("fallback" in the records) rather than warned about one by one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PolicyFallbackWarning)
        router.fit(logs.X, logs.action, **params)
    return router, time.perf_counter() - start


def _check(router):
    """What a neural router deployed, and the safety check's numbers behind it:
    ``fallback`` (1 where a simple policy replaced the network), and the
    check's estimated ``check_gain`` of the network over its baseline with its
    ``check_bound`` (NaN for routers without a check)."""
    report = getattr(router, "safety_report_", None)
    fell_back = hasattr(router, "net_") and not router.deployed_.learned
    if not report:
        return {
            "fallback": float(fell_back),
            "check_gain": np.nan,
            "check_bound": np.nan,
        }
    difference = report["differences"][report["baseline"]]
    return {
        "fallback": float(fell_back),
        "check_gain": float(difference["gain"]),
        "check_bound": float(difference["lower_bound"]),
    }


def _record(
    name, seed, cost_sensitivity, chosen_models, truth, evaluation, kind="router"
):
    """True regret, quality and cost on the test rows, and the DR estimate."""
    true = routing_summary(
        truth.reward,
        chosen_models,
        cost=truth.cost,
        cost_sensitivity=cost_sensitivity,
        classes=truth.models,
    )
    estimate = evaluation.value(
        chosen_models, cost_weight=-cost_sensitivity, warn=False
    )
    low, high = estimate.confidence_interval
    return {
        "router": name,
        "kind": kind,
        "seed": int(seed),
        "cost_sensitivity": cost_sensitivity,
        **{key: true[key] for key in ("regret", "quality", "cost", "utility")},
        "utility_dr": estimate.estimate,
        "utility_dr_low": float(low),
        "utility_dr_high": float(high),
    }


def write_results(records, path):
    """Write the records as JSON or CSV by the file's extension."""
    path = Path(path)
    if path.suffix == ".json":
        text = json.dumps(records, indent=2)
    elif path.suffix == ".csv":
        handle = io.StringIO(newline="")
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
        text = handle.getvalue()
    else:
        raise ValueError(f"--out must end in .json or .csv; got {path.name!r}.")
    atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def summarise(records):
    """``{lambda: {router: {metric: (mean, std)}}}`` over the seeds."""
    groups = {}
    for record in records:
        key = (record["cost_sensitivity"], record["router"])
        groups.setdefault(key, []).append(record)
    summary = {}
    for (lam, name), runs in groups.items():
        stats = {}
        for metric in runs[0]:
            if metric in ("router", "kind", "seed", "cost_sensitivity"):
                continue
            values = np.array([r[metric] for r in runs], dtype=float)
            spread = values.std(ddof=1) if values.size > 1 else 0.0
            stats[metric] = (float(values.mean()), float(spread))
        summary.setdefault(lam, {})[name] = stats
    return summary


def format_results(records, n_seeds, source="Generated routing problem"):
    """One table per cost sensitivity: mean ± std over the seeds."""

    def cell(stats, metric, digits):
        mean, spread = stats[metric]
        return f"{mean:.{digits}f} ± {spread:.{digits}f}"

    header = ["router", "test regret", "quality", "cost", "utility", "DR estimate"]
    header += ["95% interval", "fit s"]
    lines = [
        f"{source}: true test regret, quality, cost and utility of each router, "
        f"and its off-policy (DR) estimate of utility from logs of the test rows; "
        f"mean ± std over {n_seeds} seeds (lower regret is better)."
    ]
    routers_only = [r for r in records if r.get("kind", "router") == "router"]
    for lam, routers in summarise(routers_only).items():
        rows = [
            [
                name,
                cell(stats, "regret", 4),
                cell(stats, "quality", 3),
                cell(stats, "cost", 3),
                cell(stats, "utility", 3),
                f"{stats['utility_dr'][0]:.3f}",
                f"[{stats['utility_dr_low'][0]:.3f}, "
                f"{stats['utility_dr_high'][0]:.3f}]",
                f"{stats['fit_seconds'][0]:.1f}",
            ]
            for name, stats in sorted(routers.items(), key=lambda r: r[1]["regret"])
        ]
        lines += ["", f"cost_sensitivity = {lam:g}"]
        lines.append(
            tabulate(rows, headers=header, tablefmt="simple", disable_numparse=True)
        )
        lines += _deployed_lines(routers, n_seeds)
    return "\n".join(lines)


def _deployed_lines(routers, n_seeds):
    """What each checked router deployed, and why: the check's numbers."""
    lines = []
    for name, stats in sorted(routers.items()):
        gain = stats.get("check_gain", (np.nan,))[0]
        if not np.isfinite(gain):
            continue
        learned = round(n_seeds * (1 - stats["fallback"][0]))
        lines.append(
            f"{name}: learned policy deployed in {learned} of {n_seeds} seeds; the "
            f"check's estimated gain over its baseline {gain:+.4f}, 90% lower "
            f"bound {stats['check_bound'][0]:+.4f} (means over seeds). It deploys "
            "the learned policy where that bound is above 0, else the baseline "
            "(the direct method, or the best single model)."
        )
    return lines


def plot_results(records, path, *, title=None, cost_unit=None):
    """Regret against lambda, and quality against cost, of each router (PNG).

    The right panel draws each router's points (one per lambda) with
    :class:`~skroute.plotting.RoutingCurveDisplay`, beside the single models
    and the oracle. The figure is drawn without pyplot, so matplotlib's
    backend is left as it was.
    """
    from matplotlib.figure import Figure

    from skroute.metrics import cost_quality_curve
    from skroute.plotting import RoutingCurveDisplay
    from skroute.plotting._displays import _CURVE_STYLES, _lambda_axis, _outside_legend

    summary = summarise(records)
    kinds = {r["router"]: r.get("kind", "router") for r in records}
    lambdas = sorted(summary)
    names = [n for n in summary[lambdas[0]] if kinds[n] == "router"]
    models = [n for n in summary[lambdas[0]] if kinds[n] == "model"]
    figure = Figure(figsize=(14, 5.2))
    left, right = figure.subplots(1, 2, width_ratios=(1, 1.3))
    all_costs, all_qualities = [], []
    for j, name in enumerate(names):
        stats = [summary[lam][name] for lam in lambdas]
        # A marker and line style per router: routers that deploy the same
        # policy draw the same points, and each stays visible.
        style = dict(_CURVE_STYLES[j % len(_CURVE_STYLES)], color=f"C{j % 10}")
        left.errorbar(
            lambdas,
            [s["regret"][0] for s in stats],
            yerr=[s["regret"][1] for s in stats],
            capsize=3,
            label=name,
            **style,
        )
        costs = [s["cost"][0] for s in stats]
        qualities = [s["quality"][0] for s in stats]
        RoutingCurveDisplay(costs=costs, qualities=qualities, name=name).plot(
            ax=right,
            show_hull=False,
            show_oracle=False,
            **style,
        )
        if name != FULL_FEEDBACK:
            all_costs += costs
            all_qualities += qualities
    first = summary[lambdas[0]]
    model_costs = [first[m]["cost"][0] for m in models]
    model_qualities = [first[m]["quality"][0] for m in models]
    cost_label = "mean cost per query" + (f" ({cost_unit})" if cost_unit else "")
    # The single models and the oracle at each lambda, on the same axes.
    oracle = [summary[lam]["oracle"] for lam in lambdas if "oracle" in summary[lam]]
    reference = RoutingCurveDisplay(
        costs=[o["cost"][0] for o in oracle] or model_costs[:1],
        qualities=[o["quality"][0] for o in oracle] or model_qualities[:1],
        model_costs=model_costs,
        model_qualities=model_qualities,
        # "mistralai/mistral-7b-chat" reads as "mistral-7b-chat" beside its point.
        model_names=[m.removeprefix("only ").split("/")[-1] for m in models],
        name="oracle at each λ",
    )
    reference.plot(
        ax=right,
        show_hull=False,
        show_oracle=False,
        cost_label=cost_label,
        linestyle="none",
        marker="*",
        markersize=11,
        color="gold",
        markerfacecolor="gold",
        markeredgecolor="0.2",
    )
    hull = cost_quality_curve(all_costs + model_costs, all_qualities + model_qualities)
    right.plot(
        hull.hull_costs,
        hull.hull_qualities,
        linestyle=":",
        color="0.45",
        label="upper hull (routers and models)",
    )
    _outside_legend(right, fontsize=7)
    right.set_title("one point per λ; squares: one model for every query", fontsize=9)
    left.set(xlabel="cost sensitivity λ", ylabel="true test regret (mean ± std)")
    _lambda_axis(left, lambdas)
    left.set_xticks(lambdas)
    # One legend for both panels (a router has one colour and marker in
    # each), outside the right one, where it hides no point.
    left.set_title("lower is better", fontsize=9)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    atomic_write(path, lambda file: figure.savefig(file, dpi=110, format="png"))
