"""The shared validators, reached through the public functions that call them.

Each table row names a bad input, the public call that receives it, the
exception type and a phrase of its message; the good inputs after each table
must pass through unchanged. Cases that ``bad_inputs.py`` already runs (strings,
booleans and complex numbers as per-row lambdas, propensities of strings or just
above 1, a string confidence level, ``n_bootstrap`` of 0 or 1, ...) are not
repeated here.
"""

import tempfile
import warnings
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_inputs import ACTION, LOGS, check_named_error, run_ope
from sklearn.base import clone
from tiny_routers import fit, make_logs, tiny_routers

from skroute.cli import main
from skroute.datasets import (
    costs_from_token_prices,
    load_logs,
    make_routing_problem,
    simulate_logging,
)
from skroute.metrics import (
    make_policy_value_scorer,
    make_regret_scorer,
    policy_value,
    regret,
)
from skroute.ope import (
    OPE_METHODS,
    UnreliableEstimateWarning,
    pseudo_outcomes,
    select_shrinkage,
)
from skroute.persistence import load_router

# Full feedback: three queries, two models.
_REWARD = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
_COST = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 1.0]])
_ROUTES = np.array([0, 1, 0])

_OUTCOME = LOGS["reward"]
_ESTIMATES = np.random.default_rng(1).uniform(size=(60, 3))


def _regret(cost_sensitivity):
    return regret(_REWARD, _ROUTES, cost=_COST, cost_sensitivity=cost_sensitivity)


def _policy_value(cost_sensitivity=0.0, propensity=None):
    """The IPW value of the logged labels read backwards."""
    with warnings.catch_warnings():
        # 60 rows leave a small effective sample size, which is warned about.
        warnings.simplefilter("ignore", UnreliableEstimateWarning)
        return policy_value(
            LOGS["y"][::-1],
            LOGS["y"],
            reward=_OUTCOME,
            cost=LOGS["cost"],
            propensity=LOGS["propensity"] if propensity is None else propensity,
            cost_sensitivity=cost_sensitivity,
            method="ipw",
        )


_ope = partial(run_ope, random_state=0)


def _fit(**changes):
    """The DecoupledRouter of ``tiny_routers``, fitted on ``make_logs()``."""
    return fit(clone(tiny_routers()[2]), make_logs(), **changes)


def _load_logs(propensity):
    """``load_logs`` of a CSV file whose column "p" holds ``propensity``."""
    table = pd.DataFrame(
        {
            "model": ["a", "b", "a"],
            "quality": [1.0, 0.0, 1.0],
            "p": propensity,
            "e0": [0.1, 0.2, 0.3],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logs.csv"
        table.to_csv(path, index=False)
        return load_logs(path, propensity_column="p", embedding_columns=["e0"])


def _costs(**options):
    return costs_from_token_prices(["a" * 40], {"m": (1.0, 2.0)}, **options)


def _simulate(**options):
    rng = np.random.default_rng(0)
    X, reward = rng.normal(size=(5, 2)), rng.uniform(size=(5, 3))
    return simulate_logging(X, reward, random_state=0, **options)


# --- check_cost_sensitivity: one number (metrics) ----------------------------------

BAD_COST_SENSITIVITIES = [
    (
        "regret string",
        lambda: _regret("0.1"),
        TypeError,
        "cost_sensitivity must be a non-negative real number; got str",
    ),
    (
        "regret bool",
        lambda: _regret(True),
        TypeError,
        "must be a non-negative real number; got bool",
    ),
    (
        "policy_value array",
        lambda: _policy_value(np.array([0.1])),
        TypeError,
        "must be a non-negative real number; got ndarray",
    ),
    (
        "policy_value negative",
        lambda: _policy_value(-0.5),
        ValueError,
        "cost_sensitivity must be a finite number >= 0 (the price of one unit of "
        "cost in units of quality); got -0.5",
    ),
    ("regret NaN", lambda: _regret(float("nan")), ValueError, ">= 0 (the price"),
    (
        "policy_value infinity",
        lambda: _policy_value(float("inf")),
        ValueError,
        "must be a finite number >= 0 (the price of one unit of cost in units of "
        "quality); got inf",
    ),
]


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:] for case in BAD_COST_SENSITIVITIES],
    ids=[case[0] for case in BAD_COST_SENSITIVITIES],
)
def test_bad_cost_sensitivity(call, error, phrase):
    check_named_error(call, error, phrase)


@pytest.mark.parametrize(
    "value, same_as",
    [(0, 0.0), (np.float32(0.25), 0.25), (np.int64(2), 2.0), (Fraction(1, 4), 0.25)],
)
def test_good_cost_sensitivity(value, same_as):
    assert _regret(value) == _regret(same_as)
    assert _policy_value(value).estimate == _policy_value(same_as).estimate


