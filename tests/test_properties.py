"""Property-based tests of every public entry point on generated inputs.

Each entry point either returns a valid output (labels from ``classes_``,
probabilities in [0, 1] summing to 1, finite values) or raises a ValueError or
TypeError whose message names the argument at fault. Hypothesis draws the
kind of each input (shape, dtype, container, extreme or missing values, label
types); a seeded generator fills in the numbers. Runs are derandomised, so CI
tries the same cases every time.
"""

import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from tiny_routers import assert_valid_outputs, make_logs, tiny_routers

from skroute.datasets import (
    load_logs,
    load_long_table,
    load_wide_table,
    make_routing_problem,
    simulate_logging,
)
from skroute.metrics import (
    cost_quality_curve,
    cost_to_reach,
    make_policy_value_scorer,
    make_regret_scorer,
    normalised_area,
    policy_value,
    quality_gap_recovered,
    regret,
    routing_summary,
    utility,
)
from skroute.ope import estimate_policy_value, pseudo_outcomes

PROPERTY = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# The arguments an error message may name.
ARGUMENTS = (
    "X",
    "y",
    "y_pred",
    "classes",
    "reward",
    "cost",
    "propensity",
    "sample_weight",
    "outcome",
    "outcome_estimates",
    "action",
    "policy",
    "cv",
    "cost_sensitivity",
    "min_propensity",
    "estimator",
)


def assert_clear(error):
    """The error is a ValueError or TypeError that names an argument."""
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    message = str(error)
    assert any(re.search(rf"\b{name}\b", message) for name in ARGUMENTS), message


def outcome_or_clear_error(call):
    """Run ``call``; return its result, or None after checking a clear error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except (KeyboardInterrupt, AssertionError):
        raise
    except Exception as error:  # noqa: BLE001 - every error is checked
        assert_clear(error)
        return None


# --- generated inputs -------------------------------------------------------------

LABELS = {
    "str": lambda codes: np.array([f"model-{c}" for c in codes]),
    "int": lambda codes: np.asarray(codes) * 7 + 3,
    "object": lambda codes: np.array([f"m{c}" for c in codes], dtype=object),
    "bool": lambda codes: np.asarray(codes) % 2 == 0,
    "mixed": lambda codes: np.array(
        [f"m{c}" if i % 2 else c for i, c in enumerate(codes)], dtype=object
    ),
    "float": lambda codes: np.asarray(codes, dtype=float) + 0.5,
}


def _container(values, kind):
    if kind == "list":
        return values.tolist()
    if kind == "pandas":
        return pd.DataFrame(values) if values.ndim == 2 else pd.Series(values)
    return values


def _spoil(values, kind, rng):
    """Put a bad value into a float array."""
    values = np.array(values, dtype=float)
    if values.size and kind != "none":
        index = tuple(rng.integers(0, n) for n in values.shape)
        values[index] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[kind]
    return values


@st.composite
def logs(draw, valid):
    """Routing logs; with ``valid``, logs that every router must fit."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n_models = draw(st.integers(2, 4) if valid else st.integers(1, 4))
    n_rows = draw(st.integers(2 * n_models, 30) if valid else st.integers(0, 30))
    n_features = draw(st.integers(1, 4))
    codes = rng.integers(0, n_models, n_rows)
    if valid:  # every model logged at least twice, for 2 cross-fitting folds
        codes[: 2 * n_models] = np.repeat(np.arange(n_models), 2)
    label_kinds = ["str", "int", "object"] + ([] if valid else ["bool", "mixed"])
    y = LABELS[draw(st.sampled_from(label_kinds))](codes)

    scale = draw(st.sampled_from([1.0, 1e-6, 1e6, 1e30]))
    X = rng.normal(size=(n_rows, n_features)) * scale
    x_dtype = draw(st.sampled_from(["float64", "float32", "float16", "int", "bool"]))
    if x_dtype == "float16" and scale > 1e4 or x_dtype == "int" and scale > 1e6:
        x_dtype = "float64"  # would overflow the dtype itself
    with np.errstate(all="ignore"):
        X = {"int": (X * 10).astype(int), "bool": X > 0}.get(x_dtype, X.astype(x_dtype))
    if not valid:
        X = _spoil(X, draw(st.sampled_from(["none", "nan", "inf"])), rng)
        if draw(st.booleans()):
            X = X[:, 0]  # 1-D

    full_feedback = draw(st.booleans())
    shape = (n_rows, n_models) if full_feedback else (n_rows,)
    reward = rng.uniform(size=shape)
    reward_kind = draw(st.sampled_from(["uniform", "binary", "constant", "bool"]))
    if reward_kind == "binary":
        reward = (reward > 0.5).astype(int)
    elif reward_kind == "constant":
        reward = np.ones(shape)
    elif reward_kind == "bool":
        reward = reward > 0.5
    reward = reward * draw(
        st.sampled_from([1.0, 1e-300, 1e6, 1e90] + ([] if valid else [1e300]))
    )

    cost = None
    if draw(st.booleans()):
        cost = rng.uniform(size=shape) * draw(st.sampled_from([1.0, 0.0, 1e6]))
    propensity = None
    if not full_feedback and draw(st.booleans()):
        low = draw(st.sampled_from([1e-12, 0.01, 0.5, 1.0]))
        propensity = rng.uniform(low, 1.0, size=n_rows)
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = rng.uniform(0.1, 10.0, size=n_rows)
        scales = [1.0, 1e-30, 1e30] + ([] if valid else [1e-300, 1e300])
        sample_weight *= draw(st.sampled_from(scales))

    if not valid:
        bad = draw(
            st.sampled_from(
                ["none", "nan reward", "negative cost", "propensity 0", "length"]
            )
        )
        if bad == "nan reward":
            reward = _spoil(reward, "nan", rng)
        elif bad == "negative cost" and cost is not None:
            cost = _spoil(cost, "negative", rng)
        elif bad == "propensity 0" and propensity is not None:
            propensity[0] = 0.0
        elif bad == "length" and n_rows:
            reward = reward[:-1]
    containers = ["array", "list", "pandas"]
    data = {
        "X": _container(np.asarray(X), draw(st.sampled_from(containers))),
        "y": _container(np.asarray(y), draw(st.sampled_from(containers))),
        "reward": _container(np.asarray(reward), draw(st.sampled_from(containers))),
    }
    for name, value in (
        ("cost", cost),
        ("propensity", propensity),
        ("sample_weight", sample_weight),
    ):
        if value is not None:
            data[name] = _container(
                np.asarray(value), draw(st.sampled_from(containers))
            )
    return data


