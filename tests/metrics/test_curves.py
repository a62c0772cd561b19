"""Cost-quality curves and their summaries."""

import numpy as np
import pytest
from helpers import fit_kwargs

from skroute.metrics import (
    cost_quality_curve,
    cost_to_reach,
    normalised_area,
    quality_gap_recovered,
    routing_summary,
)


def test_cost_quality_hull_and_summaries():
    curve = cost_quality_curve([1.0, 2.0, 3.0, 4.0, 2.5], [0.5, 0.6, 0.9, 0.8, 0.4])
    np.testing.assert_array_equal(curve.hull_costs, [1.0, 3.0])
    np.testing.assert_array_equal(curve.hull_qualities, [0.5, 0.9])
    assert curve.quality_at(2.0) == pytest.approx(0.7)
    assert curve.quality_at(0.5) == -np.inf
    assert cost_to_reach(curve, 0.7) == pytest.approx(2.0)
    assert cost_to_reach(curve, 0.95) == np.inf
    assert quality_gap_recovered(curve, 2.0, weak_quality=0.5, strong_quality=0.9) == (
        pytest.approx(0.5)
    )
    # Hull from (1, 0.5) to (3, 0.9) then flat to 5: mean quality over [1, 5] is
    # (2 * 0.7 + 2 * 0.9) / 4 = 0.8; normalised between 0.5 and 1.0 gives 0.6.
    area = normalised_area(curve, cheapest=(1.0, 0.5), oracle_quality=1.0, max_cost=5.0)
    assert area == pytest.approx(0.6, abs=1e-6)


def test_routing_summary_hand_computed():
    reward = np.array([[1.0, 0.5], [0.0, 1.0], [1.0, 1.0]])
    cost = np.array([[2.0, 0.0], [1.0, 1.0], [1.0, 0.5]])
    summary = routing_summary(reward, [0, 1, 1], cost=cost, cost_sensitivity=0.5)
    np.testing.assert_allclose(summary["share"], [1 / 3, 2 / 3])
    assert summary["quality"] == pytest.approx(1.0)
    assert summary["cost"] == pytest.approx(3.5 / 3)
    # Utilities [[0, .5], [-.5, .5], [.5, .75]]: the second and third routes are best.
    assert summary["oracle_agreement"] == pytest.approx(2 / 3)
    assert summary["regret"] == pytest.approx(0.5 / 3)


def test_cost_quality_values_of_several_policies(routing_logs):
    from skroute.metrics import cost_quality_values

    problem, logs, train, _ = routing_logs
    policies = [np.full(len(logs.X), model) for model in problem.models[[0, -1]]]
    qualities, costs = cost_quality_values(
        policies, logs.action, X=logs.X, classes=problem.models, **fit_kwargs(logs)
    )
    for column, quality, cost in zip((0, -1), qualities, costs):
        true_quality = problem.reward[train][:, column].mean()
        true_cost = problem.cost[train][:, column].mean()
        assert abs(quality.estimate - true_quality) < 4 * quality.standard_error
        assert abs(cost.estimate - true_cost) < 4 * cost.standard_error
    exact_quality, exact_cost = cost_quality_values(
        policies,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
        classes=problem.models,
    )
    assert exact_cost[1].estimate == pytest.approx(problem.cost[train][:, -1].mean())
