"""
Exporting a router and serving it with numpy alone
==================================================

A fitted router pickles with :func:`~skroute.persistence.save_router`, but
loading that file needs torch, skorch and skroute's training code. For serving,
``router.export(path)`` writes the deployed policy's arrays to an ``.npz``
file; :func:`~skroute.load_exported` reads it into a small predictor that
imports neither torch nor skorch and gives the same routes.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import skroute
from skroute import IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=4000, random_state=0)
logs = simulate_logging(
    problem.X[:2000],
    problem.reward[:2000],
    problem.cost[:2000],
    models=problem.models,
    random_state=0,
)
router = IntervalCostRouter(cost_range=(0.0, 0.5), random_state=0)
router.fit(
    logs.X,
    logs.action,
    reward=logs.reward,
    cost=logs.cost,
    propensity=logs.propensity,
)

# %%
# Export, load, compare
# ---------------------
folder = Path(tempfile.mkdtemp())
router.export(folder / "router.npz")
served = skroute.load_exported(folder / "router.npz")
queries = problem.X[2000:]
for lam in (0.0, 0.1, 0.4):
    same = np.array_equal(
        served.predict(queries, cost_sensitivity=lam),
        router.predict(queries, cost_sensitivity=lam),
    )
    print(f"λ = {lam}: same routes on {len(queries)} queries: {same}")

# %%
# What serving costs
# ------------------
# In a fresh process, importing skroute and loading the export leaves torch
# unimported. One query at a time, the numpy predictor skips the router's
# torch forward pass and answers several times faster.
check = (
    "import sys, skroute; "
    f"skroute.load_exported({str(folder / 'router.npz')!r}); "
    "print('torch' in sys.modules)"
)
torch_loaded = subprocess.run(
    [sys.executable, "-c", check], capture_output=True, text=True, check=True
).stdout.strip()
print(f"torch imported by the serving path: {torch_loaded}")


def one_query_times(predict, n_calls=300):
    """Seconds of each of ``n_calls`` one-query predictions."""
    times = []
    for j in range(n_calls):
        row = queries[j : j + 1]
        start = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1e6


latency = {
    "export (numpy)": one_query_times(served.predict),
    "router (torch)": one_query_times(router.predict),
}
figure, ax = plt.subplots(figsize=(6.5, 3), layout="constrained")
# The axis spans the calls measured, not a fixed range: the slowest 1% of calls
# (a busy machine's hiccups) are counted in the last bin.
every = np.concatenate(list(latency.values()))
low, high = np.percentile(every, [0, 99])
bins = np.geomspace(low * 0.9, high * 1.1, 40)
for name, times in latency.items():
    print(f"{name}: median {np.median(times):.0f} µs per query")
    ax.hist(np.clip(times, None, bins[-1]), bins=bins, alpha=0.7, label=name)
ax.set_xscale("log")
ax.set_xlabel("one-query predict, µs (300 calls)")
ax.set_ylabel("calls")
ax.legend()

# %%
# Trust
# -----
# An ``.npz`` export holds arrays and metadata only. Pickles, including
# those of :func:`~skroute.persistence.save_router`, can run code when loaded:
# :func:`~skroute.persistence.load_router` refuses anything beyond the classes
# a router needs unless ``trusted=True``, which is for files from trusted
# sources only.