def test_zero_cost_sensitivity_ignores_cost():
    assert _regret(0) == regret(_REWARD, _ROUTES)


# --- check_cost_sensitivity: one number per row (IntervalCostRouter) ----------------

BAD_ROW_COST_SENSITIVITIES = [
    (
        "a string",
        "predict",
        "a",
        TypeError,
        "cost_sensitivity must be a number or an array of numbers; got 'a'",
    ),
    (
        "True",
        "predict_proba",
        True,
        TypeError,
        "must be a number or an array of numbers; got True",
    ),
    (
        "objects",
        "decision_function",
        [0.1, {}, 0.1, 0.1, 0.1],
        TypeError,
        "cost_sensitivity must be a number or an array of numbers.",
    ),
    (
        "wrong length",
        "predict",
        [0.1, 0.2],
        ValueError,
        "cost_sensitivity must be a scalar or one value per row, shape (5,); "
        "got shape (2,)",
    ),
    (
        "a column",
        "predict_proba",
        np.full((5, 1), 0.1),
        ValueError,
        "shape (5,); got shape (5, 1)",
    ),
    (
        "NaN",
        "decision_function",
        [0.1, np.nan, 0.1, 0.1, 0.1],
        ValueError,
        "cost_sensitivity contains NaN or infinity",
    ),
    ("infinity", "predict", np.full(5, np.inf), ValueError, "NaN or infinity"),
    (
        "negative",
        "predict",
        [0.1, -2, 0.1, 0.1, 0.1],
        ValueError,
        "cost_sensitivity must be >= 0; got -2",
    ),
]


@pytest.mark.parametrize(
    "method, value, error, phrase",
    [case[1:] for case in BAD_ROW_COST_SENSITIVITIES],
    ids=[case[0] for case in BAD_ROW_COST_SENSITIVITIES],
)
def test_bad_row_cost_sensitivity(
    fitted_interval, routing_logs, method, value, error, phrase
):
    X = routing_logs[0].X[-5:]
    call = getattr(fitted_interval, method)
    check_named_error(lambda: call(X, cost_sensitivity=value), error, phrase)


def test_cost_quality_path_checks_each_cost_sensitivity(fitted_interval, routing_logs):
    problem, logs, train, _ = routing_logs
    with pytest.raises(ValueError, match="cost_sensitivity must be >= 0; got -1"):
        fitted_interval.cost_quality_path(
            logs.X[:20],
            logs.action[:20],
            reward=problem.reward[train][:20],
            cost=problem.cost[train][:20],
            cost_sensitivities=[0.1, -1.0],
        )


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_good_row_cost_sensitivity(fitted_interval, routing_logs, method):
    """A scalar, a list or an array of lambdas: each row routed at its own."""
    X = routing_logs[0].X[-5:]
    call = getattr(fitted_interval, method)
    scalar = call(X, cost_sensitivity=np.float32(0.125))
    np.testing.assert_array_equal(call(X, cost_sensitivity=[0.125] * 5), scalar)
    np.testing.assert_array_equal(call(X, cost_sensitivity=np.full(5, 0.125)), scalar)
    lambdas = [0, 0.05, 0.1, 0.15, 0.2]
    rows = [
        call(X[i : i + 1], cost_sensitivity=lam)[0] for i, lam in enumerate(lambdas)
    ]
    np.testing.assert_array_equal(call(X, cost_sensitivity=lambdas), rows)
    ints = call(X, cost_sensitivity=np.zeros(5, dtype=int))
    np.testing.assert_array_equal(ints, call(X, cost_sensitivity=0.0))


# --- check_propensity ---------------------------------------------------------------

_ZEROS = np.where(np.arange(60) < 12, 0.0, 1 / 3)

