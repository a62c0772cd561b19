"""Generated inputs for the property-based tests, and what a clear error is.

Each entry point either returns a valid output (labels from ``classes_``,
probabilities in [0, 1] summing to 1, finite values) or raises a ValueError or
TypeError whose message names the argument at fault. Hypothesis draws the
kind of each input (shape, dtype, container, extreme or missing values, label
types); a seeded generator fills in the numbers. Runs are derandomised, so CI
tries the same cases every time.
"""

import re
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sklearn.base import clone
from tiny_routers import make_logs, tiny_routers

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


def as_container(values, kind):
    if kind == "list":
        return values.tolist()
    if kind == "pandas":
        return pd.DataFrame(values) if values.ndim == 2 else pd.Series(values)
    return values


def spoiled(values, kind, rng):
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
        X = spoiled(X, draw(st.sampled_from(["none", "nan", "inf"])), rng)
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
            reward = spoiled(reward, "nan", rng)
        elif bad == "negative cost" and cost is not None:
            cost = spoiled(cost, "negative", rng)
        elif bad == "propensity 0" and propensity is not None:
            propensity[0] = 0.0
        elif bad == "length" and n_rows:
            reward = reward[:-1]
    containers = ["array", "list", "pandas"]
    data = {
        "X": as_container(np.asarray(X), draw(st.sampled_from(containers))),
        "y": as_container(np.asarray(y), draw(st.sampled_from(containers))),
        "reward": as_container(np.asarray(reward), draw(st.sampled_from(containers))),
    }
    for name, value in (
        ("cost", cost),
        ("propensity", propensity),
        ("sample_weight", sample_weight),
    ):
        if value is not None:
            data[name] = as_container(
                np.asarray(value), draw(st.sampled_from(containers))
            )
    return data


def tiny_router(index, cost_sensitivity):
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


# Fitted once per process: the property tests only read them.
_FITTED = {}


def fitted_tiny_router(index):
    if index not in _FITTED:
        logs = make_logs()
        router = clone(tiny_routers()[index])
        _FITTED[index] = router.fit(logs.pop("X"), logs.pop("y"), **logs)
    return _FITTED[index]
