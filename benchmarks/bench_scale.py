"""How fit, predict and off-policy scoring grow with the number of logged rows.

For each size (``--sizes``) and embedding width (``--dims``), in a process of
its own (so that its peak resident memory is its own), on generated logs of
11 models with unit-norm float32 embeddings and logged propensities:

- fit time of ``CausalRouterClassifier`` (defaults, lambda = 0.05), split
  into the cross-fitted nuisances (timed alone, as the router runs them) and
  the rest (policy training with its cross-fitted selection and safety check);
- peak resident memory of the process, and X's size (the logs are generated
  in another process and loaded, so the peak is X's and the fit's);
- ``predict`` throughput on the same rows;
- the time of ``skroute.metrics.policy_value`` (DR, 5 folds) of the fitted
  router on those rows: what the DR scorer of a ``GridSearchCV`` computes for
  each validation fold.

Run: ``python benchmarks/bench_scale.py --sizes 10000 100000 --dims 384``.
The table goes to stdout; ``--json`` also writes the records.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import print_table

# The logs are generated in a process of their own and saved, so that the
# measured process's peak memory is that of X and the fit, not of generating
# float64 features.
_GENERATE = """
import numpy as np
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(
    n_samples={n}, n_models=11, n_features={d}, random_state=0
)
X = problem.X / np.linalg.norm(problem.X, axis=1, keepdims=True)
X = X.astype(np.float32)
logs = simulate_logging(X, problem.reward, problem.cost,
                        models=problem.models, random_state=0)
np.save("{folder}/X.npy", X)
for name in ("action", "action_index", "reward", "cost", "propensity"):
    np.save(f"{folder}/{{name}}.npy", np.asarray(getattr(logs, name)))
"""

_ONE = """
import json, resource, time
from types import SimpleNamespace
import _common
_common.set_torch_threads({threads})
import numpy as np
from threadpoolctl import threadpool_limits
from skroute import CausalRouterClassifier
from skroute.causal import cross_fit_pseudo_outcomes
from skroute.metrics import policy_value

X = np.load("{folder}/X.npy")
logs = SimpleNamespace(**{{
    name: np.load(f"{folder}/{{name}}.npy")
    for name in ("action", "action_index", "reward", "cost", "propensity")
}})
record = {{"n": {n}, "d": {d}, "x_mib": X.nbytes / 2**20}}
with threadpool_limits({threads}):
    start = time.perf_counter()
    cross_fit_pseudo_outcomes(X, logs.action_index, logs.reward, logs.cost,
                              logs.propensity, n_classes=11, random_state=0,
                              warn_overlap=False)
    record["nuisances_s"] = time.perf_counter() - start
    router = CausalRouterClassifier(cost_sensitivity=0.05, random_state=0)
    start = time.perf_counter()
    router.fit(X, logs.action, reward=logs.reward, cost=logs.cost,
               propensity=logs.propensity)
    record["fit_s"] = time.perf_counter() - start
    record["deployed"] = router.deployed_policy_
    router.predict(X[:1000])
    start = time.perf_counter()
    router.predict(X)
    record["predict_rows_s"] = X.shape[0] / (time.perf_counter() - start)
    start = time.perf_counter()
    policy_value(router.predict(X), logs.action, reward=logs.reward,
                 cost=logs.cost, propensity=logs.propensity,
                 cost_sensitivity=0.05, X=X, classes=router.classes_,
                 warn=False)
    record["policy_value_s"] = time.perf_counter() - start
record["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(record))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[384])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    records = []
    for d in args.dims:
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as folder:
                for script in (_GENERATE, _ONE):
                    code = script.format(n=n, d=d, threads=args.threads, folder=folder)
                    done = subprocess.run(
                        [sys.executable, "-c", code],
                        capture_output=True,
                        text=True,
                        check=True,
                        cwd=Path(__file__).resolve().parent,
                    )
            records.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(records[-1]), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))
    rows = [
        [
            f"{r['n']:,}",
            r["d"],
            f"{r['nuisances_s']:.1f}",
            f"{r['fit_s'] - r['nuisances_s']:.1f}",
            f"{r['fit_s']:.1f}",
            f"{r['peak_mib']:.0f}",
            f"{r['x_mib']:.0f}",
            f"{r['predict_rows_s']:,.0f}",
            f"{r['policy_value_s']:.1f}",
            r["deployed"],
        ]
        for r in records
    ]
    print(f"11 models, float32 unit-norm embeddings, {args.threads} threads")
    print_table(
        [
            "rows",
            "dim",
            "nuisances s",
            "policy+selection s",
            "fit s",
            "peak RSS MiB",
            "X MiB",
            "predict rows/s",
            "policy_value s",
            "deployed",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
