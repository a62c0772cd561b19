"""Messages in the user's words, located at the user's line."""

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skroute import BestSingleModelRouter, CausalRouterClassifier, DecoupledRouter
from skroute.causal import OverlapWarning
from skroute.routers import CostScaleWarning, PolicyFallbackWarning


def _poorly_overlapping_logs():
    """Model "rare-model" logged once with a tiny propensity among many likely rows."""
    rng = np.random.default_rng(0)
    n = 120
    X = rng.normal(size=(n, 3))
    action = np.array(["common-model", "rare-model"] * (n // 2))
    propensity = np.full(n, 0.9)
    propensity[1] = 0.011  # one of rare-model's rows outweighs all its others
    return X, action, rng.uniform(size=n), propensity


def _only(caught, category):
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__}"
    return found[0]


def test_overlap_warnings_name_the_models_and_point_at_the_call():
    X, action, reward, propensity = _poorly_overlapping_logs()
    router = BestSingleModelRouter(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        router.fit(X, action, reward=reward, propensity=propensity)
    warning = _only(caught, OverlapWarning)
    message = str(warning.message)
    assert "rare-model (" in message and "of 60 rows" in message
    assert "class positions" not in message
    assert warning.filename == __file__


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_a_fallback_warning_points_at_the_users_line(in_pipeline):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    action = np.array(["a", "b"] * 100)
    router = CausalRouterClassifier(max_epochs=2, random_state=0)
    fitted = make_pipeline(StandardScaler(), router) if in_pipeline else router
    prefix = "causalrouterclassifier__" if in_pipeline else ""
    logged = {"reward": rng.uniform(size=200), "propensity": np.full(200, 0.5)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted.fit(X, action, **{prefix + k: v for k, v in logged.items()})
    assert router.deployed_ is not router.learned_policy_  # random rewards
    warning = _only(caught, PolicyFallbackWarning)
    assert warning.filename == __file__


def test_a_cost_scale_warning_points_at_the_users_line():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    action = np.array(["a", "b"] * 30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DecoupledRouter(cost_sensitivity=0.05).fit(
            X, action, reward=rng.uniform(size=60), cost=np.full(60, 1e-6)
        )
    assert _only(caught, CostScaleWarning).filename == __file__
