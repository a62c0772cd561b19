import subprocess
import sys

import numpy as np
import pytest

from skroute.ope import (
    UnreliableEstimateWarning,
    estimate_policy_value,
    importance_weight_diagnostics,
)

# Four logged rows, two models; the evaluated policy always picks model 0.
ACTION = np.array([0, 1, 0, 1])
OUTCOME = np.array([1.0, 0.0, 0.2, 1.0])
PROPENSITY = np.array([0.4, 0.25, 0.5, 0.75])
MU = np.array([[0.6, 0.2], [0.5, 0.5], [0.4, 0.1], [0.3, 0.9]])
ALWAYS_FIRST = np.zeros(4, dtype=int)

# Worked by hand: weights w = [2.5, 0, 2, 0]; residuals of model 0 on its rows
# are 1 - 0.6 = 0.4 and 0.2 - 0.4 = -0.2; the direct method averages MU[:, 0].
HAND_COMPUTED = {
    "dm": (0.6 + 0.5 + 0.4 + 0.3) / 4,
    "ipw": (2.5 * 1.0 + 2 * 0.2) / 4,
    "snipw": (2.5 * 1.0 + 2 * 0.2) / (2.5 + 2),
    "dr": ((0.6 + 2.5 * 0.4) + 0.5 + (0.4 + 2 * -0.2) + 0.3) / 4,
    "sndr": 0.45 + (2.5 * 0.4 + 2 * -0.2) / (2.5 + 2),
}


@pytest.mark.parametrize("method", sorted(HAND_COMPUTED))
def test_estimators_match_hand_computed_values(method):
    result = estimate_policy_value(
        ALWAYS_FIRST,
        ACTION,
        OUTCOME,
        propensity=PROPENSITY,
        outcome_estimates=MU,
        method=method,
        warn=False,
    )
    assert result.estimate == pytest.approx(HAND_COMPUTED[method])
    low, high = result.confidence_interval
    assert low < result.estimate < high


def test_standard_error_of_mean_type_estimators_is_that_of_the_row_terms():
    per_row = np.array([2.5, 0.0, 0.4, 0.0])  # IPW terms w * r
    result = estimate_policy_value(
        ALWAYS_FIRST, ACTION, OUTCOME, propensity=PROPENSITY, method="ipw", warn=False
    )
    assert result.standard_error == pytest.approx(per_row.std(ddof=1) / 2)
    half_width = result.confidence_interval[1] - result.estimate
    assert half_width == pytest.approx(1.959964 * result.standard_error, rel=1e-5)


def test_stochastic_policy_is_the_probability_weighted_mix():
    proba = np.tile([0.25, 0.75], (4, 1))
    kwargs = dict(propensity=PROPENSITY, outcome_estimates=MU, method="dr", warn=False)
    mixed = estimate_policy_value(proba, ACTION, OUTCOME, **kwargs).estimate
    first = estimate_policy_value(np.zeros(4, int), ACTION, OUTCOME, **kwargs).estimate
    second = estimate_policy_value(np.ones(4, int), ACTION, OUTCOME, **kwargs).estimate
    assert mixed == pytest.approx(0.25 * first + 0.75 * second)


def test_clipping_is_explicit_and_reported():
    result = estimate_policy_value(
        ALWAYS_FIRST,
        ACTION,
        OUTCOME,
        propensity=PROPENSITY,
        method="ipw",
        min_propensity=0.5,
        warn=False,
    )
    assert result.estimate == pytest.approx((2 * 1.0 + 2 * 0.2) / 4)
    assert result.diagnostics["clipped_fraction"] == 0.5
    assert result.diagnostics["max_weight"] == pytest.approx(2.0)


def test_one_bootstrap_replicate_is_an_error_not_a_nan_interval():
    # One replicate cannot give an interval; it once returned (nan, nan).
    rng = np.random.default_rng(0)
    action = rng.integers(3, size=50)

    def estimate(n_bootstrap):
        return estimate_policy_value(
            np.zeros(50, int),
            action,
            rng.uniform(size=50),
            propensity=np.full(50, 1 / 3),
            method="ipw",
            interval="bootstrap",
            n_bootstrap=n_bootstrap,
            random_state=0,
        )

    with pytest.raises(ValueError, match="n_bootstrap must be an int >= 2"):
        estimate(1)
    assert np.isfinite(estimate(2).estimate)


def test_bootstrap_interval_agrees_with_normal_interval():
    rng = np.random.default_rng(0)
    n = 3000
    action = rng.integers(3, size=n)
    outcome = rng.uniform(size=n)
    propensity = np.full(n, 1 / 3)
    mu = rng.uniform(size=(n, 3))
    kwargs = dict(propensity=propensity, outcome_estimates=mu, method="sndr")
    normal = estimate_policy_value(np.zeros(n, int), action, outcome, **kwargs)
    boot = estimate_policy_value(
        np.zeros(n, int),
        action,
        outcome,
        interval="bootstrap",
        random_state=0,
        **kwargs,
    )
    assert boot.estimate == normal.estimate
    width = normal.confidence_interval[1] - normal.confidence_interval[0]
    np.testing.assert_allclose(
        boot.confidence_interval, normal.confidence_interval, atol=0.1 * width
    )