BAD_PROPENSITIES = [
    (
        "ope 2-D",
        lambda: _ope(propensity=np.full((60, 2), 0.5)),
        ValueError,
        "propensity must have shape (60,), one probability per logged row; got "
        "shape (60, 2)",
    ),
    (
        "fit wrong length",
        lambda: _fit(propensity=np.full(59, 1 / 3)),
        ValueError,
        "propensity must have shape (60,), one probability per logged row",
    ),
    (
        "policy_value NaN",
        lambda: _policy_value(propensity=np.where(np.arange(60) == 1, np.nan, 0.5)),
        ValueError,
        "propensity contains NaN or infinity at rows [1]",
    ),
    (
        "ope zero",
        lambda: _ope(propensity=np.where(np.arange(60) == 1, 0.0, 0.5)),
        ValueError,
        "propensity must be in (0, 1]; got 0 at rows [1]. Pass the probability "
        "with which the logging policy chose the logged model",
    ),
    (
        "policy_value above one",
        lambda: _policy_value(propensity=np.where(np.arange(60) == 0, 1.5, 0.5)),
        ValueError,
        "propensity must be in (0, 1]; got 1.5 at rows [0]",
    ),
    (
        "ope twelve rows at zero",
        lambda: _ope(propensity=_ZEROS),
        ValueError,
        "got 0 at rows [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (12 rows)]",
    ),
    (
        "load_logs column, with its hint",
        lambda: _load_logs([0.5, -0.1, 0.5]),
        ValueError,
        "logs.csv: column 'p' must be in (0, 1]; got -0.1 at rows [1]. Fix or drop "
        "those rows, or leave out propensity_column",
    ),
]


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:] for case in BAD_PROPENSITIES],
    ids=[case[0] for case in BAD_PROPENSITIES],
)
def test_bad_propensity(call, error, phrase):
    check_named_error(call, error, phrase)


def test_good_propensity():
    """Lists of ints or floats: read as the float64 arrays they stand for."""
    ones = _ope(propensity=[1] * 60)
    assert ones.estimate == _ope(propensity=np.ones(60)).estimate
    listed = _policy_value(propensity=[1 / 3] * 60)
    assert listed.estimate == _policy_value().estimate
    X = make_logs()["X"]
    fitted = _fit(propensity=[1 / 3] * 60).predict(X)
    np.testing.assert_array_equal(fitted, _fit().predict(X))
    loaded = _load_logs([1, 1, 1]).propensity
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded, [1.0, 1.0, 1.0])


# --- check_number --------------------------------------------------------------------

BAD_NUMBERS = [
    (
        "simulate_logging exploration bool",
        lambda: _simulate(exploration=True),
        TypeError,
        "exploration must be a number in [0, 1]; got True",
    ),
    (
        "ope min_propensity 0",
        lambda: _ope(min_propensity=0.0),
        ValueError,
        "min_propensity must be in (0, 1] or None; got 0.0",
    ),
    (
        "ope confidence_level 0",
        lambda: _ope(confidence_level=0),
        ValueError,
        "confidence_level must be in (0, 1); got 0",
    ),
    (
        "costs_from_token_prices output_tokens NaN",
        lambda: _costs(output_tokens=float("nan")),
        ValueError,
        "output_tokens must be a finite number >= 0; got nan",
    ),
    (
        "simulate_logging temperature infinity",
        lambda: _simulate(temperature=float("inf")),
        ValueError,
        "temperature must be a finite number > 0; got inf",
    ),
    (
        "costs_from_token_prices chars_per_token negative",
        lambda: _costs(chars_per_token=-1.0),
        ValueError,
        "chars_per_token must be a finite number > 0; got -1.0",
    ),
    (
        "make_routing_problem n_models a float",
        lambda: make_routing_problem(10, n_models=2.0),
        ValueError,
        "n_models must be an int >= 2; got 2.0",
    ),
    (
        "make_routing_problem n_clusters True",
        lambda: make_routing_problem(10, n_clusters=True),
        ValueError,
        "n_clusters must be an int >= 1; got True",
    ),
    (
        "make_routing_problem n_samples 0",
        lambda: make_routing_problem(0),
        ValueError,
        "n_samples must be an int >= 1; got 0",
    ),
    (
        "ope n_bootstrap a float, with its note",
        lambda: _ope(interval="bootstrap", n_bootstrap=1.5),
        ValueError,
        "n_bootstrap must be an int >= 2 (an interval needs two replicates or more; "
        "1000 is usual); got 1.5",
    ),
    (
        "simulate_logging temperature None",
        lambda: _simulate(temperature=None),
        TypeError,
        "temperature must be a finite number > 0; got None",
    ),
    (
        "costs_from_token_prices output_tokens None",
        lambda: _costs(output_tokens=None),
        ValueError,
        "output_tokens must be a finite number >= 0; got None",
    ),
]


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:] for case in BAD_NUMBERS],
    ids=[case[0] for case in BAD_NUMBERS],
)
def test_bad_number(call, error, phrase):
    check_named_error(call, error, phrase)


