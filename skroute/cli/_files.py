"""The files a command reads and writes, checked before any work starts."""

from pathlib import Path


def _same_file(first, second):
    """Whether two paths name one file (through links too), or would."""
    first, second = Path(first), Path(second)
    try:
        if first.resolve() == second.resolve():
            return True
        return first.exists() and second.exists() and first.samefile(second)
    except OSError:
        return False


def check_outputs(outputs, inputs):
    """Refuse outputs that would destroy an input or each other, or cannot be written.

    Parameters
    ----------
    outputs : dict of str to path
        What each output is called on the command line (``"--out"``) to the
        file it names.
    inputs : dict of str to path or None
        The same for the inputs (None entries are skipped).

    Raises
    ------
    ValueError
        Naming the option, the file and what is wrong.
    """
    inputs = {what: path for what, path in inputs.items() if path is not None}
    seen = {}
    for option, path in outputs.items():
        path = Path(path)
        for what, source in inputs.items():
            if _same_file(path, source):
                raise ValueError(
                    f"{option} {path} is {what}: writing there would destroy it; "
                    "choose another path."
                )
        for other, earlier in seen.items():
            if _same_file(path, earlier):
                raise ValueError(
                    f"{option} {path} is also {other}'s file; give them different "
                    "paths."
                )
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise ValueError(f"{option} {path}: no folder {folder}; create it first.")
        if path.is_dir():
            raise ValueError(f"{option} {path} is a folder; give a file path.")
        seen[option] = path


def find_embeddings(table_path):
    """The ``.npy`` embeddings beside a table: ``<stem>_emb*.npy``, or the only one."""
    folder, stem = table_path.parent, table_path.stem
    named = sorted(folder.glob(f"{stem}_emb*.npy"))
    candidates = named or sorted(folder.glob("*.npy"))
    if len(candidates) != 1:
        raise ValueError(
            f"{table_path}: cannot tell which embeddings to use "
            f"({len(candidates)} .npy files beside it); pass --embeddings PATH."
        )
    return candidates[0]
