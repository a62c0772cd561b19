"""Files: hostile pickles run nothing, saves are atomic, loaders never guess."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import fit_logged

from skroute import CausalRouterClassifier
from skroute.cli import main
from skroute.datasets import (
    load_logs,
    load_long_table,
    load_wide_table,
    make_routing_problem,
    simulate_logging,
)
from skroute.persistence import load_router, save_router
from skroute.routers import DecoupledRouter


class _Payload:
    """Unpickles by running a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def problem_logs():
    problem = make_routing_problem(n_samples=300, n_models=3, random_state=0)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=0
    )
    return problem, logs


@pytest.fixture(scope="module")
def routers(problem_logs):
    _, logs = problem_logs
    fitted = []
    for router in (
        CausalRouterClassifier(max_epochs=2, safety_check="off", random_state=0),
        DecoupledRouter(),
    ):
        fitted.append(fit_logged(router, logs, quiet=True))
    return fitted


@pytest.fixture
def log_file(tmp_path, problem_logs):
    _, logs = problem_logs
    frame = pd.DataFrame(
        {"model": logs.action, "quality": logs.reward, "cost": logs.cost}
    )
    frame.to_csv(tmp_path / "logs.csv", index=False)
    np.save(tmp_path / "logs_emb.npy", logs.X)
    return tmp_path / "logs.csv"


def test_router_files_load_back_without_trust(tmp_path, routers, problem_logs):
    _, logs = problem_logs
    for router in routers:
        path = tmp_path / f"{type(router).__name__}.npz"
        save_router(router, path)
        restored = load_router(path)
        np.testing.assert_array_equal(restored.predict(logs.X), router.predict(logs.X))


@pytest.mark.parametrize(
    "load",
    [
        lambda path: load_logs(path, embeddings=np.zeros((3, 2))),
        lambda path: load_wide_table(path),
        lambda path: load_long_table(path),
    ],
    ids=["load_logs", "load_wide_table", "load_long_table"],
)
def test_pickled_tables_need_trust(tmp_path, load):
    marker = tmp_path / "marker"
    path = tmp_path / "table.pkl"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="trusted=True"):
        load(path)
    assert not marker.exists()


@pytest.mark.parametrize("command", ["fit", "evaluate", "benchmark"])
def test_the_command_line_never_reads_pickled_tables(
    tmp_path, routers, command, capsys
):
    marker = tmp_path / "marker"
    table = tmp_path / "logs.pkl"
    table.write_bytes(pickle.dumps(_Payload(marker)))
    np.save(tmp_path / "logs_emb.npy", np.zeros((3, 2)))
    saved = tmp_path / "router.npz"
    save_router(routers[1], saved)
    argv = {
        "fit": ["fit", str(table), "--out", str(tmp_path / "out.npz")],
        "evaluate": ["evaluate", str(saved), str(table)],
        "benchmark": ["benchmark", "--data", str(table)],
    }[command]
    with pytest.raises(SystemExit, match="the command line never reads pickles"):
        main(argv)
    assert not marker.exists()
    with pytest.raises(SystemExit):
        main([*argv, "--trust-pickle"])
    assert "unrecognized arguments: --trust-pickle" in capsys.readouterr().err


class _FailingWrite:
    """Stands in for the router file writer: writes part of it, then fails."""

    def __init__(self, error):
        self.error = error

    def __call__(self, file, meta, arrays):
        file.write(b"partial")
        raise self.error


@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), KeyboardInterrupt()]
)
def test_an_interrupted_save_keeps_the_previous_file(
    tmp_path, routers, monkeypatch, error
):
    import skroute.persistence._files as files

    path = tmp_path / "router.npz"
    save_router(routers[0], path)
    before = path.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(files, "dump_router_file", _FailingWrite(error))
        with pytest.raises(type(error)) as info:
            save_router(routers[1], path)
    if isinstance(error, OSError):
        assert info.value.filename == str(path)  # the file asked for, not a temporary
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["router.npz"]


