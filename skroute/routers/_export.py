"""Writing a fitted router as plain arrays for :mod:`skroute.serving`."""

import json

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skroute.routers._deployed import _outcome_arrays
from skroute.serving import EXPORT_FORMAT
from skroute.utils import atomic_write


def _interval_meta(router, meta):
    grid = router.cost_grid_
    meta.update(
        range=[float(grid[0]), float(grid[-1])], out_of_range=router.out_of_range
    )


def export_router(router, path, *, cost_sensitivity=None, budget_mixture=None):
    """Write ``router`` to ``path`` as a ``.npz`` of arrays and JSON metadata.

    ``cost_sensitivity`` replaces the router's default ``lambda`` in the file,
    and ``budget_mixture`` (a dict of ``low``, ``high`` and
    ``high_probability``) is the mixture that serving follows without one:
    a budget's choices, kept out of the router's own state.
    """
    from skroute import __version__
    from skroute.routers._baselines import (
        BestSingleModelRouter,
        DecoupledRouter,
        RandomRouter,
    )
    from skroute.routers._interval import IntervalCostRouter
    from skroute.routers._neural import NeuralRouter

    check_is_fitted(router)
    meta = {
        "format": EXPORT_FORMAT,
        "skroute_version": __version__,
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
    if isinstance(router, IntervalCostRouter):
        _interval_meta(router, meta)
    if isinstance(router, NeuralRouter):
        arrays = router.deployed_.to_arrays(meta, router.temperature)
    elif isinstance(router, DecoupledRouter):
        meta.update(policy="lines", proba="one_hot")
        arrays = _outcome_arrays(router.reward_models_, router.cost_models_, meta)
    elif isinstance(router, BestSingleModelRouter):
        meta.update(policy="constant", proba="one_hot")
        arrays = {"values": np.asarray(router.model_values_, dtype=np.float64)}
    elif isinstance(router, RandomRouter):
        meta.update(policy="hash", proba="one_hot")
        arrays = {"hash_multipliers": router.hash_multipliers_}
    else:
        raise TypeError(f"cannot export a {type(router).__name__}.")
    classes = np.asarray(router.classes_)
    if classes.dtype.kind == "O":
        classes = classes.astype(str)
    arrays["classes"] = classes
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda file: np.savez(file, **arrays))
