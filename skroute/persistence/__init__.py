"""Router files: fitted routers and Pipelines as data, never code.

:func:`save_router` writes a router, or a Pipeline of linear steps (and a
prompt embedder) ending with one, as a router file: arrays and JSON metadata
with a version, written atomically. :func:`load_router` reads it, checking
everything before use, into a router that routes with numpy alone; nothing in
the file runs. ``router.export(path)`` writes the same file for a router.

A whole fitted estimator (its diagnostics and nuisance models included) can
also be pickled with :mod:`pickle` or :mod:`joblib`, as for any scikit-learn
estimator: a pickle runs code as it loads, so load only pickles you made
yourself. skroute never unpickles a router file. A pickled router records the
skroute version that wrote it and warns with :class:`SkrouteVersionWarning`
when another version loads it.
"""

from skroute.persistence._files import load_router, save_router
from skroute.serving import ROUTER_FILE_FORMAT, RouterFileError

_PICKLE_NAMES = ("PERSISTENCE_FORMAT", "SkrouteVersionWarning")


def __getattr__(name):
    # The pickles' names load with scikit-learn; reading a router file needs
    # numpy alone, so they are imported on first use.
    if name in _PICKLE_NAMES:
        from skroute.utils import _versioned_state

        return getattr(_versioned_state, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PERSISTENCE_FORMAT",
    "ROUTER_FILE_FORMAT",
    "RouterFileError",
    "SkrouteVersionWarning",
    "load_router",
    "save_router",
]
