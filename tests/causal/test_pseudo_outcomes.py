import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from skroute.causal import (
    cross_fit_pseudo_outcomes,
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


def test_parallel_cross_fitting_gives_the_same_matrices(logged):
    problem, logs = logged
    args = (logs.X, logs.action_index, logs.reward, logs.cost)
    kwargs = dict(n_classes=6, random_state=0)
    sequential = cross_fit_pseudo_outcomes(*args, n_jobs=None, **kwargs)
    parallel = cross_fit_pseudo_outcomes(*args, n_jobs=2, **kwargs)
    np.testing.assert_allclose(sequential.reward, parallel.reward)
    np.testing.assert_allclose(sequential.cost, parallel.cost)


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
