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


def test_ridge_folds_refit_at_the_penalty_chosen_on_all_rows_of_their_arm(logged):
    # A ridge chooses its penalty by leave-one-out once per arm, on every row
    # of the arm given to the cross-fitting; each fold refits its coefficients
    # at that penalty on its own rows. So a row's estimate is the prediction
    # of a ridge at the arm's penalty fitted on the other folds' rows only.
    from skroute.causal import cross_fit_outcomes, make_folds

    problem, logs = logged
    action = logs.action_index
    folds = make_folds(action, cv=4, random_state=0)
    weight = np.ones(action.size)
    [estimate] = cross_fit_outcomes(
        logs.X,
        action,
        [logs.cost],
        folds,
        n_classes=6,
        models=[None],
        sample_weight=weight,
    )
    for t in range(6):
        arm = action == t
        alpha = RidgeOutcomeModel().fit(logs.X[arm], logs.cost[arm]).alpha_[0]
        for train, test in folds:
            rows = train[action[train] == t]
            alone = RidgeOutcomeModel(alphas=(alpha,)).fit(
                logs.X[rows], logs.cost[rows]
            )
            np.testing.assert_allclose(
                estimate[test, t], alone.predict(logs.X[test]), rtol=1e-7, atol=1e-9
            )


def test_a_refit_at_the_tuned_choices_on_the_same_rows_is_the_tuned_model():
    from skroute.causal._ridge import refit_at_tuning

    rng = np.random.default_rng(0)
    for n_samples, n_features in ((400, 30), (60, 200)):  # Gram, then kernel
        X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
        quality = (X[:, 0] + rng.normal(size=n_samples) > 0).astype(float)
        cost = 3 * X[:, 1] + rng.normal(size=n_samples)
        Y = np.column_stack([quality, cost])
        weight = rng.uniform(0.5, 2.0, size=n_samples)
        for scaling in ("standard", "auto"):
            tuned = RidgeOutcomeModel(scaling=scaling).fit(X, Y, sample_weight=weight)
            refit = refit_at_tuning(tuned, X, Y, weight)
            np.testing.assert_array_equal(refit.alpha_, tuned.alpha_)
            np.testing.assert_array_equal(refit.calibrated_, tuned.calibrated_)
            np.testing.assert_allclose(refit.coef_, tuned.coef_, atol=1e-10)
            np.testing.assert_allclose(
                refit.predict(X), tuned.predict(X), rtol=1e-9, atol=1e-12
            )
            assert np.isnan(refit.loo_error_).all()
    with pytest.raises(ValueError, match="the tuned model has 2 targets; y has 1"):
        refit_at_tuning(tuned, X, quality, weight)


def test_a_cross_fit_of_some_rows_refits_at_the_choices_made_on_all(logged):
    # A policy fold's targets are cross-fitted on its training rows alone, at
    # the ridge choices made on every row: each of its folds is the ridge at
    # the whole arm's penalty, fitted on that fold's training rows only.
    from skroute.causal import make_folds

    problem, logs = logged
    action = logs.action_index
    settings = dict(n_classes=6, method="dm", cv=3, random_state=0)
    full = cross_fit_pseudo_outcomes(logs.X, action, logs.cost, **settings)
    assert set(full.tuned_outcomes) == {((0,), t) for t in range(6)}
    rows = np.arange(0, action.size, 2)
    part = cross_fit_pseudo_outcomes(
        logs.X[rows],
        action[rows],
        logs.cost[rows],
        tuned_outcomes=full.tuned_outcomes,
        **settings,
    )
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    folds = make_folds(action[rows], 3, seed)
    X, y, a = logs.X[rows], logs.cost[rows], action[rows]
    for t in range(6):
        alpha = RidgeOutcomeModel().fit(logs.X[action == t], logs.cost[action == t])
        for train, test in folds:
            fit_rows = train[a[train] == t]
            alone = RidgeOutcomeModel(alphas=tuple(alpha.alpha_)).fit(
                X[fit_rows], y[fit_rows]
            )
            np.testing.assert_allclose(
                part.reward[test, t], alone.predict(X[test]), rtol=1e-7, atol=1e-9
            )
