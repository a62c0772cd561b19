import numpy as np
import pytest

from skroute.datasets import make_routing_problem, simulate_logging
from skroute.metrics import regret, utility


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


def test_logging_propensities_are_exact_and_floored():
    problem = make_routing_problem(n_samples=20000, n_models=4, random_state=1)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, exploration=0.2, random_state=1
    )
    rows = np.arange(len(logs.X))
    np.testing.assert_allclose(
        logs.propensity, logs.logging_proba[rows, logs.action_index]
    )
    np.testing.assert_allclose(logs.logging_proba.sum(axis=1), 1.0)
    assert logs.logging_proba.min() >= 0.2 / 4 - 1e-12
    np.testing.assert_array_equal(logs.reward, problem.reward[rows, logs.action_index])
    # The draws follow the logging probabilities: frequencies match their means
    # within 4 standard errors.
    frequency = np.bincount(logs.action_index, minlength=4) / len(rows)
    expected = logs.logging_proba.mean(axis=0)
    standard_error = np.sqrt(expected * (1 - expected) / len(rows))
    assert np.all(np.abs(frequency - expected) < 4 * standard_error)


def test_logging_depends_on_the_query():
    problem = make_routing_problem(n_samples=1000, random_state=0)
    logs = simulate_logging(problem.X, problem.reward, random_state=0)
    assert logs.logging_proba.std(axis=0).min() > 0.01


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"exploration": 1.5}, "exploration must be in [0, 1]"),
        ({"temperature": 0.0}, "temperature must be a finite number > 0"),
        ({"logging_policy": "bandit"}, "logging_policy must be 'linear', 'topic'"),
        ({"logging_policy": "topic"}, "logging_policy='topic' needs groups"),
        ({"logging_policy": np.zeros((3, 3))}, "logging_policy scores must have shape"),
        ({"models": ["a"]}, "models must name the"),
    ],
)
def test_simulate_logging_bad_input(kwargs, message):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError) as info:
        simulate_logging(rng.normal(size=(5, 2)), rng.uniform(size=(5, 3)), **kwargs)
    assert message in str(info.value)


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


def test_topic_logging_policy_is_shared_within_a_topic():
    problem = make_routing_problem(n_samples=600, random_state=0)
    logs = simulate_logging(
        problem.X,
        problem.reward,
        logging_policy="topic",
        groups=problem.cluster,
        random_state=0,
    )
    for topic in np.unique(problem.cluster)[:5]:
        rows = logs.logging_proba[problem.cluster == topic]
        np.testing.assert_allclose(rows, np.tile(rows[0], (len(rows), 1)))
    assert logs.logging_proba.std(axis=0).max() > 0.05
