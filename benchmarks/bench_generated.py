"""Routers on the generated routing problem: both surrogates x three estimators.

For each seed a problem is generated (``make_routing_problem``), logs are
simulated on its first half with a query-dependent logging policy, and every
router is fitted on those logs; its true regret is measured on the second half
against the expected quality. Prints mean ± std over the seeds.

    python benchmarks/bench_generated.py [--seeds 5] [--n-samples 4000]
"""

import argparse

import numpy as np
from _common import print_table, set_torch_threads


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--cost-sensitivity", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_torch_threads(args.threads)

    from skroute import (
        BestSingleModelRouter,
        CausalRouterClassifier,
        DecoupledRouter,
        RandomRouter,
    )
    from skroute.datasets import make_routing_problem, simulate_logging
    from skroute.metrics import regret

    lam = args.cost_sensitivity
    results = {}
    for seed in range(args.seeds):
        problem = make_routing_problem(n_samples=2 * args.n_samples, random_state=seed)
        train, test = slice(0, args.n_samples), slice(args.n_samples, None)
        logs = simulate_logging(
            problem.X[train],
            problem.reward[train],
            problem.cost[train],
            models=problem.models,
            random_state=seed,
        )
        candidates = {
            f"{estimator.upper()}-{surrogate}": CausalRouterClassifier(
                surrogate,
                cost_sensitivity=lam,
                pseudo_outcome=estimator,
                random_state=seed,
            )
            for surrogate in ("softmax", "classification")
            for estimator in ("dr", "ipw", "dm")
        }
        candidates.update(
            {
                "decoupled": DecoupledRouter(cost_sensitivity=lam),
                "best single": BestSingleModelRouter(
                    cost_sensitivity=lam, random_state=seed
                ),
                "random": RandomRouter(random_state=seed),
            }
        )
        for name, router in candidates.items():
            router.fit(
                logs.X,
                logs.action,
                reward=logs.reward,
                cost=logs.cost,
                propensity=logs.propensity,
            )
            results.setdefault(name, []).append(
                regret(
                    problem.expected_reward[test],
                    router.predict(problem.X[test]),
                    cost=problem.cost[test],
                    cost_sensitivity=lam,
                    classes=problem.models,
                )
            )
        reference = CausalRouterClassifier(cost_sensitivity=lam, random_state=seed)
        reference.fit(
            logs.X, logs.action, reward=problem.reward[train], cost=problem.cost[train]
        )
        results.setdefault("full-feedback reference", []).append(
            regret(
                problem.expected_reward[test],
                reference.predict(problem.X[test]),
                cost=problem.cost[test],
                cost_sensitivity=lam,
                classes=problem.models,
            )
        )
        print(f"seed {seed} done", flush=True)

    print(
        f"\nGenerated problem, {args.n_samples} logged rows, λ={lam:g}: true test "
        f"regret, mean ± std over {args.seeds} seeds (lower is better)"
    )
    rows = [
        [
            name,
            f"{np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}",
            f"{np.mean(v) / np.mean(results['DR-softmax']):.2f}",
        ]
        for name, v in results.items()
    ]
    print_table(["router", "test regret", "÷ DR-softmax"], rows)


if __name__ == "__main__":
    main()