def test_fit_refuses_to_write_over_its_inputs(log_file, tmp_path):
    embeddings = tmp_path / "logs_emb.npy"
    before = log_file.read_bytes(), embeddings.read_bytes()
    (tmp_path / "link.npz").symlink_to(log_file)
    for out, message in (
        (log_file, "a router file ends in .npz"),
        (embeddings, "a router file ends in .npz"),
        (tmp_path / "link.npz", "is the log file: writing there would destroy it"),
    ):
        with pytest.raises(SystemExit, match=message):
            main(["fit", str(log_file), "--out", str(out), "--router", "decoupled"])
    assert (log_file.read_bytes(), embeddings.read_bytes()) == before


def test_fit_checks_the_out_folder_before_fitting(log_file, tmp_path, monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before checking --out")

    monkeypatch.setattr(DecoupledRouter, "fit", no_fit)
    with pytest.raises(SystemExit, match="no folder"):
        main(
            [
                "fit",
                str(log_file),
                "--out",
                str(tmp_path / "missing" / "r.npz"),
                "--router",
                "decoupled",
            ]
        )


def test_fit_says_when_it_replaces_a_router(log_file, tmp_path, capsys):
    out = tmp_path / "r.npz"
    argv = ["fit", str(log_file), "--out", str(out), "--router", "decoupled"]
    assert main(argv) == 0
    assert "replaced" not in capsys.readouterr().err
    assert main(argv) == 0
    assert f"replaced {out}" in capsys.readouterr().err
    assert load_router(out).router == "DecoupledRouter"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "r.npz: not a skroute router file"),
        (None, "r.npz: not a skroute router file"),  # truncated
        (pickle.dumps({"not": "a router"}), "r.npz: a pickle, not a skroute router"),
    ],
    ids=["empty", "truncated", "dict"],
)
def test_bad_router_files_get_one_line(tmp_path, routers, log_file, content, message):
    path = tmp_path / "r.npz"
    if content is None:
        save_router(routers[0], path)
        content = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(content)
    with pytest.raises(SystemExit, match=message) as info:
        main(["evaluate", str(path), str(log_file)])
    assert str(info.value.code).startswith("skroute: ")


