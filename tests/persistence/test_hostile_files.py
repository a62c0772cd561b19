"""Hostile router files: nothing runs, nothing is written, one line names the file.

Each file below is what an attacker (or a damaged disk) could hand to
``load_router``, ``skroute route`` or ``skroute evaluate``. Pickles of every
kind are refused unread (skroute never unpickles a router file); router files
with hostile arrays, sizes, headers or metadata are refused by the checks of
the reader and of the schema. Every case is also run as a separate process,
so that a crash by a signal or a hang would show.
"""

import gzip
import io
import json
import pickle
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from skroute import DecoupledRouter
from skroute.cli import main
from skroute.datasets import make_routing_problem, simulate_logging
from skroute.persistence import RouterFileError, load_router
from skroute.serving._file import read_router_file


class _Payload:
    """Unpickles by running a shell command that leaves a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


class _GzipTruncates:
    """Unpickles by opening ``victim`` for writing: a constructor that truncates."""

    def __init__(self, victim):
        self.victim = victim

    def __reduce__(self):
        return (gzip.GzipFile, (str(self.victim), "wb"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A fitted router's file, logs and queries, and a victim file."""
    folder = tmp_path_factory.mktemp("hostile")
    problem = make_routing_problem(n_samples=300, n_models=3, random_state=0)
    logs = simulate_logging(
        problem.X, problem.reward, problem.cost, models=problem.models, random_state=0
    )
    router = DecoupledRouter().fit(
        logs.X, logs.action, reward=logs.reward, cost=logs.cost
    )
    router.export(folder / "good.npz")
    pd.DataFrame(
        {"model": logs.action, "quality": logs.reward, "cost": logs.cost}
    ).to_csv(folder / "logs.csv", index=False)
    np.save(folder / "logs_emb.npy", logs.X)
    (folder / "victim.txt").write_text("keep me")
    return folder


def _members(path):
    """The good file's metadata and arrays, writable copies."""
    meta, arrays = read_router_file(path)
    return meta, {key: np.array(value) for key, value in arrays.items()}


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _zip(path, members, compression=zipfile.ZIP_STORED):
    """Write raw ``.npy`` bytes (or arrays) as the members of a zip."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            if isinstance(data, np.ndarray):
                data = _npy(data)
            archive.writestr(name + ".npy", data)
    return path


def _router_file(path, meta, arrays):
    members = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        **arrays,
    }
    return _zip(path, members)


def _with_meta(**changes):
    def build(folder, target):
        meta, arrays = _members(folder / "good.npz")
        for key, value in changes.items():
            if value is _DROP:
                meta.pop(key)
            else:
                meta[key] = value
        return _router_file(target, meta, arrays)

    return build


def _with_arrays(change):
    def build(folder, target):
        meta, arrays = _members(folder / "good.npz")
        change(arrays)
        return _router_file(target, meta, arrays)

    return build


def _raw_meta(text):
    def build(folder, target):
        _, arrays = _members(folder / "good.npz")
        members = {"meta": np.frombuffer(text, dtype=np.uint8), **arrays}
        return _zip(target, members)

    return build


def _raw_bytes(data):
    def build(folder, target):
        target.write_bytes(data(folder) if callable(data) else data)
        return target

    return build


def _npy_header(header_text, data=b""):
    """An ``.npy`` member with a header written by hand."""
    header = header_text.encode("latin1")
    if len(header) < 60_000:
        header += b" " * (-(len(header) + 11) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data
    header += b" " * (-(len(header) + 13) % 64) + b"\n"
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header + data


def _with_member(name, data):
    def build(folder, target):
        meta, arrays = _members(folder / "good.npz")
        members = {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            **arrays,
            name: data(folder) if callable(data) else data,
        }
        return _zip(target, members)

    return build


def _lying_sizes(folder, target):
    """A stored member whose zip headers claim a gigabyte."""
    _router_file(target, *_members(folder / "good.npz"))
    data = bytearray(target.read_bytes())
    start = data.rfind(b"PK\x01\x02")  # the last member's central record
    data[start + 20 : start + 28] = struct.pack("<II", 2**30, 2**30)
    target.write_bytes(bytes(data))
    return target


def _end_record(change):
    """The good file with its zip end record's fields changed."""

    def build(folder, target):
        _router_file(target, *_members(folder / "good.npz"))
        data = bytearray(target.read_bytes())
        at = data.rfind(b"PK\x05\x06")
        fields = list(struct.unpack_from("<4s4H2LH", data, at))
        change(fields)
        struct.pack_into("<4s4H2LH", data, at, *fields)
        target.write_bytes(bytes(data))
        return target

    return build


def _text_member(codes):
    data = struct.pack(f"<{len(codes)}I", *codes)
    header = f"{{'descr': '<U1', 'fortran_order': False, 'shape': ({len(codes)},), }}"
    return _npy_header(header, data)


