"""The router file: numpy arrays and JSON metadata in an uncompressed zip.

A router file is data. It is written by :func:`dump_router_file` and read by
:func:`read_router_file`, which trusts nothing in it: before a byte of an
array is read, the zip's members, their sizes and every ``.npy`` header are
checked against the size of the file, so that a small file cannot make the
reader allocate much more than its own size or loop; only plain numeric,
boolean and fixed-width text arrays are read (never object arrays, so never
pickle); the metadata is JSON of bounded size. Any file that fails a check
raises :class:`RouterFileError`, which names the file.
"""

import json
import math
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

# The layout of the file. 1: the ``.npz`` that ``export`` wrote before router
# files held feature names, cost units and the steps of a Pipeline; files of
# format 1 are read as routers without those. A change that older readers
# would misread bumps it.
ROUTER_FILE_FORMAT = 2

# Bounds on what a file may ask the reader to hold. A router of 1,000 models
# over 10,000 features with a large ensemble is far inside them.
MAX_FILE_BYTES = 2**32
MAX_MEMBERS = 50_000
MAX_META_BYTES = 2**20
_MAX_HEADER_BYTES = 10_000
_MAX_NAME_CHARS = 200
# A central directory record: 46 bytes, the name, and at most a zip64 field.
_MAX_DIRECTORY_BYTES = MAX_MEMBERS * (46 + _MAX_NAME_CHARS + 32)
_END_RECORD = struct.Struct("<4s4H2LH")
_MAX_JSON_DIGITS = 20
_MAX_TEXT_CHARS = 4_096
_MAX_NDIM = 3
_KEY = re.compile(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*")
# (kind, itemsize) of the arrays a router file holds.
_NUMERIC = {("f", 4), ("f", 8), ("b", 1), ("u", 8), ("i", 8), ("u", 1)}
_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"


class RouterFileError(ValueError):
    """A file that is not a skroute router file, or not one this version reads.

    The message names the file and what is wrong with it. Nothing in the file
    has run: router files hold arrays and JSON only, and a file that is
    anything else (a pickle included) is refused before it is read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skroute.persistence import RouterFileError, load_router
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
    >>> _ = path.write_bytes(b"not a router")
    >>> try:
    ...     load_router(path)
    ... except RouterFileError as error:
    ...     print(str(error).split(": ", 1)[1])
    not a skroute router file (not a zip of arrays).
    """


def not_a_router_file(path, reason):
    """The error for a file that fails a check: it names the file and why."""
    return RouterFileError(f"{path}: not a skroute router file ({reason}).")


def _writable(key, value):
    array = np.asarray(value)
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "O":
        raise TypeError(f"router file array {key!r} holds Python objects.")
    if (array.dtype.kind, array.dtype.itemsize) not in _NUMERIC:
        raise TypeError(f"router file array {key!r} has dtype {array.dtype}.")
    return array


def dump_router_file(file, meta, arrays):
    """Write ``meta`` (JSON) and ``arrays`` to the open binary ``file``.

    The members are stored uncompressed, each an ``.npy`` array written
    without pickle; ``meta`` goes in the member ``meta`` as UTF-8 bytes.
    """
    members = {
        "meta": np.frombuffer(
            json.dumps(meta, allow_nan=False).encode("utf-8"), dtype=np.uint8
        ),
        **arrays,
    }
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in members.items():
            if not _KEY.fullmatch(key):
                raise ValueError(f"router file array name {key!r} is not plain.")
            array = _writable(key, value)
            large = array.nbytes > 2**30
            with archive.open(key + ".npy", "w", force_zip64=large) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def read_router_file(path):
    """The metadata (a dict) and arrays (a dict of ndarrays) of a router file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    meta : dict
    arrays : dict of str to ndarray
        Read-only arrays.

    Raises
    ------
    RouterFileError
        For a file that is not a router file written by skroute, whatever is
        wrong with it.
    OSError
        When the file cannot be opened or read.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise not_a_router_file(path, f"{size:,} bytes; router files are smaller")
    with open(path, "rb") as raw:
        start = raw.read(4)
        if start[:1] == _PICKLE_MAGIC:
            raise RouterFileError(
                f"{path}: a pickle, not a skroute router file. Pickles can run code "
                "as they load, so skroute does not read them: refit the router "
                "(skroute fit --out router.npz), or, if you made this pickle "
                "yourself, load it in Python with pickle and save it with "
                "skroute.persistence.save_router."
            )
        if start != _ZIP_MAGIC:
            raise not_a_router_file(path, "not a zip of arrays")
        _check_directory(raw, size, path)
        raw.seek(0)
        try:
            with zipfile.ZipFile(raw) as archive:
                arrays = _read_members(archive, size, path)
        except (RouterFileError, KeyboardInterrupt):
            raise
        except MemoryError:
            raise MemoryError(f"out of memory reading {path}") from None
        except (RecursionError, zipfile.BadZipFile, EOFError) as exc:
            raise not_a_router_file(path, f"a damaged zip: {_brief(exc)}") from None
        except Exception as exc:
            # Whatever else the zip and numpy readers raise on a malformed file
            # (an OSError from a seek outside the file, an IndexError from a
            # header's dtype): the file is not a router file.
            raise not_a_router_file(path, _brief(exc)) from None
    return _meta(arrays, path), arrays


def _check_directory(raw, size, path):
    """Bound the zip's central directory before ``zipfile`` parses it."""
    tail = min(size, _END_RECORD.size + 65_535)
    raw.seek(size - tail)
    data = raw.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + _END_RECORD.size > len(data):
        raise not_a_router_file(path, "a damaged zip: no end record")
    fields = _END_RECORD.unpack_from(data, at)
    entries, directory_bytes = fields[4], fields[5]
    if entries > MAX_MEMBERS or directory_bytes > _MAX_DIRECTORY_BYTES:
        raise not_a_router_file(
            path,
            f"its zip directory lists {entries:,} members in {directory_bytes:,} bytes",
        )


def _read_members(archive, size, path):
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise not_a_router_file(path, f"{len(infos):,} members")
    total = 0
    for info in infos:
        name = info.filename
        if (
            len(name) > _MAX_NAME_CHARS
            or not name.endswith(".npy")
            or not _KEY.fullmatch(name[:-4])
        ):
            raise not_a_router_file(path, f"a member named {name[:80]!r}")
        if not 0 <= info.header_offset < size:
            raise not_a_router_file(path, f"member {name!r} lies outside the file")
        if info.flag_bits & 0x1:
            raise not_a_router_file(path, f"member {name!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            raise not_a_router_file(
                path, f"member {name!r} is compressed; router files are not"
            )
        if info.file_size != info.compress_size:
            raise not_a_router_file(path, f"member {name!r} has inconsistent sizes")
        total += info.file_size
    if total > size:
        raise not_a_router_file(
            path, f"its members claim {total:,} bytes in a file of {size:,}"
        )
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise not_a_router_file(path, "two members share a name")
    return {info.filename[:-4]: _read_array(archive, info, path) for info in infos}


def _read_array(archive, info, path):
    """One ``.npy`` member, its header checked before its data is read."""
    name = info.filename
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0
        else:
            raise not_a_router_file(path, f"member {name!r}: .npy version {version}")
        try:
            shape, fortran_order, dtype = header(
                member, max_header_size=_MAX_HEADER_BYTES
            )
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise not_a_router_file(
                path,
                f"member {name!r} has a malformed or oversized .npy header "
                f"({_brief(exc)})",
            ) from None
        _check_dtype(dtype, name, path)
        if len(shape) > _MAX_NDIM or any(n < 0 for n in shape):
            raise not_a_router_file(path, f"member {name!r} has shape {shape}")
        count = math.prod(int(n) for n in shape)
        expected = count * dtype.itemsize
        if expected != info.file_size - member.tell():
            raise not_a_router_file(
                path, f"member {name!r}: its header does not match its size"
            )
        data = member.read(expected)
    if len(data) != expected:
        raise not_a_router_file(path, f"member {name!r} is truncated")
    array = np.frombuffer(data, dtype=dtype)
    if dtype.kind == "U":
        _check_code_points(array, name, path)
    return array.reshape(shape, order="F" if fortran_order else "C")


def _check_code_points(array, name, path):
    """Text arrays hold characters: no code point beyond Unicode, no surrogate,
    no control character (they would break a one-line message or a CSV row)."""
    order = "<" if _little_endian(array.dtype) else ">"
    codes = array.view(order + "u4")
    bad = (codes > 0x10FFFF) | ((codes >= 0xD800) & (codes <= 0xDFFF))
    bad |= ((codes < 0x20) & (codes != 0)) | ((codes >= 0x7F) & (codes < 0xA0))
    if bad.any():
        raise not_a_router_file(path, f"member {name!r} holds invalid characters")


def _little_endian(dtype):
    """Whether a dtype's bytes are little-endian (native ones included)."""
    return dtype.byteorder == "<" or (dtype.byteorder in "=|" and np.little_endian)


def _brief(exc):
    """An exception's message on one line, cut short."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _check_dtype(dtype, name, path):
    plain = dtype.fields is None and dtype.subdtype is None and not dtype.hasobject
    if plain and dtype.kind == "U" and dtype.itemsize <= 4 * _MAX_TEXT_CHARS:
        return
    if plain and (dtype.kind, dtype.itemsize) in _NUMERIC:
        return
    raise not_a_router_file(path, f"member {name!r} has dtype {dtype}")


def _reject_constant(name):
    raise ValueError(f"the metadata holds {name}")


def _bounded_int(text):
    if len(text.lstrip("-")) > _MAX_JSON_DIGITS:
        raise ValueError(f"the metadata holds an integer of {len(text)} digits")
    return int(text)


def _meta(arrays, path):
    raw = arrays.pop("meta", None)
    if raw is None:
        raise not_a_router_file(path, "no metadata")
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
        raise not_a_router_file(path, "its metadata is not JSON text")
    try:
        meta = json.loads(
            raw.tobytes().decode("utf-8"),
            parse_constant=_reject_constant,
            parse_int=_bounded_int,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise not_a_router_file(
            path, f"its metadata is not JSON ({_brief(exc)})"
        ) from None
    if not isinstance(meta, dict):
        raise not_a_router_file(path, "its metadata is not a JSON object")
    return meta
