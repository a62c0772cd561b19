"""Dev study: the outcome ridge's feature scaling, by the direct method's regret.

On the robustness suite's **dev** cells (``SPLIT`` of ``_common.py``; the
test cells with ``--cells test``, once, to report the choice), for each seed
and each lambda of the suite's grid, fits ``DecoupledRouter`` (the direct
method, which the causal router deploys or must beat) with
``RidgeOutcomeModel(scaling=...)`` for each scaling, and the scikit-learn
anchor, and prints per scaling: the mean true test regret over the cells, the
cells where it is at most the anchor's, its mean ratio to ``auto``, and the
fit seconds.

    python benchmarks/dev_ridge_scaling.py [--seeds 0 1 2] [--jobs 2]
        [--cells {dev,test}] [--out dev_scaling.json]
"""

import argparse
import json
import statistics

import _common  # first: it sets the thread limits before numpy loads
from _common import (
    LAMBDA_FACTORS,
    SEEDS,
    SPLIT,
    DecoupledAnchor,
    exchange_rate,
    test_regret,
    unit_logs,
)

SCALINGS = ("auto", "standard", "isotropic")


def run_unit(dataset, policy, seed, data_dir=None):
    import warnings

    from threadpoolctl import threadpool_limits

    from skroute import DecoupledRouter
    from skroute.causal import RidgeOutcomeModel

    data, _, logs = unit_logs(dataset, policy, seed, data_dir)
    train, test = data["train"], data["test"]
    X, reward, cost = data["X"], data["reward"], data["cost"]
    rate = exchange_rate(reward[train], cost[train])
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factor in LAMBDA_FACTORS:
            lam = factor * rate
            routers = {
                s: DecoupledRouter(
                    cost_sensitivity=lam,
                    reward_model=RidgeOutcomeModel(scaling=s),
                    cost_model=RidgeOutcomeModel(scaling=s),
                )
                for s in SCALINGS
            }
            routers["anchor"] = DecoupledAnchor(reward.shape[1], lam)
            for name, router in routers.items():
                _, seconds = _common.timed(
                    router.fit, X[train], logs.action, **_common.logged_outcomes(logs)
                )
                value = test_regret(data, lam)(router.predict(X[test]))
                rows.append(
                    dict(
                        dataset=dataset,
                        policy=policy,
                        seed=seed,
                        lambda_factor=factor,
                        router=name,
                        regret=value,
                        fit_time=seconds,
                    )
                )
    return rows


def main():
    from joblib import Parallel, delayed

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", choices=["dev", "test"], default="dev")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=None, help="default: the split's"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    units = [
        (dataset, policy, seed)
        for (dataset, policy), split in SPLIT.items()
        if split == args.cells
        for seed in args.seeds or SEEDS[args.cells]
    ]
    results = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_unit)(*unit, args.data_dir) for unit in units
    )
    rows = [row for unit in results for row in unit]
    if args.out:
        with open(args.out, "w") as file:
            json.dump(rows, file)
    cells = {}
    for row in rows:
        key = (row["dataset"], row["policy"], row["seed"], row["lambda_factor"])
        cells.setdefault(key, {})[row["router"]] = row
    print(f"{len(cells)} {args.cells} cells (pair × seed × λ)")
    print("| scaling | mean regret | ≤ anchor | mean ÷ auto | fit s (total) |")
    print("|---|---|---|---|---|")
    for name in (*SCALINGS, "anchor"):
        regrets = [c[name]["regret"] for c in cells.values()]
        wins = sum(c[name]["regret"] <= c["anchor"]["regret"] for c in cells.values())
        ratios = [
            c[name]["regret"] / c["auto"]["regret"]
            for c in cells.values()
            if c["auto"]["regret"] > 0
        ]
        seconds = sum(c[name]["fit_time"] for c in cells.values())
        print(
            f"| {name} | {statistics.mean(regrets):.4f} | {wins} | "
            f"{statistics.mean(ratios):.3f} | {seconds:.0f} |"
        )


if __name__ == "__main__":
    main()
