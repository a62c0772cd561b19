"""The direct method: outcome models of every candidate, and the utility they predict.

The decoupled router deploys these; the neural routers fit them as the
nuisance they improve on and fall back to them.
"""

import numpy as np

from skroute.causal._outcome import (
    fit_arm_models,
    fit_joint_arm_models,
    predict_arm_models,
)


def fit_outcome_models(logs, n_classes, reward_model, cost_model, n_jobs):
    """Quality and cost models per candidate on all logged rows (cost: None without).

    ``logs`` holds the validated ``X``, ``action`` (column codes), ``reward``,
    ``cost`` (or None) and ``sample_weight`` of the logged rows.
    """

    def fit(target, model):
        return fit_arm_models(
            logs.X,
            logs.action,
            target,
            n_classes=n_classes,
            model=model,
            sample_weight=logs.sample_weight,
            n_jobs=n_jobs,
        )

    joint = (
        logs.cost is not None
        and reward_model is None
        and cost_model is None
        and logs.reward.ndim == 1
        and logs.cost.ndim == 1
    )
    if joint:
        reward_models, cost_models = fit_joint_arm_models(
            logs.X,
            logs.action,
            [logs.reward, logs.cost],
            n_classes=n_classes,
            sample_weight=logs.sample_weight,
            n_jobs=n_jobs,
        )
        return reward_models, cost_models
    reward_models = fit(logs.reward, reward_model)
    cost_models = None if logs.cost is None else fit(logs.cost, cost_model)
    return reward_models, cost_models


def outcome_lines(reward_models, cost_models, X):
    """Predicted quality and cost of every candidate (cost None without models).

    The quality and cost models predict side by side: ridge arms read X once.
    """
    if cost_models is None:
        return predict_arm_models(reward_models, X), None
    both = predict_arm_models([*reward_models, *cost_models], X)
    return tuple(np.hsplit(both, 2))
