import pytest

from skroute.datasets import make_routing_problem, simulate_logging


@pytest.fixture(scope="session")
def routing_logs():
    """A generated problem: logged training rows and a full-feedback test set."""
    problem = make_routing_problem(n_samples=3000, random_state=0)
    train, test = slice(0, 2000), slice(2000, None)
    logs = simulate_logging(
        problem.X[train],
        problem.reward[train],
        problem.cost[train],
        models=problem.models,
        random_state=0,
    )
    return problem, logs, train, test
