"""Every file the command line writes: checked before work, written atomically."""

import resource
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skroute import DecoupledRouter
from skroute.cli import main
from skroute.datasets import make_routing_problem, simulate_logging


@pytest.fixture
def files(tmp_path):
    problem = make_routing_problem(n_samples=400, n_models=3, random_state=2)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=2
    )
    DecoupledRouter().fit(logs.X, logs.action, reward=logs.reward).export(
        tmp_path / "router.npz"
    )
    queries = pd.DataFrame(logs.X, columns=[f"e{j}" for j in range(logs.X.shape[1])])
    queries.to_csv(tmp_path / "queries.csv", index=False)
    np.save(tmp_path / "queries.npy", logs.X)
    return tmp_path


def _contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize(
    "out, message",
    [
        ("queries.csv", "--out .*queries.csv is the queries: writing there would"),
        ("router.npz", "--out .*router.npz is the router file: writing there"),
        ("link.csv", "--out .*link.csv is the queries"),
        ("missing/routes.csv", "no folder .*missing; create it first"),
        ("folder", "is a folder; give a file path"),
    ],
)
def test_route_refuses_outputs_onto_inputs_before_any_work(files, out, message):
    (files / "link.csv").symlink_to(files / "queries.csv")
    (files / "folder").mkdir()
    before = _contents(files)
    argv = ["route", str(files / "router.npz"), str(files / "queries.csv")]
    with pytest.raises(SystemExit, match=message):
        main([*argv, "--embedding-prefix", "e", "--out", str(files / out)])
    assert _contents(files) == before


def test_benchmark_refuses_to_write_over_its_table(files, monkeypatch):
    from skroute.cli import _benchmark

    def no_run(*args, **kwargs):
        raise AssertionError("ran before checking --out")

    monkeypatch.setattr(_benchmark, "run_benchmark", no_run)
    table = files / "wide.csv"
    table.write_text("a,a|total_cost\n1,0.1\n")
    before = table.read_bytes()
    with pytest.raises(SystemExit, match="--out .*wide.csv is --data"):
        main(["benchmark", "--data", str(table), "--out", str(table)])
    plot = files / "results.png"
    plot.symlink_to(table)
    with pytest.raises(SystemExit, match="--out's plot .*results.png is --data"):
        main(["benchmark", "--data", str(table), "--out", str(files / "results.json")])
    assert table.read_bytes() == before


def _small_file_limit():
    # Files of this process may not grow past 2 kB: a full disk, in effect.
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_a_write_that_fails_part_way_leaves_the_previous_file(files):
    routes = files / "routes.csv"
    routes.write_text("model\nprevious\n")
    argv = [
        sys.executable,
        "-m",
        "skroute",
        "route",
        str(files / "router.npz"),
        str(files / "queries.npy"),
        "--out",
        str(routes),
    ]
    result = subprocess.run(
        argv, capture_output=True, text=True, preexec_fn=_small_file_limit, timeout=300
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "File too large" in lines[0]
    assert str(routes) in lines[0]  # the file asked for, not a temporary one
    assert routes.read_text() == "model\nprevious\n"
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []
    # Without the limit, the same command replaces it.
    assert subprocess.run(argv, capture_output=True, timeout=300).returncode == 0
    assert len(routes.read_text().splitlines()) == 1 + 400


def test_a_queries_file_claiming_a_terabyte_is_refused_without_allocating(files):
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2000000000, 512), }"
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    path = files / "huge.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header)
    argv = [
        "route",
        str(files / "router.npz"),
        str(path),
        "--out",
        str(files / "r.csv"),
    ]
    with pytest.raises(
        SystemExit, match="huge.npy: not a .npy array \\(the queries\\)"
    ):
        main(argv)


def test_route_writes_to_standard_output_and_carries_ids(files, capsys):
    queries = pd.read_csv(files / "queries.csv")
    queries.insert(0, "query_id", [f"q{j:04d}" for j in range(len(queries))])
    queries.to_csv(files / "with_ids.csv", index=False)
    argv = ["route", str(files / "router.npz"), str(files / "with_ids.csv")]
    argv += ["--embedding-prefix", "e", "--id-column", "query_id"]
    assert main([*argv, "--out", "-"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "query_id,model" and lines[1].startswith("q0000,")
    assert len(lines) == 1 + len(queries)
    assert "routed 400 queries" in captured.err  # the summary stays off stdout
    assert not (files / "-").exists()
    assert main([*argv, "--out", str(files / "routes.csv")]) == 0
    written = pd.read_csv(files / "routes.csv", dtype=str)
    assert written["query_id"].tolist() == queries["query_id"].tolist()
    with pytest.raises(SystemExit, match="--id-column apply to a table"):
        main(
            [
                "route",
                str(files / "router.npz"),
                str(files / "queries.npy"),
                "--id-column",
                "query_id",
                "--out",
                "-",
            ]
        )
