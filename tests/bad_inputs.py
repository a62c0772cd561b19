"""Tables of bad inputs, each with the error and a phrase of its message.

One case per kind of bad input that used to fail with an error that did not
name the argument (or with a NaN result). The test modules of each package run
the cases about it; ``benchmarks/bad_input_tally.py`` runs them all.
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from generated_inputs import fitted_tiny_router
from sklearn.base import clone
from tiny_routers import make_logs, tiny_routers

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
)
from skroute.ope import estimate_policy_value, pseudo_outcomes

# Logs of three models under a uniform logging policy, and a policy to value.
LOGS = make_logs()
_X, _Y, _REWARD = LOGS["X"], LOGS["y"], LOGS["reward"]
ACTION = np.arange(60) % 3
POLICY = np.random.default_rng(0).integers(0, 3, 60)


def _fit_first(**changes):
    data = {**make_logs(), **changes}
    router = clone(tiny_routers()[0])
    return router.fit(data.pop("X"), data.pop("y"), **data)


def run_ope(random_state=None, **changes):
    """``estimate_policy_value`` of ``POLICY`` on ``LOGS``, some arguments changed."""
    arguments = {
        "policy": POLICY,
        "action": ACTION,
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
        random_state=random_state,
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
        lambda: run_ope(outcome=["a"] * 60),
        TypeError,
        "outcome must be numeric",
    ),
    (
        "ope propensity strings",
        lambda: run_ope(propensity=["a"] * 60),
        TypeError,
        "propensity must be numeric",
    ),
    (
        "ope outcome_estimates NaN",
        lambda: run_ope(method="dr", outcome_estimates=np.full((60, 3), np.nan)),
        ValueError,
        "outcome_estimates contains NaN",
    ),
    (
        "ope policy labels",
        lambda: run_ope(policy=_Y),
        TypeError,
        "policy must hold integer model codes",
    ),
    (
        "ope sample_weight NaN",
        lambda: run_ope(sample_weight=np.full(60, np.nan)),
        ValueError,
        "sample_weight must be finite",
    ),
    (
        "ope min_propensity string",
        lambda: run_ope(min_propensity="a"),
        TypeError,
        "min_propensity must be a number",
    ),
    (
        "ope min_propensity above 1",
        lambda: run_ope(min_propensity=2.0),
        ValueError,
        "min_propensity must be in (0, 1]",
    ),
    (
        "ope confidence_level string",
        lambda: run_ope(confidence_level="a"),
        TypeError,
        "confidence_level must be a number",
    ),
    (
        "ope n_bootstrap 0",
        lambda: run_ope(interval="bootstrap", n_bootstrap=0),
        ValueError,
        "n_bootstrap must be an int >= 2",
    ),
    (
        "ope overflow",
        lambda: run_ope(outcome=np.full(60, 1e300), propensity=np.full(60, 1e-300)),
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
            _X, _Y, reward=_REWARD, cost=LOGS["cost"], cost_sensitivities=["a"]
        ),
        TypeError,
        "cost_sensitivities must be numeric",
    ),
    (
        "ope n_bootstrap 1",
        lambda: run_ope(interval="bootstrap", n_bootstrap=1),
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
        return fitted_tiny_router(index)

    return get


_FITTED_CAUSAL, _FITTED_INTERVAL = _fitted_router(0), _fitted_router(1)


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
            _REWARD.tolist(), ACTION.tolist(), [0.5] * 60, np.ones((60, 3)).tolist()
        ),
        None,
        "",
        "lists have no .shape",
    ),
    (
        "pseudo_outcomes outcome_estimates rows",
        lambda: pseudo_outcomes(_REWARD, ACTION, np.full(60, 0.5), np.ones((3, 3))),
        ValueError,
        "outcome_estimates",
        "IndexError",
    ),
    (
        "pseudo_outcomes float action",
        lambda: pseudo_outcomes(
            _REWARD, ACTION.astype(float), np.full(60, 0.5), np.ones((60, 3))
        ),
        TypeError,
        "action",
        "IndexError",
    ),
    (
        "pseudo_outcomes overflow",
        lambda: pseudo_outcomes(
            _REWARD * 1e300, ACTION, np.full(60, 1e-300), np.ones((60, 3))
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


def cases(table, *prefixes):
    """The cases of ``table`` whose name starts with one of ``prefixes``."""
    return [case for case in table if case[0].startswith(prefixes)]


def check_named_error(call, error, phrase):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    assert phrase in str(info.value)


def check_loader_or_formula_case(call, error, phrase):
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
