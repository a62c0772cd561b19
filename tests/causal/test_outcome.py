"""Outcome models of quality and cost, and the models they may be."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skroute.causal import (
    RidgeOutcomeModel,
    cross_fit_pseudo_outcomes,
)


def test_binary_classifier_as_reward_model(logged):
    problem, logs = logged
    gamma = cross_fit_pseudo_outcomes(
        logs.X,
        logs.action_index,
        logs.reward,
        logs.cost,
        logs.propensity,
        n_classes=6,
        method="dm",
        reward_model=LogisticRegression(max_iter=500),
        random_state=0,
    )
    assert ((gamma.reward >= 0) & (gamma.reward <= 1)).all()
    assert gamma.propensity is None and gamma.overlap is None


def test_classifier_on_continuous_outcome_is_an_error(logged):
    problem, logs = logged
    with pytest.raises(ValueError, match="not binary 0/1; use a regressor"):
        cross_fit_pseudo_outcomes(
            logs.X,
            logs.action_index,
            logs.cost,
            n_classes=6,
            method="dm",
            reward_model=LogisticRegression(),
        )


@pytest.mark.parametrize("model", ["default", "ridge"])
def test_shared_ridge_fits_both_targets_like_separate_ridges(logged, model):
    from sklearn.linear_model import Ridge

    problem, logs = logged
    args = (logs.X, logs.action_index, logs.reward, logs.cost, logs.propensity)
    kwargs = dict(n_classes=6, method="dm", random_state=0)
    make = RidgeOutcomeModel if model == "default" else (lambda: Ridge(alpha=1.0))
    shared = None if model == "default" else make()
    # The default (None for both) or one shared instance is fitted jointly.
    joint = cross_fit_pseudo_outcomes(
        *args, reward_model=shared, cost_model=shared, **kwargs
    )
    separate = cross_fit_pseudo_outcomes(
        *args, reward_model=make(), cost_model=make(), **kwargs
    )
    np.testing.assert_allclose(joint.reward, separate.reward, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(joint.cost, separate.cost, rtol=1e-6, atol=1e-9)


def test_default_quality_and_cost_models_match_separate_fits(logged):
    # The default models of quality and cost share each arm's decomposition;
    # they must be the models that fitting each target alone gives, degenerate
    # arms included: a constant quality, and an arm with too few rows to fit.
    from skroute.causal import fit_arm_models, predict_arm_models
    from skroute.routers import DecoupledRouter

    problem, logs = logged
    action = logs.action_index.copy()
    reward = logs.reward.copy()
    reward[action == 1] = 1.0
    action[np.flatnonzero(action == 3)[2:]] = 0
    classes = np.asarray(problem.models)
    router = DecoupledRouter(cost_sensitivity=0.1, classes=classes).fit(
        logs.X, classes[action], reward=reward, cost=logs.cost
    )
    for target, joint in (
        (reward, router.reward_models_),
        (logs.cost, router.cost_models_),
    ):
        alone = fit_arm_models(logs.X, action, target, n_classes=classes.size)
        assert [type(m) for m in joint] == [type(m) for m in alone]
        np.testing.assert_allclose(
            predict_arm_models(joint, logs.X),
            predict_arm_models(alone, logs.X),
            rtol=1e-9,
            atol=1e-12,
        )