def _simulated_logs(rng, reward, logging_proba):
    n, n_models = reward.shape
    cumulative = logging_proba.cumsum(axis=1)
    action = (cumulative < rng.uniform(size=(n, 1))).sum(axis=1)
    action = np.minimum(action, n_models - 1)
    rows = np.arange(n)
    return action, reward[rows, action], logging_proba[rows, action]


@pytest.fixture(scope="module")
def simulation():
    """A fixed full-feedback table, a skewed logging policy, 300 logged draws."""
    rng = np.random.default_rng(42)
    n, n_models = 600, 4
    reward = (rng.uniform(size=(n, n_models)) < np.linspace(0.3, 0.8, n_models)).astype(
        float
    )
    scores = rng.normal(size=(n, n_models))
    logging_proba = 0.95 * np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    logging_proba += 0.05 / n_models
    policy = rng.integers(n_models, size=n)  # an arbitrary deterministic policy
    truth = reward[np.arange(n), policy].mean()
    mu = np.full((n, n_models), 0.5)  # a deliberately wrong outcome model
    draws = [_simulated_logs(rng, reward, logging_proba) for _ in range(300)]
    return policy, truth, mu, draws


@pytest.mark.parametrize("method", ["ipw", "snipw", "dr", "sndr"])
def test_estimates_are_unbiased_with_calibrated_intervals(simulation, method):
    policy, truth, mu, draws = simulation
    results = [
        estimate_policy_value(
            policy,
            action,
            outcome,
            propensity=propensity,
            outcome_estimates=mu,
            method=method,
            warn=False,
        )
        for action, outcome, propensity in draws
    ]
    estimates = np.array([r.estimate for r in results])
    # Tolerance: 4 standard errors of the mean over the 300 simulated logs.
    assert abs(estimates.mean() - truth) < 4 * estimates.std(ddof=1) / np.sqrt(300)
    # The reported standard error matches the spread across simulated logs.
    reported = np.mean([r.standard_error for r in results])
    assert reported == pytest.approx(estimates.std(ddof=1), rel=0.15)
    covered = np.mean(
        [r.confidence_interval[0] <= truth <= r.confidence_interval[1] for r in results]
    )
    # 95% nominal; a binomial standard error over 300 draws is 0.013.
    assert 0.90 <= covered <= 0.99


def test_unreliable_estimate_warns():
    action = np.array([0] * 50 + [1] * 2)
    propensity = np.array([0.98] * 50 + [0.01] * 2)
    with pytest.warns(UnreliableEstimateWarning, match="effective sample size"):
        estimate_policy_value(
            np.ones(52, int), action, np.ones(52), propensity=propensity, method="ipw"
        )


def test_weight_diagnostics_counts():
    proba = np.zeros((4, 2))
    proba[:, 0] = 1.0
    diagnostics = importance_weight_diagnostics(proba, ACTION, PROPENSITY, warn=False)
    assert diagnostics["n_matched"] == 2
    np.testing.assert_array_equal(diagnostics["n_logged"], [2, 2])
    assert diagnostics["effective_sample_size"] == pytest.approx(4.5**2 / (2.5**2 + 4))


@pytest.mark.parametrize(
    "changes, error, message",
    [
        (
            {"propensity": np.array([0.4, 0.0, 0.5, 0.75])},
            ValueError,
            "propensity must be in (0, 1]; got 0 at rows [1]",
        ),
        (
            {"propensity": np.array([0.4, 0.2])},
            ValueError,
            "propensity must have shape (4,)",
        ),
        (
            {"outcome": np.ones(3)},
            ValueError,
            "outcome has shape (3,) but action has 4",
        ),
        (
            {"outcome": np.array([1.0, np.nan, 0.0, 0.0])},
            ValueError,
            "outcome contains NaN",
        ),
        (
            {"policy": np.tile([0.7, 0.7], (4, 1))},
            ValueError,
            "must sum to 1 in every row; row 0 sums to 1.4",
        ),
        (
            {"policy": np.tile([0.5, 0.5], (3, 1))},
            ValueError,
            "policy probabilities must have shape (4, 2)",
        ),
        (
            {"policy": np.array([0, 2, 0, 0])},
            ValueError,
            "policy codes must be in [0, 2)",
        ),
        (
            {"policy": np.array([0.0, 1.0, 0.0, 0.0])},
            TypeError,
            "must hold integer model codes",
        ),
        ({"method": "tmle"}, ValueError, "method must be one of"),
        ({"outcome_estimates": None}, ValueError, "needs outcome_estimates"),
        ({"propensity": None}, ValueError, "needs propensity"),
        ({"action": np.array([0.0, 1.0, 0.0, 1.0])}, TypeError, "integer model codes"),
        ({"interval": "wald"}, ValueError, "interval must be 'normal' or 'bootstrap'"),
    ],
)
def test_bad_input(changes, error, message):
    arguments = {
        "policy": ALWAYS_FIRST,
        "action": ACTION,
        "outcome": OUTCOME,
        "propensity": PROPENSITY,
        "outcome_estimates": MU,
        "method": "dr",
    }
    arguments.update(changes)
    with pytest.raises(error) as info:
        estimate_policy_value(
            arguments.pop("policy"),
            arguments.pop("action"),
            arguments.pop("outcome"),
            warn=False,
            **arguments,
        )
    assert message in str(info.value)