def _zero_width_steps(folder, target):
    """Projections to no feature and back to many: free in the file, not in memory."""
    meta, arrays = _members(folder / "good.npz")
    meta.update(
        n_features_in=20,
        steps=[{"kind": "truncated_svd"}, {"kind": "truncated_svd"}],
    )
    arrays["step/0/components"] = np.zeros((0, 20))
    arrays["step/1/components"] = np.zeros((20, 0))
    return _router_file(target, meta, arrays)


def _zip_bomb(folder, target):
    """A member of 200 MB of zeros, deflated to a fraction of a megabyte."""
    meta, arrays = _members(folder / "good.npz")
    arrays["reward/0/coef"] = np.zeros(25_000_000)
    members = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays}
    return _zip(target, members, compression=zipfile.ZIP_DEFLATED)


def _pickle_of(make):
    def build(folder, target):
        target.write_bytes(pickle.dumps(make(folder)))
        return target

    return build


def _drop_array(key):
    return _with_arrays(lambda arrays: arrays.pop(key))


def _set_array(key, value):
    return _with_arrays(lambda arrays: arrays.__setitem__(key, value))


_DROP = object()

CASES = {
    # Pickles: refused unread, whatever they hold.
    "pickle that runs a command": _pickle_of(
        lambda folder: _Payload(folder / "marker")
    ),
    "pickle of a file-writing constructor": _pickle_of(
        lambda folder: _GzipTruncates(folder / "victim.txt")
    ),
    "protocol-0 pickle naming os.system": _raw_bytes(
        lambda folder: f"cos\nsystem\n(S'touch {folder / 'marker'}'\ntR.".encode()
    ),
    "pickle of a re-exported gadget": _raw_bytes(
        b"\x80\x04\x95)\x00\x00\x00\x00\x00\x00\x00\x8c\x1fsklearn.feature_selection"
        b"._base\x94\x8c\nattrgetter\x94\x93\x94."
    ),
    "pickle importing a __main__ module": _raw_bytes(
        b"\x80\x02cskroute.__main__\nmain\nq\x00)Rq\x01."
    ),
    "genuine router pickled": _pickle_of(
        lambda folder: DecoupledRouter().fit(
            np.eye(4), ["a", "b", "a", "b"], reward=np.ones(4)
        )
    ),
    "71-byte looping pickle": _raw_bytes(b"\x80\x02(" + b"0" * 60 + b"}q\x00(.t."),
    # Router files with hostile arrays.
    "object array holding a pickle": _with_member(
        "extra",
        lambda folder: _npy(
            np.array([_Payload(folder / "marker")], dtype=object), allow_pickle=True
        ),
    ),
    "structured dtype with an object field": _with_member(
        "classes",
        _npy_header(
            "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (3,), }",
            b"\x00" * 24,
        ),
    ),
    "void dtype": _with_member(
        "extra",
        _npy_header(
            "{'descr': '|V16', 'fortran_order': False, 'shape': (1,), }", b"\0" * 16
        ),
    ),
    "header claiming a terabyte": _with_member(
        "extra",
        _npy_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (137438953472,), }",
            b"\0" * 8,
        ),
    ),
    "header of a megabyte": _with_member(
        "extra",
        _npy_header(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': '"
            + "a" * 1_000_000
            + "'}",
            b"\0" * 8,
        ),
    ),
    "negative shape": _with_member(
        "extra",
        _npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 0), }"),
    ),
    "zip bomb": _zip_bomb,
    "a directory offset past its place": _end_record(
        lambda fields: fields.__setitem__(6, fields[6] + 1000)
    ),
    "a directory of 60,000 members": _end_record(
        lambda fields: fields.__setitem__(4, 60_000)
    ),
    "a dtype described by an empty tuple": _with_member(
        "extra",
        _npy_header(
            "{'descr': (), 'fortran_order': False, 'shape': (1,), }", b"\0" * 8
        ),
    ),
    "a code point beyond Unicode": _with_member(
        "classes", _text_member([0x110000, 65, 66])
    ),
    "a surrogate code point": _with_member("classes", _text_member([0xD800, 65, 66])),
    "a newline in a model name": _with_member("classes", _text_member([10, 65, 66])),
    "zip sizes that lie": _lying_sizes,
    "not a zip": _raw_bytes(b"PK\x03\x04" + b"\xff" * 100),
    "empty file": _raw_bytes(b""),
    "random bytes": _raw_bytes(bytes(range(256)) * 4),
    "truncated router file": _raw_bytes(
        lambda folder: (folder / "good.npz").read_bytes()[:3000]
    ),
    # Metadata.
    "metadata not UTF-8": _raw_meta(b"\xff\xfe{}"),
    "metadata not JSON": _raw_meta(b"{'format': 2"),
    "metadata a JSON list": _raw_meta(b"[1, 2]"),
    "deeply nested JSON": _raw_meta(b"[" * 200_000 + b"]" * 200_000),
    "NaN in metadata": _raw_meta(b'{"format": NaN}'),
    "integer of 10,000 digits": _raw_meta(b'{"format": ' + b"9" * 10_000 + b"}"),
    "no n_features": _with_meta(n_features=_DROP),
    "n_features a string": _with_meta(n_features="20"),
    "a billion members": _with_meta(policy="mlp", n_members=10**9),
    "a billion members where none are read": _with_meta(n_members=10**9),
    "a billion layers": _with_meta(
        policy="mlp", n_members=1, **{"member/0/layers/n_layers": 10**9}
    ),
    "unknown metadata key": _with_meta(run="touch marker"),
    "unknown policy": _with_meta(policy="pickle"),
    "newer format": _with_meta(format=99),
    "newer format with a multi-line version": _with_meta(
        format=3, skroute_version="1.0\nTraceback (most recent call last):"
    ),
    "an integer of 400 digits": _with_meta(cost_sensitivity=10**400),
    "a cost scale of 0": _with_meta(cost_scale=0),
    "a step with no components": _with_meta(
        n_features_in=20, steps=[{"kind": "truncated_svd"}]
    ),
    "a step of width zero": _zero_width_steps,
    "negative lambda": _with_meta(cost_sensitivity=-1.0),
    "steps that are not a list": _with_meta(steps={"kind": "pca"}),
    "an unknown step": _with_meta(steps=[{"kind": "function_transformer"}]),
    # Arrays against the metadata.
    "an array too many": _set_array("payload", np.zeros(3)),
    "an array missing": _drop_array("reward/0/coef"),
    "a coefficient of the wrong size": _set_array("reward/0/coef", np.zeros(7)),
    "NaN weights": _set_array("reward/1/coef", np.full(20, np.nan)),
    "two models of one name": _set_array("classes", np.array(["a", "a", "b"])),
    "classes of floats": _set_array("classes", np.array([0.5, 1.5, 2.5])),
    "a member with a path in its name": _with_member("../escape", np.zeros(1)),
}


