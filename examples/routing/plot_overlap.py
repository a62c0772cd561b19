"""
Checking overlap before trusting the logs
=========================================

Off-policy estimates and the routers trained on them lean on the logging
probabilities: a model that the old router almost never chose leaves too few
rows to learn or judge it. skroute measures this overlap and warns when it
is poor. This example compares logs of a router that explored with logs of
one that hardly did.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from skroute.causal import OverlapWarning, overlap_diagnostics
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=3000, random_state=0)
codes = {m: t for t, m in enumerate(problem.models)}
settings = {
    "explores (temperature 1, 10% uniform)": dict(
        temperature=1.0, exploration=0.1
    ),
    "greedy (temperature 0.1, no exploration)": dict(
        temperature=0.1, exploration=0.0
    ),
}

# %%
# Diagnostics of each log
# -----------------------
# :func:`~skroute.causal.overlap_diagnostics` reports, per model, the
# effective sample size of its importance weights and the share of
# propensities below the clipping level; a fit warns with
# :class:`~skroute.causal.OverlapWarning` when they are poor.
figure, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, (name, options) in zip(axes, settings.items()):
    logs = simulate_logging(
        problem.X,
        problem.reward,
        problem.cost,
        models=problem.models,
        random_state=0,
        **options,
    )
    action = np.array([codes[m] for m in logs.action])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OverlapWarning)
        report = overlap_diagnostics(
            action,
            logs.propensity,
            n_classes=len(problem.models),
            min_propensity=0.01,
        )
    print(name)
    for key, value in report.items():
        shown = (
            np.round(value, 3) if np.ndim(value) else round(float(value), 3)
        )
        print(f"  {key}: {shown}")
    print(f"  warnings: {[str(w.message)[:90] for w in caught]}")
    ax.hist(np.log10(logs.propensity), bins=40)
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("log10 propensity of the logged model")
axes[0].set_ylabel("logged rows")
figure.tight_layout()

# %%
# What to do about poor overlap
# -----------------------------
# Routers trained on greedy logs fall back to a simple policy when they
# cannot show a gain (see ``safety_report_``), and off-policy scores warn
# when the effective sample size is small. The cure is in the logs: let the
# deployed router explore a little (a few percent of queries at random),
# and record its propensities.
