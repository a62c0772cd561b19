"""Writing a file atomically: a temporary file beside it, renamed over it."""

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it.

    The file is flushed to disk before the rename: an interruption or a full
    disk leaves any previous file at ``path`` as it was, and the temporary
    file is removed (a process killed outright can leave a
    ``.skroute-<name>-*.tmp`` file beside it, never a partial ``path``).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{path}: no folder {folder} to write in.")
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".skroute-{path.name}-", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private; give it the permissions of a new file.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError) and exc.filename != str(path):
            # The error names the file the user asked for, not the temporary.
            raise OSError(
                exc.errno, f"{exc.strerror or exc} (nothing written)", str(path)
            ) from exc
        raise
