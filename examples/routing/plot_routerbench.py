"""
Routing from real RouterBench logs
==================================

RouterBench scored eleven LLMs on every query of its benchmarks and recorded
each answer's cost in USD. From those full tables we simulate what a
deployed router would have logged on half of the queries, learn a router
from the logs alone, and measure it on the other half, where every model's
answer is known.

The rows are read from the folder that the environment variable
``SKROUTE_ROUTERBENCH`` names, or else from ``shared/data/routerbench_subset``
beside the repository (research use only: they are not shipped with
skroute). Without them a generated problem of the same shape stands in, and
the example says so loudly: its numbers are then not RouterBench's.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from skroute.datasets import (
    load_wide_table,
    make_routing_problem,
    simulate_logging,
)


def _data_folder():
    named = os.environ.get("SKROUTE_ROUTERBENCH")
    if named:
        if not Path(named, "routerbench_subset.csv").is_file():
            raise FileNotFoundError(
                f"SKROUTE_ROUTERBENCH={named}: no routerbench_subset.csv there"
            )
        return Path(named)
    try:
        here = Path(__file__).resolve()
    except NameError:  # run cell by cell, in a notebook
        here = Path.cwd().resolve() / "plot_routerbench.py"
    for parent in here.parents:
        folder = parent / "shared" / "data" / "routerbench_subset"
        if folder.is_dir():
            return folder
    return None


folder = _data_folder()
if folder is not None:
    table = load_wide_table(
        folder / "routerbench_subset.csv",
        embeddings=folder / "query_emb_all-MiniLM-L6-v2.f16.npy",
    )
    X, reward, models = table.X, table.reward, table.models
    # USD per query, times 1000: USD per 1,000 queries.
    cost = table.cost * 1000
    source = "RouterBench (3 tasks, 11 models)"
else:
    problem = make_routing_problem(
        n_samples=3150, n_models=11, n_features=384, random_state=0
    )
    X, reward, cost = problem.X, problem.reward, problem.cost
    models = problem.models
    source = "generated stand-in (11 models)"
    warnings.warn(
        "RouterBench's data was not found (set SKROUTE_ROUTERBENCH to the "
        "routerbench_subset folder): this example runs on a GENERATED "
        "stand-in, and its numbers are not RouterBench's.",
        UserWarning,
        stacklevel=1,
    )
print(source, X.shape)

# %%
# Logs of a query-dependent router
# --------------------------------
# The old router chose models by a random linear rule of the embedding, with
# 5% exploration; the logs keep only the chosen model's quality and cost.
order = np.random.default_rng(0).permutation(len(X))
train, test = order[: len(X) // 2], order[len(X) // 2 :]
logs = simulate_logging(
    X[train], reward[train], cost[train], models=models, random_state=0
)

# %%
# One router per cost sensitivity, and the baselines
# --------------------------------------------------
# With costs in USD per 1,000 queries, λ = 0.05 gives up 0.05 accuracy
# points to save 1 USD per 1,000 queries.
import warnings

from skroute import BestSingleModelRouter, CausalRouterClassifier
from skroute.metrics import routing_summary
from skroute.routers import PolicyFallbackWarning

# Each fit that falls back to a simple policy would warn; the loop prints
# ``deployed_policy_`` instead.
warnings.simplefilter("ignore", PolicyFallbackWarning)

fit = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
curves = {"causal router": [], "best single model": []}
lambdas = [0.0, 0.05, 0.2]
for lam in lambdas:
    for name, router in [
        ("causal router", CausalRouterClassifier(cost_sensitivity=lam)),
        ("best single model", BestSingleModelRouter(cost_sensitivity=lam)),
    ]:
        router.set_params(random_state=0).fit(logs.X, logs.action, **fit)
        summary = routing_summary(
            reward[test],
            router.predict(X[test]),
            cost=cost[test],
            cost_sensitivity=lam,
            classes=models,
        )
        curves[name].append((summary["cost"], summary["quality"]))
        deployed = getattr(router, "deployed_policy_", "")
        print(
            f"λ={lam:<5} {name:<18} regret {summary['regret']:.3f}  "
            f"accuracy {summary['quality']:.3f}  "
            f"USD/1k queries {summary['cost']:.2f}  {deployed}"
        )

# %%
# ``deployed_policy_`` says what the causal router routes by: its network,
# or, where the logs could not show the network better on held-out folds,
# the best single model or the outcome models' argmax. With 1,575 logged
# rows for eleven models, the safe choice is often the best single model.

# %%
# The routers beside every model alone
# ------------------------------------
from skroute.plotting import RoutingCurveDisplay

display = None
for name, points in curves.items():
    costs, qualities = np.array(points).T
    display = RoutingCurveDisplay(
        costs=costs,
        qualities=qualities,
        model_costs=cost[test].mean(axis=0),
        model_qualities=reward[test].mean(axis=0),
        model_names=[m.split("/")[-1] for m in models],
        name=f"{name} (λ = 0, 0.05, 0.2)",
    ).plot(
        ax=None if display is None else display.ax_,
        show_models=display is None,
        show_hull=False,
        cost_label="USD per 1,000 queries",
        quality_label="accuracy",
    )
_ = display.ax_.set_title(source)
display.figure_.set_size_inches(9.5, 5.5)
