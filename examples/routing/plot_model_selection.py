"""
Model selection on logs with off-policy scorers
===============================================

Cross-validation needs a score on each validation fold, but logs hold one
model's answer per query, so accuracy-style scores do not apply. The scorer
of :func:`~skroute.metrics.make_policy_value_scorer` estimates each
candidate's value on the fold off policy (doubly robust by default), and
scikit-learn's metadata routing hands it the fold's logged reward, cost and
propensity.
"""

import sklearn
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from skroute import CausalRouterClassifier
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import make_policy_value_scorer, regret

problem = make_routing_problem(n_samples=5000, random_state=1)
logs = simulate_logging(
    problem.X[:3000],
    problem.reward[:3000],
    problem.cost[:3000],
    models=problem.models,
    random_state=1,
)
# What each row logged, passed to ``fit`` and routed to the scorer.
fit = {"reward": logs.reward, "cost": logs.cost, "propensity": logs.propensity}
sklearn.set_config(enable_metadata_routing=True)

# %%
# A search over routers and the policy's size
# -------------------------------------------
# The Pipeline's last step is itself a parameter: the search compares the
# causal router (linear or with a hidden layer) with the baselines. The
# utility being scored is fixed (λ = 0.05) so that every candidate is judged
# on the same scale.
from sklearn.pipeline import Pipeline

from skroute import BestSingleModelRouter, DecoupledRouter

pipe = Pipeline([("scale", StandardScaler()), ("router", DecoupledRouter())])
candidates = [
    CausalRouterClassifier(
        cost_sensitivity=0.05, hidden_layer_sizes=(), random_state=0
    ),
    CausalRouterClassifier(
        cost_sensitivity=0.05, hidden_layer_sizes=(64,), random_state=0
    ),
    DecoupledRouter(cost_sensitivity=0.05),
    BestSingleModelRouter(cost_sensitivity=0.05, random_state=0),
]
search = GridSearchCV(
    pipe,
    {"router": candidates},
    scoring=make_policy_value_scorer("dr", cost_sensitivity=0.05),
    cv=KFold(3, shuffle=True, random_state=0),
)
search.fit(logs.X, logs.action, **fit)

# %%
# Estimated and true values
# -------------------------
# The search ranks by the estimated value on the logs; the held-out queries,
# with full feedback, give each candidate's true regret (refitted on all the
# logs). A causal router that cannot show its network better than simpler
# policies on held-out folds deploys one of those instead
# (``deployed_policy_``), so it may tie with them.
results = search.cv_results_
rows = []
for rank, params, mean, std in sorted(
    zip(
        results["rank_test_score"],
        results["params"],
        results["mean_test_score"],
        results["std_test_score"],
    ),
    key=lambda row: row[0],
):
    candidate = sklearn.clone(pipe).set_params(**params)
    candidate.fit(logs.X, logs.action, **fit)
    true = regret(
        problem.expected_reward[3000:],
        candidate.predict(problem.X[3000:]),
        cost=problem.cost[3000:],
        cost_sensitivity=0.05,
        classes=problem.models,
    )
    router = candidate[-1]
    name = type(router).__name__
    if hasattr(router, "hidden_layer_sizes"):
        name += f" {router.hidden_layer_sizes}"
    deployed = getattr(router, "deployed_policy_", "-")
    print(
        f"rank {rank}: {name:<34} DR value {mean:.4f} ± {std:.4f}  "
        f"true regret {true:.4f}  deployed: {deployed}"
    )
    rows.append((name, mean, std, true))
sklearn.set_config(enable_metadata_routing=False)

# %%
# The estimated value (higher is better) against the true regret (lower is
# better): the search's ranking should run the opposite way to the regret.
import matplotlib.pyplot as plt

names, means, stds, regrets = zip(*rows)
figure, (left, right) = plt.subplots(
    1, 2, figsize=(10, 3), sharey=True, layout="constrained"
)
left.barh(names, means, xerr=stds, color="C0")
left.set_xlabel("DR value on the validation folds (± std)")
left.set_xlim(min(means) - 2 * max(stds), max(means) + 2 * max(stds))
right.barh(names, regrets, color="C1")
right.set_xlabel("true regret on held-out queries")
left.invert_yaxis()
