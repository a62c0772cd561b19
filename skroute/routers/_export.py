"""Writing a fitted router as plain arrays for :mod:`skroute.serving`."""

import json

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skroute.serving import EXPORT_FORMAT
from skroute.utils import atomic_write, skroute_version


def export_router(router, path, *, cost_sensitivity=None, budget_mixture=None):
    """Write ``router`` to ``path`` as a ``.npz`` of arrays and JSON metadata.

    ``cost_sensitivity`` replaces the router's default ``lambda`` in the file,
    and ``budget_mixture`` (a dict of ``low``, ``high`` and
    ``high_probability``) is the mixture that serving follows without one:
    a budget's choices, kept out of the router's own state.
    """
    check_is_fitted(router)
    meta = {
        "format": EXPORT_FORMAT,
        "skroute_version": skroute_version(),
        "router": type(router).__name__,
        "n_features": int(router.n_features_in_),
        "cost_sensitivity": float(getattr(router, "cost_sensitivity", 0.0)),
    }
    if cost_sensitivity is not None:
        meta["cost_sensitivity"] = float(cost_sensitivity)
    if budget_mixture is not None:
        meta["budget_mixture"] = {
            key: float(budget_mixture[key])
            for key in ("low", "high", "high_probability")
        }
    arrays = router._export_arrays(meta)
    classes = np.asarray(router.classes_)
    if classes.dtype.kind == "O":
        classes = classes.astype(str)
    arrays["classes"] = classes
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda file: np.savez(file, **arrays))