def test_good_numbers():
    """Bounds that belong to the range, numpy numbers, and None where allowed."""
    problem = make_routing_problem(
        np.int64(5), n_models=2, n_features=1, n_clusters=1, skill_spread=0
    )
    assert problem.X.shape == (5, 1) and problem.reward.shape == (5, 2)
    uniform = _simulate(exploration=1, temperature=np.float32(0.5))
    np.testing.assert_allclose(uniform.propensity, 1 / 3)
    assert np.isfinite(_simulate(exploration=0).propensity).all()
    assert _costs(output_tokens=0).shape == (1, 1)
    unclipped = _ope(min_propensity=None)
    assert _ope(min_propensity=1).estimate != unclipped.estimate
    assert _ope(min_propensity=np.float64(0.2)).estimate == unclipped.estimate
    bootstrap = _ope(
        interval="bootstrap", n_bootstrap=np.int64(2), confidence_level=0.5
    )
    assert bootstrap.confidence_level == 0.5


# --- the command line's converters --------------------------------------------------

BAD_OPTIONS = [
    (
        "lambda NaN",
        ["benchmark", "--cost-sensitivity", "0.1", "nan"],
        "argument --cost-sensitivity: lambda must be a finite number >= 0",
    ),
    (
        "lambda infinity",
        ["evaluate", "r.joblib", "l.csv", "--cost-sensitivity", "inf"],
        "lambda must be a finite number >= 0 (the price of one unit of cost in "
        "units of quality); got inf",
    ),
    (
        "positive int 0",
        ["benchmark", "--seeds", "0"],
        "argument --seeds: must be a positive integer; got '0'",
    ),
    (
        "positive float infinity",
        ["benchmark", "--output-tokens", "inf"],
        "argument --output-tokens: must be a positive number; got 'inf'",
    ),
    (
        "positive float NaN",
        ["evaluate", "r.joblib", "l.csv", "--min-propensity", "nan"],
        "argument --min-propensity: must be a positive number; got 'nan'",
    ),
    (
        "fraction 1",
        ["fit", "l.csv", "--out", "r.joblib", "--calibration-fraction", "1"],
        "argument --calibration-fraction: must be a number in (0, 1); got '1'",
    ),
]


@pytest.mark.parametrize(
    "argv, phrase",
    [case[1:] for case in BAD_OPTIONS],
    ids=[case[0] for case in BAD_OPTIONS],
)
def test_bad_option(capsys, argv, phrase):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert phrase in capsys.readouterr().err


def test_good_options(tmp_path, capsys):
    """Lambda 0 and a positive cost scale reach the fitted router as numbers."""
    logs = make_logs()
    table = pd.DataFrame(
        {
            "model": logs["y"],
            "quality": logs["reward"],
            "cost": logs["cost"],
            "p": logs["propensity"],
        }
    )
    table.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", logs["X"])
    out = tmp_path / "router.npz"
    argv = ["fit", str(tmp_path / "logs.csv"), "--out", str(out)]
    options = ["--router", "decoupled", "--cost-column", "cost", "--cost-scale", "0.5"]
    options += ["--propensity-column", "p", "--cost-sensitivity", "0"]
    assert main([*argv, *options]) == 0
    assert "saved to" in capsys.readouterr().out
    router = load_router(out)
    assert router.cost_sensitivity == 0.0
    assert isinstance(router.cost_sensitivity, float)


# --- check_choice ---------------------------------------------------------------------

BAD_CHOICES = [
    (
        "select_shrinkage method",
        lambda: select_shrinkage(
            _OUTCOME, ACTION, np.full(60, 1 / 3), _ESTIMATES, method="dr"
        ),
        "method must be 'dr-shrink' or 'switch-dr'; got 'dr'",
    ),
    (
        "regret scorer response_method",
        lambda: make_regret_scorer(response_method="decision_function"),
        "response_method must be 'predict' or 'predict_proba'; got 'decision_function'",
    ),
    (
        "policy value scorer method",
        lambda: make_policy_value_scorer(method="tmle"),
        "method must be one of ('dm', 'ipw', 'snipw', 'dr', 'sndr'); got 'tmle'",
    ),
    (
        "pseudo_outcomes method",
        lambda: pseudo_outcomes(
            _OUTCOME, ACTION, np.full(60, 1 / 3), _ESTIMATES, method="DR"
        ),
        "pseudo_outcome must be one of ('dr', 'sndr', 'ipw', 'dm', 'dr-shrink', "
        "'switch-dr'); got 'DR'",
    ),
]


@pytest.mark.parametrize(
    "call, phrase",
    [case[1:] for case in BAD_CHOICES],
    ids=[case[0] for case in BAD_CHOICES],
)
def test_bad_choice(call, phrase):
    check_named_error(call, ValueError, phrase)


@pytest.mark.parametrize("method", OPE_METHODS)
def test_good_choices(method):
    assert make_policy_value_scorer(method=method).method == method
    assert _ope(method=method, outcome_estimates=_ESTIMATES).method == method
    for interval in ("normal", "bootstrap"):
        assert np.isfinite(_ope(interval=interval, n_bootstrap=10).estimate)
