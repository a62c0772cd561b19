"""Tally of bad inputs: how many get a clear error, over the API, loaders and CLI.

Runs every case of the test suite's bad-input tables (``BAD_INPUTS`` and
``LOADER_AND_FORMULA_CASES`` in ``tests/bad_inputs.py``) and the file
and command-line cases below, and counts a case as clear when it raises the
expected error type with a message holding the expected phrase (the
argument, file or option it is about, and the fix). Hostile pickles count as
clear only if the marker file their payload would create does not appear.

    python benchmarks/bad_input_tally.py
"""

import os
import pickle
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _cli(argv):
    from skroute.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:
        raise ValueError(str(exc.code)) from None
    if code:
        raise ValueError(f"exit code {code}")


def _file_cases(folder):
    """(name, call, error, phrase, marker or None) for files and the CLI."""
    from skroute.datasets import load_logs, load_long_table, load_wide_table
    from skroute.persistence import load_router, save_router
    from skroute.routers import DecoupledRouter

    folder = Path(folder)
    rng = np.random.default_rng(0)
    logs = pd.DataFrame(
        {"model": ["a", "b"] * 30, "quality": rng.uniform(size=60), "cost": 1.0}
    )
    log_file = folder / "logs.csv"
    logs.to_csv(log_file, index=False)
    np.save(folder / "logs_emb.npy", rng.normal(size=(60, 3)))
    router = DecoupledRouter().fit(
        rng.normal(size=(60, 3)), logs["model"], reward=logs["quality"]
    )
    saved = folder / "router.npz"
    save_router(router, saved)
    marker = folder / "marker"
    hostile = folder / "hostile.pkl"
    hostile.write_bytes(pickle.dumps(_Payload(marker)))
    truncated = folder / "truncated.npz"
    truncated.write_bytes(saved.read_bytes()[:100])
    duplicated = folder / "duplicated.csv"
    duplicated.write_text("model,model,quality\na,a,1\n")
    na_label = folder / "na.csv"
    na_label.write_text("model,quality\na,1\nNA,0\n")
    latin = folder / "latin.csv"
    latin.write_bytes("model,quality\ncaf\xe9,1\n".encode("latin-1"))
    zeros = np.zeros((2, 3))
    return [
        (
            "load_router hostile",
            lambda: load_router(hostile),
            ValueError,
            "a pickle, not a skroute router file",
            marker,
        ),
        (
            "load_logs hostile",
            lambda: load_logs(hostile, embeddings=zeros),
            ValueError,
            "trusted=True",
            marker,
        ),
        (
            "load_wide_table hostile",
            lambda: load_wide_table(hostile),
            ValueError,
            "trusted=True",
            marker,
        ),
        (
            "load_long_table hostile",
            lambda: load_long_table(hostile),
            ValueError,
            "trusted=True",
            marker,
        ),
        (
            "cli evaluate hostile router",
            lambda: _cli(["evaluate", str(hostile), str(log_file)]),
            ValueError,
            "a pickle, not a skroute router file",
            marker,
        ),
        (
            "cli fit hostile logs",
            lambda: _cli(
                [
                    "fit",
                    str(hostile),
                    "--embeddings",
                    str(folder / "logs_emb.npy"),
                    "--out",
                    str(folder / "o.npz"),
                ]
            ),
            ValueError,
            "the command line never reads pickles",
            marker,
        ),
        (
            "cli benchmark hostile data",
            lambda: _cli(
                [
                    "benchmark",
                    "--data",
                    str(hostile),
                    "--embeddings",
                    str(folder / "logs_emb.npy"),
                ]
            ),
            ValueError,
            "the command line never reads pickles",
            marker,
        ),
        (
            "load_router truncated",
            lambda: load_router(truncated),
            ValueError,
            "not a skroute router file",
            None,
        ),
        (
            "cli evaluate truncated",
            lambda: _cli(["evaluate", str(truncated), str(log_file)]),
            ValueError,
            "skroute: ",
            None,
        ),
        (
            "cli fit --out is the logs",
            lambda: _cli(["fit", str(log_file), "--out", str(log_file)]),
            ValueError,
            "a router file ends in .npz",
            None,
        ),
        (
            "cli fit --out is the embeddings",
            lambda: _cli(["fit", str(log_file), "--out", str(folder / "logs_emb.npy")]),
            ValueError,
            "a router file ends in .npz",
            None,
        ),
        (
            "cli fit --out no folder",
            lambda: _cli(["fit", str(log_file), "--out", str(folder / "no" / "r.npz")]),
            ValueError,
            "no folder",
            None,
        ),
        (
            "cli benchmark --threads",
            lambda: _cli(["benchmark", "--threads", "100000"]),
            ValueError,
            "exceeds the",
            None,
        ),
        (
            "csv duplicate header",
            lambda: load_logs(duplicated, embeddings=zeros[:1]),
            ValueError,
            "appear more than once",
            None,
        ),
        (
            "csv NA label",
            lambda: load_logs(na_label, embeddings=zeros),
            ValueError,
            "missing or empty model labels",
            None,
        ),
        (
            "csv not UTF-8",
            lambda: load_logs(latin, embeddings=zeros[:1]),
            ValueError,
            "not UTF-8",
            None,
        ),
    ]


def main():
    import bad_inputs

    cases = [
        (name, call, error, phrase, None)
        for name, call, error, phrase in bad_inputs.BAD_INPUTS
    ]
    cases += [
        (case[0], case[1], case[2], case[3], None)
        for case in bad_inputs.LOADER_AND_FORMULA_CASES
        if case[2] is not None
    ]
    with tempfile.TemporaryDirectory() as folder:
        cases += _file_cases(folder)
        unclear = []
        for name, call, error, phrase, marker in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    call()
                    outcome = "accepted"
                except Exception as exc:  # noqa: BLE001 - tallied, not hidden
                    if isinstance(exc, error) and phrase in str(exc):
                        outcome = "clear"
                    else:
                        outcome = f"{type(exc).__name__}: {str(exc)[:100]}"
            if marker is not None and Path(marker).exists():
                outcome = "ran the file's code"
                Path(marker).unlink()
            if outcome != "clear":
                unclear.append((name, outcome))
    print(
        f"{len(cases)} bad-input cases, {len(cases) - len(unclear)} clear, "
        f"{len(unclear)} unclear"
    )
    for name, outcome in unclear:
        print(f"  unclear: {name}: {outcome}")
    return 1 if unclear else 0


if __name__ == "__main__":
    raise SystemExit(main())
