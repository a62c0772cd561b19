import pytest
from helpers import fit_logged
from tiny_routers import make_logs

from skroute import CausalRouterClassifier, DecoupledRouter, IntervalCostRouter
from skroute.datasets import make_routing_problem, simulate_logging


@pytest.fixture(scope="session")
def tiny_logs():
    """``tiny_routers.make_logs()``: 60 rows of three models, shared read-only."""
    return make_logs()


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


# Fitted once per test run and shared by the tests that only read a fitted
# router (predict, score, export, pickle, plot). A test that would change one
# works on ``sklearn.base.clone`` or ``copy.deepcopy`` of it instead.
# The safety check is off: these tests are about the network itself, and the
# check's fallbacks have tests of their own (tests/routers/test_selection.py).


@pytest.fixture(scope="session")
def fitted_causal(routing_logs):
    """A default CausalRouterClassifier at lambda 0.05, fitted on ``routing_logs``."""
    router = CausalRouterClassifier(
        cost_sensitivity=0.05, safety_check="off", random_state=0
    )
    return fit_logged(router, routing_logs[1], quiet=True)


@pytest.fixture(scope="session")
def fitted_interval(routing_logs):
    """A default IntervalCostRouter over lambda in [0, 0.2] with 4 intervals."""
    router = IntervalCostRouter(
        cost_range=(0.0, 0.2), n_intervals=4, safety_check="off", random_state=0
    )
    return fit_logged(router, routing_logs[1], quiet=True)


@pytest.fixture(scope="session")
def fitted_decoupled(routing_logs):
    """A default DecoupledRouter at lambda 0.05, fitted on ``routing_logs``."""
    return fit_logged(
        DecoupledRouter(cost_sensitivity=0.05), routing_logs[1], quiet=True
    )
