"""Serving cost: import-and-load time, single-query latency and batch throughput.

Compares, in one run, the torch-free export (``router.export`` then
``skroute.load_exported``, numpy alone) with the pickled router
(``skroute.persistence.load_router``, which imports torch and skorch):

- the time to import and load each in a fresh Python process (median of
  several processes), and whether torch was imported;
- the latency of ``predict`` on one query (median and 99th percentile over
  many calls, after a warm-up);
- the throughput of ``predict`` on 10,000 queries.

The routers are a ``CausalRouterClassifier`` and an ``IntervalCostRouter``
fitted on generated logs with 384 features (the size of the shared
embeddings) and 11 models. Run: ``python benchmarks/bench_serving.py``.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import print_table, set_torch_threads

from skroute import CausalRouterClassifier, IntervalCostRouter, load_exported
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.persistence import load_router, save_router

_LOAD = """
import sys, time
start = time.perf_counter()
import numpy as np
X = np.zeros((1, {n_features}))
{body}
router.predict(X)
print(time.perf_counter() - start, "torch" in sys.modules)
"""
_EXPORTED = "import skroute\nrouter = skroute.load_exported({path!r})"
_PICKLED = "from skroute.persistence import load_router\nrouter = load_router({path!r})"


def load_seconds(body, n_features, repeats):
    """Median seconds to import numpy and skroute, load, and route one query.

    Each run is a new Python process, timed from its first import.
    """
    times, with_torch = [], set()
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", _LOAD.format(body=body, n_features=n_features)],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, torch_loaded = done.stdout.split()
        times.append(float(seconds))
        with_torch.add(torch_loaded)
    return float(np.median(times)), ", ".join(sorted(with_torch))


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
    parser.add_argument("--processes", type=int, default=5)
    args = parser.parse_args()
    set_torch_threads(1)
    problem = make_routing_problem(
        n_samples=13_000, n_models=11, n_features=384, random_state=0
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
        "causal": CausalRouterClassifier(cost_sensitivity=0.1, random_state=0),
        "interval": IntervalCostRouter(cost_range=(0.0, 0.5), random_state=0),
    }
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, router in routers.items():
            router.fit(logs.X, logs.action, **fit)
            npz, pkl = Path(folder) / f"{name}.npz", Path(folder) / f"{name}.pkl"
            router.export(npz)
            save_router(router, pkl)
            exported, pickled = load_exported(npz), load_router(pkl)
            assert (exported.predict(queries) == pickled.predict(queries)).all()
            for kind, model, body in [
                ("export (numpy)", exported, _EXPORTED.format(path=str(npz))),
                ("pickle (torch)", pickled, _PICKLED.format(path=str(pkl))),
            ]:
                seconds, torch_loaded = load_seconds(body, 384, args.processes)
                median, p99 = latency(model.predict, queries, args.calls)
                rate = throughput(model.predict, queries)
                rows.append(
                    [
                        name,
                        kind,
                        f"{seconds:.2f}",
                        torch_loaded,
                        f"{median:.0f}",
                        f"{p99:.0f}",
                        f"{rate:,.0f}",
                    ]
                )
    print(
        f"11 models, 384 features, 1 thread; load: median of {args.processes} "
        f"fresh processes; latency: {args.calls} one-query calls; throughput: "
        f"best of 5 on {queries.shape[0]:,} queries."
    )
    print_table(
        [
            "router",
            "artefact",
            "import+load s",
            "torch imported",
            "1-query µs (median)",
            "1-query µs (p99)",
            "rows/s",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
