import pytest

from skroute.datasets import make_routing_problem, simulate_logging


@pytest.fixture(scope="module")
def logged():
    problem = make_routing_problem(n_samples=3000, random_state=1)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, temperature=0.5, random_state=1
    )
    return problem, logs
