"""Property-based tests of the metrics on generated inputs, and their named errors."""

import numpy as np
import pytest
from bad_inputs import BAD_INPUTS, cases, check_named_error
from generated_inputs import PROPERTY, logs, outcome_or_clear_error, spoiled
from hypothesis import given, settings
from hypothesis import strategies as st

from skroute.metrics import policy_value, regret, routing_summary, utility


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
        reward = spoiled(reward, "nan", rng)
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


METRIC_CASES = cases(
    BAD_INPUTS,
    "score model logged once",
    "scorer ",
    "regret",
    "policy_value ",
    "cost_quality_curve ",
    "normalised_area ",
    "quality_gap_recovered ",
    "cost_to_reach ",
)


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in METRIC_CASES],
    ids=[case[0] for case in METRIC_CASES],
)
def test_bad_input_gets_an_error_that_names_it(call, error, phrase):
    check_named_error(call, error, phrase)
