"""Warnings located at the user's line, not inside skroute or the libraries it calls."""

import sys
import warnings

# Packages whose frames sit between a user's call and a skroute warning: a
# router's fit runs under scikit-learn's and joblib's wrappers, and its
# training under skorch's and torch's.
_INTERNAL = {
    "skroute",
    "sklearn",
    "joblib",
    "skorch",
    "torch",
    "numpy",
    "scipy",
    "pandas",
    "threadpoolctl",
    "contextlib",
    "functools",
    "concurrent",
    "threading",
}


def warn_at_caller(message, category):
    """Emit a warning located at the first frame outside skroute's call chain.

    ``warnings.warn`` with a fixed ``stacklevel`` points wherever the call
    chain happens to be that deep (a scikit-learn wrapper, or ``sys:1`` when
    it is shorter); this walks the stack to the user's own line instead. In a
    worker thread, whose stack holds no user frame, it points at the direct
    caller.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module.split(".")[0] not in _INTERNAL:
            warnings.warn(message, category, stacklevel=level)
            return
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=2)
