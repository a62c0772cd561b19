"""A fitted router as the metadata and arrays of a router file."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skroute.serving._file import ROUTER_FILE_FORMAT, dump_router_file
from skroute.utils import atomic_write, skroute_version


def router_payload(router, *, cost_sensitivity=None, budget_mixture=None):
    """The metadata (a dict) and arrays of ``router``'s router file.

    ``cost_sensitivity`` replaces the router's fitted ``lambda`` in the file,
    and ``budget_mixture`` (a dict of ``low``, ``high`` and
    ``high_probability``) is the mixture that serving follows without one:
    a budget's choices, kept out of the router's own state.
    """
    check_is_fitted(router)
    meta = {
        "format": ROUTER_FILE_FORMAT,
        "skroute_version": skroute_version(),
        "router": type(router).__name__,
        "n_features": int(router.n_features_in_),
        "cost_sensitivity": float(router.cost_sensitivity_),
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
    if classes.dtype.kind not in "Uiub":
        classes = classes.astype(str)
    arrays["classes"] = classes
    names = getattr(router, "feature_names_in_", None)
    if names is not None:
        arrays["feature_names"] = np.asarray(names).astype(str)
    return meta, arrays


def write_router_file(path, meta, arrays):
    """Write a router file atomically (a temporary file renamed over ``path``)."""
    atomic_write(path, lambda file: dump_router_file(file, meta, arrays))


def export_router(router, path, **options):
    """Write ``router``'s router file to ``path`` (see :func:`router_payload`)."""
    write_router_file(path, *router_payload(router, **options))
