import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression

from skroute.causal import (
    OverlapWarning,
    cross_fit_pseudo_outcomes,
    overlap_diagnostics,
    pseudo_outcomes,
)
from skroute.datasets import make_routing_problem, simulate_logging


def test_pseudo_outcomes_hand_computed():
    target = np.array([1.0, 0.0, 0.5])
    action = np.array([0, 1, 1])
    propensity = np.array([0.5, 0.25, 1.0])
    mu = np.array([[0.4, 0.6], [0.2, 0.8], [0.3, 0.1]])
    np.testing.assert_allclose(
        pseudo_outcomes(target, action, propensity, mu, "dr"),
        [[0.4 + 0.6 / 0.5, 0.6], [0.2, 0.8 - 0.8 / 0.25], [0.3, 0.1 + 0.4]],
    )
    np.testing.assert_allclose(
        pseudo_outcomes(target, action, propensity, mu, "ipw"),
        [[2.0, 0.0], [0.0, 0.0], [0.0, 0.5]],
    )
    np.testing.assert_allclose(
        pseudo_outcomes(target, action, propensity, mu, "dm"), mu
    )


def test_pseudo_outcomes_rejects_unknown_method():
    with pytest.raises(ValueError, match="pseudo_outcome must be one of"):
        pseudo_outcomes(
            np.zeros(1), np.zeros(1, int), np.ones(1), np.zeros((1, 2)), "x"
        )


def test_self_normalised_pseudo_outcomes():
    rng = np.random.default_rng(0)
    action = rng.integers(0, 3, size=200)
    propensity = rng.uniform(0.05, 1.0, size=200)
    target = rng.normal(size=200)
    zero = np.zeros((200, 3))
    gamma = pseudo_outcomes(target, action, propensity, zero, "sndr")
    for t in range(3):
        rows = action == t
        # With mu = 0, each arm's mean is the self-normalised IPW mean.
        expected = np.sum(target[rows] / propensity[rows]) / np.sum(
            1 / propensity[rows]
        )
        assert gamma[:, t].mean() == pytest.approx(expected)
    # Logged propensities equal to the arms' shares: the normaliser is 1.
    shares = np.bincount(action, minlength=3)[action] / 200
    mu = rng.normal(size=(200, 3))
    np.testing.assert_allclose(
        pseudo_outcomes(target, action, shares, mu, "sndr"),
        pseudo_outcomes(target, action, shares, mu, "dr"),
    )


@pytest.fixture(scope="module")
def logged():
    problem = make_routing_problem(n_samples=3000, random_state=1)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, temperature=0.5, random_state=1
    )
    return problem, logs


@pytest.mark.parametrize("method", ["dr", "ipw"])
def test_pseudo_outcomes_are_unbiased_for_each_models_mean_quality(logged, method):
    problem, logs = logged
    gamma = cross_fit_pseudo_outcomes(
        logs.X,
        logs.action_index,
        logs.reward,
        logs.cost,
        logs.propensity,
        n_classes=problem.reward.shape[1],
        method=method,
        min_propensity=1e-6,  # no clipping: the exact propensities are unbiased
        random_state=0,
    )
    truth = problem.expected_reward.mean(axis=0)
    estimate = gamma.reward.mean(axis=0)
    standard_error = gamma.reward.std(axis=0, ddof=1) / np.sqrt(len(logs.X))
    # Tolerance: 4 standard errors per model, plus the sampling spread of the
    # realised table around its expectation (already inside the pseudo-outcomes).
    assert np.all(np.abs(estimate - truth) < 4 * standard_error)
    cost_truth = problem.cost.mean(axis=0)
    cost_se = gamma.cost.std(axis=0, ddof=1) / np.sqrt(len(logs.X))
    assert np.all(np.abs(gamma.cost.mean(axis=0) - cost_truth) < 4 * cost_se)


