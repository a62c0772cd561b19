"""Which unpickler a restricted load asks nested pickled state to go through.

:func:`skroute.persistence.load_router` reads a file with an unpickler that
resolves only the names a router is made of. A policy net keeps its torch
state as nested pickled bytes that its own ``__setstate__`` reads; it asks
here for the unpickler of the load in progress, so that the nested state goes
through the same restricted one while the layers below persistence never
import it.
"""

import contextlib
import contextvars

_RESTRICTED_UNPICKLER = contextvars.ContextVar(
    "skroute_restricted_unpickler", default=None
)


def restricted_unpickler():
    """The unpickler class of the restricted load in progress; None outside one."""
    return _RESTRICTED_UNPICKLER.get()


@contextlib.contextmanager
def restricted_loading(unpickler):
    """Within the block, nested pickled state is read by ``unpickler`` (a class).

    The class is called as ``unpickler(file, map_location=...)``.
    """
    token = _RESTRICTED_UNPICKLER.set(unpickler)
    try:
        yield
    finally:
        _RESTRICTED_UNPICKLER.reset(token)
