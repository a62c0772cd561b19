"""Small routers and logs shared by the reliability tests (fast to fit)."""

import numpy as np

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    IntervalCostRouter,
    RandomRouter,
)

NEURAL = {"hidden_layer_sizes": (4,), "max_epochs": 2, "early_stopping": False}


def tiny_routers():
    """One instance of every public router, small enough to fit in milliseconds."""
    return [
        CausalRouterClassifier(cv=2, random_state=0, **NEURAL),
        IntervalCostRouter(n_intervals=2, cv=2, random_state=0, **NEURAL),
        DecoupledRouter(cost_sensitivity=0.1),
        BestSingleModelRouter(cv=2, random_state=0),
        RandomRouter(random_state=0),
    ]


def router_id(router):
    return type(router).__name__


def make_logs(n=60, n_models=3, n_features=3, seed=0):
    """Logs of a uniform logging policy; each model is logged n / n_models times."""
    rng = np.random.default_rng(seed)
    return {
        "X": rng.normal(size=(n, n_features)),
        "y": np.array([f"m{i % n_models}" for i in range(n)]),
        "reward": rng.uniform(size=n),
        "cost": rng.uniform(0.1, 1.0, size=n),
        "propensity": np.full(n, 1.0 / n_models),
    }


def fit(router, logs, **changes):
    """Fit ``router`` on ``logs`` with some arrays replaced."""
    data = {**logs, **changes}
    return router.fit(data.pop("X"), data.pop("y"), **data)


def outputs(router, X):
    """Everything a fitted router says about ``X``."""
    return {
        "predict": router.predict(X),
        "predict_proba": router.predict_proba(X),
        "decision_function": router.decision_function(X),
    }


def assert_same_outputs(first, second):
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def assert_valid_outputs(router, X):
    """The contract of a fitted router: valid labels, probabilities and scores."""
    result = outputs(router, X)
    assert np.isin(result["predict"], router.classes_).all()
    proba = result["predict_proba"]
    assert proba.shape == (len(X), router.classes_.size)
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.isfinite(result["decision_function"]).all()
    return result
