"""Same data and random_state: the same router, whatever else changes."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from tiny_routers import (
    assert_same_outputs,
    fit,
    make_logs,
    outputs,
    router_id,
    tiny_routers,
)

ROUTERS = tiny_routers()
PARALLEL = [router for router in ROUTERS if "n_jobs" in router.get_params()]


@pytest.fixture(scope="module")
def logs():
    # Propensities are estimated, so that every nuisance model takes part.
    logs = make_logs(n=90)
    del logs["propensity"]
    return logs


@pytest.fixture(scope="module")
def reference(logs):
    """Outputs of one fit of each router, keyed by class name."""
    return {
        router_id(router): outputs(fit(clone(router), logs), logs["X"])
        for router in ROUTERS
    }


@pytest.mark.parametrize("router", ROUTERS, ids=router_id)
def test_two_fits_give_identical_routers(router, logs, reference):
    assert_same_outputs(
        outputs(fit(clone(router), logs), logs["X"]), reference[router_id(router)]
    )


@pytest.mark.parametrize("router", ROUTERS, ids=router_id)
def test_clone_of_a_fitted_router_refits_identically(router, logs, reference):
    fitted = fit(clone(router), logs)
    assert_same_outputs(
        outputs(fit(clone(fitted), logs), logs["X"]), reference[router_id(router)]
    )


@pytest.mark.parametrize("router", ROUTERS, ids=router_id)
def test_global_random_state_does_not_matter(router, logs, reference):
    # The global generators that a seeded fit must not read.
    np.random.seed(123)  # noqa: NPY002
    torch.manual_seed(123)
    np.random.uniform(size=7)  # noqa: NPY002
    torch.rand(5)
    assert_same_outputs(
        outputs(fit(clone(router), logs), logs["X"]), reference[router_id(router)]
    )


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("router", PARALLEL, ids=router_id)
def test_n_jobs_does_not_change_the_router(router, n_jobs, logs, reference):
    parallel = clone(router).set_params(n_jobs=n_jobs)
    assert_same_outputs(
        outputs(fit(parallel, logs), logs["X"]), reference[router_id(router)]
    )


@pytest.mark.parametrize("router", ROUTERS, ids=router_id)
def test_score_is_deterministic(router, logs):
    fitted = fit(clone(router), logs)
    assert fitted.score(**logs) == fitted.score(**logs)


def test_random_state_changes_the_neural_routers(logs):
    # The tests above would pass trivially if the seed were ignored. The
    # learned policies are compared: the deployed one may be the direct
    # method, which no seed changes.
    for router in ROUTERS[:2]:
        one = fit(clone(router), logs)
        other = fit(clone(router).set_params(random_state=1), logs)
        assert one.get_params()["random_state"] != 1
        cost_sensitivity = one.cost_sensitivity
        assert not np.array_equal(
            other.learned_policy_.scores(logs["X"], cost_sensitivity),
            one.learned_policy_.scores(logs["X"], cost_sensitivity),
        )
