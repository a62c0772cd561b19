"""Writing a fitted router as plain arrays for :mod:`skroute.serving`."""

import json

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skroute.causal._outcome import _ConstantOutcome
from skroute.causal._ridge import RidgeOutcomeModel, ridge_arrays
from skroute.serving import EXPORT_FORMAT
from skroute.utils._safe_pickle import atomic_write


def _arm_arrays(models, role):
    arrays = {}
    for t, model in enumerate(models):
        prefix = f"{role}/{t}/"
        if isinstance(model, _ConstantOutcome):
            arrays[prefix + "value"] = np.float64(model.value)
        elif isinstance(model, RidgeOutcomeModel):
            arrays.update(
                {prefix + name: value for name, value in ridge_arrays(model).items()}
            )
        else:
            raise ValueError(
                f"export supports the default outcome models (RidgeOutcomeModel); "
                f"this router's {role} model is a {type(model).__name__}. Keep it "
                "as a pickle (skroute.utils.save_router) instead."
            )
    return arrays


def _linear_layers(modules, prefix, meta):
    import torch

    linears = [m for m in modules if isinstance(m, torch.nn.Linear)]
    meta[prefix + "n_layers"] = len(linears)
    return {
        **{
            f"{prefix}{k}/weight": layer.weight.detach().cpu().numpy()
            for k, layer in enumerate(linears)
        },
        **{
            f"{prefix}{k}/bias": layer.bias.detach().cpu().numpy()
            for k, layer in enumerate(linears)
        },
    }


def _causal(router, meta):
    deployed = getattr(router, "deployed_policy_", "network")
    if deployed == "direct_method":
        meta.update(policy="lines", proba="one_hot")
        arrays = _arm_arrays(router.fallback_reward_models_, "reward")
        if router.fallback_cost_models_ is not None:
            meta["has_cost"] = True
            arrays.update(_arm_arrays(router.fallback_cost_models_, "cost"))
        return arrays
    if deployed == "best_single":
        values = (router.classes_ == router.fallback_model_).astype(np.float64)
        meta.update(policy="constant", proba="one_hot")
        return {"values": values}
    module = router.net_.module_
    meta.update(
        policy="mlp",
        proba="softmax",
        proba_factor=1.0 / router.temperature,
        n_members=len(module.members),
    )
    arrays = {
        "shift": module.shift.cpu().numpy(),
        "scale": module.scale.cpu().numpy(),
    }
    for m, member in enumerate(module.members):
        arrays.update(_linear_layers(member.layers, f"member/{m}/layers/", meta))
    return arrays


def _interval(router, meta):
    grid = router.cost_grid_
    meta.update(
        range=[float(grid[0]), float(grid[-1])], out_of_range=router.out_of_range
    )
    deployed = getattr(router, "deployed_policy_", "network")
    if deployed == "best_single":
        quality, cost = router.fallback_lines_
        meta.update(policy="constant_lines", proba="one_hot")
        return {"quality": quality, "cost": cost}
    if deployed == "network" and router._heads() != "quality":
        raise ValueError(
            f"export supports the interval router's default heads ('quality'); "
            f"this one has heads={router._heads()!r}. Keep it as a pickle "
            "(skroute.utils.save_router) instead."
        )
    arrays = _arm_arrays(router.reward_models_, "reward")
    if router.cost_models_ is not None:
        meta["has_cost"] = True
        arrays.update(_arm_arrays(router.cost_models_, "cost"))
    if deployed == "direct_method":
        meta.update(policy="lines", proba="one_hot")
        return arrays
    module = router.net_.module_
    scale = float(getattr(router, "training_scale_", 1.0))
    sharpness = float(module.sharpness().detach())
    meta.update(
        policy="corrected_lines",
        proba="softmax",
        proba_factor=sharpness / scale / router.temperature,
        training_scale=scale,
        n_members=len(module.members),
    )
    arrays["shift"] = module.shift.cpu().numpy()
    arrays["scale"] = module.scale.cpu().numpy()
    for m, member in enumerate(module.members):
        arrays.update(_linear_layers(member.trunk, f"member/{m}/trunk/", meta))
        arrays[f"member/{m}/quality/weight"] = member.quality.weight.detach().numpy()
        arrays[f"member/{m}/quality/bias"] = member.quality.bias.detach().numpy()
        arrays[f"member/{m}/log_sharpness"] = member.log_sharpness.detach().numpy()
    return arrays


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
    from skroute.routers._causal import CausalRouterClassifier
    from skroute.routers._interval import IntervalCostRouter

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
        arrays = _interval(router, meta)
    elif isinstance(router, CausalRouterClassifier):
        arrays = _causal(router, meta)
    elif isinstance(router, DecoupledRouter):
        meta.update(policy="lines", proba="one_hot")
        arrays = _arm_arrays(router.reward_models_, "reward")
        if router.cost_models_ is not None:
            meta["has_cost"] = True
            arrays.update(_arm_arrays(router.cost_models_, "cost"))
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
