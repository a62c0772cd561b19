"""Property-based tests of the loaders on generated tables, and their named errors."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_inputs import LOADER_AND_FORMULA_CASES, cases, check_loader_or_formula_case
from generated_inputs import PROPERTY
from hypothesis import given, settings
from hypothesis import strategies as st

from skroute.datasets import load_logs, load_wide_table

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


DATASET_CASES = cases(
    LOADER_AND_FORMULA_CASES,
    "load_",
    "simulate_logging ",
    "make_routing_problem ",
)


@pytest.mark.parametrize(
    "call, error, phrase",
    [case[1:4] for case in DATASET_CASES],
    ids=[case[0] for case in DATASET_CASES],
)
def test_loader_and_formula_inputs_get_named_errors(call, error, phrase):
    check_loader_or_formula_case(call, error, phrase)
