"""Property-based tests of the routers on generated logs and queries; named errors.

See ``generated_inputs`` for what a valid output and a clear error are.
"""

import warnings

import numpy as np
import pytest
from bad_inputs import BAD_INPUTS, cases, check_named_error
from generated_inputs import (
    COST_SENSITIVITY,
    PROPERTY,
    ROUTER_INDEX,
    as_container,
    fitted_tiny_router,
    logs,
    outcome_or_clear_error,
    router_input,
    spoiled,
    tiny_router,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_routers import assert_valid_outputs

from skroute.metrics import make_policy_value_scorer, make_regret_scorer

# --- routers --------------------------------------------------------------------


@settings(PROPERTY, max_examples=40)
@given(index=ROUTER_INDEX, cost_sensitivity=COST_SENSITIVITY, data=logs(valid=True))
def test_valid_logs_fit_and_route(index, cost_sensitivity, data):
    router = tiny_router(index, cost_sensitivity)
    data = dict(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        router.fit(data.pop("X"), data.pop("y"), **data)
        assert_valid_outputs(router, router_input(router))


@settings(PROPERTY, max_examples=60)
@given(index=ROUTER_INDEX, cost_sensitivity=COST_SENSITIVITY, data=logs(valid=False))
def test_any_logs_fit_and_route_or_fail_clearly(index, cost_sensitivity, data):
    router = tiny_router(index, cost_sensitivity)
    data = dict(data)
    X, y = data.pop("X"), data.pop("y")
    if outcome_or_clear_error(lambda: router.fit(X, y, **data)) is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_valid_outputs(router, router_input(router))


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
        X = spoiled(X, spoil, rng)
    elif spoil == "string" and X.size:
        X = X.astype(object)
        X[0, 0] = "a"
    elif spoil == "1-D":
        X = X.ravel()
    return as_container(
        np.asarray(X), draw(st.sampled_from(["array", "list", "pandas"]))
    )


@settings(PROPERTY, max_examples=60)
@given(index=ROUTER_INDEX, X=queries())
def test_predictions_are_valid_or_fail_clearly(index, X):
    router = fitted_tiny_router(index)
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
    router = fitted_tiny_router(index)
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


ROUTER_CASES = cases(BAD_INPUTS, "fit ", "predict ", "score three rows", "interval ")


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in ROUTER_CASES],
    ids=[case[0] for case in ROUTER_CASES],
)
def test_bad_input_gets_an_error_that_names_it(call, error, phrase):
    check_named_error(call, error, phrase)
