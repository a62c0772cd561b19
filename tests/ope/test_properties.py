"""Property-based tests of the off-policy estimators, and their named errors."""

import numpy as np
import pytest
from bad_inputs import (
    BAD_INPUTS,
    LOADER_AND_FORMULA_CASES,
    cases,
    check_loader_or_formula_case,
    check_named_error,
)
from generated_inputs import PROPERTY, outcome_or_clear_error, spoiled
from hypothesis import given, settings
from hypothesis import strategies as st

from skroute.ope import estimate_policy_value

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
        arguments["outcome"] = spoiled(outcome, "nan", rng)
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


OPE_CASES = cases(BAD_INPUTS, "ope ")


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in OPE_CASES],
    ids=[case[0] for case in OPE_CASES],
)
def test_bad_input_gets_an_error_that_names_it(call, error, phrase):
    check_named_error(call, error, phrase)


FORMULA_CASES = cases(LOADER_AND_FORMULA_CASES, "pseudo_outcomes ")


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in FORMULA_CASES],
    ids=[case[0] for case in FORMULA_CASES],
)
def test_loader_and_formula_inputs_get_named_errors(call, error, phrase):
    check_loader_or_formula_case(call, error, phrase)