def _router(index, cost_sensitivity):
    router = clone(tiny_routers()[index])
    params = {"cost_sensitivity": cost_sensitivity}
    if "cost_range" in router.get_params():
        params["cost_range"] = (0.0, max(1.0, 2 * cost_sensitivity))
    return router.set_params(**params)


def router_input(router):
    """Queries in the router's feature space."""
    return np.random.default_rng(0).normal(size=(5, router.n_features_in_))


ROUTER_INDEX = st.integers(0, len(tiny_routers()) - 1)
COST_SENSITIVITY = st.sampled_from([0.0, 0.05, 1e6])


# --- routers --------------------------------------------------------------------


@settings(PROPERTY, max_examples=40)
@given(index=ROUTER_INDEX, cost_sensitivity=COST_SENSITIVITY, data=logs(valid=True))
def test_valid_logs_fit_and_route(index, cost_sensitivity, data):
    router = _router(index, cost_sensitivity)
    data = dict(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router.fit(data.pop("X"), data.pop("y"), **data)
        assert_valid_outputs(router, router_input(router))


@settings(PROPERTY, max_examples=60)
@given(index=ROUTER_INDEX, cost_sensitivity=COST_SENSITIVITY, data=logs(valid=False))
def test_any_logs_fit_and_route_or_fail_clearly(index, cost_sensitivity, data):
    router = _router(index, cost_sensitivity)
    data = dict(data)
    X, y = data.pop("X"), data.pop("y")
    if outcome_or_clear_error(lambda: router.fit(X, y, **data)) is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_valid_outputs(router, router_input(router))


_FITTED = {}


def _fitted(index):
    if index not in _FITTED:
        logs = make_logs()
        router = clone(tiny_routers()[index])
        _FITTED[index] = router.fit(logs.pop("X"), logs.pop("y"), **logs)
    return _FITTED[index]


@st.composite
def queries(draw):
    """Inputs to predict: shapes, dtypes, containers, extreme and missing values."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_rows = draw(st.integers(0, 5))
    n_features = draw(st.sampled_from([3, 3, 3, 2]))
    X = rng.normal(size=(n_rows, n_features)) * draw(
        st.sampled_from([1.0, 1e-30, 1e30, 1e38, 1e300])
    )
    kind = draw(
        st.sampled_from(["float64", "float32", "float16", "int", "bool", "object"])
    )
    with np.errstate(all="ignore"):  # casts that overflow are part of the test
        X = {
            "int": (X * 10).astype(int),
            "bool": X > 0,
            "object": X.astype(object),
        }.get(kind, X.astype(kind) if kind.startswith("float") else X)
    spoil = draw(st.sampled_from(["none", "nan", "inf", "string", "1-D"]))
    if spoil in ("nan", "inf"):
        X = _spoil(X, spoil, rng)
    elif spoil == "string" and X.size:
        X = X.astype(object)
        X[0, 0] = "a"
    elif spoil == "1-D":
        X = X.ravel()
    return _container(np.asarray(X), draw(st.sampled_from(["array", "list", "pandas"])))


@settings(PROPERTY, max_examples=60)
@given(index=ROUTER_INDEX, X=queries())
def test_predictions_are_valid_or_fail_clearly(index, X):
    router = _fitted(index)
    for method in ("predict", "predict_proba", "decision_function"):
        result = outcome_or_clear_error(lambda m=method: getattr(router, m)(X))
        if result is None:
            continue
        result = np.asarray(result)
        assert result.shape[0] == len(X)
        if method == "predict":
            assert np.isin(result, router.classes_).all()
        else:
            assert np.isfinite(result).all()
        if method == "predict_proba":
            assert ((result >= 0) & (result <= 1)).all()
            np.testing.assert_allclose(result.sum(axis=1), 1.0)


@settings(PROPERTY, max_examples=40)
@given(index=ROUTER_INDEX, data=logs(valid=False), scorer=st.sampled_from([0, 1, 2]))
def test_scores_are_finite_or_fail_clearly(index, data, scorer):
    router = _fitted(index)
    data = dict(data)
    X = np.asarray(data.pop("X"), dtype=object)
    if X.ndim == 2 and X.shape[1] != 3:
        X = np.resize(X, (X.shape[0], 3))
    score = [
        router.score,
        lambda *a, **k: make_policy_value_scorer(cv=2)(router, *a, **k),
        lambda *a, **k: make_regret_scorer()(router, *a, **k),
    ][scorer]
    y = np.asarray(data.pop("y"))
    if y.dtype.kind in "US" and y.size:
        y = np.array([f"m{int(label[-1]) % 3}" for label in y])  # known models
    if scorer == 2:  # the regret scorer takes full-feedback reward and cost only
        data.pop("propensity", None)
        data.pop("sample_weight", None)
    value = outcome_or_clear_error(lambda: score(X, y, **data))
    if value is not None:
        assert np.isfinite(value)


# --- off-policy evaluation and metrics ---------------------------------------------


@st.composite
def off_policy_inputs(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_rows = draw(st.integers(0, 40))
    n_models = draw(st.integers(1, 4))
    action = rng.integers(0, n_models, n_rows)
    method = draw(st.sampled_from(["dm", "ipw", "snipw", "dr", "sndr"]))
    if draw(st.booleans()):
        policy = rng.integers(0, n_models, n_rows)
    else:
        policy = (
            rng.dirichlet(np.ones(n_models), n_rows) if n_rows else np.zeros((0, 1))
        )
    scale = draw(st.sampled_from([1.0, 1e-300, 1e6, 1e150, 1e300]))
    outcome = rng.uniform(-1, 1, n_rows) * scale
    low = draw(st.sampled_from([1e-300, 1e-12, 0.01, 0.5, 1.0]))
    propensity = rng.uniform(low, 1.0, n_rows) if low < 1 else np.ones(n_rows)
    arguments = {
        "policy": policy,
        "action": action,
        "outcome": outcome,
        "propensity": propensity,
        "outcome_estimates": rng.uniform(-1, 1, (n_rows, n_models)) * scale,
        "method": method,
        "min_propensity": draw(st.sampled_from([None, 1e-12, 0.01])),
        "interval": draw(st.sampled_from(["normal", "bootstrap"])),
        "n_bootstrap": 20,
        "random_state": 0,
        "warn": False,
    }
    if draw(st.booleans()):
        arguments["sample_weight"] = rng.uniform(0, 2, n_rows) * draw(
            st.sampled_from([1.0, 1e300])
        )
    bad = draw(
        st.sampled_from(
            ["none", "none", "nan outcome", "strings", "lists", "float action"]
        )
    )
    if bad == "nan outcome":
        arguments["outcome"] = _spoil(outcome, "nan", rng)
    elif bad == "strings":
        arguments[draw(st.sampled_from(["outcome", "propensity"]))] = ["a"] * n_rows
    elif bad == "lists":
        arguments = {
            k: v.tolist() if isinstance(v, np.ndarray) else v
            for k, v in arguments.items()
        }
    elif bad == "float action":
        arguments["action"] = action.astype(float)
    return arguments


@settings(PROPERTY, max_examples=100)
@given(arguments=off_policy_inputs())
def test_off_policy_estimates_are_finite_or_fail_clearly(arguments):
    arguments = dict(arguments)
    result = outcome_or_clear_error(
        lambda: estimate_policy_value(
            arguments.pop("policy"),
            arguments.pop("action"),
            arguments.pop("outcome"),
            **arguments,
        )
    )
    if result is not None:
        assert np.isfinite(result.estimate)
        # NaN marks an undefined standard error (fewer than two carrying rows).
        assert not np.isinf(result.standard_error)
        if np.isfinite(result.standard_error):
            assert np.isfinite(result.confidence_interval).all()


@st.composite
def full_feedback(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_rows, n_models = draw(st.integers(0, 20)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1.0, 1e-300, 1e6, 1e300]))
    reward = rng.uniform(size=(n_rows, n_models)) * scale
    cost = None
    if draw(st.booleans()):
        cost = rng.uniform(size=(n_rows, n_models)) * draw(
            st.sampled_from([0.0, 1.0, 1e300])
        )
    if draw(st.booleans()):
        y_pred = rng.integers(0, n_models, n_rows)
    else:
        y_pred = rng.dirichlet(np.ones(n_models), n_rows) if n_rows else []
    spoil = draw(st.sampled_from(["none", "none", "nan", "strings", "width"]))
    if spoil == "nan":
        reward = _spoil(reward, "nan", rng)
    elif spoil == "strings":
        reward = reward.astype(str)
    elif spoil == "width" and cost is not None:
        cost = cost[:, :-1]
    cost_sensitivity = draw(st.sampled_from([0.0, 0.05, 1e6]))
    return reward, y_pred, cost, cost_sensitivity


@settings(PROPERTY, max_examples=80)
@given(case=full_feedback())
def test_full_feedback_metrics_are_finite_or_fail_clearly(case):
    reward, y_pred, cost, cost_sensitivity = case
    options = {"cost": cost, "cost_sensitivity": cost_sensitivity}
    value = outcome_or_clear_error(lambda: regret(reward, y_pred, **options))
    if value is None:
        return
    mean_utility = utility(reward, y_pred, **options)
    summary = routing_summary(reward, y_pred, **options)
    assert np.isfinite([value, mean_utility, summary["utility"]]).all()
    # Regret is non-negative, up to rounding of the utilities.
    assert value >= -1e-12 * max(1.0, abs(mean_utility))
    assert summary["regret"] == pytest.approx(value)


@settings(PROPERTY, max_examples=40)
@given(data=logs(valid=False), method=st.sampled_from(["dm", "ipw", "dr", "sndr"]))
def test_policy_values_are_finite_or_fail_clearly(data, method):
    data = dict(data)
    y = data.pop("y")
    result = outcome_or_clear_error(
        lambda: policy_value(y, y, method=method, cv=2, **data)
    )
    if result is not None:
        assert np.isfinite(result.estimate)
        assert not np.isinf(result.standard_error)


# --- loaders ------------------------------------------------------------------------


@st.composite
def log_tables(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_rows = draw(st.integers(1, 12))
    models = draw(st.sampled_from([["a", "b"], ["gpt-4", "llama 3", "m,3"], ["x"]]))
    table = pd.DataFrame(
        {
            "model": rng.choice(models, n_rows),
            "quality": rng.uniform(size=n_rows)
            * draw(st.sampled_from([1.0, 1e-300, 1e300])),
            "cost": rng.uniform(size=n_rows) * draw(st.sampled_from([0.0, 1.0])),
            "propensity": rng.uniform(draw(st.sampled_from([1e-12, 0.5])), 1, n_rows),
            "e0": rng.normal(size=n_rows),
            "e1": rng.normal(size=n_rows) * 1e30,
        }
    )
    return table, draw(st.sampled_from([".csv", ".pkl"]))


@settings(PROPERTY, max_examples=20)
@given(case=log_tables())
def test_logs_survive_a_round_trip_through_a_file(case):
    table, suffix = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"logs{suffix}"
        table.to_csv(path, index=False) if suffix == ".csv" else table.to_pickle(path)
        loaded = load_logs(
            path,
            cost_column="cost",
            propensity_column="propensity",
            embedding_columns=["e0", "e1"],
            trusted=True,
        )
    np.testing.assert_array_equal(loaded.action, table["model"].to_numpy())
    for name in ("quality", "cost", "propensity"):
        key = "reward" if name == "quality" else name
        np.testing.assert_array_equal(loaded[key], table[name].to_numpy())
    np.testing.assert_allclose(loaded.X, table[["e0", "e1"]].to_numpy(), rtol=1e-6)


@st.composite
def wide_tables(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_rows = draw(st.integers(0, 10))
    models = draw(st.sampled_from([["a", "b"], ["gpt-4", "m|x"], ["only"]]))
    columns = {}
    for model in models:
        columns[model] = rng.integers(0, 2, n_rows)
        columns[f"{model}|total_cost"] = rng.uniform(size=n_rows)
    return pd.DataFrame(columns), models


@settings(PROPERTY, max_examples=15)
@given(case=wide_tables())
def test_wide_tables_survive_a_round_trip_through_a_file(case):
    table, models = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        table.to_csv(path, index=False)
        loaded = load_wide_table(path)
    assert loaded.models.tolist() == models
    np.testing.assert_array_equal(loaded.reward, table[models].to_numpy(float))
    np.testing.assert_array_equal(
        loaded.cost, table[[f"{m}|total_cost" for m in models]].to_numpy()
    )


# --- named bad inputs ----------------------------------------------------------------
# One case per kind of bad input that used to fail with an error that did not
# name the argument (or with a NaN result); the phrase is part of the message.

_LOGS = make_logs()
_X, _Y, _REWARD = _LOGS["X"], _LOGS["y"], _LOGS["reward"]
_ACTION = np.arange(60) % 3
_POLICY = np.random.default_rng(0).integers(0, 3, 60)


def _fit_first(**changes):
    data = {**make_logs(), **changes}
    router = clone(tiny_routers()[0])
    return router.fit(data.pop("X"), data.pop("y"), **data)


def _ope(**changes):
    arguments = {
        "policy": _POLICY,
        "action": _ACTION,
        "outcome": _REWARD,
        "propensity": np.full(60, 1 / 3),
        "method": "ipw",
        "warn": False,
        **changes,
    }
    return estimate_policy_value(
        arguments.pop("policy"),
        arguments.pop("action"),
        arguments.pop("outcome"),
        **arguments,
    )


BAD_INPUTS = [
    (
        "fit X strings",
        lambda: _fit_first(X=np.full((60, 3), "a")),
        TypeError,
        "X must hold numbers",
    ),
    (
        "fit X empty",
        lambda: _fit_first(X=_X[:0], y=_Y[:0], reward=_REWARD[:0]),
        ValueError,
        "X has no rows",
    ),
    ("fit X 1-D", lambda: _fit_first(X=_X[:, 0]), ValueError, "X must be a 2-D array"),
    (
        "fit X without features",
        lambda: _fit_first(X=_X[:, :0]),
        ValueError,
        "X has no features",
    ),
    (
        "fit X beyond float32",
        lambda: _fit_first(X=_X * 1e300),
        ValueError,
        "X holds values up to",
    ),
    (
        "fit y shorter than X",
        lambda: _fit_first(y=_Y[:-2]),
        ValueError,
        "X and y must have one row per logged query",
    ),
    (
        "fit y with None",
        lambda: _fit_first(y=np.where(np.arange(60) == 0, None, _Y)),
        ValueError,
        "y holds missing model labels (None, NaN or '') at rows [0]",
    ),
    (
        "fit y with ''",
        lambda: _fit_first(y=np.where(np.arange(60) == 4, "", _Y)),
        ValueError,
        "y holds missing model labels",
    ),
    (
        "fit y continuous",
        lambda: _fit_first(y=np.linspace(0, 1, 60)),
        ValueError,
        "y must hold model labels (strings or integers)",
    ),
    (
        "fit cv too large for the logs",
        lambda: (
            clone(tiny_routers()[0])
            .set_params(cv=5)
            .fit(_X[:6], _Y[:6], reward=_REWARD[:6])
        ),
        ValueError,
        "cv=5 cross-fitting folds need at least 5 logged rows of one model",
    ),
    (
        "fit reward beyond 1e100",
        lambda: _fit_first(reward=_REWARD * 1e300),
        ValueError,
        "reward holds values up to",
    ),
    (
        "fit sample_weight below float32",
        lambda: _fit_first(sample_weight=np.full(60, 1e-300)),
        ValueError,
        "sample_weight holds positive values",
    ),
    (
        "fit lr diverges",
        lambda: (
            clone(tiny_routers()[0])
            .set_params(lr=1e10, max_epochs=20)
            .fit(_X, _Y, reward=_REWARD)
        ),
        ValueError,
        "lr=1e+10",
    ),
    (
        "predict X strings",
        lambda: _FITTED_CAUSAL().predict(np.full((2, 3), "a")),
        TypeError,
        "X must hold numbers",
    ),
    (
        "predict X empty",
        lambda: _FITTED_CAUSAL().predict(_X[:0]),
        ValueError,
        "X has no rows",
    ),
    (
        "predict X None",
        lambda: _FITTED_CAUSAL().predict(None),
        ValueError,
        "X must be a 2-D array",
    ),
    (
        "score three rows",
        lambda: _FITTED_CAUSAL().score(_X[:3], _Y[:3], reward=_REWARD[:3]),
        ValueError,
        "cv=2 cross-fitting folds",
    ),
    (
        "score model logged once",
        lambda: make_policy_value_scorer(cv=2)(
            _FITTED_CAUSAL(), _X[:4], _Y[:4], reward=_REWARD[:4]
        ),
        ValueError,
        "were logged only once in y",
    ),
    (
        "scorer on a non-estimator",
        lambda: make_policy_value_scorer()("router", _X, _Y, reward=_REWARD),
        TypeError,
        "estimator must be a fitted router",
    ),
    (
        "regret scorer reward too narrow",
        lambda: make_regret_scorer()(_FITTED_CAUSAL(), _X, _Y, reward=np.ones((60, 2))),
        ValueError,
        "classes must name the 2 columns of reward",
    ),
    (
        "policy_value X rows",
        lambda: policy_value(_Y, _Y, reward=_REWARD, X=_X[:5], cv=2),
        ValueError,
        "X has 5 rows but y has 60",
    ),
    (
        "policy_value X strings",
        lambda: policy_value(_Y, _Y, reward=_REWARD, X=np.full((60, 3), "a"), cv=2),
        TypeError,
        "X must hold numbers",
    ),
    (
        "policy_value cv a string",
        lambda: policy_value(_Y, _Y, reward=_REWARD, X=_X, cv="ab"),
        TypeError,
        "cv must be an int >= 2 or a cross-validation splitter",
    ),
    (
        "policy_value y empty",
        lambda: policy_value(
            _Y[:0], _Y[:0], reward=_REWARD[:0], propensity=_REWARD[:0], X=_X[:0]
        ),
        ValueError,
        "y is empty",
    ),
    (
        "policy_value utility overflows",
        lambda: policy_value(
            _Y,
            _Y,
            reward=_REWARD,
            cost=np.full(60, 1e99),
            cost_sensitivity=1e300,
            propensity=np.full(60, 0.5),
            method="ipw",
        ),
        ValueError,
        "reward - cost_sensitivity * cost overflows",
    ),
    (
        "regret reward strings",
        lambda: regret(np.full((3, 2), "a"), [0, 1, 0]),
        TypeError,
        "reward must be numeric",
    ),
    (
        "regret reward NaN",
        lambda: regret([[np.nan, 1.0]], [0]),
        ValueError,
        "reward contains NaN",
    ),
    (
        "regret cost inf",
        lambda: regret([[0.0, 1.0]], [0], cost=[[np.inf, 0.0]]),
        ValueError,
        "cost contains NaN or infinity",
    ),
    (
        "regret empty",
        lambda: regret(np.zeros((0, 2)), []),
        ValueError,
        "reward has no rows",
    ),
    (
        "ope outcome strings",
        lambda: _ope(outcome=["a"] * 60),
        TypeError,
        "outcome must be numeric",
    ),
    (
        "ope propensity strings",
        lambda: _ope(propensity=["a"] * 60),
        TypeError,
        "propensity must be numeric",
    ),
    (
        "ope outcome_estimates NaN",
        lambda: _ope(method="dr", outcome_estimates=np.full((60, 3), np.nan)),
        ValueError,
        "outcome_estimates contains NaN",
    ),
    (
        "ope policy labels",
        lambda: _ope(policy=_Y),
        TypeError,
        "policy must hold integer model codes",
    ),
    (
        "ope sample_weight NaN",
        lambda: _ope(sample_weight=np.full(60, np.nan)),
        ValueError,
        "sample_weight must be finite",
    ),
    (
        "ope min_propensity string",
        lambda: _ope(min_propensity="a"),
        TypeError,
        "min_propensity must be a number",
    ),
    (
        "ope min_propensity above 1",
        lambda: _ope(min_propensity=2.0),
        ValueError,
        "min_propensity must be in (0, 1]",
    ),
    (
        "ope confidence_level string",
        lambda: _ope(confidence_level="a"),
        TypeError,
        "confidence_level must be a number",
    ),
    (
        "ope n_bootstrap 0",
        lambda: _ope(interval="bootstrap", n_bootstrap=0),
        ValueError,
        "n_bootstrap must be an int >= 2",
    ),
    (
        "ope overflow",
        lambda: _ope(outcome=np.full(60, 1e300), propensity=np.full(60, 1e-300)),
        ValueError,
        "overflows float64",
    ),
    (
        "cost_quality_curve strings",
        lambda: cost_quality_curve(["a"], [1.0]),
        TypeError,
        "costs must be numeric",
    ),
    (
        "normalised_area cheapest",
        lambda: normalised_area(_CURVE, cheapest="a", oracle_quality=0.8),
        TypeError,
        "cheapest must be numeric",
    ),
    (
        "normalised_area curve",
        lambda: normalised_area([1, 2], cheapest=(1, 0.5), oracle_quality=0.8),
        TypeError,
        "curve must be a CostQualityCurve",
    ),
    (
        "quality_gap_recovered cost NaN",
        lambda: quality_gap_recovered(
            _CURVE, np.nan, weak_quality=0.5, strong_quality=0.7
        ),
        ValueError,
        "cost must be finite",
    ),
    (
        "cost_to_reach quality NaN",
        lambda: cost_to_reach(_CURVE, np.nan),
        ValueError,
        "quality must be finite",
    ),
    (
        "interval cost_sensitivities strings",
        lambda: _FITTED_INTERVAL().cost_quality_path(
            _X, _Y, reward=_REWARD, cost=_LOGS["cost"], cost_sensitivities=["a"]
        ),
        TypeError,
        "cost_sensitivities must be numeric",
    ),
    (
        "ope n_bootstrap 1",
        lambda: _ope(interval="bootstrap", n_bootstrap=1),
        ValueError,
        "n_bootstrap must be an int >= 2",
    ),
    (
        "fit y NaN",
        lambda: _fit_first(y=np.where(np.arange(60) == 3, None, _Y.astype(object))),
        ValueError,
        "y holds missing model labels (None, NaN or '') at rows [3]",
    ),
    (
        "fit reward ragged",
        lambda: _fit_first(reward=[0.5] * 59 + [[0.5, 0.5]]),
        ValueError,
        "reward is ragged",
    ),
    (
        "fit cost ragged",
        lambda: _fit_first(cost=[[1.0, 2.0]] * 59 + [[1.0]]),
        ValueError,
        "cost is ragged",
    ),
    (
        "fit propensity ragged",
        lambda: _fit_first(propensity=[0.5] * 59 + [[0.5, 0.5]]),
        ValueError,
        "propensity is ragged",
    ),
    (
        "fit sample_weight ragged",
        lambda: _fit_first(sample_weight=[1.0] * 59 + [[1.0, 1.0]]),
        ValueError,
        "sample_weight is ragged",
    ),
    (
        "fit reward complex",
        lambda: _fit_first(reward=_REWARD + 1j),
        TypeError,
        "reward must be numeric (real numbers); got complex numbers",
    ),
    (
        "fit X dates",
        lambda: _fit_first(X=np.zeros((60, 2), dtype="datetime64[D]")),
        TypeError,
        "X must hold real numbers (query features); got dates",
    ),
    (
        "fit X durations",
        lambda: _fit_first(X=np.zeros((60, 2), dtype="timedelta64[s]")),
        TypeError,
        "X must hold real numbers (query features); got dates or durations",
    ),
    (
        "fit reward strings",
        lambda: _fit_first(reward=_REWARD.astype(str)),
        TypeError,
        "reward must be numeric",
    ),
    (
        "fit propensity just above 1",
        lambda: _fit_first(propensity=np.full(60, 1.0000001)),
        ValueError,
        "got 1.0000001 at rows",
    ),
    *[
        (
            f"fit device {device}",
            lambda device=device: _fit_first_with(device=device),
            ValueError,
            f"device={device!r} is not supported",
        )
        for device in ("mps", "xla", "meta")
    ],
    (
        "fit cv folds that train on their test rows",
        lambda: _fit_first_with(cv=_OverlappingFolds()),
        ValueError,
        "cv: fold 0 trains on",
    ),
    (
        "interval geometric grid of 2000 intervals",
        lambda: (
            clone(tiny_routers()[1])
            .set_params(n_intervals=2000, spacing="geometric")
            ._cost_grid()
        ),
        ValueError,
        "use at most 40 intervals",
    ),
    (
        "interval n_intervals 5000",
        lambda: _fit_interval_with(n_intervals=5000),
        ValueError,
        "'n_intervals' parameter",
    ),
    *[
        (
            f"interval lambda {kind}",
            lambda values=values: _FITTED_INTERVAL().predict(
                _X, cost_sensitivity=values
            ),
            TypeError,
            "cost_sensitivity must be a number or an array of real numbers",
        )
        for kind, values in (
            ("bool", np.ones(60, dtype=bool)),
            ("strings", np.full(60, "0.1")),
            ("durations", np.zeros(60, dtype="timedelta64[s]")),
            ("complex", 0.1 + 1j),
        )
    ],
]


class _OverlappingFolds:
    """A splitter whose training rows include its test rows."""

    def split(self, X, y=None, groups=None):
        rows = np.arange(len(X))
        yield rows[:40], rows[:30]
        yield rows[20:], rows[30:]

    def get_n_splits(self, *args, **kwargs):
        return 2


def _fit_first_with(**params):
    data = make_logs()
    router = clone(tiny_routers()[0]).set_params(**params)
    return router.fit(data.pop("X"), data.pop("y"), **data)


def _fit_interval_with(**params):
    data = make_logs()
    router = clone(tiny_routers()[1]).set_params(**params)
    return router.fit(data.pop("X"), data.pop("y"), **data)


_CURVE = cost_quality_curve([1.0, 2.0], [0.5, 0.7])


def _fitted_router(index):
    def get():
        return _fitted(index)

    return get


_FITTED_CAUSAL, _FITTED_INTERVAL = _fitted_router(0), _fitted_router(1)


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_gets_an_error_that_names_it(call, error, phrase):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    assert phrase in str(info.value)


# --- the loaders, the generators and the pseudo-outcome formula ----------------------
# Each case once failed with an error that did not name the argument, or with a
# silently wrong result.

_TABLE = pd.DataFrame(
    {
        "model": ["m1", "m2", "m1"],
        "quality": [1.0, 0.0, 1.0],
        "e0": [0.1, 0.2, 0.3],
        "e1": [0.3, 0.2, 0.1],
    }
)
_WIDE = pd.DataFrame(
    {
        "m1": [1, 0],
        "m1|total_cost": [0.1, 0.2],
        "m2": [0, 1],
        "m2|total_cost": [1.0, 2.0],
    }
)


def _saved(table, name, folder):
    path = Path(folder) / name
    table.to_csv(path, index=False) if name.endswith(".csv") else table.to_pickle(path)
    return path


def _load_logs(table, name="logs.csv", **options):
    options.setdefault("embedding_columns", ["e0", "e1"])
    # These pickles are written here: they are trusted.
    options.setdefault("trusted", name.endswith(".pkl"))
    with tempfile.TemporaryDirectory() as folder:
        return load_logs(_saved(table, name, folder), **options)


def _load_wide(table, name="table.csv", **options):
    options.setdefault("trusted", name.endswith(".pkl"))
    with tempfile.TemporaryDirectory() as folder:
        return load_wide_table(_saved(table, name, folder), **options)


def _long_table(**changes):
    table = pd.DataFrame(
        {
            "query_id": [1, 1, 2, 2],
            "model": ["a", "b", "a", "b"],
            "quality": [1, 0, 0, 1],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        return load_long_table(
            _saved(table.assign(**changes), "long.pkl", folder), trusted=True
        )


LOADER_AND_FORMULA_CASES = [
    (
        "load_wide_table empty file",
        lambda: load_wide_table(_empty_csv()),
        ValueError,
        "the file is empty",
        "pandas' EmptyDataError",
    ),
    (
        "load_wide_table path None",
        lambda: load_wide_table(None),
        TypeError,
        "path must be a str or Path",
        "TypeError from pathlib without the argument's name",
    ),
    (
        "simulate_logging infinite scores",
        lambda: simulate_logging(
            _X, np.ones((60, 3)), logging_policy=np.full((60, 3), np.inf)
        ),
        ValueError,
        "logging_policy scores",
        "NaN propensities",
    ),
    (
        "load_logs empty model cell",
        lambda: _load_logs(_TABLE.assign(model=["m1", "", "m2"])),
        ValueError,
        "'model'",
        "an empty model cell becomes a model named ''",
    ),
    (
        "load_logs missing model",
        lambda: _load_logs(_TABLE.assign(model=["m1", None, "m2"]), "logs.pkl"),
        ValueError,
        "'model'",
        "a missing model label is returned as is",
    ),
    (
        "load_logs embeddings beyond float32",
        lambda: _load_logs(_TABLE.assign(e0=[1e300, 0.0, 0.0])),
        ValueError,
        "'e0'",
        "embeddings are cast to float32 after the finiteness check and become inf",
    ),
    (
        "load_logs embedding_columns a string",
        lambda: _load_logs(_TABLE, embedding_columns="e0"),
        TypeError,
        "embedding_columns",
        "a string is iterated character by character",
    ),
    (
        "load_wide_table models a string",
        lambda: _load_wide(_WIDE, models="m1"),
        TypeError,
        "models",
        "a string is iterated character by character",
    ),
    (
        "load_wide_table integer column names",
        lambda: _load_wide(
            pd.DataFrame(
                {0: [1, 0], "0|total_cost": [1, 1], 1: [0, 1], "1|total_cost": [1, 1]}
            ),
            "table.pkl",
        ),
        None,
        "",
        "columns are matched as strings but read as ints",
    ),
    (
        "load_wide_table cost_suffix None",
        lambda: _load_wide(_WIDE, cost_suffix=None),
        TypeError,
        "cost_suffix",
        "str.endswith(None) raises",
    ),
    (
        "load_wide_table pickle of a list",
        lambda: load_wide_table(_pickled_list(), trusted=True),
        ValueError,
        "table",
        "AttributeError on .columns",
    ),
    (
        "load_wide_table embeddings strings",
        lambda: _load_wide(_WIDE, embeddings=np.full((2, 2), "a")),
        TypeError,
        "embeddings",
        "numpy's conversion error is raised as is",
    ),
    (
        "load_long_table missing model",
        lambda: _long_table(model=["a", None, "a", "b"]),
        ValueError,
        "'model'",
        "sorting None among strings raises TypeError",
    ),
    (
        "load_long_table mixed query ids",
        lambda: _long_table(query_id=[1, 1, "x", "x"]),
        TypeError,
        "'query_id'",
        "sorting mixed ids raises TypeError",
    ),
    (
        "make_routing_problem price_range string",
        lambda: make_routing_problem(10, price_range="ab"),
        TypeError,
        "price_range",
        "compares str and int",
    ),
    (
        "make_routing_problem skill_spread negative",
        lambda: make_routing_problem(10, skill_spread=-1.0),
        ValueError,
        "skill_spread",
        "numpy says 'scale < 0'",
    ),
    (
        "make_routing_problem skill_spread NaN",
        lambda: make_routing_problem(10, skill_spread=np.nan),
        ValueError,
        "skill_spread",
        "NaN skills give NaN expected rewards and all-zero rewards",
    ),
    (
        "simulate_logging reward NaN",
        lambda: simulate_logging(_X, np.where(np.eye(60, 3) > 0, np.nan, 0.5)),
        ValueError,
        "reward",
        "NaN quality is logged as is",
    ),
    (
        "simulate_logging X NaN",
        lambda: simulate_logging(np.where(_X > 1, np.nan, _X), np.ones((60, 3))),
        ValueError,
        "X",
        "NaN features give NaN propensities",
    ),
    (
        "simulate_logging temperature string",
        lambda: simulate_logging(_X, np.ones((60, 3)), temperature="a"),
        TypeError,
        "temperature",
        "compares str and int",
    ),
    (
        "simulate_logging groups of mixed types",
        lambda: simulate_logging(
            _X,
            np.ones((60, 3)),
            logging_policy="topic",
            groups=np.array(["a", 1] * 30, dtype=object),
        ),
        TypeError,
        "groups",
        "sorting mixed labels raises TypeError",
    ),
    (
        "pseudo_outcomes lists",
        lambda: pseudo_outcomes(
            _REWARD.tolist(), _ACTION.tolist(), [0.5] * 60, np.ones((60, 3)).tolist()
        ),
        None,
        "",
        "lists have no .shape",
    ),
    (
        "pseudo_outcomes outcome_estimates rows",
        lambda: pseudo_outcomes(_REWARD, _ACTION, np.full(60, 0.5), np.ones((3, 3))),
        ValueError,
        "outcome_estimates",
        "IndexError",
    ),
    (
        "pseudo_outcomes float action",
        lambda: pseudo_outcomes(
            _REWARD, _ACTION.astype(float), np.full(60, 0.5), np.ones((60, 3))
        ),
        TypeError,
        "action",
        "IndexError",
    ),
    (
        "pseudo_outcomes overflow",
        lambda: pseudo_outcomes(
            _REWARD * 1e300, _ACTION, np.full(60, 1e-300), np.ones((60, 3))
        ),
        ValueError,
        "propensity",
        "returns inf",
    ),
]


def _empty_csv():
    path = Path(tempfile.mkdtemp()) / "empty.csv"
    path.write_text("")
    return path


def _pickled_list():
    path = Path(tempfile.mkdtemp()) / "table.pkl"
    pd.to_pickle([1, 2], path)
    return path


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in LOADER_AND_FORMULA_CASES],
    ids=[case[0] for case in LOADER_AND_FORMULA_CASES],
)
def test_loader_and_formula_inputs_get_named_errors(call, error, phrase):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if error is None:  # a valid input that should simply work
            result = call()
            assert result is not None
            if isinstance(result, np.ndarray):
                assert np.isfinite(result).all()
            return
        with pytest.raises(error) as info:
            result = call()
            if isinstance(result, np.ndarray):
                assert np.isfinite(result).all()
            else:
                for key in ("X", "reward", "propensity", "expected_reward"):
                    value = result.get(key)
                    if value is not None and np.asarray(value).dtype.kind == "f":
                        assert np.isfinite(value).all()
    assert phrase in str(info.value)