def test_ctrl_c_exits_with_130(log_file, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(DecoupledRouter, "fit", interrupted)
    out = tmp_path / "r.npz"
    code = main(["fit", str(log_file), "--out", str(out), "--router", "decoupled"])
    assert code == 130
    assert capsys.readouterr().err.strip() == "skroute: interrupted"
    assert not out.exists()


def test_an_unexpected_error_is_one_line_unless_debug(log_file, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(DecoupledRouter, "fit", broken)
    argv = ["fit", str(log_file), "--out", str(tmp_path / "r.npz")]
    argv += ["--router", "decoupled"]
    with pytest.raises(SystemExit, match="rerun with --debug"):
        main(argv)
    with pytest.raises(RuntimeError, match="something inside broke"):
        main(["--debug", *argv])


def _logs_csv(tmp_path, models, header=None):
    rows = ["model,quality"] if header is None else [header]
    rows += [f"{m},{i % 2}" for i, m in enumerate(models)]
    path = tmp_path / "logs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_csv_labels_are_read_as_strings(tmp_path):
    path = _logs_csv(tmp_path, ["01", "1", "01", "1"])
    logs = load_logs(path, embeddings=np.zeros((4, 2)))
    assert sorted(set(logs.action.tolist())) == ["01", "1"]


@pytest.mark.parametrize("label", ["NA", "nan", "null", "None", " "])
def test_missing_labels_are_an_error(tmp_path, label):
    path = _logs_csv(tmp_path, ["a", label, "b"])
    with pytest.raises(
        ValueError, match=r"missing or empty model labels .* rows \[1\]"
    ):
        load_logs(path, embeddings=np.zeros((3, 2)))


def test_padded_labels_are_stripped_with_a_warning(tmp_path):
    path = _logs_csv(tmp_path, ["a", " a", "b "])
    with pytest.warns(UserWarning, match="padded with whitespace at rows \\[1, 2\\]"):
        logs = load_logs(path, embeddings=np.zeros((3, 2)))
    assert logs.action.tolist() == ["a", "a", "b"]


def test_duplicate_headers_are_refused(tmp_path):
    path = _logs_csv(tmp_path, ["a", "b"], header="model,model")
    with pytest.raises(ValueError, match=r"\['model'\] appear more than once"):
        load_logs(path, embeddings=np.zeros((2, 2)))


def test_bad_csv_text_names_the_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("model,quality\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv: not UTF-8 text"):
        load_logs(path, embeddings=np.zeros((1, 2)))


def test_embedding_prefix_leaves_out_the_named_columns(log_file, tmp_path, capsys):
    frame = pd.read_csv(log_file)
    frame["q0"], frame["q1"] = 0.5, -0.5
    wide = tmp_path / "prefixed.csv"
    frame.to_csv(wide, index=False)
    out = tmp_path / "r.npz"
    argv = ["fit", str(wide), "--embedding-prefix", "q", "--out", str(out)]
    assert main([*argv, "--router", "decoupled"]) == 0
    assert "leaves out 'quality' (--quality-column)" in capsys.readouterr().err
    assert load_router(out).n_features_in_ == 2


def test_a_router_killed_while_saving_leaves_the_previous_file(tmp_path, routers):
    # A process killed outright (SIGKILL) in the middle of the write: the
    # rename never happens, so the target keeps the previous router's bytes.
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    path = tmp_path / "router.npz"
    save_router(routers[0], path)
    before = path.read_bytes()
    started = tmp_path / "started"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import numpy as np
        import skroute.persistence._files as files
        from skroute.routers import DecoupledRouter
        from skroute.persistence import save_router

        def slow_dump(file, meta, arrays):
            file.write(b"partial")
            file.flush()
            pathlib.Path({str(started)!r}).touch()
            time.sleep(60)

        files.dump_router_file = slow_dump
        X = np.eye(4)
        router = DecoupledRouter().fit(X, ["a", "b"] * 2, reward=np.ones(4))
        save_router(router, {str(path)!r})
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert process.poll() is None, "the saving process ended early"
            assert time.monotonic() < deadline, "the save never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert path.read_bytes() == before
    # What a killed process can leave is a hidden temporary file, never a
    # partial router under the target's name.
    leftovers = {p.name for p in tmp_path.iterdir()} - {"router.npz", "started"}
    assert all(name.startswith(".skroute-router.npz-") for name in leftovers)


def test_parquet_without_an_engine_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "logs.parquet"
    path.write_bytes(b"PAR1")

    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    with pytest.raises(
        ValueError, match=r"logs.parquet: reading parquet needs pyarrow"
    ):
        load_logs(path, embeddings=np.zeros((1, 2)))


def test_a_malformed_csv_names_the_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("model,quality\na,1\nb,0,7,8\n")
    with pytest.raises(ValueError, match=r"broken.csv: not a well-formed CSV table"):
        load_logs(path, embeddings=np.zeros((2, 2)))


def test_embeddings_beyond_float32_are_not_called_infinite(tmp_path):
    path = _logs_csv(tmp_path, ["a", "b"])
    with pytest.raises(ValueError, match="beyond float32's range"):
        load_logs(path, embeddings=np.array([[1e39, 0.0], [0.0, 1.0]]))


def test_running_out_of_memory_is_reported_as_such(log_file, tmp_path, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(DecoupledRouter, "fit", exhausted)
    argv = ["fit", str(log_file), "--out", str(tmp_path / "r.npz")]
    with pytest.raises(
        SystemExit, match="^skroute: out of memory: the data or the fit"
    ):
        main([*argv, "--router", "decoupled"])
    assert not (tmp_path / "r.npz").exists()
