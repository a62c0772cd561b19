"""Loaders of full-feedback tables: real RouterBench rows and bad files."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import fit_kwargs

from skroute.datasets import (
    costs_from_token_prices,
    load_logs,
    load_long_table,
    load_model_prices,
    load_wide_table,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
ROUTERBENCH = SHARED / "routerbench_subset" / "routerbench_subset.csv"
LLMROUTER = SHARED / "llmrouter_9models"
ROUTELLM = SHARED / "routellm_mmlu_gsm8k"


@pytest.mark.skipif(not ROUTERBENCH.exists(), reason="shared data not present")
def test_routerbench_subset():
    data = load_wide_table(
        ROUTERBENCH,
        embeddings=ROUTERBENCH.with_name("query_emb_all-MiniLM-L6-v2.f16.npy"),
        id_column="sample_id",
        text_column="query",
        task_column="eval_name",
    )
    assert data.X.shape == (3150, 384) and data.X.dtype == np.float32
    assert data.reward.shape == data.cost.shape == (3150, 11)
    assert set(np.unique(data.reward)) <= {0.0, 1.0}
    gpt4 = data.models.tolist().index("gpt-4-1106-preview")
    # The data README gives .879 accuracy and 5.02 USD per 1k queries.
    assert data.reward[:, gpt4].mean() == pytest.approx(0.879, abs=0.001)
    assert 1000 * data.cost[:, gpt4].mean() == pytest.approx(5.02, abs=0.01)
    assert set(data.task) == {"arc-challenge", "winogrande", "mbpp"}


@pytest.mark.skipif(not LLMROUTER.exists(), reason="shared data not present")
def test_llmrouter_costs_from_token_prices():
    prices = load_model_prices(LLMROUTER / "model_prices.json")
    assert len(prices) == 9 and prices["gemma-2-9b-it"] == (0.1, 0.1)
    data = load_wide_table(
        LLMROUTER / "llmrouter_9models.csv",
        models=list(prices),
        embeddings=LLMROUTER / "query_emb_all-MiniLM-L6-v2.f16.npy",
        id_column="query_id",
        text_column="query",
        task_column="task_name",
    )
    assert data.X.shape == (6108, 384) and data.cost is None
    assert ((data.reward >= 0) & (data.reward <= 1)).all()
    assert len(set(data.task)) == 14
    cost = costs_from_token_prices(data.text, prices, output_tokens=256)
    # Equal input and output prices: cost = price * (len/4 + 256) / 1e6.
    tokens = np.array([len(q) for q in data.text]) / 4 + 256
    nemotron = list(prices).index("llama-3.1-nemotron-51b-instruct")
    np.testing.assert_allclose(cost[:, nemotron], 0.9 * tokens / 1e6)
    # Prices span a factor of 9 between the cheapest and dearest models.
    assert cost.max(axis=1) / cost.min(axis=1) == pytest.approx(9.0)


@pytest.mark.skipif(not ROUTELLM.exists(), reason="shared data not present")
def test_routellm_two_models_with_list_prices():
    models = ["gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"]
    data = load_wide_table(
        ROUTELLM / "gsm8k.csv",
        models=models,
        embeddings=ROUTELLM / "gsm8k_emb_all-MiniLM-L6-v2.f16.npy",
        text_column="prompt",
    )
    assert data.reward.shape == (1319, 2) and data.cost is None
    assert data.reward.mean(axis=0) == pytest.approx([0.857, 0.638], abs=0.001)
    # List prices, USD per 1M tokens (input, output).
    prices = {models[0]: (10.0, 30.0), models[1]: (0.24, 0.24)}
    cost = costs_from_token_prices(data.text, prices)
    assert (cost[:, 0] > 40 * cost[:, 1]).all()


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"m": {"input_price_per_1M_tokens": 1}}', "lacks"),
        ('{"m": [1, 2, 3]}', "must be an object"),
        ('{"m": [1, -2]}', "finite numbers >= 0"),
        ('{"m": ["1", 2]}', "finite numbers >= 0"),
    ],
)
def test_bad_price_files(tmp_path, content, message):
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_model_prices(path)


@pytest.mark.parametrize(
    "prompts, kwargs, error, message",
    [
        ("one string", {}, TypeError, "not one string"),
        (["a", 3], {}, TypeError, "rows \\[1\\] are not"),
        ([["a"]], {}, ValueError, "must be 1-D"),
        (["a"], {"models": ["m", "x"]}, ValueError, "no prices for models \\['x'\\]"),
        (["a"], {"output_tokens": -1}, ValueError, "output_tokens must be"),
        (["a"], {"chars_per_token": 0}, ValueError, "chars_per_token must be"),
    ],
)
def test_bad_token_cost_inputs(prompts, kwargs, error, message):
    with pytest.raises(error, match=message):
        costs_from_token_prices(prompts, {"m": (1.0, 1.0)}, **kwargs)


def _wide(tmp_path, name="table.csv", **changes):
    table = pd.DataFrame(
        {
            "id": ["q1", "q2", "q3"],
            "text": ["a", "b", "c"],
            "m1": [1, 0, 1],
            "m1|total_cost": [0.1, 0.1, 0.2],
            "m2": [0.5, 1, 0],
            "m2|total_cost": [2.0, 2.5, 3.0],
        }
    )
    for column, values in changes.items():
        if values is None:
            table = table.drop(columns=column)
        else:
            table[column] = values
    path = tmp_path / name
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_pickle(path)
    return path


def test_wide_table_formats_agree(tmp_path):
    csv = load_wide_table(_wide(tmp_path), id_column="id")
    pickled = load_wide_table(
        _wide(tmp_path, "table.pkl"), id_column="id", trusted=True
    )
    np.testing.assert_array_equal(csv.reward, pickled.reward)
    np.testing.assert_array_equal(csv.cost, [[0.1, 2.0], [0.1, 2.5], [0.2, 3.0]])
    assert csv.models.tolist() == ["m1", "m2"]
    assert csv.X is None and csv.text is None


@pytest.mark.parametrize(
    "changes, kwargs, message",
    [
        ({"m1|total_cost": None, "m2|total_cost": None}, {}, "no model columns found"),
        ({}, {"models": ["m1", "m3"]}, "missing quality column 'm3'"),
        (
            {"m2": ["0.5", "high", "0"]},
            {},
            "column 'm2' holds non-numeric or missing quality at rows [1]",
        ),
        (
            {"m1": ["1", "", "0"]},
            {},
            "column 'm1' holds non-numeric or missing quality at rows [1]",
        ),
        (
            {"m2|total_cost": [2.0, -1.0, 3.0]},
            {},
            "column 'm2|total_cost' holds negative costs at rows [1]",
        ),
        (
            {"id": ["q1", "q1", "q3"]},
            {"id_column": "id"},
            "column 'id' holds duplicate query ids at rows [0, 1]",
        ),
        (
            {},
            {"embeddings": np.zeros((2, 4))},
            "the table has 3 rows but the embeddings",
        ),
        ({}, {"text_column": "prompt"}, "missing text column 'prompt'"),
    ],
)
def test_bad_wide_tables_name_the_file_and_column(tmp_path, changes, kwargs, message):
    path = _wide(tmp_path, **changes)
    with pytest.raises(ValueError) as info:
        load_wide_table(path, **kwargs)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_format(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_text("")
    with pytest.raises(ValueError, match="unknown table format '.xlsx'"):
        load_wide_table(path)


def _long(tmp_path, rows):
    path = tmp_path / "long.csv"
    pd.DataFrame(rows, columns=["query_id", "model", "quality", "cost"]).to_csv(
        path, index=False
    )
    return path


def test_long_table_pivots_to_the_wide_matrices(tmp_path):
    path = _long(
        tmp_path,
        [
            ("q2", "b", 1, 2.0),
            ("q2", "a", 0, 0.1),
            ("q1", "a", 1, 0.2),
            ("q1", "b", 0, 3.0),
        ],
    )
    data = load_long_table(path, cost_column="cost")
    assert data.ids.tolist() == ["q2", "q1"]  # order of first appearance
    assert data.models.tolist() == ["a", "b"]
    np.testing.assert_array_equal(data.reward, [[0, 1], [1, 0]])
    np.testing.assert_array_equal(data.cost, [[0.1, 2.0], [0.2, 3.0]])


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            [("q1", "a", 1, 0.1), ("q1", "a", 0, 0.1)],
            "pairs appear twice at rows [0, 1]",
        ),
        (
            [("q1", "a", 1, 0.1), ("q1", "b", 1, 0.1), ("q2", "a", 1, 0.1)],
            "not every model has a result",
        ),
        (
            [("q1", "a", 1, -0.1), ("q1", "b", 1, 0.1)],
            "column 'cost' holds negative costs",
        ),
        (
            [("q1", "a", "x", 0.1), ("q1", "b", 1, 0.1)],
            "column 'quality' holds non-numeric",
        ),
    ],
)
def test_bad_long_tables(tmp_path, rows, message):
    path = _long(tmp_path, rows)
    with pytest.raises(ValueError) as info:
        load_long_table(path, cost_column="cost")
    assert message in str(info.value)
    assert str(path) in str(info.value)


def _logs_file(tmp_path, **changes):
    table = pd.DataFrame(
        {
            "model": ["a", "b", "a", "b"],
            "quality": [1.0, 0.0, 1.0, 1.0],
            "cost": [0.1, 2.0, 0.1, 2.0],
            "propensity": [0.5, 0.5, 0.4, 0.6],
            "e0": [0.1, 0.2, 0.3, 0.4],
            "e1": [1.0, 0.0, 1.0, 0.0],
        }
    )
    for column, values in changes.items():
        table[column] = values
    path = tmp_path / "logs.csv"
    table.to_csv(path, index=False)
    return path


def test_logs_feed_a_router(tmp_path):
    from skroute import DecoupledRouter

    logs = load_logs(
        _logs_file(tmp_path),
        cost_column="cost",
        propensity_column="propensity",
        embedding_columns=["e0", "e1"],
    )
    assert logs.X.shape == (4, 2) and logs.action.tolist() == ["a", "b", "a", "b"]
    router = DecoupledRouter().fit(
        logs.X,
        logs.action,
        **fit_kwargs(logs),
    )
    assert set(router.predict(logs.X)) <= {"a", "b"}


@pytest.mark.parametrize(
    "changes, kwargs, message",
    [
        (
            {"propensity": [0.5, 0.0, 0.4, 0.6]},
            {},
            "column 'propensity' must be in (0, 1]; got 0 at rows [1]",
        ),
        ({"cost": [0.1, -2.0, 0.1, 2.0]}, {}, "column 'cost' holds negative costs"),
        (
            {"e1": [1.0, "x", 1.0, 0.0]},
            {},
            "column 'e1' holds non-numeric or missing embedding",
        ),
        ({}, {"model_column": "llm"}, "missing model column 'llm'"),
        ({}, {"embeddings": np.zeros((4, 2))}, "pass exactly one of embedding_columns"),
    ],
)
def test_bad_log_files(tmp_path, changes, kwargs, message):
    path = _logs_file(tmp_path, **changes)
    arguments = {
        "cost_column": "cost",
        "propensity_column": "propensity",
        "embedding_columns": ["e0", "e1"],
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError) as info:
        load_logs(path, **arguments)
    assert message in str(info.value)
