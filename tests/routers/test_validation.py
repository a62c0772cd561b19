"""Bad input: each case, the exception type and a phrase of its message."""

import numpy as np
import pytest

from skroute import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    RandomRouter,
)

ROUTERS = [
    CausalRouterClassifier(max_epochs=2, random_state=0),
    DecoupledRouter(),
    BestSingleModelRouter(cv=2, random_state=0),
    RandomRouter(random_state=0),
]


def _logs(n=60, n_models=3, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "X": rng.normal(size=(n, 4)),
        "y": np.array([f"m{i % n_models}" for i in range(n)]),
        "reward": rng.uniform(size=n),
        "cost": rng.uniform(0.1, 1.0, size=n),
        "propensity": np.full(n, 1.0 / n_models),
    }


def _with(**changes):
    def make():
        data = _logs()
        for key, value in changes.items():
            data[key] = value(data) if callable(value) else value
        return data

    return make


def _set_row(key, row, value):
    def change(data):
        array = np.array(data[key], dtype=float)
        array[row] = value
        return array

    return change


BAD_FIT_INPUTS = [
    (
        "reward length",
        _with(reward=lambda d: d["reward"][:-1]),
        ValueError,
        "reward has 59 rows but X has 60",
    ),
    (
        "cost length",
        _with(cost=lambda d: d["cost"][:10]),
        ValueError,
        "cost has 10 rows",
    ),
    (
        "y length",
        _with(y=lambda d: d["y"][:-2]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        "propensity length",
        _with(propensity=np.full(5, 0.5)),
        ValueError,
        "propensity must have shape (60,)",
    ),
    ("NaN in X", _with(X=_set_row("X", 3, np.nan)), ValueError, "Input X contains NaN"),
    (
        "inf in X",
        _with(X=_set_row("X", 3, np.inf)),
        ValueError,
        "Input X contains infinity",
    ),
    (
        "NaN in reward",
        _with(reward=_set_row("reward", 7, np.nan)),
        ValueError,
        "reward contains NaN or infinity at rows [7]",
    ),
    (
        "inf in cost",
        _with(cost=_set_row("cost", 2, np.inf)),
        ValueError,
        "cost contains NaN or infinity at rows [2]",
    ),
    (
        "negative cost",
        _with(cost=_set_row("cost", 4, -1.0)),
        ValueError,
        "cost must be non-negative",
    ),
    (
        "propensity zero",
        _with(propensity=_set_row("propensity", 3, 0.0)),
        ValueError,
        "propensity must be in (0, 1]; got 0 at rows [3]",
    ),
    (
        "propensity above one",
        _with(propensity=_set_row("propensity", 5, 1.5)),
        ValueError,
        "propensity must be in (0, 1]; got 1.5",
    ),
    (
        "NaN propensity",
        _with(propensity=_set_row("propensity", 1, np.nan)),
        ValueError,
        "propensity contains NaN",
    ),
    (
        "model logged once",
        _with(y=lambda d: np.where(np.arange(60) == 0, "rare", d["y"])),
        ValueError,
        "['rare'] were logged only once",
    ),
    ("single model", _with(y=np.full(60, "m0")), ValueError, "y holds 1 class"),
    (
        "reward strings",
        _with(reward=np.array(["good"] * 60)),
        TypeError,
        "reward must be numeric",
    ),
    (
        "reward 3-D",
        _with(reward=np.zeros((60, 3, 1))),
        ValueError,
        "reward must be 1-D (logged) or 2-D",
    ),
    (
        "full-feedback width",
        _with(reward=np.zeros((60, 5)), cost=None),
        ValueError,
        "must have shape (n_samples, n_classes) = (60, 3)",
    ),
    (
        "cost 2-D, reward 1-D",
        _with(cost=np.zeros((60, 3))),
        ValueError,
        "cost must have the same shape as reward",
    ),
    ("missing reward", _with(reward=None), TypeError, "reward is required"),
    (
        "mixed label types",
        _with(y=np.array(["a", 1] * 30, dtype=object)),
        TypeError,
        "y mixes label types",
    ),
    ("continuous y", _with(y=np.linspace(0, 1, 60)), ValueError, "Unknown label type"),
    (
        "sample_weight negative",
        _with(sample_weight=-np.ones(60)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
]


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
@pytest.mark.parametrize(
    "make, error, message",
    [case[1:] for case in BAD_FIT_INPUTS],
    ids=[case[0] for case in BAD_FIT_INPUTS],
)
def test_bad_fit_input_gets_a_clear_error(router, make, error, message):
    data = make()
    X, y = data.pop("X"), data.pop("y")
    with pytest.raises(error) as info:
        router.fit(X, y, **data)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "router, message",
    [
        (CausalRouterClassifier(cost_sensitivity=-0.1), "'cost_sensitivity' parameter"),
        (CausalRouterClassifier(min_propensity=0.0), "'min_propensity' parameter"),
        (CausalRouterClassifier(surrogate="hinge"), "'surrogate' parameter"),
        (CausalRouterClassifier(pseudo_outcome="tmle"), "'pseudo_outcome' parameter"),
        (
            CausalRouterClassifier(hidden_layer_sizes=(0,)),
            "hidden_layer_sizes must be a tuple of positive ints",
        ),
        (CausalRouterClassifier(cv=1), "'cv' parameter"),
        (DecoupledRouter(cost_sensitivity=-1), "'cost_sensitivity' parameter"),
        (BestSingleModelRouter(pseudo_outcome="x"), "'pseudo_outcome' parameter"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_bad_parameters_get_a_clear_error(router, message):
    data = _logs()
    with pytest.raises(ValueError) as info:
        router.fit(data.pop("X"), data.pop("y"), **data)
    assert message in str(info.value)


def test_never_logged_model_in_classes():
    data = _logs()
    router = DecoupledRouter(classes=["m0", "m1", "m2", "m9"])
    with pytest.raises(ValueError, match=r"\['m9'\] were never logged"):
        router.fit(data.pop("X"), data.pop("y"), **data)


def test_label_outside_classes():
    data = _logs()
    router = DecoupledRouter(classes=["m0", "m1"])
    with pytest.raises(ValueError, match=r"not in classes: \['m2'\]"):
        router.fit(data.pop("X"), data.pop("y"), **data)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
def test_predict_with_wrong_number_of_features(router):
    data = _logs()
    router.fit(data.pop("X"), data.pop("y"), **data)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 4"):
        router.predict(np.zeros((2, 3)))


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
def test_score_with_unknown_model(router):
    data = _logs()
    X, y = data.pop("X"), data.pop("y")
    router.fit(X, y, **data)
    with pytest.raises(ValueError, match="not in classes"):
        router.score(X, np.where(y == "m0", "other", y), **data)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
def test_failed_fit_keeps_the_fitted_router(router):
    data = _logs()
    X, y = data.pop("X"), data.pop("y")
    router.fit(X, y, **data)
    before = router.predict(X)
    bad = _logs(n_models=4, seed=1)
    with pytest.raises(ValueError):
        router.fit(bad["X"][:, :2], bad["y"], reward=bad["reward"][:-1])
    assert router.n_features_in_ == 4
    np.testing.assert_array_equal(router.predict(X), before)


@pytest.mark.parametrize("router", ROUTERS, ids=lambda r: type(r).__name__)
def test_constant_rewards_and_costs_fit(router):
    data = _logs()
    X, y = data.pop("X"), data.pop("y")
    router.fit(X.astype(np.float32), y, reward=np.ones(60).tolist(), cost=np.zeros(60))
    proba = router.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(router.predict(X)) <= {"m0", "m1", "m2"}
