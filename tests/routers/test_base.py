"""What every router shares: extreme logged values, data frames of features."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from tiny_routers import (
    assert_valid_outputs,
    fit,
    make_logs,
    router_id,
    tiny_routers,
)

from skroute import CausalRouterClassifier, IntervalCostRouter


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
def test_extreme_logs_give_finite_routers(router, extreme, cost_sensitivity, tiny_logs):
    router = fit(_with_lambda(router, cost_sensitivity), tiny_logs, **EXTREMES[extreme])
    assert_valid_outputs(router, tiny_logs["X"])
    if hasattr(router, "net_"):
        assert all(torch.isfinite(p).all() for p in router.net_.module_.parameters())
    assert np.isfinite(router.score(**tiny_logs))


@pytest.mark.parametrize(
    "router",
    [
        CausalRouterClassifier(max_epochs=3, cv=2, random_state=0),
        IntervalCostRouter(n_intervals=2, max_epochs=3, cv=2, random_state=0),
    ],
    ids=router_id,
)
def test_huge_rewards_are_rescaled_by_a_power_of_two(router, tiny_logs):
    # Beyond 2**40 the pseudo-outcomes are divided by a power of two: two
    # scales that both need it train on exactly the same float32 matrices,
    # hence the same policy (the interval router's scores are in units of
    # utility, so they scale with the rewards).
    first = fit(clone(router), tiny_logs, reward=tiny_logs["reward"] * 2.0**100)
    second = fit(clone(router), tiny_logs, reward=tiny_logs["reward"] * 2.0**200)
    np.testing.assert_array_equal(
        first.predict_proba(tiny_logs["X"]), second.predict_proba(tiny_logs["X"])
    )
    np.testing.assert_array_equal(
        first.predict(tiny_logs["X"]), second.predict(tiny_logs["X"])
    )


def test_overflowing_pseudo_outcomes_are_a_clear_error(tiny_logs):
    router = CausalRouterClassifier(min_propensity=1e-300, max_epochs=1, cv=2)
    with pytest.raises(ValueError, match="pseudo-outcomes? overflows? float64"):
        fit(
            router,
            tiny_logs,
            reward=tiny_logs["reward"] * 1e90,
            propensity=np.full(60, 1e-300),
        )


@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_rewards_beyond_1e100_are_a_clear_error(router, tiny_logs):
    # Their squares and weighted sums would overflow the outcome models.
    with pytest.raises(ValueError, match="reward holds values up to 9.*e\\+299"):
        fit(clone(router), tiny_logs, reward=tiny_logs["reward"] * 1e300)


@pytest.mark.parametrize("router", tiny_routers(), ids=router_id)
def test_score_on_a_dataframe_does_not_warn_about_feature_names(router):
    import warnings

    import pandas as pd

    data = make_logs()
    features = data.pop("X")
    X = pd.DataFrame(features, columns=[f"e{j}" for j in range(features.shape[1])])
    y = data.pop("y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router = clone(router).fit(X, y, **data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert np.isfinite(router.score(X, y, **data))
    assert not [w for w in caught if "feature names" in str(w.message)]
