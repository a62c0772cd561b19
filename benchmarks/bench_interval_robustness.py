"""The interval router on the robustness suite's cells: parity, monotony, budgets.

For each (dataset, logging policy, seed) of ``bench_robustness.py`` (same
datasets, logs, dev/test split and seeds), one ``IntervalCostRouter`` is
fitted over ``cost_range = (0, 2 * rate)``, ``rate`` the dataset's exchange
rate, and compared with one ``CausalRouterClassifier`` fitted at each of
``LAMBDA_FACTORS * rate``: values inside the range that no grid is built to
contain (the interval router's grid is placed from the logs).

Measured per unit, on the held-out full-feedback test part:

- true regret of the interval router and of the per-lambda routers (and of
  the decoupled router and the best single model) at each lambda;
- queries whose estimated cost rises somewhere along their routing path;
- the largest rise of the routes' true mean cost over 41 values of lambda
  across the range, relative to the cost at ``lambda_min``;
- budgets at 25/50/75% of the routes' true cost range: the cost sensitivity
  for the budget is calibrated on logs (by the same kind of policy) of the
  test part, with and without ``conservative=True``, with ``mixture=True``
  and with both, and the routes' true mean cost measured on the same rows
  ("same"), or calibrated on one half and measured on the other ("halves"),
  where the two halves' own difference adds to the estimate's error;
- fit times of the interval router and of the per-lambda routers.

    python benchmarks/bench_interval_robustness.py --cells dev --out dev.json
    python benchmarks/bench_interval_robustness.py --summary dev.json

``--params '{"heads": "affine"}'`` fits the interval router with other
settings (for dev studies).
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from _common import (  # noqa: E402
    ROBUSTNESS_DATASETS,
    SEEDS,
    SPLIT,
    add_data_dir_argument,
    exchange_rate,
    logged_outcomes,
    policy_logs,
    unit_logs,
)

LAMBDA_FACTORS = (0.1, 0.45, 1.3)
RANGE_FACTOR = 2.0
BUDGET_LEVELS = (0.25, 0.5, 0.75)
N_SWEEP = 41


def _true_cost(cost, routes, classes):
    column = {model: t for t, model in enumerate(classes)}
    index = np.array([column[m] for m in routes.tolist()])
    return float(cost[np.arange(len(index)), index].mean())


def _candidate_routes(interval, X_train, logs, logged, X_test):
    """Routes at any lambda of each policy the safety check chooses between.

    The network is the fitted router's own (fitted with ``"warn"``); the
    direct method is argmax of its outcome models' lines; the best single
    model at each lambda is that of the doubly robust mean quality and cost
    of every model on the training logs (cross-fitted afresh, so its choice
    can differ from the check's own estimate in rare near-ties).
    """
    from skroute.causal import LoggedNuisances, predict_arm_models

    classes = interval.classes_
    quality = predict_arm_models(interval.reward_models_, X_test)
    cost = predict_arm_models(interval.cost_models_, X_test)
    nuisances = LoggedNuisances(
        logs.action,
        X=X_train,
        classes=classes,
        method="dr",
        random_state=0,
        **logged,
    )
    constant = [np.full(X_train.shape[0], model) for model in classes]
    qualities, costs = nuisances.cost_quality(constant, warn=False)
    mean_quality = np.array([value.estimate for value in qualities])
    mean_cost = np.array([value.estimate for value in costs])
    return {
        "network": lambda value: interval.predict(X_test, cost_sensitivity=value),
        "direct_method": lambda value: classes[np.argmax(quality - value * cost, 1)],
        "best_single": lambda value: np.full(
            X_test.shape[0], classes[np.argmax(mean_quality - value * mean_cost)]
        ),
    }


def run_unit(dataset, policy, seed, params, budgets=True, data_dir=None):
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    from skroute import CausalRouterClassifier, IntervalCostRouter
    from skroute.metrics import regret
    from skroute.routers import BestSingleModelRouter, DecoupledRouter

    torch.set_num_threads(1)
    # The same draws as bench_robustness.run_unit: the same logs.
    data, pool, logs = unit_logs(dataset, policy, seed, data_dir)
    train, test = data["train"], data["test"]
    X, reward, cost = data["X"], data["reward"], data["cost"]
    truth = data.get("expected_reward", reward)
    rate = exchange_rate(reward[train], cost[train])
    classes = np.arange(reward.shape[1])
    logged = logged_outcomes(logs)

    # Calibration logs for the budgets, logged by the same kind of policy:
    # "same" logs every test row and measures the true cost on those rows;
    # "halves" logs one half and measures the true cost on the other.
    budget_rng = np.random.default_rng(
        [seed, 7, sorted(ROBUSTNESS_DATASETS).index(dataset)]
    )
    shuffled = budget_rng.permutation(test)
    half, other_half = np.sort(shuffled[::2]), np.sort(shuffled[1::2])

    protocols = {
        "same": (test, policy_logs(policy, data, test, pool, budget_rng), test),
        "halves": (
            half,
            policy_logs(policy, data, half, pool, budget_rng),
            other_half,
        ),
    }

    def regret_at(routes, value):
        return regret(
            truth[test],
            routes,
            cost=cost[test],
            cost_sensitivity=value,
            classes=classes,
        )

    record = dict(
        dataset=dataset,
        policy=policy,
        split=SPLIT[dataset, policy],
        seed=seed,
        rate=rate,
        lambdas=[f * rate for f in LAMBDA_FACTORS],
        per_lambda={},
        decoupled={},
        best_single={},
        per_lambda_fit_time=[],
    )
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factor in LAMBDA_FACTORS:
            value = factor * rate
            start = time.perf_counter()
            router = CausalRouterClassifier(cost_sensitivity=value, random_state=0)
            router.fit(X[train], logs.action, **logged)
            record["per_lambda_fit_time"].append(time.perf_counter() - start)
            key = str(factor)
            record["per_lambda"][key] = regret_at(router.predict(X[test]), value)
            for name, baseline in (
                ("decoupled", DecoupledRouter(cost_sensitivity=value)),
                ("best_single", BestSingleModelRouter(cost_sensitivity=value)),
            ):
                baseline.fit(X[train], logs.action, **logged)
                record[name][key] = regret_at(baseline.predict(X[test]), value)

        # The router keeps its network ("warn") and reports the check's
        # choice, so that every candidate of the check can be scored without
        # refitting; "interval" is the candidate the default ("fallback")
        # deploys, as a default fit would.
        interval = IntervalCostRouter(
            cost_range=(0.0, RANGE_FACTOR * rate),
            random_state=0,
            **{"safety_check": "warn", **params},
        )
        start = time.perf_counter()
        interval.fit(X[train], logs.action, **logged)
        record["interval_fit_time"] = time.perf_counter() - start
        record["grid"] = interval.cost_grid_.tolist()
        candidates = _candidate_routes(interval, X[train], logs, logged, X[test])
        record["candidates"] = {
            name: {
                str(f): regret_at(routes(f * rate), f * rate) for f in LAMBDA_FACTORS
            }
            for name, routes in candidates.items()
        }
        report = interval.safety_report_
        checked = report is not None and params.get("safety_check") != "warn"
        record["deployed"] = report["choice"] if checked else "network"
        record["interval"] = record["candidates"][record["deployed"]]
        report = interval.safety_report_
        if report is not None:
            record["report"] = {
                "estimates": report["estimates"],
                "differences": report["differences"],
                "direct_method_gain": report.get("direct_method_gain"),
            }
        paths = interval.routing_path(X[test])
        record["rising_paths"] = int(
            sum(
                np.any(np.diff(p.costs) > 1e-9 * (1 + np.abs(p.costs[:-1])))
                for p in paths
            )
        )
        record["n_test"] = int(test.size)
        sweep = np.linspace(0.0, RANGE_FACTOR * rate, N_SWEEP)
        sweep_cost = np.array(
            [
                _true_cost(
                    cost[test], interval.predict(X[test], cost_sensitivity=v), classes
                )
                for v in sweep
            ]
        )
        # Largest rise: cost at a later lambda above the cost at an earlier one.
        later_max = np.maximum.accumulate(sweep_cost[::-1])[::-1]
        record["cost_sweep"] = sweep_cost.tolist()
        record["max_cost_rise"] = float(
            np.max(later_max[1:] - sweep_cost[:-1]) / sweep_cost[0]
        )

        if budgets:
            record["budgets"] = {
                name: _budget_entries(interval, X, cost, classes, rate, *protocol)
                for name, protocol in protocols.items()
            }
    return [record]


def _budget_entries(router, X, cost, classes, rate, rows, logs, evaluation):
    """True costs at the cost sensitivities each option picks for each budget."""
    from skroute import BudgetRouter

    high, low = (
        _true_cost(
            cost[evaluation],
            router.predict(X[evaluation], cost_sensitivity=v),
            classes,
        )
        for v in (0.0, RANGE_FACTOR * rate)
    )
    budgets = [low + level * (high - low) for level in BUDGET_LEVELS]
    entries = [dict(level=lv, budget=b) for lv, b in zip(BUDGET_LEVELS, budgets)]
    logged = logged_outcomes(logs)

    def true_cost(value):
        routes = router.predict(X[evaluation], cost_sensitivity=value)
        return _true_cost(cost[evaluation], routes, classes)

    def pick(budget, conservative, mixture=False):
        # The fitted router is calibrated as it is; it is never changed.
        budgeted = BudgetRouter(
            router,
            budget=budget,
            conservative=conservative,
            mixture=mixture,
            cv="prefit",
        )
        try:
            return budgeted.fit(X[rows], logs.action, **logged)
        except ValueError:
            # A budget out of reach: the others still count.
            return None

    for option in ("plain", "conservative"):
        for entry in entries:
            budgeted = pick(entry["budget"], option == "conservative")
            entry[option] = (
                None if budgeted is None else true_cost(budgeted.cost_sensitivity_)
            )
    for option in ("mixture", "conservative_mixture"):
        for entry in entries:
            budgeted = pick(
                entry["budget"], option == "conservative_mixture", mixture=True
            )
            entry[option] = (
                None
                if budgeted is None
                else _true_cost(
                    cost[evaluation], budgeted.predict(X[evaluation]), classes
                )
            )
    return entries


def summarise(records):
    """Markdown lines: the per-cell table and the acceptance counts."""
    lines = []
    cells = {}
    for r in records:
        for factor in LAMBDA_FACTORS:
            cells.setdefault((r["dataset"], r["policy"], factor), []).append(r)
    lines.append(
        "| dataset | logging | λ/rate | interval | per-λ | ratio | decoupled "
        "| best single |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    ratios = []
    for (dataset, policy, factor), rows in sorted(cells.items()):
        key = str(factor)
        interval = np.mean([r["interval"][key] for r in rows])
        per = np.mean([r["per_lambda"][key] for r in rows])
        ratio = interval / per if per > 0 else np.inf
        ratios.append(ratio)
        lines.append(
            f"| {dataset} | {policy} | {factor:g} | {interval:.4f} | {per:.4f} "
            f"| {ratio:.3f} | {np.mean([r['decoupled'][key] for r in rows]):.4f} "
            f"| {np.mean([r['best_single'][key] for r in rows]):.4f} |"
        )
    ratios = np.array(ratios)
    n = ratios.size
    lines.append("")
    lines.append(
        f"- Regret ratio interval / per-λ (mean over seeds per cell): median "
        f"{np.median(ratios):.3f}, worst {ratios.max():.3f}; ≤ 1.05 in "
        f"{np.sum(ratios <= 1.05)}/{n} cells ({np.mean(ratios <= 1.05):.0%}), "
        f"≤ 1.10 in {np.sum(ratios <= 1.10)}/{n}."
    )
    rising = sum(r["rising_paths"] for r in records)
    queries = sum(r["n_test"] for r in records)
    lines.append(
        f"- Queries whose estimated cost rises along the path: {rising} of {queries}."
    )
    units = {}
    for r in records:
        units.setdefault((r["dataset"], r["policy"]), []).append(r["max_cost_rise"])
    monotone = [np.max(v) <= 0.01 for v in units.values()]
    lines.append(
        f"- True mean cost non-increasing within 1% of the cost at λ_min (every "
        f"seed): {sum(monotone)}/{len(monotone)} (dataset, logging) cells; "
        f"largest rise {max(r['max_cost_rise'] for r in records):.2%}."
    )
    protocols = sorted({name for r in records for name in r.get("budgets", {})})
    for protocol in protocols:
        lines.extend(_budget_summary(records, protocol))
    per = np.median([t for r in records for t in r["per_lambda_fit_time"]])
    one = np.median([r["interval_fit_time"] for r in records])
    lines.append(
        f"- Fit time, medians: interval {one:.1f} s, one per-λ router {per:.1f} s "
        f"(ratio {one / per:.2f})."
    )
    deployed = {}
    for r in records:
        deployed[r["deployed"]] = deployed.get(r["deployed"], 0) + 1
    lines.append(f"- Deployed policy of the interval router: {deployed}.")
    return lines


def _budget_summary(records, protocol):
    lines = []
    entries = [
        (r, entry) for r in records for entry in r.get("budgets", {}).get(protocol, [])
    ]
    for option in ("plain", "conservative", "mixture", "conservative_mixture"):
        chosen = [(e["budget"], e[option]) for _, e in entries]
        met = [c is not None and c <= b for b, c in chosen]
        both = [c is not None and 0.85 * b <= c <= b for b, c in chosen]
        gaps = [abs(c / b - 1) for b, c in chosen if c is not None]
        lines.append(
            f"- Budgets ({protocol}), {option}: true cost ≤ budget in {sum(met)}/"
            f"{len(chosen)} pairs, ≤ budget and within 15% in {sum(both)}/"
            f"{len(chosen)}; |cost / budget - 1| median {np.median(gaps):.3f}, "
            f"mean {np.mean(gaps):.3f}; no λ found in "
            f"{sum(c is None for _, c in chosen)}."
        )
    cells = {}
    for r, e in entries:
        if e["mixture"] is not None:
            key = (r["dataset"], r["policy"], e["level"])
            cells.setdefault(key, []).append(e["mixture"] / e["budget"])
    within = [abs(np.mean(v) - 1) <= 0.05 for v in cells.values()]
    lines.append(
        f"- Budgets ({protocol}), mixture: mean over seeds of true cost / budget "
        f"within 5% in {sum(within)}/{len(within)} (dataset, logging, level) cells."
    )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", choices=("dev", "test"), default="dev")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--params", default="{}", help="JSON, for the interval router")
    parser.add_argument("--no-budgets", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--summary", nargs="*", default=None)
    add_data_dir_argument(parser)
    args = parser.parse_args()
    if args.summary:
        records = [r for p in args.summary for r in json.loads(Path(p).read_text())]
        print("\n".join(summarise(records)))
        return

    from joblib import Parallel, delayed

    params = json.loads(args.params)
    units = [
        (dataset, policy, seed)
        for (dataset, policy), split in SPLIT.items()
        if split == args.cells and (args.datasets is None or dataset in args.datasets)
        for seed in SEEDS[split][: args.seeds]
    ]
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, verbose=5, return_as="generator")(
        delayed(run_unit)(*unit, params, not args.no_budgets, args.data_dir)
        for unit in units
    )
    records = []
    for unit_records in results:
        records.extend(unit_records)
        if args.out:
            # Written as units finish: an interrupted run keeps what it did.
            Path(args.out).write_text(json.dumps(records, indent=1))
    print(f"\n{len(units)} units in {time.perf_counter() - start:.0f} s\n")
    print("\n".join(summarise(records)))


if __name__ == "__main__":
    main()
