"""Peak memory of a fit and of predict, relative to the size of X.

Each measurement runs in its own Python process, so that peak resident memory
(``ru_maxrss``) belongs to it alone:

- ``fit``: a ``CausalRouterClassifier`` on generated logs of ``--n-samples``
  rows x 384 float32 features with 6, 20 and 40 models and logged
  propensities, generated in another process and loaded; the peak resident
  memory during the fit beyond what the process held just before it (data
  included), as a multiple of X's bytes.
- ``predict``: a router fitted on 5,000 rows predicts ``--predict-rows`` rows
  of 384 float32 features; numpy's allocations during ``predict`` traced by
  tracemalloc (its peak beyond the output), as a multiple of X's bytes.

Run: ``python benchmarks/bench_memory.py`` (a few minutes on 2 cores).
"""

import argparse
import json
import subprocess
import sys
import tempfile

from _common import print_table

# The logs are generated in a process of their own and saved: generating them
# (float64 features) peaks above the fit, and the peak resident memory of the
# measured process would then be the generation's.
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
np.save("{folder}/X.npy", np.ascontiguousarray(logs.X, dtype=np.float32))
for name in ("action", "reward", "cost", "propensity"):
    np.save(f"{folder}/{{name}}.npy", np.asarray(getattr(logs, name)))
print("{{}}")
"""

_FIT = """
import json, os, resource
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
# Resident memory now (not the high-water mark): X, the logs, torch.
with open("/proc/self/statm") as statm:
    before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
router.fit(X, logs["action"], reward=logs["reward"], cost=logs["cost"],
           propensity=logs["propensity"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"x_bytes": X.nbytes, "before": before, "peak": peak}}))
"""

_PREDICT = """
import json, tracemalloc
import _common
_common.set_torch_threads(1)
import numpy as np
from skroute import CausalRouterClassifier
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=5000, n_features=384, random_state=0)
logs = simulate_logging(problem.X, problem.reward, problem.cost,
                        models=problem.models, random_state=0)
router = CausalRouterClassifier(max_epochs=5, random_state=0).fit(
    logs.X.astype(np.float32), logs.action, reward=logs.reward,
    cost=logs.cost, propensity=logs.propensity)
X = np.random.default_rng(0).standard_normal(
    ({rows}, 384), dtype=np.float32)
tracemalloc.start()
routes = router.predict(X)
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({{"x_bytes": X.nbytes, "peak": peak,
                   "output": routes.nbytes}}))
"""


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
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--predict-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    for k in args.models:
        with tempfile.TemporaryDirectory() as folder:
            _run(_GENERATE.format(n=args.n_samples, k=k, folder=folder))
            result = _run(_FIT.format(folder=folder, epochs=args.max_epochs))
        extra = result["peak"] - result["before"]
        rows.append(
            [
                "fit",
                f"{args.n_samples:,} x 384, {k} models",
                f"{result['x_bytes'] / 2**20:.0f}",
                f"{extra / 2**20:.0f}",
                f"{extra / result['x_bytes']:.2f}",
            ]
        )
    result = _run(_PREDICT.format(rows=args.predict_rows))
    extra = result["peak"] - result["output"]
    rows.append(
        [
            "predict",
            f"{args.predict_rows:,} x 384",
            f"{result['x_bytes'] / 2**20:.0f}",
            f"{extra / 2**20:.0f}",
            f"{extra / result['x_bytes']:.3f}",
        ]
    )
    print(
        "float32 features, 1 torch thread; fit: peak RSS beyond the process's "
        f"RSS before fit (max_epochs={args.max_epochs}); predict: numpy's "
        "traced peak beyond the output."
    )
    print_table(["call", "data", "X MiB", "extra MiB", "extra / X"], rows)


if __name__ == "__main__":
    main()
