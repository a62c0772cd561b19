"""One IntervalCostRouter against one CausalRouterClassifier per lambda, on RouterBench.

Logs are simulated on RouterDC's train split as in bench_routerbench.py. For
each seed, one IntervalCostRouter over [0, 0.2] (USD per 1k queries) is
compared with a separate CausalRouterClassifier at each lambda of the grid
and the midpoints between them: true test regret, fit time, monotonicity of
the chosen model's true cost in lambda, agreement of routing_path with
predict, and budget calibration (three budgets, calibrated on the logged
training rows, checked on the test split).

    python benchmarks/bench_interval.py [--seeds 5]
"""

import argparse
import time

import numpy as np
from _common import (
    add_data_dir_argument,
    load_routerbench,
    logged_outcomes,
    mean_std,
    print_table,
    routerbench_arrays,
    set_torch_threads,
)

LAMBDAS = (0.0, 0.01, 0.02, 0.035, 0.05, 0.125, 0.2)
COST_RANGE = (0.0, 0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    add_data_dir_argument(parser)
    parser.add_argument("--n-intervals", type=int, default=8)
    parser.add_argument(
        "--spacing", default="geometric", choices=["geometric", "linear"]
    )
    parser.add_argument(
        "--heads", default="independent", choices=["independent", "affine"]
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    set_torch_threads(1)

    from skroute import BudgetRouter, CausalRouterClassifier, IntervalCostRouter
    from skroute.datasets import simulate_logging
    from skroute.metrics import regret

    data = load_routerbench(args.data_dir)
    X, reward, cost, models, train, test = routerbench_arrays(data)
    X_test, reward_test, cost_test = X[test], reward[test], cost[test]
    column = {model: t for t, model in enumerate(models.tolist())}
    regrets = {}
    times = {"interval": [], "separate": []}
    checks = {"cost increases": [], "queries with cost increase": [], "agreement": []}
    budget_rows = []
    for seed in range(args.seeds):
        logs = simulate_logging(
            X[train], reward[train], cost[train], models=models, random_state=seed
        )
        logged = logged_outcomes(logs)
        start = time.perf_counter()
        interval = IntervalCostRouter(
            cost_range=COST_RANGE,
            n_intervals=args.n_intervals,
            spacing=args.spacing,
            heads=args.heads,
            lr=args.lr,
            classes=models,
            random_state=seed,
        ).fit(logs.X, logs.action, **logged)
        times["interval"].append(time.perf_counter() - start)
        separate_seconds = 0.0
        for lam in LAMBDAS:
            start = time.perf_counter()
            single = CausalRouterClassifier(
                cost_sensitivity=lam, classes=models, random_state=seed
            ).fit(logs.X, logs.action, **logged)
            separate_seconds += time.perf_counter() - start
            for name, routes in (
                ("interval", interval.predict(X_test, cost_sensitivity=lam)),
                ("separate", single.predict(X_test)),
            ):
                regrets.setdefault((name, lam), []).append(
                    regret(
                        reward_test,
                        routes,
                        cost=cost_test,
                        cost_sensitivity=lam,
                        classes=models,
                    )
                )
        times["separate"].append(separate_seconds)

        # Monotonicity: the chosen model's true cost along a fine grid of lambda.
        fine = np.linspace(*COST_RANGE, 201)
        chosen_cost = np.array(
            [
                cost_test[
                    np.arange(len(X_test)),
                    [column[m] for m in interval.predict(X_test, cost_sensitivity=lam)],
                ]
                for lam in fine
            ]
        )
        checks["cost increases"].append(
            int((np.diff(chosen_cost.mean(axis=1)) > 1e-12).sum())
        )
        checks["queries with cost increase"].append(
            int((np.diff(chosen_cost, axis=0) > 1e-12).any(axis=0).sum())
        )
        # routing_path against predict, off the grid points to avoid exact ties.
        probe = np.linspace(*COST_RANGE, 1001)[1:-1] + 1.3e-6
        paths = interval.routing_path(X_test)
        from_paths = np.array([path.model_at(probe) for path in paths])
        from_predict = np.array(
            [interval.predict(X_test, cost_sensitivity=lam) for lam in probe]
        ).T
        checks["agreement"].append(float((from_paths == from_predict).mean()))

        # Budget calibration on the logged training rows, checked on the test split.
        path = interval.cost_quality_path(logs.X, logs.action, **logged)
        low, high = path.cost.min(), path.cost.max()
        for share in (0.25, 0.5, 0.75):
            budget = float(low + share * (high - low))
            budgeted = BudgetRouter(interval, budget=budget, cv="prefit")
            result = budgeted.fit(logs.X, logs.action, **logged).budget_result_
            routes = budgeted.predict(X_test)
            true_cost = cost_test[
                np.arange(len(X_test)), [column[m] for m in routes]
            ].mean()
            budget_rows.append(
                [
                    seed,
                    f"{budget:.3f}",
                    f"{result.cost_sensitivity:.4f}",
                    f"{result.estimated_cost:.3f}",
                    f"{true_cost:.3f}",
                    f"{true_cost / budget - 1:+.1%}",
                ]
            )
        print(f"seed {seed} done", flush=True)

    grid_text = (
        f"{args.n_intervals} {args.spacing} intervals, {args.heads} heads, "
        f"lr={args.lr:g}: "
        f"{np.round(interval.cost_grid_, 4).tolist()}"
    )
    print(
        f"\nRouterBench subset, {args.seeds} seeds: true test regret of one "
        f"IntervalCostRouter over {COST_RANGE} (grid {grid_text}) vs a "
        "CausalRouterClassifier per lambda"
    )
    rows = []
    for lam in LAMBDAS:
        a, b = (
            np.array(regrets[("interval", lam)]),
            np.array(regrets[("separate", lam)]),
        )
        rows.append(
            [f"{lam:g}", mean_std(a), mean_std(b), f"{a.mean() / b.mean():.3f}"]
        )
    print_table(["λ", "interval router", "separate routers", "ratio"], rows)
    print(
        "\nfit time, median over seeds: interval "
        f"{np.median(times['interval']):.1f} s, "
        f"{len(LAMBDAS)} separate routers together "
        f"{np.median(times['separate']):.1f} s"
    )
    print(
        "increases of the mean true test cost along 201 values of λ, per seed: "
        f"{checks['cost increases']}"
    )
    print(
        "test queries whose chosen model's true cost rises somewhere along λ, per "
        f"seed: {checks['queries with cost increase']} of {len(X_test)}"
    )
    print(f"routing_path agreement with predict on 999 λ values: {checks['agreement']}")
    print("\nbudget calibration (USD per 1k queries), calibrated on the train logs")
    print_table(
        ["seed", "budget", "λ", "estimated cost", "true test cost", "error"],
        budget_rows,
    )


if __name__ == "__main__":
    main()
