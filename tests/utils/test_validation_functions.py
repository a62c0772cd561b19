"""The shared validators: each bad input, the exception type and a phrase."""

import numpy as np
import pytest

from skroute.utils import (
    check_choice,
    check_cost_sensitivity,
    check_number,
    check_propensity,
)

BAD_COST_SENSITIVITIES = [
    ("string", "0.1", {}, TypeError, "cost_sensitivity must be a non-negative real"),
    ("bool", True, {}, TypeError, "must be a non-negative real number; got bool"),
    ("array as scalar", np.array([0.1]), {}, TypeError, "got ndarray"),
    ("negative", -0.5, {}, ValueError, "must be a finite number >= 0"),
    ("NaN", float("nan"), {}, ValueError, "must be a finite number >= 0"),
    ("infinity", float("inf"), {}, ValueError, "must be a finite number >= 0"),
    ("named", -1.0, {"name": "lambda"}, ValueError, "lambda must be a finite number"),
    ("above range", 2.0, {"cost_range": (0, 1)}, ValueError, "lies outside the range"),
    (
        "rows: string",
        "a",
        {"n_samples": 3},
        TypeError,
        "must be a number or an array of numbers",
    ),
    (
        "rows: complex",
        np.array([1j, 0, 0]),
        {"n_samples": 3},
        TypeError,
        "array of real numbers",
    ),
    (
        "rows: wrong length",
        [0.1, 0.2],
        {"n_samples": 3},
        ValueError,
        "one value per row, shape (3,); got shape (2,)",
    ),
    ("rows: NaN", [0.1, np.nan, 0.2], {"n_samples": 3}, ValueError, "NaN or infinity"),
    ("rows: negative", [0.1, -2, 0.2], {"n_samples": 3}, ValueError, ">= 0; got -2"),
    (
        "rows: outside range",
        [0.1, 0.5, 3.0],
        {"n_samples": 3, "cost_range": (0, 1), "hint": "widen it."},
        ValueError,
        "cost_sensitivity=3 lies outside the range [0, 1]; widen it.",
    ),
]


@pytest.mark.parametrize(
    "value, kwargs, error, phrase",
    [case[1:] for case in BAD_COST_SENSITIVITIES],
    ids=[case[0] for case in BAD_COST_SENSITIVITIES],
)
def test_bad_cost_sensitivity(value, kwargs, error, phrase):
    with pytest.raises(error) as info:
        check_cost_sensitivity(value, **kwargs)
    assert phrase in str(info.value)


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (0, {}, 0.0),
        (np.float32(0.25), {}, 0.25),
        (0.5, {"cost_range": (0, 1)}, 0.5),
        (0.2, {"n_samples": 3}, [0.2, 0.2, 0.2]),
        ([0, 1, 2], {"n_samples": 3}, [0.0, 1.0, 2.0]),
        ([0, 1], {"n_samples": 2, "cost_range": (0, 1)}, [0.0, 1.0]),
    ],
)
def test_good_cost_sensitivity(value, kwargs, expected):
    checked = check_cost_sensitivity(value, **kwargs)
    np.testing.assert_array_equal(checked, expected)
    assert isinstance(checked, float) == ("n_samples" not in kwargs)


BAD_PROPENSITIES = [
    ("strings", ["a", "b"], {}, TypeError, "propensity must be numeric"),
    ("2-D", np.full((2, 2), 0.5), {}, ValueError, "propensity must have shape"),
    (
        "wrong length",
        [0.5, 0.5],
        {"n_samples": 3},
        ValueError,
        "propensity must have shape (3,), one probability per logged row",
    ),
    ("NaN", [0.5, np.nan], {}, ValueError, "propensity contains NaN or infinity"),
    (
        "zero",
        [0.5, 0.0],
        {},
        ValueError,
        "propensity must be in (0, 1]; got 0 at rows [1]",
    ),
    ("above one", [1.5, 0.5], {}, ValueError, "got 1.5 at rows [0]"),
    (
        "named, with a hint",
        [0.5, -0.1],
        {"name": "p", "hint": "Fix them."},
        ValueError,
        "p must be in (0, 1]; got -0.1 at rows [1]. Fix them.",
    ),
]


@pytest.mark.parametrize(
    "value, kwargs, error, phrase",
    [case[1:] for case in BAD_PROPENSITIES],
    ids=[case[0] for case in BAD_PROPENSITIES],
)
def test_bad_propensity(value, kwargs, error, phrase):
    with pytest.raises(error) as info:
        check_propensity(value, **kwargs)
    assert phrase in str(info.value)


def test_good_propensity_is_float64():
    checked = check_propensity([1, 0.5], n_samples=2)
    assert checked.dtype == np.float64
    np.testing.assert_array_equal(checked, [1.0, 0.5])


BAD_NUMBERS = [
    (
        "string in (0, 1)",
        "a",
        {"low": 0, "high": 1, "closed": "neither"},
        TypeError,
        "x must be a number in (0, 1); got 'a'",
    ),
    (
        "bool",
        True,
        {"low": 0, "high": 1},
        TypeError,
        "x must be a number in [0, 1]",
    ),
    (
        "outside (0, 1]",
        0.0,
        {"low": 0, "high": 1, "closed": "right", "allow_none": True},
        ValueError,
        "x must be in (0, 1] or None; got 0.0",
    ),
    ("NaN", float("nan"), {"low": 0}, ValueError, "x must be a finite number >= 0"),
    ("infinity", float("inf"), {"low": 0}, ValueError, "finite number >= 0; got inf"),
    (
        "not above 0",
        0,
        {"low": 0, "closed": "neither"},
        ValueError,
        "x must be a finite number > 0; got 0",
    ),
    (
        "float for an int",
        2.0,
        {"low": 2, "integer": True, "type_error": ValueError},
        ValueError,
        "x must be an int >= 2; got 2.0",
    ),
    (
        "int below, with a note",
        1,
        {"low": 2, "integer": True, "note": " (two at least)"},
        ValueError,
        "x must be an int >= 2 (two at least); got 1",
    ),
    ("None refused", None, {"low": 0}, TypeError, "x must be a finite number >= 0"),
]


@pytest.mark.parametrize(
    "value, kwargs, error, phrase",
    [case[1:] for case in BAD_NUMBERS],
    ids=[case[0] for case in BAD_NUMBERS],
)
def test_bad_number(value, kwargs, error, phrase):
    with pytest.raises(error) as info:
        check_number(value, "x", **kwargs)
    assert phrase in str(info.value)


@pytest.mark.parametrize(
    "value, kwargs",
    [
        (0.5, {"low": 0, "high": 1}),
        (1, {"low": 0, "high": 1, "closed": "right"}),
        (None, {"low": 0, "allow_none": True}),
        (np.int64(3), {"low": 2, "integer": True}),
        (7.5, {}),
    ],
)
def test_good_number_is_returned(value, kwargs):
    assert check_number(value, "x", **kwargs) == value


@pytest.mark.parametrize(
    "value, choices, phrase",
    [
        (
            "wald",
            ("normal", "bootstrap"),
            "x must be 'normal' or 'bootstrap'; got 'wald'",
        ),
        (
            "tmle",
            ("dm", "ipw", "dr"),
            "x must be one of ('dm', 'ipw', 'dr'); got 'tmle'",
        ),
    ],
)
def test_bad_choice(value, choices, phrase):
    with pytest.raises(ValueError) as info:
        check_choice(value, "x", choices)
    assert phrase in str(info.value)
