"""Serving cost: import and load time, single-query latency and batch throughput.

Compares, in one run, the router file (``router.export`` or ``save_router``,
read by ``skroute.persistence.load_router`` with numpy alone and without
trusting the file) with a pickle of the whole estimator (``pickle.load``, for
trusted files only, which imports torch and skorch):

- the time to import what loading needs, and the time of the load call alone
  (reading and checking the file), in a fresh Python process (medians over
  several processes), and whether torch was imported;
- the latency of ``predict`` on one query (median and 99th percentile over
  many calls, after a warm-up);
- the throughput of ``predict`` on 10,000 queries.

The routers are fitted on generated logs with 11 models and, by default,
1,024 features (RouterBench's embedding size): the default
``CausalRouterClassifier``, the same with its learned policy deployed
(``safety_check="off"``: the largest file, an ensemble of networks and the
outcome models), and an ``IntervalCostRouter``. Run:
``python benchmarks/bench_serving.py [--n-features 1024]``.
"""

import argparse
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import print_table, set_torch_threads

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.persistence import load_router, save_router

_LOAD = """
import sys, time
start = time.perf_counter()
import numpy as np
{imports}
imported = time.perf_counter()
{load}
loaded = time.perf_counter()
router.predict(np.zeros((1, {n_features})))
print(imported - start, loaded - imported, "torch" in sys.modules)
"""
_FILE = (
    "from skroute.persistence import load_router",
    "router = load_router({path!r})",
)
_PICKLE = (
    "import pickle",
    "with open({path!r}, 'rb') as file:\n    router = pickle.load(file)",
)


def load_seconds(code, path, n_features, repeats):
    """Median seconds to import, and to load, in fresh processes; torch imported?"""
    imports, loads, with_torch = [], [], set()
    for _ in range(repeats):
        script = _LOAD.format(
            imports=code[0], load=code[1].format(path=str(path)), n_features=n_features
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        imported, loaded, torch_loaded = done.stdout.split()
        imports.append(float(imported))
        loads.append(float(loaded))
        with_torch.add(torch_loaded)
    return (
        float(np.median(imports)),
        float(np.median(loads)),
        ", ".join(sorted(with_torch)),
    )


def latency(predict, X, n_calls):
    """Median and 99th percentile of one-query predict, in microseconds."""
    for row in X[:50]:
        predict(row[None])
    times = np.empty(n_calls)
    for j in range(n_calls):
        row = X[j % X.shape[0]][None]
        start = time.perf_counter()
        predict(row)
        times[j] = time.perf_counter() - start
    return np.median(times) * 1e6, np.quantile(times, 0.99) * 1e6


def throughput(predict, X, repeats=5):
    best = min(_timed(predict, X) for _ in range(repeats))
    return X.shape[0] / best


def _timed(predict, X):
    start = time.perf_counter()
    predict(X)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=7)
    parser.add_argument("--n-features", type=int, default=1024)
    args = parser.parse_args()
    set_torch_threads(1)
    n_features = args.n_features
    problem = make_routing_problem(
        n_samples=13_000, n_models=11, n_features=n_features, random_state=0
    )
    logs = simulate_logging(
        problem.X[:3000],
        problem.reward[:3000],
        problem.cost[:3000],
        models=problem.models,
        random_state=0,
    )
    queries = problem.X[3000:]
    fit = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
    routers = {
        "causal (default)": CausalRouterClassifier(
            cost_sensitivity=0.1, random_state=0
        ),
        "causal (learned policy)": CausalRouterClassifier(
            cost_sensitivity=0.1, safety_check="off", random_state=0
        ),
        "interval": IntervalCostRouter(cost_range=(0.0, 0.5), random_state=0),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for k, (name, router) in enumerate(routers.items()):
            router.fit(logs.X, logs.action, **fit)
            npz, pkl = Path(folder) / f"{k}.npz", Path(folder) / f"{k}.pkl"
            save_router(router, npz)
            with open(pkl, "wb") as file:
                pickle.dump(router, file)
            served = load_router(npz)
            assert (served.predict(queries) == router.predict(queries)).all()
            for kind, model, code, path in [
                ("router file (numpy)", served, _FILE, npz),
                ("pickle (trusted; torch)", router, _PICKLE, pkl),
            ]:
                imported, loaded, torch_loaded = load_seconds(
                    code, path, n_features, args.processes
                )
                median, p99 = latency(model.predict, queries, args.calls)
                rate = throughput(model.predict, queries)
                rows.append(
                    [
                        name,
                        kind,
                        f"{path.stat().st_size / 1e6:.1f}",
                        f"{imported * 1e3:.0f}",
                        f"{loaded * 1e3:.1f}",
                        torch_loaded,
                        f"{median:.0f}",
                        f"{p99:.0f}",
                        f"{rate:,.0f}",
                    ]
                )
            print(f"{name}: deployed {type(router.deployed_).__name__}", flush=True)
    print(
        f"11 models, {n_features} features, 1 thread; import and load: medians of "
        f"{args.processes} fresh processes; latency: {args.calls} one-query calls; "
        f"throughput: best of 5 on {queries.shape[0]:,} queries."
    )
    print_table(
        [
            "router",
            "artefact",
            "MB",
            "import ms",
            "load ms",
            "torch imported",
            "1-query µs (median)",
            "1-query µs (p99)",
            "rows/s",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
