"""Propensity models: estimated, cross-fitted and warm-started."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skroute.causal import (
    OverlapWarning,
    cross_fit_pseudo_outcomes,
)


def test_estimated_propensity_matches_uniform_logging():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6000, 3))
    action = rng.integers(6, size=6000)
    gamma = cross_fit_pseudo_outcomes(
        X, action, rng.uniform(size=6000), n_classes=6, random_state=0
    )
    # Logit noise of the fitted coefficients is about sqrt(1 / (n p)) ~ 0.04 per
    # feature, i.e. ~0.01 in probability; 0.03 leaves a factor of three.
    assert np.abs(gamma.propensity - 1 / 6).mean() < 0.03


def test_estimated_propensity_tracks_the_logging_policy(logged):
    problem, logs = logged
    with pytest.warns(OverlapWarning):  # temperature 0.5: skewed logging
        gamma = cross_fit_pseudo_outcomes(
            logs.X,
            logs.action_index,
            logs.reward,
            n_classes=6,
            min_propensity=1e-6,
            random_state=0,
        )
    correlation = np.corrcoef(np.log(gamma.propensity), np.log(logs.propensity))[0, 1]
    assert correlation > 0.9


class _RecordingClassifier(LogisticRegression):
    """Logistic regression that fails if asked about a row it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.seen_ = {row.tobytes() for row in np.asarray(X)}
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        leaked = sum(row.tobytes() in self.seen_ for row in np.asarray(X))
        assert leaked == 0, f"{leaked} rows were in the training fold"
        return super().predict_proba(X)


def test_estimated_propensities_are_cross_fitted(logged):
    problem, logs = logged
    gamma = cross_fit_pseudo_outcomes(
        logs.X,
        logs.action_index,
        logs.reward,
        n_classes=6,
        propensity_model=_RecordingClassifier(max_iter=300),
        cv=3,
        random_state=0,
    )
    assert np.isfinite(gamma.propensity).all()


def test_warm_started_propensities_match_the_converged_fit(logged):
    from skroute.causal import estimate_propensity, make_folds

    problem, logs = logged
    folds = make_folds(logs.action_index, cv=5, random_state=0)
    default = estimate_propensity(logs.X, logs.action_index, folds, n_classes=6)
    converged = estimate_propensity(
        logs.X,
        logs.action_index,
        folds,
        n_classes=6,
        propensity_model=LogisticRegression(max_iter=10_000, tol=1e-12),
    )
    # The default's folds after the first start from the first fold's
    # coefficients and stop at lbfgs' default tolerance: ~1e-3 from the optimum.
    np.testing.assert_allclose(default, converged, rtol=0.02, atol=5e-3)


def test_fold_missing_a_model_is_fitted_from_scratch():
    from skroute.causal import estimate_propensity

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    action = rng.integers(3, size=300)
    rare = np.flatnonzero(action == 2)
    others = np.setdiff1d(np.arange(300), rare)
    # The second training fold never saw model 2, so the first fold's three-class
    # coefficients cannot start it.
    folds = [
        (np.concatenate([rare, others[:100]]), others[100:]),
        (others[100:], np.concatenate([rare, others[:100]])),
    ]
    propensity = estimate_propensity(X, action, folds, n_classes=3)
    assert np.all(propensity[rare] == 0)  # clipped later, by the caller
    assert np.all((propensity[others] > 0) & (propensity[others] < 1))
