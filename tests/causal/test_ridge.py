"""The default outcome model: ridge on standardised features, tuned by leave-one-out."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge

from skroute.causal import RidgeOutcomeModel


def _regression(n=120, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.geomspace(1e-3, 1e3, p)
    y = X[:, 0] * 1e3 + X[:, -1] / 1e3 + rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("shape", [(120, 6), (20, 40)], ids=["primal", "dual"])
def test_ridge_outcome_model_is_ridge_on_standardised_features(shape):
    X, y = _regression(*shape)
    weight = np.random.default_rng(1).uniform(0.5, 2.0, size=shape[0])
    model = RidgeOutcomeModel(alphas=(3.0,), scaling="standard")
    model.fit(X, y, sample_weight=weight)
    mean = np.average(X, axis=0, weights=weight)
    scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weight))
    reference = Ridge(alpha=3.0).fit((X - mean) / scale, y, sample_weight=weight)
    expected = np.clip(reference.predict((X - mean) / scale), y.min(), y.max())
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-8)


@pytest.mark.parametrize("shape", [(60, 5), (15, 30)], ids=["primal", "dual"])
def test_leave_one_out_error_is_that_of_refitting_without_each_row(shape):
    X, y = _regression(*shape)
    model = RidgeOutcomeModel(alphas=(0.5,), scaling="standard", calibrate=False)
    model.fit(X, y)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    errors = []
    for i in range(X.shape[0]):
        keep = np.arange(X.shape[0]) != i
        fitted = Ridge(alpha=0.5).fit(Z[keep], y[keep])
        errors.append((y[i] - fitted.predict(Z[i : i + 1])[0]) ** 2)
    assert model.loo_error_[0] == pytest.approx(np.mean(errors), rel=1e-9)


def test_standard_scaling_does_not_depend_on_the_units_of_a_feature():
    X, y = _regression()
    rescaled = X * np.array([1e4, 1, 1, 1e-4, 1, 1])
    model = RidgeOutcomeModel(scaling="standard")
    np.testing.assert_allclose(
        model.fit(X, y).predict(X),
        clone(model).fit(rescaled, y).predict(rescaled),
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


@pytest.mark.parametrize("case", ["logistic", "weighted", "separable"])
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
    # The map reads the leave-one-out slope part with the intercept of every
    # row (the mean of all targets), not the leave-one-out intercept.
    total = weight.sum()
    loo += weight / (total - weight) * (target - np.average(target, weights=weight))
    reference = LogisticRegression(C=1e4, tol=1e-12, max_iter=100_000).fit(
        loo.reshape(-1, 1), target.astype(int), sample_weight=weight
    )
    linear = Ridge(alpha=1.0).fit(Z, target, sample_weight=weight).predict(Z)
    expected = reference.predict_proba(linear.reshape(-1, 1))[:, 1]
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-5)


def test_logistic_solver_on_a_rare_outcome():
    # Too rare for the map to beat the linear predictions out of fold, so the
    # solver is checked on its own against LogisticRegression(C=1e4).
    from sklearn.linear_model import LogisticRegression

    from skroute.causal._ridge import _platt_maps

    rng = np.random.default_rng(1)
    score = rng.normal(size=300) * 0.3 + 0.5
    target = (rng.uniform(size=300) < 0.03).astype(float)
    reference = LogisticRegression(C=1e4, tol=1e-12, max_iter=100_000)
    reference.fit(score.reshape(-1, 1), target.astype(int))
    [(slope, intercept)] = _platt_maps(score, target, np.ones(300))
    assert slope == pytest.approx(reference.coef_[0, 0], rel=1e-4, abs=1e-6)
    assert intercept == pytest.approx(reference.intercept_[0], rel=1e-4, abs=1e-6)


def test_logistic_maps_fitted_together_are_those_fitted_alone():
    # The calibration fits its folds' maps in one call: each map with zero
    # weights on the rows it leaves out is scikit-learn's fit on its own rows,
    # whatever the other maps do (one converges at once, one is slow).
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    from skroute.causal._ridge import _platt_maps

    rng = np.random.default_rng(2)
    score = rng.normal(size=400)
    target = (rng.uniform(size=400) < expit(3.0 * score - 1.0)).astype(float)
    weights = np.vstack(
        [
            np.arange(400) % 4 != 0,
            rng.uniform(0.1, 3.0, size=400),
            np.where(np.arange(400) < 200, 1.0, 0.0),
            np.ones(400),
        ]
    )
    weights[3, target == 1] = 1e-3  # nearly one class: a slow, rare fit
    maps = _platt_maps(score, target, weights)
    for (slope, intercept), weight in zip(maps, weights):
        kept = weight > 0
        reference = LogisticRegression(C=1e4, tol=1e-12, max_iter=100_000)
        reference.fit(
            score[kept].reshape(-1, 1),
            target[kept].astype(int),
            sample_weight=weight[kept],
        )
        assert slope == pytest.approx(reference.coef_[0, 0], rel=1e-4, abs=1e-5)
        assert intercept == pytest.approx(reference.intercept_[0], rel=1e-4, abs=1e-5)


def test_few_rows_give_the_mean():
    model = RidgeOutcomeModel().fit(np.ones((2, 3)), [1.0, 3.0])
    np.testing.assert_allclose(model.predict(np.zeros((4, 3))), 2.0)


def test_bad_alphas_are_a_clear_error():
    with pytest.raises(ValueError, match="alphas must be positive"):
        RidgeOutcomeModel(alphas=(0.0,)).fit(np.ones((5, 1)), np.arange(5.0))


def test_ridge_predicts_in_blocks_without_changing_the_numbers():
    from skroute.causal import RidgeOutcomeModel

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40_000, 8))
    y = X @ rng.standard_normal(8) + rng.standard_normal(40_000)
    model = RidgeOutcomeModel().fit(X[:2000], y[:2000])
    whole = model.predict(X)  # several blocks of rows
    rowwise = np.concatenate([model.predict(X[i : i + 7]) for i in (0, 20_000, 39_993)])
    np.testing.assert_allclose(
        whole[[*range(7), *range(20_000, 20_007), *range(39_993, 40_000)]],
        rowwise,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        model.predict(X.astype(np.float32)), whole, rtol=1e-5, atol=1e-5
    )


def test_ridge_fits_float32_features_in_float64():
    from skroute.causal import RidgeOutcomeModel

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 20)).astype(np.float32)
    y = np.column_stack(
        [(X[:, 0] + rng.standard_normal(3000) > 0), X[:, 1] + rng.uniform(size=3000)]
    ).astype(float)
    weight = rng.uniform(0.5, 2.0, 3000)
    narrow = RidgeOutcomeModel().fit(X, y, sample_weight=weight)
    wide = RidgeOutcomeModel().fit(X.astype(np.float64), y, sample_weight=weight)
    for name in ("coef_", "mean_", "scaling_", "alpha_", "platt_", "loo_error_"):
        np.testing.assert_array_equal(getattr(narrow, name), getattr(wide, name))


def test_ridge_on_constant_features_predicts_the_weighted_mean():
    # Every eigenvalue of the Gram matrix is 0: no direction is kept.
    from skroute.causal import RidgeOutcomeModel

    y = np.array([0.2, 0.9, 0.4, 0.7, 0.1])
    weight = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    for X in (np.zeros((5, 1)), np.full((5, 3), 2.5, dtype=np.float32)):
        model = RidgeOutcomeModel().fit(X, y, sample_weight=weight)
        np.testing.assert_allclose(model.predict(X), np.average(y, weights=weight))


@pytest.mark.parametrize("shape", [(120, 6), (20, 40)], ids=["primal", "dual"])
def test_isotropic_scaling_is_ridge_on_features_divided_by_one_number(shape):
    X, y = _regression(*shape)
    model = RidgeOutcomeModel(alphas=(3.0,), scaling="isotropic").fit(X, y)
    centred = X - X.mean(axis=0)
    scale = np.sqrt(np.mean(centred.var(axis=0)))
    reference = Ridge(alpha=3.0).fit(centred / scale, y)
    expected = np.clip(reference.predict(centred / scale), y.min(), y.max())
    np.testing.assert_allclose(model.predict(X), expected, atol=1e-8)
    assert list(model.scaling_) == ["isotropic"]


def test_auto_scaling_keeps_the_geometry_where_the_weak_directions_are_noise():
    # Like embeddings: the signal lies along the features of large variance;
    # standardising would give the many small noise features as much weight.
    rng = np.random.default_rng(0)
    X = np.hstack([rng.normal(size=(80, 3)), 0.01 * rng.normal(size=(80, 60))])
    y = X[:, :3] @ np.array([1.0, -1.0, 0.5]) + 0.3 * rng.normal(size=80)
    auto = RidgeOutcomeModel(scaling="auto").fit(X, y)
    standard = RidgeOutcomeModel().fit(X, y)
    assert list(auto.scaling_) == ["isotropic"]
    assert auto.loo_error_[0] < standard.loo_error_[0]
    # Each target of one fit chooses for itself.
    noise_scaled = np.column_stack([y, X[:, 3:] @ rng.normal(size=60) * 100])
    both = RidgeOutcomeModel(scaling="auto").fit(X, noise_scaled)
    assert set(both.scaling_) <= {"standard", "isotropic"}
    assert both.scaling_[0] == "isotropic"


def test_scaling_is_checked():
    X, y = _regression()
    with pytest.raises(ValueError, match="scaling must be one of"):
        RidgeOutcomeModel(scaling="minmax").fit(X, y)


def test_no_logistic_map_is_read_off_the_leave_one_out_intercept():
    # A 0/1 target unrelated to the features. With a strong penalty the
    # leave-one-out predictions are the mean of the other rows' targets, which
    # falls where the row's own target is 1: a map of them fitted on the same
    # rows would predict the training targets perfectly, and new rows badly.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30))
    y = (rng.uniform(size=40) < 0.5).astype(float)
    model = RidgeOutcomeModel().fit(X, y)
    assert not model.calibrated_[0]
    new = rng.normal(size=(500, 30))
    assert np.abs(model.predict(new) - y.mean()).max() < 0.25