def test_cost_method_sets_the_cost_pseudo_outcomes_apart(logged):
    problem, logs = logged
    kwargs = dict(n_classes=problem.reward.shape[1], random_state=0)
    args = (logs.X, logs.action_index, logs.reward, logs.cost, logs.propensity)
    dr = cross_fit_pseudo_outcomes(*args, method="dr", **kwargs)
    dm = cross_fit_pseudo_outcomes(*args, method="dm", **kwargs)
    mixed = cross_fit_pseudo_outcomes(*args, method="dr", cost_method="dm", **kwargs)
    np.testing.assert_allclose(mixed.reward, dr.reward)
    np.testing.assert_allclose(mixed.cost, dm.cost)
    assert mixed.overlap is not None
    # The direct method's cost varies less: no importance-weighted residuals.
    assert np.all(mixed.cost.var(axis=0) < dr.cost.var(axis=0))
    # IPW quality with DM cost: propensities for one, the cost model for the other.
    ipw = cross_fit_pseudo_outcomes(*args, method="ipw", cost_method="dm", **kwargs)
    np.testing.assert_allclose(ipw.cost, dm.cost)
    with pytest.raises(ValueError, match="cost_method must be one of"):
        cross_fit_pseudo_outcomes(*args, cost_method="x", **kwargs)


def test_dr_has_lower_variance_than_ipw(logged):
    problem, logs = logged
    kwargs = dict(n_classes=problem.reward.shape[1], random_state=0)
    args = (logs.X, logs.action_index, logs.reward, logs.cost, logs.propensity)
    dr = cross_fit_pseudo_outcomes(*args, method="dr", **kwargs)
    ipw = cross_fit_pseudo_outcomes(*args, method="ipw", **kwargs)
    assert np.all(dr.cost.var(axis=0) < ipw.cost.var(axis=0))
    assert np.mean(dr.reward.var(axis=0)) < np.mean(ipw.reward.var(axis=0))


class _RowRecorder(RegressorMixin, BaseEstimator):
    """Regressor that fails if asked to predict a row it was fitted on."""

    def fit(self, X, y):
        self.seen_ = {row.tobytes() for row in X}
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        leaked = sum(row.tobytes() in self.seen_ for row in X)
        assert leaked == 0, f"{leaked} predicted rows were in the training fold"
        return np.full(len(X), self.mean_)


def test_outcome_estimates_are_cross_fitted(logged):
    problem, logs = logged
    gamma = cross_fit_pseudo_outcomes(
        logs.X,
        logs.action_index,
        logs.reward,
        logs.cost,
        logs.propensity,
        n_classes=problem.reward.shape[1],
        reward_model=_RowRecorder(),
        cost_model=_RowRecorder(),
        cv=3,
        random_state=0,
    )
    assert np.isfinite(gamma.reward).all()


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


def test_parallel_cross_fitting_gives_the_same_matrices(logged):
    problem, logs = logged
    args = (logs.X, logs.action_index, logs.reward, logs.cost)
    kwargs = dict(n_classes=6, random_state=0)
    sequential = cross_fit_pseudo_outcomes(*args, n_jobs=None, **kwargs)
    parallel = cross_fit_pseudo_outcomes(*args, n_jobs=2, **kwargs)
    np.testing.assert_allclose(sequential.reward, parallel.reward)
    np.testing.assert_allclose(sequential.cost, parallel.cost)


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


def test_full_feedback_passes_matrices_through(logged):
    problem, _ = logged
    gamma = cross_fit_pseudo_outcomes(
        problem.X,
        np.zeros(len(problem.X), int),
        problem.reward,
        problem.cost,
        n_classes=6,
    )
    assert gamma.method == "full_feedback"
    np.testing.assert_array_equal(
        gamma.utility(0.1), problem.reward - 0.1 * problem.cost
    )


