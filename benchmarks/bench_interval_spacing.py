"""The interval router's grid spacing on a wide lambda range (LLMRouter table).

Logs simulated as in BENCHMARKS.md (random halves, 5 seeds, topic and linear
logging); ``IntervalCostRouter(cost_range=(0, 1))`` with the default geometric
grid (dense near 0) against a linear one. Prints the mean true test regret at
each lambda of the BENCHMARKS.md grid.

    python benchmarks/bench_interval_spacing.py [--seeds 5] [--data-dir DIR]
"""

import argparse
import warnings

import numpy as np
from _common import (
    REAL_TABLES,
    add_data_dir_argument,
    load_real_table,
    logged_outcomes,
    print_table,
    set_torch_threads,
    simulate_rows,
    split_halves,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    add_data_dir_argument(parser)
    args = parser.parse_args()
    set_torch_threads(1)

    from skroute import IntervalCostRouter
    from skroute.causal import OverlapWarning
    from skroute.metrics import regret

    warnings.simplefilter("ignore", OverlapWarning)
    lambdas = REAL_TABLES["llmrouter_9models"]["cost_sensitivities"]
    problem = load_real_table("llmrouter_9models", args.data_dir)
    rows = []
    for policy in ("topic", "linear"):
        regrets = {s: {lam: [] for lam in lambdas} for s in ("geometric", "linear")}
        for seed in range(args.seeds):
            train, test = split_halves(len(problem.X), seed)
            logs = simulate_rows(problem, train, policy, seed)
            for spacing, results in regrets.items():
                router = IntervalCostRouter(
                    cost_range=(lambdas[0], lambdas[-1]),
                    spacing=spacing,
                    classes=problem.models,
                    random_state=seed,
                ).fit(logs.X, logs.action, **logged_outcomes(logs))
                for lam in lambdas:
                    routes = router.predict(problem.X[test], cost_sensitivity=lam)
                    results[lam].append(
                        regret(
                            problem.reward[test],
                            routes,
                            cost=problem.cost[test],
                            cost_sensitivity=lam,
                            classes=problem.models,
                        )
                    )
        for spacing, results in regrets.items():
            rows.append(
                [policy, spacing] + [f"{np.mean(results[lam]):.4f}" for lam in lambdas]
            )
    print(f"\nllmrouter_9models, interval router, {args.seeds} seeds (mean regret)")
    print_table(["logging", "spacing"] + [f"λ={lam:g}" for lam in lambdas], rows)


if __name__ == "__main__":
    main()
