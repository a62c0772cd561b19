"""Full-feedback metrics: regret and utility."""

import numpy as np
import pytest

from skroute.metrics import policy_value, regret, utility


def test_regret_and_utility_hand_computed():
    reward = np.array([[1.0, 0.5], [0.0, 1.0]])
    cost = np.array([[2.0, 0.0], [1.0, 1.0]])
    # lambda = 0.5: utilities [[0, 0.5], [-0.5, 0.5]]; oracle picks model 1 twice.
    assert utility(reward, [0, 1], cost=cost, cost_sensitivity=0.5) == pytest.approx(
        0.25
    )
    assert regret(reward, [0, 1], cost=cost, cost_sensitivity=0.5) == pytest.approx(
        0.25
    )
    proba = np.array([[0.5, 0.5], [0.0, 1.0]])
    assert regret(reward, proba, cost=cost, cost_sensitivity=0.5) == pytest.approx(
        0.125
    )
    assert regret(reward, ["b", "a"], classes=["a", "b"]) == pytest.approx(0.75)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([1.0, 0.0], [0]), {}, "reward must be a full-feedback"),
        (([[1.0, 0.0]], ["z"]), {"classes": ["a", "b"]}, "not among classes"),
        (([[1.0, 0.0]], [[0.7, 0.7]]), {}, "sum to 1"),
        (([[1.0, 0.0]], [0, 1]), {}, "pass one chosen model per row"),
        (([[1.0, 0.0]], [0]), {"cost": [[1.0]]}, "cost must have the shape"),
        (([[1.0, 0.0]], [0]), {"cost_sensitivity": -1}, "cost_sensitivity must be"),
    ],
)
def test_metrics_bad_input(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        regret(*args, **kwargs)
    assert message in str(info.value)


def test_zero_costs_make_any_cost_sensitivity_irrelevant(tiny_logs):
    rng = np.random.default_rng(0)
    reward = rng.uniform(size=(60, 3))
    routes = rng.integers(0, 3, 60)
    assert regret(
        reward, routes, cost=np.zeros((60, 3)), cost_sensitivity=1e6
    ) == pytest.approx(regret(reward, routes))
    value = policy_value(
        tiny_logs["y"],
        tiny_logs["y"],
        reward=tiny_logs["reward"],
        cost=np.zeros(60),
        propensity=tiny_logs["propensity"],
        cost_sensitivity=1e6,
        X=tiny_logs["X"],
        cv=2,
    )
    assert np.isfinite(value.estimate) and np.isfinite(value.standard_error)


def test_overflowing_utility_is_a_clear_error():
    with pytest.raises(
        ValueError, match="reward - cost_sensitivity \\* cost overflows"
    ):
        regret([[0.0, 1.0]], [0], cost=[[1e300, 0.0]], cost_sensitivity=1e10)