def test_overlap_diagnostics_values_and_warning():
    action = np.array([0, 0, 1, 1])
    propensity = np.array([0.5, 0.5, 0.5, 0.001])
    with pytest.warns(OverlapWarning, match="clipped"):
        diagnostics = overlap_diagnostics(
            action, propensity, n_classes=2, min_propensity=0.01
        )
    np.testing.assert_array_equal(diagnostics["n_logged"], [2, 2])
    # Model 0: equal weights, ESS = 2. Model 1: weights 2 and 100.
    np.testing.assert_allclose(
        diagnostics["effective_sample_size"], [2.0, 102**2 / (4 + 100**2)]
    )
    assert diagnostics["clipped_fraction"] == 0.25
    assert diagnostics["max_weight"] == pytest.approx(100.0)


def test_no_overlap_warning_under_uniform_logging():
    action = np.repeat([0, 1, 2], 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverlapWarning)
        diagnostics = overlap_diagnostics(
            action, np.full(150, 1 / 3), n_classes=3, min_propensity=0.01
        )
    np.testing.assert_allclose(diagnostics["ess_ratio"], 1.0)


@pytest.mark.parametrize("model", ["default", "ridge"])
def test_shared_ridge_fits_both_targets_like_separate_ridges(logged, model):
    from sklearn.linear_model import Ridge

    from skroute.causal import RidgeOutcomeModel

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


def test_cv_splitter_must_partition_the_rows(logged):
    from sklearn.model_selection import ShuffleSplit

    problem, logs = logged
    with pytest.raises(ValueError, match="exactly one test fold"):
        cross_fit_pseudo_outcomes(
            logs.X,
            logs.action_index,
            logs.reward,
            propensity=logs.propensity,
            n_classes=6,
            cv=ShuffleSplit(2, test_size=0.2, random_state=0),
        )


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
    for name in ("coef_", "mean_", "scale_", "alpha_", "platt_", "loo_error_"):
        np.testing.assert_array_equal(getattr(narrow, name), getattr(wide, name))


class _RowsView:
    """Rows ``rows`` of ``X``, with only indexing and a shape: no copy, no array."""

    def __init__(self, X, rows):
        self.X = X
        self.rows = np.asarray(rows)
        self.shape = (self.rows.size, *X.shape[1:])

    def __getitem__(self, index):
        return self.X[self.rows[index]]


@pytest.mark.parametrize("estimated", [False, True])
def test_cross_fitting_on_a_row_subset_matches_a_copy_of_it(estimated):
    # Policy folds cross-fit their nuisances on rows of X without copying them:
    # cross-fitting may read its features only as X[index] and X.shape.
    from sklearn.linear_model import LinearRegression

    problem = make_routing_problem(n_samples=900, random_state=0)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=0
    )
    rows = np.sort(np.random.default_rng(0).choice(900, 600, replace=False))
    for reward_model in (None, LinearRegression()):
        gammas = [
            cross_fit_pseudo_outcomes(
                X,
                logs.action_index[rows],
                logs.reward[rows],
                logs.cost[rows],
                None if estimated else logs.propensity[rows],
                n_classes=len(problem.models),
                method="auto",
                reward_model=reward_model,
                cv=3,
                random_state=0,
                warn_overlap=False,
            )
            for X in (logs.X[rows], _RowsView(logs.X, rows))
        ]
        for name in ("reward", "cost", "propensity", "reward_estimate", "dr_cost"):
            np.testing.assert_array_equal(
                getattr(gammas[0], name), getattr(gammas[1], name), err_msg=name
            )


def test_ridge_on_constant_features_predicts_the_weighted_mean():
    # Every eigenvalue of the Gram matrix is 0: no direction is kept.
    from skroute.causal import RidgeOutcomeModel

    y = np.array([0.2, 0.9, 0.4, 0.7, 0.1])
    weight = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
    for X in (np.zeros((5, 1)), np.full((5, 3), 2.5, dtype=np.float32)):
        model = RidgeOutcomeModel().fit(X, y, sample_weight=weight)
        np.testing.assert_allclose(model.predict(X), np.average(y, weights=weight))
