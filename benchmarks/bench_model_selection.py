"""Model selection on logged data: GridSearchCV with the DR scorer on RouterBench rows.

Logs are simulated on RouterDC's train split. ``GridSearchCV`` tunes
``cost_sensitivity`` and ``hidden_layer_sizes`` of a ``CausalRouterClassifier``
in a ``Pipeline``, scored on logged folds by the doubly robust policy-value
scorer at the target lambda. Every configuration is then refitted on all
logged rows and its true regret measured on the full-feedback test split, with
its standard error; the selection succeeds when the chosen configuration's
true regret is within one standard error of the best configuration's.

    python benchmarks/bench_model_selection.py [--seeds 5]
"""

import argparse
import itertools

import numpy as np
from _common import (
    add_data_dir_argument,
    load_routerbench,
    logged_outcomes,
    print_table,
    routerbench_arrays,
    set_torch_threads,
)

TARGET_LAMBDA = 0.05
GRID = {
    "causalrouterclassifier__cost_sensitivity": [0.0, 0.02, 0.05, 0.2],
    "causalrouterclassifier__hidden_layer_sizes": [(), (128,)],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    add_data_dir_argument(parser)
    args = parser.parse_args()
    set_torch_threads(1)

    import sklearn
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    from skroute import CausalRouterClassifier
    from skroute.datasets import simulate_logging
    from skroute.metrics import make_policy_value_scorer

    data = load_routerbench(args.data_dir)
    X, reward, cost, models, train, test = routerbench_arrays(data)
    utility_test = reward[test] - TARGET_LAMBDA * cost[test]
    rows, successes = [], 0
    sklearn.set_config(enable_metadata_routing=True)
    for seed in range(args.seeds):
        logs = simulate_logging(
            X[train], reward[train], cost[train], models=models, random_state=seed
        )
        logged = logged_outcomes(logs)
        pipe = make_pipeline(
            Normalizer(), CausalRouterClassifier(classes=models, random_state=seed)
        )
        search = GridSearchCV(
            pipe,
            GRID,
            scoring=make_policy_value_scorer(cost_sensitivity=TARGET_LAMBDA),
            cv=5,
        )
        search.fit(logs.X, logs.action, **logged)
        true = {}
        for values in itertools.product(*GRID.values()):
            params = dict(zip(GRID, values))
            model = clone(pipe).set_params(**params).fit(logs.X, logs.action, **logged)
            chosen = np.searchsorted(models, model.predict(X[test]))
            per_row = (
                utility_test.max(axis=1) - utility_test[np.arange(test.sum()), chosen]
            )
            true[values] = (per_row.mean(), per_row.std(ddof=1) / np.sqrt(per_row.size))
        best = min(true, key=lambda key: true[key][0])
        selected = tuple(search.best_params_[name] for name in GRID)
        ok = true[selected][0] <= true[best][0] + true[best][1]
        successes += ok
        rows.append(
            [
                seed,
                f"λ={selected[0]}, {selected[1]}",
                f"{true[selected][0]:.4f}",
                f"λ={best[0]}, {best[1]}",
                f"{true[best][0]:.4f} ± {true[best][1]:.4f}",
                "yes" if ok else "no",
            ]
        )
        print(f"seed {seed} done", flush=True)
    sklearn.set_config(enable_metadata_routing=False)
    print(
        f"\nGridSearchCV (5 logged folds, DR scorer at λ={TARGET_LAMBDA}) over "
        f"{len(list(itertools.product(*GRID.values())))} configurations; true test "
        "regret of the selected vs the best configuration"
    )
    print_table(
        [
            "seed",
            "selected",
            "its true regret",
            "best",
            "best regret ± SE",
            "within 1 SE",
        ],
        rows,
    )
    print(f"\nwithin one standard error: {successes}/{args.seeds} seeds")


if __name__ == "__main__":
    main()
