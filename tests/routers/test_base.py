"""Numerical safety: extreme propensities, rewards, costs and cost sensitivities."""

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from sklearn.base import clone
from tiny_routers import (
    assert_valid_outputs,
    fit,
    make_logs,
    router_id,
    tiny_routers,
)

from skroute import CausalRouterClassifier, IntervalCostRouter
from skroute.losses import classification_regret_loss, softmax_regret_loss
from skroute.metrics import policy_value, regret
from skroute.ope import estimate_policy_value, importance_weight_diagnostics


@pytest.fixture(scope="module")
def logs():
    return make_logs()


def _with_lambda(router, cost_sensitivity):
    router = clone(router)
    if isinstance(router, IntervalCostRouter):
        router.set_params(cost_range=(0.0, 2 * cost_sensitivity))
    return router.set_params(cost_sensitivity=cost_sensitivity)


EXTREMES = {
    "propensity 1e-12": {"propensity": np.full(60, 1e-12)},
    "reward 1e6": {"reward": make_logs()["reward"] * 1e6},
    "cost 0 for every model": {"cost": np.zeros(60)},
    "full-feedback cost 0": {
        "reward": np.random.default_rng(0).uniform(size=(60, 3)),
        "cost": np.zeros((60, 3)),
    },
    "reward 1e90": {"reward": make_logs()["reward"] * 1e90},
}


@pytest.mark.filterwarnings("ignore::skroute.causal.OverlapWarning")
@pytest.mark.parametrize("cost_sensitivity", [0.05, 1e6])
@pytest.mark.parametrize("extreme", list(EXTREMES), ids=str)
@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_extreme_logs_give_finite_routers(router, extreme, cost_sensitivity, logs):
    router = fit(_with_lambda(router, cost_sensitivity), logs, **EXTREMES[extreme])
    assert_valid_outputs(router, logs["X"])
    if hasattr(router, "net_"):
        assert all(torch.isfinite(p).all() for p in router.net_.module_.parameters())
    assert np.isfinite(router.score(**logs))


@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=3, cv=2, random_state=0),
        IntervalCostRouter(n_intervals=2, max_epochs=3, cv=2, random_state=0),
    ],
    ids=router_id,
)
def test_huge_rewards_are_rescaled_by_a_power_of_two(router, logs):
    # Beyond 2**40 the pseudo-outcomes are divided by a power of two: two
    # scales that both need it train on exactly the same float32 matrices,
    # hence the same policy (the interval router's scores are in units of
    # utility, so they scale with the rewards).
    first = fit(clone(router), logs, reward=logs["reward"] * 2.0**100)
    second = fit(clone(router), logs, reward=logs["reward"] * 2.0**200)
    np.testing.assert_array_equal(
        first.predict_proba(logs["X"]), second.predict_proba(logs["X"])
    )
    np.testing.assert_array_equal(first.predict(logs["X"]), second.predict(logs["X"]))


def test_overflowing_pseudo_outcomes_are_a_clear_error(logs):
    router = CausalRouterClassifier(min_propensity=1e-300, max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="pseudo-outcomes? overflows? float64"):
        fit(router, logs, reward=logs["reward"] * 1e90, propensity=np.full(60, 1e-300))


@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_rewards_beyond_1e100_are_a_clear_error(router, logs):
    # Their squares and weighted sums would overflow the outcome models.
    with pytest.raises(ValueError, match="reward holds values up to 9.*e\\+299"):
        fit(clone(router), logs, reward=logs["reward"] * 1e300)


def _softmax_regret_reference(scores, utility, temperature):
    """The softmax regret in float64 numpy, through log-sum-exp."""
    tempered = scores / temperature
    log_policy = tempered - logsumexp(tempered, axis=1, keepdims=True)
    gaps = utility.max(axis=1, keepdims=True) - utility
    return (np.exp(log_policy) * gaps).sum(axis=1).mean()


@pytest.mark.parametrize("temperature", [1.0, 1e-3, 1e-30])
def test_softmax_regret_does_not_overflow_at_small_temperatures(temperature):
    scores = np.array([[3.0, -2.0, 1e3], [1e30, -1e30, 0.0], [5.0, 5.0, -5.0]])
    utility = np.array([[1.0, 0.0, 0.5], [0.0, 1e6, -1e6], [2.0, 1.0, 0.0]])
    tensor = torch.tensor(scores, dtype=torch.float32, requires_grad=True)
    value = softmax_regret_loss(
        tensor, torch.tensor(utility, dtype=torch.float32), temperature
    )
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(tensor.grad).all()
    expected = _softmax_regret_reference(scores, utility, temperature)
    assert float(value) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("gap_weighted", [False, True])
def test_classification_loss_does_not_overflow_at_small_temperatures(gap_weighted):
    scores = torch.tensor([[1e30, -1e30, 0.0], [1.0, 2.0, 3.0]], requires_grad=True)
    utility = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    value = classification_regret_loss(scores, utility, 1e-20, gap_weighted)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(scores.grad).all()


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


def test_zero_costs_make_any_cost_sensitivity_irrelevant(logs):
    rng = np.random.default_rng(0)
    reward = rng.uniform(size=(60, 3))
    routes = rng.integers(0, 3, 60)
    assert regret(
        reward, routes, cost=np.zeros((60, 3)), cost_sensitivity=1e6
    ) == pytest.approx(regret(reward, routes))
    value = policy_value(
        logs["y"],
        logs["y"],
        reward=logs["reward"],
        cost=np.zeros(60),
        propensity=logs["propensity"],
        cost_sensitivity=1e6,
        X=logs["X"],
        cv=2,
    )
    assert np.isfinite(value.estimate) and np.isfinite(value.standard_error)


def test_overflowing_utility_is_a_clear_error():
    with pytest.raises(
        ValueError, match="reward - cost_sensitivity \\* cost overflows"
    ):
        regret([[0.0, 1.0]], [0], cost=[[1e300, 0.0]], cost_sensitivity=1e10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_features_are_the_standardised_features_of_prediction(dtype):
    # The policy's folds train on features made per batch from X; they must be
    # the very numbers the deployed ensemble makes of the same rows.
    from skroute._net import PolicyEnsemble
    from skroute.routers._neural import FoldRows, standardisation

    rng = np.random.default_rng(0)
    X = (rng.standard_normal((500, 7)) * [1, 10, 1e3, 1e-3, 5, 1, 2]).astype(dtype)
    shift, spread = standardisation(X, np.ones(500))
    rows = rng.permutation(500)[:300]
    arrays = {"utility": rng.standard_normal((300, 3)).astype(np.float32)}
    batch, _ = FoldRows(X, rows, shift, spread, arrays)[[5, 0, 299, 5]]
    ensemble = PolicyEnsemble(7, 3)
    ensemble.shift.copy_(torch.as_tensor(shift, dtype=torch.float32))
    ensemble.scale.copy_(torch.as_tensor(spread, dtype=torch.float32))
    inputs = torch.from_numpy(X[rows[[5, 0, 299, 5]]].astype(np.float32))
    expected = (inputs - ensemble.shift) / ensemble.scale
    np.testing.assert_array_equal(batch["features"], expected.numpy())
    np.testing.assert_array_equal(batch["utility"], arrays["utility"][[5, 0, 299, 5]])
