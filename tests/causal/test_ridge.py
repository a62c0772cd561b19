"""The default outcome model and the data-driven shrinkage of importance weights."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from skroute.causal import RidgeOutcomeModel, cross_fit_pseudo_outcomes
from skroute.ope import (
    SHRINKAGE_GRID,
    pseudo_outcomes,
    select_shrinkage,
    shrunk_weights,
)


def _regression(n=120, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.geomspace(1e-3, 1e3, p)
    y = X[:, 0] * 1e3 + X[:, -1] / 1e3 + rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("shape", [(120, 6), (20, 40)], ids=["primal", "dual"])
def test_ridge_outcome_model_is_ridge_on_standardised_features(shape):
    X, y = _regression(*shape)
    weight = np.random.default_rng(1).uniform(0.5, 2.0, size=shape[0])
    model = RidgeOutcomeModel(alphas=(3.0,)).fit(X, y, sample_weight=weight)
    mean = np.average(X, axis=0, weights=weight)
    scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weight))
    reference = Ridge(alpha=3.0).fit((X - mean) / scale, y, sample_weight=weight)
    expected = np.clip(reference.predict((X - mean) / scale), y.min(), y.max())
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-8)


@pytest.mark.parametrize("shape", [(60, 5), (15, 30)], ids=["primal", "dual"])
def test_leave_one_out_error_is_that_of_refitting_without_each_row(shape):
    X, y = _regression(*shape)
    model = RidgeOutcomeModel(alphas=(0.5,), calibrate=False).fit(X, y)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    errors = []
    for i in range(X.shape[0]):
        keep = np.arange(X.shape[0]) != i
        fitted = Ridge(alpha=0.5).fit(Z[keep], y[keep])
        errors.append((y[i] - fitted.predict(Z[i : i + 1])[0]) ** 2)
    assert model.loo_error_[0] == pytest.approx(np.mean(errors), rel=1e-9)


def test_predictions_do_not_depend_on_the_units_of_a_feature():
    X, y = _regression()
    rescaled = X * np.array([1e4, 1, 1, 1e-4, 1, 1])
    np.testing.assert_allclose(
        RidgeOutcomeModel().fit(X, y).predict(X),
        RidgeOutcomeModel().fit(rescaled, y).predict(rescaled),
        rtol=1e-7,
        atol=1e-9,
    )


def test_penalty_follows_the_signal():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    signal = X @ rng.normal(size=20)
    noise = rng.normal(size=300)
    model = RidgeOutcomeModel().fit(X, np.column_stack([signal, noise]))
    # A clean linear target keeps a light penalty; pure noise the heaviest.
    assert model.alpha_[0] < 1.0
    assert model.alpha_[1] >= 1e3 * model.alpha_[0]


def test_binary_targets_get_probabilities_and_calibration_when_it_fits_better():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 3))
    y = (rng.uniform(size=800) < 1 / (1 + np.exp(-4 * X[:, 0]))).astype(float)
    model = RidgeOutcomeModel().fit(X, y)
    prediction = model.predict(rng.normal(size=(500, 3)) * 3)
    assert ((prediction >= 0) & (prediction <= 1)).all()
    # A steep logistic truth: the logistic map beats a clipped linear fit.
    assert model.calibrated_[0]
    uncalibrated = RidgeOutcomeModel(calibrate=False).fit(X, y)
    assert model.loo_error_[0] < uncalibrated.loo_error_[0]


@pytest.mark.parametrize("case", ["logistic", "weighted", "separable", "rare"])
def test_logistic_map_matches_a_converged_logistic_regression(case):
    # The calibration's own two-parameter solver must find the optimum of
    # scikit-learn's LogisticRegression(C=1e4), run here to convergence on the
    # leave-one-out predictions of a ridge refitted without each row.
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n = 300
    score = rng.normal(size=n) * 0.3 + 0.5
    truth = 1 / (1 + np.exp(-8 * (score - 0.5)))
    target = (rng.uniform(size=n) < truth).astype(float)
    weight = np.ones(n)
    if case == "weighted":
        weight = rng.uniform(0, 3, size=n)
    elif case == "separable":
        target = (score > 0.5).astype(float)
    elif case == "rare":
        target = (rng.uniform(size=n) < 0.03).astype(float)
    X = score.reshape(-1, 1)
    model = RidgeOutcomeModel(alphas=(1.0,)).fit(X, target, sample_weight=weight)
    assert model.calibrated_[0]
    mean = np.average(score, weights=weight)
    Z = (X - mean) / np.sqrt(np.average((score - mean) ** 2, weights=weight))
    loo = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        fitted = Ridge(alpha=1.0).fit(Z[keep], target[keep], sample_weight=weight[keep])
        loo[i] = fitted.predict(Z[i : i + 1])[0]
    reference = LogisticRegression(C=1e4, tol=1e-12, max_iter=100_000).fit(
        loo.reshape(-1, 1), target.astype(int), sample_weight=weight
    )
    linear = Ridge(alpha=1.0).fit(Z, target, sample_weight=weight).predict(Z)
    expected = reference.predict_proba(linear.reshape(-1, 1))[:, 1]
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-5)


def test_few_rows_give_the_mean():
    model = RidgeOutcomeModel().fit(np.ones((2, 3)), [1.0, 3.0])
    np.testing.assert_allclose(model.predict(np.zeros((4, 3))), 2.0)


def test_bad_alphas_are_a_clear_error():
    with pytest.raises(ValueError, match="alphas must be positive"):
        RidgeOutcomeModel(alphas=(0.0,)).fit(np.ones((5, 1)), np.arange(5.0))


def test_shrunk_weights_span_direct_method_to_doubly_robust():
    weight = np.array([1.0, 4.0, 100.0])
    np.testing.assert_allclose(shrunk_weights(weight, 0.0), 0.0)
    np.testing.assert_allclose(shrunk_weights(weight, np.inf), weight)
    np.testing.assert_allclose(
        shrunk_weights(weight, 16.0), weight * 16 / (weight**2 + 16)
    )
    np.testing.assert_allclose(
        shrunk_weights(weight, 10.0, "switch-dr"), [1.0, 4.0, 0.0]
    )


@pytest.mark.parametrize("method", ["dr-shrink", "switch-dr"])
def test_shrunk_pseudo_outcomes_reach_dm_and_dr_at_the_ends(method):
    rng = np.random.default_rng(0)
    target, action = rng.uniform(size=40), rng.integers(3, size=40)
    propensity, mu = rng.uniform(0.1, 1, size=40), rng.uniform(size=(40, 3))
    args = (target, action, propensity, mu)
    np.testing.assert_allclose(
        pseudo_outcomes(*args, method=method, shrinkage=0.0),
        pseudo_outcomes(*args, method="dm"),
    )
    np.testing.assert_allclose(
        pseudo_outcomes(*args, method=method, shrinkage=np.inf),
        pseudo_outcomes(*args, method="dr"),
    )
    # One level per arm: arm 0 direct method, the others doubly robust.
    mixed = pseudo_outcomes(*args, method=method, shrinkage=[0.0, np.inf, np.inf])
    np.testing.assert_allclose(mixed[:, 0], mu[:, 0])
    np.testing.assert_allclose(mixed[:, 1:], pseudo_outcomes(*args, method="dr")[:, 1:])


def test_shrunk_pseudo_outcomes_need_a_level():
    with pytest.raises(ValueError, match="needs shrinkage >= 0"):
        pseudo_outcomes(
            np.zeros(2), np.zeros(2, int), np.ones(2), np.zeros((2, 2)), "dr-shrink"
        )


def test_shrinkage_is_none_for_a_biased_model_and_full_for_wild_weights():
    rng = np.random.default_rng(0)
    n = 4000
    action = rng.integers(2, size=n)
    # Arm 0: well explored, and its outcome model is off by 0.5 -> keep DR.
    # Arm 1: rare (propensity 0.01 on most rows), noisy outcomes, and an
    # unbiased outcome model -> the correction is all variance: shrink fully.
    propensity = np.where(action == 0, 0.5, 0.01)
    # Residuals of +-3 that cancel: variance without any visible bias.
    signs = np.where(np.cumsum(action == 1) % 2 == 0, 3.0, -3.0)
    if (action == 1).sum() % 2:
        signs[np.flatnonzero(action == 1)[-1]] = 0.0
    target = np.where(action == 0, 1.0, signs)
    mu = np.column_stack([np.full(n, 0.5), np.zeros(n)])
    tau, errors = select_shrinkage(target, action, propensity, mu)
    assert errors.shape == (len(SHRINKAGE_GRID), 2)
    assert tau[0] >= 16
    assert tau[1] <= 1
    np.testing.assert_array_equal(tau, np.asarray(SHRINKAGE_GRID)[errors.argmin(0)])


def test_auto_pseudo_outcomes_record_their_shrinkage_and_keep_dr_for_judging():
    from skroute.datasets import make_routing_problem, simulate_logging

    problem = make_routing_problem(n_samples=600, random_state=0)
    logs = simulate_logging(problem.X, problem.reward, problem.cost, random_state=0)
    args = (logs.X, logs.action_index, logs.reward, logs.cost, logs.propensity)
    auto = cross_fit_pseudo_outcomes(*args, n_classes=6, method="auto", random_state=0)
    dr = cross_fit_pseudo_outcomes(*args, n_classes=6, method="dr", random_state=0)
    assert set(auto.shrinkage) == {"reward", "cost"}
    assert auto.shrinkage["reward"].shape == (6,)
    np.testing.assert_allclose(auto.dr_reward, dr.reward)
    np.testing.assert_allclose(auto.dr_cost, dr.cost)
    np.testing.assert_allclose(auto.dr_utility(0.1), dr.utility(0.1))
    np.testing.assert_allclose(
        auto.direct_utility(0.1), auto.reward_estimate - 0.1 * auto.cost_estimate
    )
    expected = pseudo_outcomes(
        logs.reward,
        logs.action_index,
        auto.propensity,
        auto.reward_estimate,
        method="dr-shrink",
        shrinkage=auto.shrinkage["reward"],
    )
    np.testing.assert_allclose(auto.reward, expected)
