import numpy as np
import pytest

from skroute.datasets import make_routing_problem, simulate_logging


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