def test_evaluation_modules_import_without_torch():
    code = (
        "import sys, skroute.ope, skroute.metrics, skroute.causal, skroute.datasets;"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_degenerate_estimates_report_no_standard_error():
    # One row carries the self-normalised estimate: no spread to estimate.
    action = np.array([0] + [1] * 39)
    propensity = np.full(40, 0.5)
    result = estimate_policy_value(
        np.zeros(40, int),
        action,
        np.ones(40),
        propensity=propensity,
        method="snipw",
        warn=False,
    )
    assert result.estimate == 1.0
    assert np.isnan(result.standard_error)
    assert np.isnan(result.confidence_interval).all()
    boot = estimate_policy_value(
        np.zeros(40, int),
        action,
        np.ones(40),
        propensity=propensity,
        method="snipw",
        interval="bootstrap",
        random_state=0,
        warn=False,
    )
    assert np.isnan(boot.confidence_interval).all()
    assert boot.diagnostics["bootstrap_dropped"] > 0
    single = estimate_policy_value(
        np.zeros(1, int),
        np.zeros(1, int),
        np.ones(1),
        propensity=np.ones(1),
        method="ipw",
        warn=False,
    )
    assert np.isnan(single.standard_error)


def test_sample_weight_enters_the_estimate_and_the_diagnostics():
    weight = np.array([1.0, 0.0, 0.0, 0.0])
    result = estimate_policy_value(
        ALWAYS_FIRST,
        ACTION,
        OUTCOME,
        propensity=PROPENSITY,
        method="snipw",
        sample_weight=weight,
        warn=False,
    )
    assert result.estimate == pytest.approx(1.0)  # only row 0 counts
    assert result.diagnostics["effective_sample_size"] == pytest.approx(1.0)


def test_off_policy_estimates_stay_finite_with_tiny_propensities():
    rng = np.random.default_rng(0)
    action = rng.integers(0, 3, 200)
    policy = rng.integers(0, 3, 200)
    reward = rng.uniform(size=200)
    estimates = rng.uniform(size=(200, 3))
    for method in ("ipw", "snipw", "dr", "sndr"):
        for propensity, scale in ((1e-12, 1e6), (1e-300, 1.0)):
            result = estimate_policy_value(
                policy,
                action,
                reward * scale,
                propensity=np.full(200, propensity),
                outcome_estimates=estimates * scale,
                method=method,
                interval="bootstrap",
                n_bootstrap=50,
                random_state=0,
                warn=False,
            )
            assert np.isfinite(result.estimate), (method, propensity)
            assert np.isfinite(result.standard_error), (method, propensity)
            assert np.isfinite(result.confidence_interval).all(), (method, propensity)
    diagnostics = importance_weight_diagnostics(
        np.eye(3)[policy], action, np.full(200, 1e-300), warn=False
    )
    assert diagnostics["effective_sample_size"] == pytest.approx(
        (policy == action).sum()
    )


def test_clipping_at_min_propensity_bounds_the_weights():
    rng = np.random.default_rng(0)
    action, policy = rng.integers(0, 2, 100), rng.integers(0, 2, 100)
    result = estimate_policy_value(
        policy,
        action,
        rng.uniform(size=100),
        propensity=np.full(100, 1e-12),
        method="ipw",
        min_propensity=0.01,
        warn=False,
    )
    assert result.diagnostics["max_weight"] == pytest.approx(100.0)
    assert result.diagnostics["clipped_fraction"] == 1.0


def test_overflowing_estimates_are_a_clear_error():
    with pytest.raises(ValueError, match="overflows float64.*min_propensity"):
        estimate_policy_value(
            np.zeros(4, int),
            np.zeros(4, int),
            np.full(4, 1e300),
            propensity=np.full(4, 1e-300),
            method="ipw",
            warn=False,
        )
