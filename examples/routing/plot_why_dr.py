"""
Why doubly robust: naive, IPW and DR estimates under a biased logging policy
============================================================================

The old router sent each query to a model it expected to do well on that
query. The logged quality of a model is then a biased sample of its quality:
it was tried where it looked good. We estimate, from such logs, the value of
a new policy and compare three estimators with the truth, over many seeds:

- **naive**: the mean logged quality of the rows where the logged model is
  the one the new policy picks;
- **IPW**: the same rows, reweighted by the inverse of the logging
  probability;
- **DR** (doubly robust): an outcome model's prediction for every row,
  corrected by the reweighted residuals of the matching rows.
"""

import matplotlib.pyplot as plt
import numpy as np

from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import policy_value

problem = make_routing_problem(n_samples=1500, random_state=0)
# The policy to evaluate: always the model of middling mean quality, the kind
# of cheap default a router under test might pick.
middle = np.argsort(problem.expected_reward.mean(axis=0))[3]
policy = np.full(len(problem.X), problem.models[middle])
truth = problem.expected_reward[:, middle].mean()


# %%
# Logs whose choices follow the outcomes
# --------------------------------------
# The logging scores are the true expected qualities times a sharpness: the
# sharper, the more each model is logged only where it does well. We draw
# 12 logs at two sharpness levels.
def estimate(sharpness, seed):
    logs = simulate_logging(
        problem.X,
        problem.reward,
        logging_policy=sharpness * problem.expected_reward,
        exploration=0.1,
        models=problem.models,
        random_state=seed,
    )
    values = {"naive": logs.reward[logs.action == policy].mean()}
    for name, method in [("IPW", "ipw"), ("DR", "dr")]:
        values[name] = policy_value(
            policy,
            logs.action,
            reward=logs.reward,
            propensity=logs.propensity,
            X=logs.X,
            classes=problem.models,
            method=method,
            random_state=seed,
            warn=False,
        ).estimate
    return values


results = {}
for sharpness in (4.0, 8.0):
    runs = [estimate(sharpness, seed) for seed in range(12)]
    results[sharpness] = {k: np.array([r[k] for r in runs]) for k in runs[0]}
    print(f"sharpness {sharpness:g} (true value {truth:.3f}):")
    for name, values in results[sharpness].items():
        errors = values - truth
        print(
            f"  {name:>5}: bias {errors.mean():+.4f}, spread "
            f"{errors.std():.4f}, RMSE {np.sqrt((errors**2).mean()):.4f}"
        )

# %%
# The naive estimate is biased upward, and more so the sharper the logging
# policy: the model looks better than it is because it was logged where it
# does well. IPW removes the bias at the price of noise from its weights.
# DR removes it too; how much of IPW's noise it saves depends on how well
# its outcome model predicts the model's quality on the rows where it was
# rarely logged, so it helps most where the logs overlap the policy best.
# Read both numbers on your own logs (``skroute.ope`` gives standard errors
# and intervals) rather than trusting one estimator blindly.
figure, axes = plt.subplots(
    1, 2, figsize=(10, 3.4), sharex=True, layout="constrained"
)
jitter = np.random.default_rng(0).uniform(-0.12, 0.12, 12)
for ax, (sharpness, estimates) in zip(axes, results.items()):
    for row, values in enumerate(estimates.values()):
        ax.scatter(values, row + jitter, s=18)
    ax.axvline(truth, color="black", linestyle="--", label="true value")
    ax.set_yticks(range(len(estimates)), labels=list(estimates))
    ax.set_title(f"logging sharpness {sharpness:g}", fontsize=10)
    ax.set_xlabel("estimated mean quality (12 logs)")
# Outside the axes, the legend hides no estimate.
figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center")
