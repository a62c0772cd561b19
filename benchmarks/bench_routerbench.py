"""Routers on real RouterBench rows (11 LLMs, 0/1 quality, USD costs), simulated logs.

Logs are simulated on RouterDC's train split (2,205 rows) with a query-dependent
logging policy (softmax of a random linear score of the embedding, exploration
floor 0.05); every router is fitted on the same logs and scored by its true
regret on the full-feedback test split (945 rows). ``decoupled anchor`` is the
decoupled router a user writes with scikit-learn alone (per-model logistic
regression of quality and ridge of cost on the raw embeddings), the bar for
skroute's ``DecoupledRouter``. Costs are in USD per 1,000
queries, so lambda = 0.2 prices GPT-4 (about 5 USD per 1k) at about 1 unit of
quality. Prints mean ± std over the seeds for each lambda.

    python benchmarks/bench_routerbench.py [--seeds 5] [--data-dir DIR]
"""

import argparse

import numpy as np
from _common import (
    DecoupledAnchor,
    add_data_dir_argument,
    load_routerbench,
    logged_outcomes,
    print_table,
    routerbench_arrays,
    set_torch_threads,
    timed,
)

LAMBDAS = (0.0, 0.02, 0.05, 0.2)


def routers(cost_sensitivity, seed, models):
    from skroute import (
        BestSingleModelRouter,
        CausalRouterClassifier,
        DecoupledRouter,
        RandomRouter,
    )

    def causal(**params):
        return CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, random_state=seed, **params
        )

    return {
        "DR-softmax": causal(),
        "DR-classification": causal(surrogate="classification"),
        "IPW-softmax": causal(pseudo_outcome="ipw"),
        "decoupled": DecoupledRouter(cost_sensitivity=cost_sensitivity),
        "decoupled anchor": DecoupledAnchor(len(models), cost_sensitivity),
        "best single": BestSingleModelRouter(
            cost_sensitivity=cost_sensitivity, random_state=seed
        ),
        "random": RandomRouter(random_state=seed),
        "full-feedback reference": causal(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    add_data_dir_argument(parser)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_torch_threads(args.threads)

    from skroute.datasets import simulate_logging
    from skroute.metrics import regret

    data = load_routerbench(args.data_dir)
    X, reward, cost, models, train, test = routerbench_arrays(data)
    models = np.asarray(models)
    codes = dict(zip(models, range(len(models))))
    codes = np.vectorize(codes.__getitem__)
    results = {}
    fit_seconds = {}
    for seed in range(args.seeds):
        logs = simulate_logging(
            X[train], reward[train], cost[train], models=models, random_state=seed
        )
        for cost_sensitivity in LAMBDAS:
            for name, router in routers(cost_sensitivity, seed, models).items():
                if name == "full-feedback reference":
                    logged = {"reward": reward[train], "cost": cost[train]}
                else:
                    logged = logged_outcomes(logs)
                # The anchor, written with scikit-learn alone, takes model indices.
                anchor = isinstance(router, DecoupledAnchor)
                action = codes(logs.action) if anchor else logs.action
                _, seconds = timed(router.fit, logs.X, action, **logged)
                fit_seconds.setdefault(name, []).append(seconds)
                routes = router.predict(X[test])
                value = regret(
                    reward[test],
                    models[routes] if anchor else routes,
                    cost=cost[test],
                    cost_sensitivity=cost_sensitivity,
                    classes=models,
                )
                results.setdefault((name, cost_sensitivity), []).append(value)
        print(f"seed {seed} done", flush=True)

    names = list(routers(0.0, 0, models))
    header = ["router"] + [f"λ={value:g}" for value in LAMBDAS] + ["fit s"]
    rows = []
    for name in names:
        cells = []
        for cost_sensitivity in LAMBDAS:
            values = np.asarray(results[(name, cost_sensitivity)])
            cells.append(f"{values.mean():.4f} ± {values.std(ddof=1):.4f}")
        rows.append([name, *cells, f"{np.median(fit_seconds[name]):.1f}"])
    print(
        f"\nRouterBench subset: true test regret (lower is better), cost in USD per "
        f"1k queries, mean ± std over {args.seeds} seeds; fit s = median fit time"
    )
    print_table(header, rows)


if __name__ == "__main__":
    main()
