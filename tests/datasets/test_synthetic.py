"""The generated routing problem: shapes, prices and its oracle."""

import numpy as np
import pytest

from skroute.datasets import make_routing_problem
from skroute.metrics import regret


def test_routing_problem_shapes_and_reproducibility():
    a = make_routing_problem(n_samples=300, n_models=4, random_state=3)
    b = make_routing_problem(n_samples=300, n_models=4, random_state=3)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.reward, b.reward)
    assert a.reward.shape == a.cost.shape == a.expected_reward.shape == (300, 4)
    assert set(np.unique(a.reward)) <= {0.0, 1.0}
    assert (a.cost > 0).all()


def test_routing_problem_prices_span_two_orders_of_magnitude():
    problem = make_routing_problem(n_samples=2000, random_state=0)
    mean_cost = problem.cost.mean(axis=0)
    assert mean_cost.max() / mean_cost.min() > 50
    # Dearer models are better on average, but not on every query.
    assert problem.expected_reward[:, -1].mean() > problem.expected_reward[:, 0].mean()
    best = np.argmax(problem.expected_reward - 0.05 * problem.cost, axis=1)
    assert np.unique(best).size >= 3


def test_oracle_policy_has_zero_regret_and_others_positive():
    problem = make_routing_problem(n_samples=500, random_state=0)
    u = problem.expected_reward - 0.05 * problem.cost
    oracle = np.argmax(u, axis=1)
    kwargs = dict(cost=problem.cost, cost_sensitivity=0.05)
    assert regret(problem.expected_reward, oracle, **kwargs) == pytest.approx(0.0)
    for model in range(problem.reward.shape[1]):
        constant = np.full(500, model)
        assert regret(problem.expected_reward, constant, **kwargs) > 0


def test_generated_model_names_sort_in_column_order():
    from skroute.datasets import make_routing_problem

    problem = make_routing_problem(n_samples=50, n_models=12, random_state=0)
    assert problem.models.tolist() == sorted(problem.models.tolist())