def _build(workspace, name, tmp_path):
    path = CASES[name](workspace, tmp_path / "hostile.npz")
    return path


def _untouched(workspace):
    assert not (workspace / "marker").exists()
    assert (workspace / "victim.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", list(CASES))
def test_load_router_refuses_with_an_error_naming_the_file(workspace, tmp_path, name):
    path = _build(workspace, name, tmp_path)
    with pytest.raises(RouterFileError) as info:
        load_router(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    _untouched(workspace)


@pytest.mark.parametrize("name", list(CASES))
def test_route_and_evaluate_refuse_in_one_line(workspace, tmp_path, capsys, name):
    path = _build(workspace, name, tmp_path)
    out = tmp_path / "routes.csv"
    queries = workspace / "logs_emb.npy"
    for argv in (
        ["route", str(path), str(queries), "--out", str(out)],
        ["evaluate", str(path), str(workspace / "logs.csv")],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        message = str(info.value.code)
        assert message.startswith(f"skroute: {path}")
        assert "\n" not in message
        assert "unexpected error" not in message
    assert not out.exists()
    _untouched(workspace)


# A few of the cases in a process of their own: no signal, no hang, exit 1.
@pytest.mark.parametrize(
    "name",
    [
        "pickle that runs a command",
        "pickle of a file-writing constructor",
        "structured dtype with an object field",
        "header claiming a terabyte",
        "zip bomb",
        "deeply nested JSON",
        "71-byte looping pickle",
    ],
)
def test_the_command_line_exits_cleanly_in_its_own_process(workspace, tmp_path, name):
    path = _build(workspace, name, tmp_path)
    out = tmp_path / "routes.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "skroute",
            "route",
            str(path),
            str(workspace / "logs_emb.npy"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"skroute: {path}")
    assert not out.exists()
    _untouched(workspace)


def test_claims_the_arrays_do_not_back_are_refused(workspace, tmp_path):
    # Constant outcome models over ten million features: tiny arrays, but
    # predicting would stack a dense matrix of features by models.
    meta, arrays = _members(workspace / "good.npz")
    for key in [k for k in arrays if k.startswith(("reward/", "cost/"))]:
        del arrays[key]
    classes = np.array([f"m{t}" for t in range(1000)])
    arrays.update({f"reward/{t}/value": np.array(0.5) for t in range(1000)})
    arrays["classes"] = classes
    meta.update(n_features=10_000_000, has_cost=False)
    path = _router_file(tmp_path / "claims.npz", meta, arrays)
    with pytest.raises(RouterFileError, match="claims 10,000,000 features"):
        load_router(path)
