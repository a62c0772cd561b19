"""Peak memory of a fit and of predict, relative to the size of X.

Each measurement runs in a Python process of its own. Peak resident memory is
Linux's high-water mark (``VmHWM``), reset just before the measured call
(``/proc/self/clear_refs``), so that it belongs to that call alone; the
figure is the peak beyond the resident memory just before the call (data
included), as a multiple of X's bytes:

- ``fit``: a ``CausalRouterClassifier`` on generated logs of ``--n-samples``
  rows x 384 features (float32 and float64) with 6, 20 and 40 models and
  logged propensities; the logs are generated in another process and loaded.
- ``predict``: a router fitted on 5,000 rows predicts ``--predict-rows`` rows
  of 384 float32 features, for each deployed policy: the network
  (``CausalRouterClassifier`` and ``IntervalCostRouter`` with
  ``safety_check="off"``) and the direct-method fallback. The output is
  subtracted; numpy's traced peak (tracemalloc, a second call) is shown
  beside the resident one, which also sees torch's allocations.

Run: ``python benchmarks/bench_memory.py`` (a few minutes on 2 cores).
"""

import argparse
import json
import subprocess
import sys
import tempfile

from _common import print_table

# The logs are generated in a process of their own and saved: generating them
# (float64 features) peaks above the fit.
_GENERATE = """
import numpy as np
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(
    n_samples={n}, n_models={k}, n_features=384, random_state=0
)
logs = simulate_logging(
    problem.X.astype(np.float32), problem.reward, problem.cost,
    models=problem.models, random_state=0,
)
np.save("{folder}/X.npy", np.ascontiguousarray(logs.X, dtype=np.{dtype}))
for name in ("action", "reward", "cost", "propensity"):
    np.save(f"{folder}/{{name}}.npy", np.asarray(getattr(logs, name)))
print("{{}}")
"""

_RESIDENT = """
import os

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def reset_peak():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")

def peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
"""

_FIT = (
    _RESIDENT
    + """
import json
import _common
_common.set_torch_threads(1)
import numpy as np
from skroute import CausalRouterClassifier

X = np.load("{folder}/X.npy")
logs = {{name: np.load(f"{folder}/{{name}}.npy")
        for name in ("action", "reward", "cost", "propensity")}}
router = CausalRouterClassifier(
    cost_sensitivity=0.05, max_epochs={epochs}, random_state=0
)
reset_peak()
before = resident()
router.fit(X, logs["action"], reward=logs["reward"], cost=logs["cost"],
           propensity=logs["propensity"])
print(json.dumps({{"x_bytes": X.nbytes, "before": before, "peak": peak()}}))
"""
)

_PREDICT = (
    _RESIDENT
    + """
import json, tracemalloc, warnings
import _common
_common.set_torch_threads(1)
import numpy as np
from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=5000, n_features=384, random_state=0)
logs = simulate_logging(problem.X, problem.reward, problem.cost,
                        models=problem.models, random_state=0)
router = {router}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    router.fit(logs.X.astype(np.float32), logs.action, reward=logs.reward,
               cost=logs.cost, propensity=logs.propensity)
X = np.random.default_rng(0).standard_normal(({rows}, 384), dtype=np.float32)
router.predict(X[:10])
reset_peak()
before = resident()
routes = router.predict(X)
resident_peak = peak() - before
del routes
tracemalloc.start()
routes = router.predict(X)
current, traced = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({{"x_bytes": X.nbytes, "resident": resident_peak,
                   "traced": traced, "output": routes.nbytes,
                   "deployed": router.deployed_policy_}}))
"""
)

_PREDICTORS = {
    "CausalRouterClassifier": (
        "CausalRouterClassifier(max_epochs=5, safety_check='off', random_state=0)"
    ),
    "CausalRouterClassifier, fallback": (
        "CausalRouterClassifier(max_epochs=5, random_state=0)"
    ),
    "IntervalCostRouter": (
        "IntervalCostRouter(max_epochs=5, safety_check='off', random_state=0)"
    ),
}


def _run(script):
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=__file__.rsplit("/", 1)[0] or ".",
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=50_000)
    parser.add_argument("--models", type=int, nargs="+", default=[6, 20, 40])
    parser.add_argument(
        "--dtypes",
        nargs="+",
        default=["float32", "float64"],
        choices=["float32", "float64"],
    )
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--predict-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    for dtype in args.dtypes:
        for k in args.models:
            with tempfile.TemporaryDirectory() as folder:
                _run(
                    _GENERATE.format(n=args.n_samples, k=k, folder=folder, dtype=dtype)
                )
                result = _run(_FIT.format(folder=folder, epochs=args.max_epochs))
            extra = result["peak"] - result["before"]
            rows.append(
                [
                    "fit",
                    f"{args.n_samples:,} x 384 {dtype}, {k} models",
                    f"{result['x_bytes'] / 2**20:.0f}",
                    f"{extra / 2**20:.0f}",
                    f"{extra / result['x_bytes']:.2f}",
                    "",
                ]
            )
    for name, router in _PREDICTORS.items():
        result = _run(_PREDICT.format(rows=args.predict_rows, router=router))
        extra = result["resident"] - result["output"]
        traced = result["traced"] - result["output"]
        rows.append(
            [
                f"predict ({name}: {result['deployed'].replace('_', ' ')})",
                f"{args.predict_rows:,} x 384 float32",
                f"{result['x_bytes'] / 2**20:.0f}",
                f"{extra / 2**20:.0f}",
                f"{extra / result['x_bytes']:.3f}",
                f"{traced / result['x_bytes']:.3f}",
            ]
        )
    print(
        "1 torch thread; peak resident memory beyond the resident memory just "
        f"before the call (fit: max_epochs={args.max_epochs}; predict: beyond its "
        "output too), and numpy's traced peak beyond the output."
    )
    print_table(
        ["call", "data", "X MiB", "extra MiB", "extra / X", "numpy traced / X"], rows
    )


if __name__ == "__main__":
    main()
