"""
Quick start: a router from logs
===============================

A routing log records, for each past query, its embedding, the model that
answered, the quality of that answer and its cost. It never says how the
other models would have done, and the old router chose which model answered.
:class:`~skroute.CausalRouterClassifier` corrects that selection bias and
learns which model to send each new query to.
"""

# %%
# Logs of a generated routing problem
# -----------------------------------
# :func:`~skroute.datasets.make_routing_problem` draws queries, six models
# and every model's quality and cost on every query (full feedback, which
# real logs never have). :func:`~skroute.datasets.simulate_logging` keeps
# what an old router would have logged on the first half: one model per
# query, chosen by a policy that depends on the query.
from skroute.datasets import make_routing_problem, simulate_logging

problem = make_routing_problem(n_samples=4000, random_state=0)
logs = simulate_logging(
    problem.X[:2000],
    problem.reward[:2000],
    problem.cost[:2000],
    models=problem.models,
    random_state=0,
)
print(logs.action[:5], logs.reward[:5].round(2), logs.cost[:5].round(2))

# %%
# Fit and route
# -------------
# ``y`` is the logged model. ``cost_sensitivity`` is λ in the utility
# ``quality - λ * cost``: here one point of quality is worth 20 units of
# cost.
from skroute import CausalRouterClassifier

router = CausalRouterClassifier(cost_sensitivity=0.05, random_state=0)
router.fit(
    logs.X,
    logs.action,
    reward=logs.reward,
    cost=logs.cost,
    propensity=logs.propensity,
)
routes = router.predict(problem.X[2000:])
print(routes[:5])

# %%
# The router checks on held-out folds of the logs that its network beats the
# outcome models' argmax (the direct method), or the best single model where
# that is confidently better; where it cannot show a gain, it deploys that
# simple policy and says so (a ``PolicyFallbackWarning``).
# ``deployed_policy_`` tells which it routes by, and ``safety_report_`` why.
report = router.safety_report_
check = report["differences"][report["baseline"]]
print(
    f"deployed: {router.deployed_policy_}; the check's estimated gain of the "
    f"learned policy over the {report['baseline'].replace('_', ' ')}: "
    f"{check['gain']:+.4f} (90% lower bound {check['lower_bound']:+.4f})"
)

# %%
# How good are the routes?
# ------------------------
# On the held-out half we know every model's quality and cost, so the true
# regret (utility lost against the per-query best model) is exact. The
# baselines are the best single model and a router that regresses quality
# and cost per model and takes the argmax.
from skroute import BestSingleModelRouter, DecoupledRouter
from skroute.metrics import regret

fit = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
baselines = {
    "best single model": BestSingleModelRouter(cost_sensitivity=0.05),
    "decoupled": DecoupledRouter(cost_sensitivity=0.05),
}
truth = {
    "reward": problem.expected_reward[2000:],
    "cost": problem.cost[2000:],
    "cost_sensitivity": 0.05,
    "classes": problem.models,
}
print(f"causal router: regret {regret(y_pred=routes, **truth):.4f}")
# The learned policy, deployed or not: what the check judged.
learned = router.classes_[
    router.learned_policy_.scores(problem.X[2000:], 0.05).argmax(axis=1)
]
print(f"  its learned policy: regret {regret(y_pred=learned, **truth):.4f}")
for name, baseline in baselines.items():
    baseline.fit(logs.X, logs.action, **fit)
    chosen = baseline.predict(problem.X[2000:])
    print(f"{name}: regret {regret(y_pred=chosen, **truth):.4f}")

# %%
# Cost and quality
# ----------------
# :class:`~skroute.plotting.RoutingCurveDisplay` places the router beside
# each model used alone, the per-query best model (the oracle) and the
# upper hull of what mixing them reaches.
from skroute.plotting import RoutingCurveDisplay

display = RoutingCurveDisplay.from_estimator(
    router,
    problem.X[2000:],
    reward=problem.expected_reward[2000:],
    cost=problem.cost[2000:],
    name="causal router (λ = 0.05)",
)
_ = display.ax_.set_title("Held-out queries, full feedback")
