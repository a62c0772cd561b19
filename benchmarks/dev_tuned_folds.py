"""Dev study: cross-fitting folds that refit an arm's ridge at its tuned penalty.

The default outcome ridge chooses its penalty (and logistic map) by
leave-one-out. Cross-fitting used to make that choice again in every fold of
every arm (one eigendecomposition each); the change studied here makes it once
per arm, on all the arm's rows given to the cross-fitting, and each fold
refits its coefficients at that choice (one Cholesky factorisation). The
cross-fitted estimates change a little, and with them the safety check's
estimates and the networks' targets: this script measures what that does to
the default ``CausalRouterClassifier``.

Run it once per source tree (the tree on ``PYTHONPATH``), on the robustness
suite's **dev** cells (``SPLIT`` of ``_common.py``; ``--cells test`` once, to
report the choice), then compare:

    PYTHONPATH=OLD_TREE python benchmarks/dev_tuned_folds.py --out old.json
    PYTHONPATH=.        python benchmarks/dev_tuned_folds.py --out new.json
    python benchmarks/dev_tuned_folds.py --compare old.json new.json

Per cell (dataset, logging policy, seed, lambda) it fits the default causal
router (``random_state=0``), ``DecoupledRouter`` and the scikit-learn anchor,
and records their true test regret, what the causal router deployed, its
check's estimated gain and lower bound, and the fit seconds.
"""

import argparse
import json
import statistics

import _common  # first: it sets the thread limits before numpy loads
import numpy as np
from _common import (
    LAMBDA_FACTORS,
    SEEDS,
    SPLIT,
    DecoupledAnchor,
    exchange_rate,
    print_table,
    test_regret,
    unit_logs,
)


def run_unit(dataset, policy, seed, data_dir=None):
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    from skroute import CausalRouterClassifier, DecoupledRouter

    torch.set_num_threads(1)
    data, _, logs = unit_logs(dataset, policy, seed, data_dir)
    train, test = data["train"], data["test"]
    X, reward, cost = data["X"], data["reward"], data["cost"]
    rate = exchange_rate(reward[train], cost[train])
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factor in LAMBDA_FACTORS:
            lam = factor * rate

            regret_of = test_regret(data, lam)
            routers = {
                "default": CausalRouterClassifier(cost_sensitivity=lam, random_state=0),
                "decoupled": DecoupledRouter(cost_sensitivity=lam),
                "anchor": DecoupledAnchor(reward.shape[1], lam),
            }
            for name, router in routers.items():
                _, seconds = _common.timed(
                    router.fit, X[train], logs.action, **_common.logged_outcomes(logs)
                )
                row = dict(
                    dataset=dataset,
                    policy=policy,
                    seed=seed,
                    lambda_factor=factor,
                    router=name,
                    regret=regret_of(router.predict(X[test])),
                    fit_time=seconds,
                )
                report = getattr(router, "safety_report_", None)
                if report is not None:
                    scores = router.learned_policy_.scores(X[test], lam)
                    learned = router.classes_[np.argmax(scores, axis=1)]
                    judged = report["differences"][report["baseline"]]
                    row.update(
                        choice=router.deployed_policy_,
                        baseline=report["baseline"],
                        learned_regret=regret_of(learned),
                        gain=float(judged["gain"]),
                        lower_bound=float(judged["lower_bound"]),
                    )
                rows.append(row)
    return rows


def _cells(rows):
    cells = {}
    for row in rows:
        key = (row["dataset"], row["policy"], row["seed"], row["lambda_factor"])
        cells.setdefault(key, {})[row["router"]] = row
    return cells


def _calibration(cells):
    """Of the cells whose check judged the learned policy against the direct
    method: how many had a lower bound above the true gain (at the 90% level,
    about a tenth should), as "k of n"."""
    judged = [c for c in cells if c["default"].get("baseline") == "direct_method"]
    # The direct method is what DecoupledRouter deploys, with the same models.
    over = sum(
        c["default"]["lower_bound"]
        > c["decoupled"]["regret"] - c["default"]["learned_regret"]
        for c in judged
    )
    return f"{over} of {len(judged)}"


def compare(paths):
    runs = {}
    for path in paths:
        with open(path) as file:
            runs[path] = _cells(json.load(file))
    common = sorted(set.intersection(*(set(c) for c in runs.values())))
    first = runs[paths[0]]
    print(f"{len(common)} cells (pair x seed x lambda) in every run")
    table = []
    for path, cells in runs.items():
        chosen = [cells[key] for key in common]
        regrets = [c["default"]["regret"] for c in chosen]
        learned = [c["default"]["learned_regret"] for c in chosen]
        ratios = [
            c["default"]["regret"] / first[key]["default"]["regret"]
            for key, c in zip(common, chosen)
            if first[key]["default"]["regret"] > 0
        ]
        table.append(
            [
                path,
                f"{statistics.mean(regrets):.4f}",
                f"{statistics.mean(ratios):.3f}",
                sum(c["default"]["regret"] <= c["anchor"]["regret"] for c in chosen),
                sum(
                    c["default"]["regret"] <= c["decoupled"]["regret"] + 1e-12
                    for c in chosen
                ),
                sum(c["default"].get("choice") == "network" for c in chosen),
                f"{statistics.mean(learned):.4f}",
                _calibration(chosen),
                f"{sum(c['default']['fit_time'] for c in chosen):.0f}",
            ]
        )
    anchor = statistics.mean(first[key]["anchor"]["regret"] for key in common)
    decoupled = statistics.mean(first[key]["decoupled"]["regret"] for key in common)
    print_table(
        [
            "run",
            "default: mean regret",
            "mean ratio to the first run",
            "cells <= anchor",
            "cells <= decoupled",
            "learned deployed",
            "learned policy's mean regret",
            "check vs direct method: bound > true gain",
            "causal fit s (total)",
        ],
        table,
    )
    print(f"anchor mean regret {anchor:.4f}; decoupled {decoupled:.4f}")


def main():
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", choices=["dev", "test"], default="dev")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="default: the split's"
    )
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--compare", nargs="+", default=None, metavar="JSON")
    args = parser.parse_args()
    if args.compare:
        return compare(args.compare)
    units = [
        (dataset, policy, seed)
        for (dataset, policy), split in SPLIT.items()
        if split == args.cells and (not args.datasets or dataset in args.datasets)
        for seed in args.seeds or SEEDS[args.cells]
    ]
    results = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_unit)(*unit, args.data_dir) for unit in units
    )
    rows = [row for unit in results for row in unit]
    if args.out:
        with open(args.out, "w") as file:
            json.dump(rows, file)
    compare_rows = _cells(rows)
    print(f"{len(compare_rows)} {args.cells} cells written")


if __name__ == "__main__":
    main()
