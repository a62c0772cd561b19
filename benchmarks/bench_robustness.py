"""Robustness suite: the default router against its baselines on varied logs.

Every cell is a (dataset, logging policy, lambda) triple. Cells were split
into **dev** cells (for every design decision about defaults) and **test**
cells (run once, at the end, and reported as they come out) before any
tuning; the split is the ``SPLIT`` table of ``_common.py`` (with the
datasets and logging policies, which ``bench_interval_robustness.py`` shares)
and must not change after a test run. Dev and test use different seeds as
well, so even a dataset that appears in both is drawn afresh. Test cells
that have been looked at become dev cells, and new test cells are drawn:
``SPLIT`` is in its third round, whose test cells include two of at least
20,000 logged rows (``paper_scale``, ``pooled_real``).

The summary also replays the safety check's calibration: for every default
fit, whether the true gain of the learned policy over the baseline it had to
beat (the best single model, or the direct method, which ``DecoupledRouter``
deploys with the same outcome models) is at least the one-sided lower bound
the check reported.

For each (dataset, logging policy, seed) the script simulates logs on a
training part, fits every router on them for each lambda of the dataset's
grid, and measures the true regret on a held-out full-feedback test part.
The default ``CausalRouterClassifier`` is fitted with several
``random_state`` values per seed, to measure its spread.

Routers: ``default`` (``CausalRouterClassifier()``), ``decoupled``
(``DecoupledRouter()``), ``anchor`` (the decoupled router a user writes with
scikit-learn alone: ``_common.DecoupledAnchor``), ``best_single``
(``BestSingleModelRouter()``),
``random`` and ``reference`` (the default router fitted on the full quality
and cost matrices of the training part: what routing from these queries can
reach).

    python benchmarks/bench_robustness.py --cells dev --out dev.json
    python benchmarks/bench_robustness.py --cells test --out test.json
    python benchmarks/bench_robustness.py --summary dev.json test.json

``--params '{"pseudo_outcome": "dr"}'`` fits the default router with other
settings (for dev studies of one choice). On 2 cores with ``--jobs 2``, one
seed of the dev split (22 dataset-policy pairs) takes about 12 minutes.
"""

import argparse
import json
import time
from pathlib import Path

import _common  # first: it sets the thread limits before numpy loads
import numpy as np
from _common import (
    LAMBDA_FACTORS,
    SEEDS,
    SPLIT,
    DecoupledAnchor,
    add_data_dir_argument,
    exchange_rate,
    summarise_robustness,
    test_regret,
    unit_logs,
)

RANDOM_STATES = (0, 1, 2)


# --------------------------------------------------------------------------
# One (dataset, policy, seed) unit: logs, fits, regrets.
# --------------------------------------------------------------------------


def _routers(cost_sensitivity, seed, params, n_models):
    from skroute import CausalRouterClassifier
    from skroute.routers import BestSingleModelRouter, DecoupledRouter, RandomRouter

    yield "decoupled", None, DecoupledRouter(cost_sensitivity=cost_sensitivity)
    yield "anchor", None, DecoupledAnchor(n_models, cost_sensitivity)
    yield (
        "best_single",
        None,
        BestSingleModelRouter(cost_sensitivity=cost_sensitivity, random_state=seed),
    )
    yield "random", None, RandomRouter(random_state=seed)
    for state in RANDOM_STATES:
        router = CausalRouterClassifier(
            cost_sensitivity=cost_sensitivity, random_state=state, **params
        )
        yield "default", state, router


def _candidate_regrets(router, X, regret_of):
    """True regrets of the learned policy and of the best single model of a fitted
    router (deployed or not): for the calibration of its check."""
    learned = router.learned_policy_.scores(X, router.cost_sensitivity)
    network = router.classes_[np.argmax(learned, axis=1)]
    single = np.full(X.shape[0], router.safety_report_["best_single_model"])
    return {
        "network_regret": regret_of(network),
        "single_regret": regret_of(single),
    }


def _plain(value):
    """JSON-ready copy of a safety report."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_unit(dataset, policy, seed, params, data_dir=None):
    import warnings

    import torch
    from threadpoolctl import threadpool_limits

    from skroute import CausalRouterClassifier

    torch.set_num_threads(1)
    data, pool, logs = unit_logs(dataset, policy, seed, data_dir)
    train, test = data["train"], data["test"]
    X, reward, cost = data["X"], data["reward"], data["cost"]
    rate = exchange_rate(reward[train], cost[train])
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for factor in LAMBDA_FACTORS:
            cost_sensitivity = factor * rate
            fitted = list(_routers(cost_sensitivity, seed, params, reward.shape[1]))
            reference = CausalRouterClassifier(
                cost_sensitivity=cost_sensitivity, random_state=0
            )
            fitted.append(("reference", None, reference))
            for name, state, router in fitted:
                if name == "reference":
                    logged = {"reward": reward[train], "cost": cost[train]}
                else:
                    logged = _common.logged_outcomes(logs)
                _, elapsed = _common.timed(router.fit, X[train], logs.action, **logged)

                regret_of = test_regret(data, cost_sensitivity)
                value = regret_of(router.predict(X[test]))
                diagnostics = {}
                report = getattr(router, "safety_report_", None)
                if name == "default" and report is not None:
                    # What each candidate of the safety check would have given:
                    # for dev studies of its decision rule without refitting.
                    diagnostics = _candidate_regrets(router, X[test], regret_of)
                    diagnostics["report"] = _plain(report)
                rows.append(
                    dict(
                        dataset=dataset,
                        policy=policy,
                        split=SPLIT[dataset, policy],
                        seed=seed,
                        lambda_factor=factor,
                        cost_sensitivity=cost_sensitivity,
                        router=name,
                        random_state=state,
                        regret=value,
                        fit_time=elapsed,
                        choice=getattr(router, "deployed_policy_", None),
                        **diagnostics,
                    )
                )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", choices=("dev", "test"), default="dev")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--params", default="{}", help="JSON, for the default router")
    parser.add_argument("--out", default=None, help="write the rows to this JSON")
    parser.add_argument(
        "--summary",
        nargs="*",
        default=None,
        help="print the summary of earlier JSON outputs and exit",
    )
    add_data_dir_argument(parser)
    args = parser.parse_args()

    if args.summary:
        rows = [r for path in args.summary for r in json.loads(Path(path).read_text())]
        for split in ("dev", "test"):
            if any(r["split"] == split for r in rows):
                print(f"\n## {split} cells\n")
                print("\n".join(summarise_robustness(rows, split)))
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
    results = Parallel(n_jobs=args.jobs, verbose=5)(
        delayed(run_unit)(*unit, params, args.data_dir) for unit in units
    )
    rows = [r for unit_rows in results for r in unit_rows]
    print(f"\n{len(units)} units in {time.perf_counter() - start:.0f} s\n")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    print("\n".join(summarise_robustness(rows)))


if __name__ == "__main__":
    main()
