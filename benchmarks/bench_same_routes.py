"""Do two versions of skroute route alike? Fixed-seed fits, saved and compared.

A change that should not change behaviour (a refactor, a speed-up) is checked
by saving the outputs of one version and comparing those of the other: every
router, each deployed policy of the neural routers (network, direct method,
best single model), every head type of the interval router, the exported
router's routes, the safety reports and the trained epochs.

    git worktree add ../before <old commit>
    PYTHONPATH=../before python benchmarks/bench_same_routes.py save /tmp/routes
    python benchmarks/bench_same_routes.py compare /tmp/routes

Prints one line per configuration (SAME, or what differs) and the number of
configurations that differ. Runs in about 20 s on 2 cores.
"""

import argparse
import tempfile
import warnings
from pathlib import Path

# First: it sets the thread limits before numpy loads.
import _common  # noqa: F401
import numpy as np
from sklearn.dummy import DummyRegressor

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.routers import (
    BestSingleModelRouter,
    DecoupledRouter,
    RandomRouter,
)
from skroute.serving import load_exported


def _logs(n_samples):
    problem = make_routing_problem(n_samples=n_samples, random_state=3)
    return simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=1
    )


def configurations():
    """(name, router, rows of the logs, lambdas of predict or None, logged arrays)."""
    logged = ("reward", "cost", "propensity")
    # Outcome models that know nothing make the check fall back to the best
    # single model on the small logs.
    blind = dict(reward_model=DummyRegressor(), cost_model=DummyRegressor())
    yield "decoupled", DecoupledRouter(cost_sensitivity=0.05), 1500, None, logged
    yield "best", BestSingleModelRouter(cost_sensitivity=0.05), 1500, None, logged
    yield "random", RandomRouter(random_state=0), 1500, None, logged
    for check in ("fallback", "off"):
        for lam in (0.0, 0.2):
            router = CausalRouterClassifier(
                cost_sensitivity=lam, max_epochs=15, safety_check=check, random_state=0
            )
            yield f"causal-{check}-{lam}", router, 1500, None, logged
    router = CausalRouterClassifier(
        surrogate="classification",
        cost_sensitivity=0.05,
        max_epochs=10,
        safety_check="off",
        random_state=1,
    )
    yield "causal-estimated-propensity", router, 1500, None, ("reward", "cost")
    router = CausalRouterClassifier(cost_sensitivity=0.05, random_state=0)
    yield "causal-default", router, 1500, None, logged
    for heads in ("quality", "affine", "independent"):
        for check in ("fallback", "off"):
            router = IntervalCostRouter(
                cost_range=(0, 0.3),
                heads=heads,
                max_epochs=12,
                safety_check=check,
                random_state=0,
            )
            yield f"interval-{heads}-{check}", router, 1500, [0.0, 0.05, 0.3], logged
    for check in ("fallback", "warn"):
        router = CausalRouterClassifier(
            cost_sensitivity=0.3,
            max_epochs=3,
            safety_check=check,
            random_state=0,
            **blind,
        )
        yield f"causal-blind-{check}", router, 600, None, logged
    router = IntervalCostRouter(
        cost_range=(0, 0.3), max_epochs=5, random_state=0, **blind
    )
    yield "interval-blind", router, 600, [0.0, 0.1], logged
    router = IntervalCostRouter(cost_range=(0, 0.3), random_state=0)
    yield "interval-default", router, 1500, [0.0, 0.1, 0.3], logged


def outputs(router, logs, lambdas, logged, X):
    router.fit(logs.X, logs.action, **{name: getattr(logs, name) for name in logged})
    out = {}
    for lam in lambdas or [None]:
        options = {} if lam is None else {"cost_sensitivity": lam}
        out[f"predict {lam}"] = router.predict(X, **options)
        out[f"predict_proba {lam}"] = router.predict_proba(X, **options)
    if lambdas is not None:
        paths = router.routing_path(X[:50])
        out["breakpoints"] = np.array([len(path.breakpoints) for path in paths])
    if getattr(router, "heads", "quality") == "quality":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "router.npz"
            router.export(path)
            served = load_exported(path)
            options = {} if lambdas is None else {"cost_sensitivity": lambdas[-1]}
            out["served"] = served.predict(X, **options)
            out["served_proba"] = served.predict_proba(X, **options)
    report = getattr(router, "safety_report_", None)
    if report:
        estimates = report["estimates"]
        out["estimates"] = np.array([estimates[k] for k in sorted(estimates)])
        out["epoch_bounds"] = np.array(list(report["epoch_lower_bounds"].values()))
    if hasattr(router, "n_epochs_"):
        out["epochs"] = np.array([router.n_epochs_, *router.training_epochs_])
        out["deployed"] = np.array(router.deployed_policy_)
    return out


def differences(saved, now):
    found = []
    for key in saved.files:
        before, after = saved[key], now[key]
        if before.dtype.kind == "f":
            if before.shape != after.shape or not np.allclose(
                before, after, rtol=1e-5, atol=1e-6
            ):
                found.append(f"{key}: max {np.max(np.abs(before - after)):.3g}")
        elif not np.array_equal(before, after):
            found.append(f"{key}: {np.mean(before != after):.1%} differ")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("save", "compare"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    X = make_routing_problem(n_samples=400, random_state=4).X
    logs = {n: _logs(n) for n in (600, 1500)}
    n_different = 0
    for name, router, rows, lambdas, logged in configurations():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            now = outputs(router, logs[rows], lambdas, logged, X)
        path = args.folder / f"{name}.npz"
        if args.mode == "save":
            np.savez(path, **now)
            print(f"{name:30s} saved")
            continue
        found = differences(np.load(path), now)
        n_different += bool(found)
        print(f"{name:30s} {'SAME' if not found else 'DIFF ' + '; '.join(found)}")
    if args.mode == "compare":
        print(f"configurations that differ: {n_different}")


if __name__ == "__main__":
    main()
