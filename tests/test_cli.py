"""The ``skroute benchmark`` command on a user's table."""

import json

import numpy as np
import pandas as pd
import pytest

from skroute.cli import main
from skroute.datasets import make_routing_problem


@pytest.fixture
def table(tmp_path):
    problem = make_routing_problem(n_samples=400, n_models=3, random_state=0)
    frame = pd.DataFrame({"topic": problem.cluster % 4})
    for t, model in enumerate(problem.models):
        frame[model] = problem.reward[:, t]
        frame[f"{model}|total_cost"] = problem.cost[:, t]
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    np.save(tmp_path / "table_emb.npy", problem.X.astype(np.float16))
    return path


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_benchmark_on_a_table_writes_results(table, tmp_path, capsys, suffix):
    out = tmp_path / f"results{suffix}"
    code = main(["benchmark", "--data", str(table), "--seeds", "2", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert str(table) in printed and "causal DR-softmax" in printed
    if suffix == ".json":
        records = json.loads(out.read_text())
    else:
        records = pd.read_csv(out).to_dict("records")
    assert len(records) == 5 * 2  # five routers, two seeds
    assert {r["router"] for r in records} >= {"decoupled", "random"}
    assert all(r["regret"] >= 0 for r in records)


def test_topic_logging_needs_a_topic_column(table):
    with pytest.raises(SystemExit, match="needs --topic-column"):
        main(["benchmark", "--data", str(table), "--logging-policy", "topic"])
    assert (
        main(
            [
                "benchmark",
                "--data",
                str(table),
                "--seeds",
                "1",
                "--logging-policy",
                "topic",
                "--topic-column",
                "topic",
            ]
        )
        == 0
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--out", "results.txt"], "--out must end in .json or .csv"),
        (["--embeddings", "missing.npy"], "missing.npy"),
    ],
)
def test_benchmark_bad_arguments(table, extra, message):
    with pytest.raises(SystemExit, match=message):
        main(["benchmark", "--data", str(table), *extra])


def test_table_without_embeddings_beside_it(tmp_path):
    path = tmp_path / "lonely.csv"
    pd.DataFrame({"m": [1, 0], "m|total_cost": [1.0, 1.0]}).to_csv(path, index=False)
    with pytest.raises(SystemExit, match="pass --embeddings PATH"):
        main(["benchmark", "--data", str(path)])
