"""
Regret of routers trained on biased logs, across cost sensitivities
====================================================================

A generated routing problem with six models whose prices span two orders of
magnitude. A query-dependent router left logs on half of the queries; each
router is fitted on those logs and scored by its true regret on the other half.
"""

import matplotlib.pyplot as plt
import numpy as np

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
)
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import regret

problem = make_routing_problem(n_samples=4000, random_state=0)
train, test = slice(0, 2000), slice(2000, None)
logs = simulate_logging(
    problem.X[train],
    problem.reward[train],
    problem.cost[train],
    models=problem.models,
    random_state=0,
)

cost_sensitivities = [0.0, 0.05, 0.2]
routers = {
    "causal (DR-softmax)": lambda lam: CausalRouterClassifier(
        cost_sensitivity=lam, random_state=0
    ),
    "decoupled": lambda lam: DecoupledRouter(cost_sensitivity=lam),
    "best single model": lambda lam: BestSingleModelRouter(
        cost_sensitivity=lam, random_state=0
    ),
}
curves = {name: [] for name in routers}
for lam in cost_sensitivities:
    for name, make in routers.items():
        router = make(lam).fit(
            logs.X,
            logs.action,
            reward=logs.reward,
            cost=logs.cost,
            propensity=logs.propensity,
        )
        curves[name].append(
            regret(
                problem.expected_reward[test],
                router.predict(problem.X[test]),
                cost=problem.cost[test],
                cost_sensitivity=lam,
                classes=problem.models,
            )
        )

# A marker and line style per router: where the causal router deploys the
# decoupled router's policy, the two draw the same points.
fig, ax = plt.subplots()
styles = [("o", "-", 8), ("^", "--", 6), ("s", ":", 6)]
for (name, values), (marker, line, size) in zip(curves.items(), styles):
    ax.plot(
        cost_sensitivities,
        values,
        marker=marker,
        linestyle=line,
        markersize=size,
        markerfacecolor="none" if line != "-" else None,
        label=name,
    )
ax.set_xlabel("cost sensitivity λ")
ax.set_ylabel("true test regret")
ax.legend()
print({name: np.round(values, 3).tolist() for name, values in curves.items()})
