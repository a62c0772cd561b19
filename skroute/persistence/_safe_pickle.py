"""Saving routers atomically, and loading them without running a file's code.

A pickle names the functions its loader must call, so a file from someone
else can run anything: ``pickle.load`` trusts the file. ``load_router``
does not: its unpickler resolves only the classes a saved router is made of
(skroute's, scikit-learn's estimators, skorch's, torch's modules, tensors and
optimisers, numpy arrays) and a short list of rebuild functions, and refuses
any other name before anything is called. ``trusted=True`` loads a file as
``pickle`` would.
"""

import importlib
import io
import pickle
from pathlib import Path

from skroute.utils._atomic_write import atomic_write
from skroute.utils._restricted_loading import restricted_loading

# Packages whose classes a router is made of (their functions are not allowed).
_CLASS_PACKAGES = ("skroute", "sklearn", "skorch", "scipy.sparse")
# Submodules whose classes are not needed and could touch files or run code.
_DENIED_MODULES = (
    "sklearn.utils._testing",
    "skroute.cli",
    "skorch.hf",
    "skorch.llm",
)
# Functions a pickled router needs, by module.
_FUNCTIONS = {
    "builtins": {"print"},
    "copyreg": {"_reconstructor"},
    "functools": {"partial"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.numeric": {"_frombuffer"},
    "numpy.core.numeric": {"_frombuffer"},
    "numpy.random._pickle": {
        "__randomstate_ctor",
        "__bit_generator_ctor",
        "__generator_ctor",
    },
    "torch._utils": {
        "_rebuild_tensor",
        "_rebuild_tensor_v2",
        "_rebuild_parameter",
        "_rebuild_parameter_with_state",
    },
    "torch._tensor": {"_rebuild_from_type_v2"},
    "skorch.setter": {"optimizer_setter"},
}
_BUILTIN_TYPES = {
    "set",
    "frozenset",
    "slice",
    "complex",
    "bytearray",
    "range",
    "object",
    "dict",
    "list",
    "tuple",
}


class UnsafePickleError(pickle.UnpicklingError):
    """A file asked for a name that a saved router never holds."""


def _storage_loader(map_location):
    def load(data):
        """A torch storage pickled by value, read by torch's weights-only loader."""
        import torch

        return torch.load(
            io.BytesIO(data), weights_only=True, map_location=map_location
        )

    return load


def _is_allowed_class(module, obj):
    if not isinstance(obj, type):
        return False
    if module == "builtins":
        return obj.__name__ in _BUILTIN_TYPES
    if module == "collections":
        return True
    if module.startswith("numpy"):
        import numpy as np

        if issubclass(obj, np.memmap):
            return False
        return issubclass(obj, (np.ndarray, np.generic, np.dtype)) or (
            module.startswith("numpy.random")
        )
    if module.startswith("torch"):
        import torch

        return (
            issubclass(obj, (torch.nn.Module, torch.Tensor, torch.optim.Optimizer))
            or obj in (torch.device, torch.Size, torch.dtype)
            or obj in (torch.utils.data.DataLoader, torch.utils.data.Dataset)
        )
    if any(module == d or module.startswith(d + ".") for d in _DENIED_MODULES):
        return False
    return any(module == p or module.startswith(p + ".") for p in _CLASS_PACKAGES)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the names a saved router is made of.

    Parameters
    ----------
    file : binary file
    map_location : str or torch.device, default="cpu"
        Where torch storages pickled by value are loaded.
    """

    def __init__(self, file, map_location="cpu"):
        super().__init__(file)
        self.map_location = map_location

    def find_class(self, module, name):
        if module == "torch.storage" and name == "_load_from_bytes":
            return _storage_loader(self.map_location)
        refused = UnsafePickleError(
            f"the file asks for {module}.{name}, which a router saved by skroute "
            "never holds: loading it could run code from the file"
        )
        if module.startswith("joblib."):
            raise UnsafePickleError(
                f"the file asks for {module}.{name}: it was written by joblib.dump "
                "(as skroute fit did before 0.1), whose arrays this loader does not "
                "read; if the file is yours, load it trusted and save it again "
                "with save_router"
            )
        if "." in name or (name.startswith("__") and module != "numpy.random._pickle"):
            raise refused
        allowed_function = name in _FUNCTIONS.get(module, ())
        top = module.split(".")[0]
        if not allowed_function and top not in (
            "builtins",
            "collections",
            "numpy",
            "torch",
            *(p.split(".")[0] for p in _CLASS_PACKAGES),
        ):
            raise refused
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise UnsafePickleError(
                f"the file asks for {module}.{name}, which this environment does "
                "not have"
            ) from exc
        if allowed_function:
            return obj
        if top == "torch":
            import torch

            if isinstance(obj, torch.dtype):
                return obj
        if _is_allowed_class(module, obj):
            return obj
        raise refused


def safe_loads(data):
    """Unpickle bytes with :class:`SafeUnpickler`, nets included."""
    # The nets of the routers then load their torch state through it too.
    with restricted_loading(SafeUnpickler):
        return SafeUnpickler(io.BytesIO(data)).load()


def load_router(path, *, trusted=False):
    """Load a router saved with :func:`save_router` (or pickled).

    Parameters
    ----------
    path : str or Path
        The file written by :func:`save_router` (or ``skroute fit``).
    trusted : bool, default=False
        Without it, the file is read by an unpickler that resolves only the
        classes a router is made of and a few rebuild functions; a file that
        asks for anything else (as a file crafted to run code must) is
        refused before anything in it runs. With it, the file is loaded as
        ``pickle.load`` (or joblib) would: do so only for files you trust.

    Returns
    -------
    router : BaseRouter

    Raises
    ------
    ValueError
        For a file that is not a router, a truncated file, or (untrusted) a
        file that asks for names a router never holds.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.persistence import load_router, save_router
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> save_router(router, folder / "router.pkl")
    >>> loaded = load_router(folder / "router.pkl")
    >>> loaded
    DecoupledRouter(cost_sensitivity=0.05)
    >>> bool((loaded.predict(logs.X) == router.predict(logs.X)).all())
    True

    A pickle that names a function a router never holds is refused before
    anything in it runs (here ``shutil.rmtree``, which is not called):

    >>> import pickle, shutil
    >>> _ = (folder / "other.pkl").write_bytes(pickle.dumps(shutil.rmtree))
    >>> try:
    ...     load_router(folder / "other.pkl")
    ... except ValueError as exc:
    ...     message = str(exc)
    >>> print(message[message.index("refused"):])  # doctest: +ELLIPSIS
    refused: the file asks for shutil.rmtree, which a router saved by skroute ...
    """
    from skroute.routers._base import BaseRouter

    path = Path(path)
    data = path.read_bytes()
    try:
        if trusted:
            import joblib

            router = joblib.load(path)
        else:
            router = safe_loads(data)
    except UnsafePickleError as exc:
        raise ValueError(
            f"{path}: refused: {exc}. Load it with trusted=True (skroute "
            "--trust-pickle) only if you trust where it comes from."
        ) from None
    except (pickle.UnpicklingError, EOFError, IndexError, KeyError, TypeError) as exc:
        hint = "" if trusted else " (a joblib file needs trusted=True)"
        raise ValueError(
            f"{path}: not a readable router file ({type(exc).__name__}: {exc})"
            f"{hint}; save routers with skroute.persistence.save_router or skroute fit."
        ) from None
    if not isinstance(router, BaseRouter):
        raise ValueError(
            f"{path}: holds a {type(router).__name__}, not a skroute router saved "
            "by `skroute fit`."
        )
    return router


def save_router(router, path):
    """Save a router to ``path``, atomically.

    The pickle is written to a temporary file in the same folder, flushed to
    disk, then renamed over ``path``: an interruption or a full disk leaves
    any previous file at ``path`` as it was, and the temporary file is
    removed (a process killed outright can leave a ``.skroute-*.tmp`` file
    beside it, never a partial ``path``).

    Parameters
    ----------
    router : BaseRouter
        The router to save, fitted or not.
    path : str or Path
        The file to write; read it back with :func:`load_router`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.persistence import load_router, save_router
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.pkl"
    >>> save_router(router, path)
    >>> sorted(p.name for p in path.parent.iterdir())
    ['router.pkl']
    >>> loaded = load_router(path)
    >>> bool((loaded.predict(logs.X) == router.predict(logs.X)).all())
    True
    """
    atomic_write(
        path,
        lambda file: pickle.dump(router, file, protocol=pickle.HIGHEST_PROTOCOL),
    )
