"""
Choosing λ, or a budget, with the interval router
=================================================

The cost sensitivity λ trades quality for cost, and the right trade is often
not known when the router is trained. :class:`~skroute.IntervalCostRouter`
learns one model that routes at every λ of a range; λ is then chosen at
prediction time, or from a budget on the mean cost per query.
"""

import numpy as np

from skroute import IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=6000, random_state=0)
train, calibration, test = slice(0, 3000), slice(3000, 4500), slice(4500, None)


def logs_of(rows, seed):
    return simulate_logging(
        problem.X[rows],
        problem.reward[rows],
        problem.cost[rows],
        models=problem.models,
        random_state=seed,
    )


logs = logs_of(train, 0)
router = IntervalCostRouter(cost_range=(0.0, 0.5), random_state=0)
router.fit(
    logs.X,
    logs.action,
    reward=logs.reward,
    cost=logs.cost,
    propensity=logs.propensity,
)

# %%
# Which model each λ sends traffic to
# -----------------------------------
# :class:`~skroute.plotting.RoutingPathDisplay` stacks each model's share of
# the held-out queries across the range. As λ rises, traffic moves to
# cheaper models; a query's route never moves to a model the router
# estimates dearer.
from skroute.plotting import RoutingPathDisplay

path = RoutingPathDisplay.from_estimator(
    router, problem.X[test], name="Share of held-out queries per model"
)

# %%
# Routing at a chosen λ
# ---------------------
# ``predict`` takes the λ of the moment; the router's own
# ``cost_sensitivity`` is the default.
for lam in (0.0, 0.1, 0.4):
    chosen = router.predict(problem.X[test], cost_sensitivity=lam)
    models, counts = np.unique(chosen, return_counts=True)
    print(
        f"λ = {lam}: " + ", ".join(f"{m} {c}" for m, c in zip(models, counts))
    )

# %%
# λ from a budget
# ---------------
# :class:`~skroute.BudgetRouter` estimates off policy, on logs the router was
# not fitted on, the mean cost of every λ, and routes at the one that meets
# the budget; the fitted interval router itself is left as it is
# (``cv="prefit"``: it is fitted already, and every row given to ``fit``
# calibrates). ``conservative=True`` meets the budget with the upper
# confidence bound instead, so that the true cost exceeds it rarely.
from skroute import BudgetRouter
from skroute.metrics import routing_summary

held_out = logs_of(calibration, 1)
fit = {
    "reward": held_out.reward,
    "cost": held_out.cost,
    "propensity": held_out.propensity,
}
budget = 0.6
for conservative in (False, True):
    budgeted = BudgetRouter(
        router, budget=budget, conservative=conservative, cv="prefit"
    )
    budgeted.fit(held_out.X, held_out.action, **fit)
    result = budgeted.budget_result_
    true = routing_summary(
        problem.expected_reward[test],
        budgeted.predict(problem.X[test]),
        cost=problem.cost[test],
        classes=router.classes_,
    )
    print(
        f"conservative={conservative}: λ = {budgeted.cost_sensitivity_:.3f}\n"
        f"  estimated cost {result.estimated_cost:.3f}; on the test rows: "
        f"cost {true['cost']:.3f}, quality {true['quality']:.3f}"
    )

# %%
# The curve the range covers
# --------------------------
from skroute.plotting import RoutingCurveDisplay

curve = RoutingCurveDisplay.from_estimator(
    router,
    problem.X[test],
    reward=problem.expected_reward[test],
    cost=problem.cost[test],
    name="interval router, λ in [0, 0.5]",
)
curve.ax_.axvline(budget, color="0.6", linestyle="--", linewidth=1)
_ = curve.ax_.set_title(f"Held-out queries; dashed: the budget {budget}")
