"""What a fitted router deploys: one class per kind of policy.

A fitted router's ``deployed_`` is one of these. ``predict``,
``predict_proba``, ``decision_function``, the routing path and the export
all go through it, so that what a kind of policy means is written once, in
its class:

- :class:`NetworkPolicy`: the mean of the policy networks of the folds;
- :class:`IntervalNetworkPolicy`: the same for a range of cost sensitivities;
- :class:`DirectMethodPolicy`: argmax of the outcome models' utility;
- :class:`BestSinglePolicy`: one model for every query;
- :class:`HashPolicy`: a model drawn per query by a hash of its features.

Each has ``scores(X, cost_sensitivity)`` (the candidates' scores, higher
preferred), ``proba(scores, temperature)``, ``lines(X)`` (the quality and
cost of which the scores are ``quality - lambda cost``, or None) and
``to_arrays(meta, temperature)``, what :func:`skroute.serving.load_exported`
reads back.
"""

import numpy as np
import torch
from scipy.special import softmax

from skroute._net import interpolate_scores
from skroute.causal._direct_method import outcome_lines
from skroute.causal._outcome import _ConstantOutcome
from skroute.causal._ridge import RidgeOutcomeModel, ridge_arrays
from skroute.utils import SkrouteVersionWarning
from skroute.utils._warnings import warn_at_caller

# Prediction runs the float32 module on blocks of exactly this many rows (the
# last one zero-padded): every row then goes through the same matrix-product
# path whatever the number of rows passed, so a query's scores do not depend
# on the batch it comes in.
_PREDICT_BLOCK = 2048


def _per_row(cost_sensitivity):
    """``lambda`` shaped to multiply an (n, T) matrix: a scalar or a column."""
    values = np.asarray(cost_sensitivity, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values


def _one_hot(scores):
    proba = np.zeros(scores.shape)
    proba[np.arange(scores.shape[0]), np.argmax(scores, axis=1)] = 1.0
    return proba


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
                "as a pickle, for trusted use only, instead."
            )
    return arrays


def _outcome_arrays(reward_models, cost_models, meta):
    arrays = _arm_arrays(reward_models, "reward")
    if cost_models is not None:
        meta["has_cost"] = True
        arrays.update(_arm_arrays(cost_models, "cost"))
    return arrays


def _linear_layers(modules, prefix, meta):
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


def _module_outputs(net, inputs, n_outputs):
    """Float64 outputs of ``net``'s module on ``inputs(start, rows)`` by fixed blocks.

    ``inputs`` returns the module's keyword arguments for one block of
    ``_PREDICT_BLOCK`` rows (zero-padded) starting at ``start``, of which
    ``rows`` are real; the module is called directly, without skorch's
    per-batch copies.
    """
    module = net.module_.eval()
    n_samples = inputs.n_samples
    outputs = []
    with torch.inference_mode():
        for start in range(0, n_samples, _PREDICT_BLOCK):
            rows = min(_PREDICT_BLOCK, n_samples - start)
            scores = module(**inputs(start, rows, net.device))
            outputs.append(scores[:rows].cpu().to(torch.float64).numpy())
    if not outputs:
        return np.empty((0, *n_outputs))
    # Not checked to be finite here: the router checks the scores it makes of
    # these, and names the rows of its caller's X.
    return np.concatenate(outputs)


class _Blocks:
    """Fixed blocks of ``X`` as float32 tensors, with optional per-row inputs."""

    def __init__(self, X, n_classes=None, quality_line=None):
        self.X = X
        self.n_samples = X.shape[0]
        self.n_classes = n_classes
        self.quality_line = quality_line

    def __call__(self, start, rows, device):
        block = np.zeros((_PREDICT_BLOCK, self.X.shape[1]), dtype=np.float32)
        block[:rows] = self.X[start : start + rows]
        inputs = {"features": torch.from_numpy(block).to(device)}
        if self.n_classes is None:
            return inputs
        zeros = torch.zeros((_PREDICT_BLOCK, self.n_classes), device=device)
        line = zeros.clone()
        if self.quality_line is not None:
            line[:rows] = torch.from_numpy(
                self.quality_line[start : start + rows].astype(np.float32)
            )
        return {**inputs, "cost_line": zeros, "quality_line": line}


class DeployedPolicy:
    """Base of the deployed policies: deterministic, scores ``quality - lambda
    cost`` where ``lines`` gives them."""

    #: What the policy is, in a word; a neural router's ``deployed_policy_``.
    name = None
    #: Whether the policy was learned (a network) rather than a simple policy.
    learned = False

    def lines(self, X):
        """``(quality, cost)`` per row and candidate, or None where the scores
        are not affine in ``lambda``."""
        return None

    def scores(self, X, cost_sensitivity):
        """Scores of every candidate on ``X`` at ``cost_sensitivity`` (a number
        or one per row)."""
        quality, cost = self.lines(X)
        return quality - _per_row(cost_sensitivity) * cost

    def proba(self, scores, temperature):
        """Routing probabilities from ``scores``: all mass on the best.

        ``temperature`` is the router's, which a learned policy's softmax
        divides by (read when called: ``set_params`` may change it).
        """
        return _one_hot(scores)

    def to_arrays(self, meta, temperature):
        """Arrays of the export; adds what serving needs to ``meta``."""
        raise NotImplementedError


class BestSinglePolicy(DeployedPolicy):
    """One model for every query: constant scores (and costs, where given).

    Parameters
    ----------
    values : ndarray of shape (n_classes,)
        The candidates' scores (their mean quality, with ``cost``).
    cost : ndarray of shape (n_classes,), default=None
        Their mean cost, for scores ``values - lambda cost``; without it, the
        scores are ``values`` at every ``lambda``.
    """

    name = "best_single"

    def __init__(self, values, cost=None):
        self.values = values
        self.cost = cost

    def lines(self, X):
        shape = (X.shape[0], self.values.size)
        cost = np.zeros(self.values.size) if self.cost is None else self.cost
        return np.broadcast_to(self.values, shape), np.broadcast_to(cost, shape)

    def scores(self, X, cost_sensitivity):
        if self.cost is None:
            return np.broadcast_to(self.values, (X.shape[0], self.values.size)).copy()
        return super().scores(X, cost_sensitivity)

    def to_arrays(self, meta, temperature):
        meta["proba"] = "one_hot"
        if self.cost is None:
            meta["policy"] = "constant"
            return {"values": np.asarray(self.values, dtype=np.float64)}
        meta["policy"] = "constant_lines"
        return {"quality": self.values, "cost": self.cost}


class DirectMethodPolicy(DeployedPolicy):
    """argmax of the outcome models' ``quality - lambda cost``.

    Parameters
    ----------
    reward_models, cost_models : list
        Per-candidate quality and cost models (``cost_models`` None without
        cost).
    """

    name = "direct_method"

    def __init__(self, reward_models, cost_models):
        self.reward_models = reward_models
        self.cost_models = cost_models

    def lines(self, X):
        quality, cost = outcome_lines(self.reward_models, self.cost_models, X)
        return quality, np.zeros_like(quality) if cost is None else cost

    def scores(self, X, cost_sensitivity):
        quality, cost = outcome_lines(self.reward_models, self.cost_models, X)
        if cost is None:
            return quality
        return quality - _per_row(cost_sensitivity) * cost

    def to_arrays(self, meta, temperature):
        meta.update(policy="lines", proba="one_hot")
        return _outcome_arrays(self.reward_models, self.cost_models, meta)


class HashPolicy(DeployedPolicy):
    """A model drawn per query by a seeded hash of its features.

    Parameters
    ----------
    multipliers : ndarray of uint64, shape (n_features,)
        Odd multipliers of the hash, one per feature.
    n_classes : int
    """

    name = "random"

    def __init__(self, multipliers, n_classes):
        self.multipliers = multipliers
        self.n_classes = n_classes

    def scores(self, X, cost_sensitivity):
        bits = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64)
        with np.errstate(over="ignore"):
            h = (bits * self.multipliers).sum(axis=1, dtype=np.uint64)
            h ^= h >> np.uint64(33)
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
        chosen = (h % np.uint64(self.n_classes)).astype(np.intp)
        scores = np.zeros((X.shape[0], self.n_classes))
        scores[np.arange(X.shape[0]), chosen] = 1.0
        return scores

    def to_arrays(self, meta, temperature):
        meta.update(policy="hash", proba="one_hot")
        return {"hash_multipliers": self.multipliers}


class NetworkPolicy(DeployedPolicy):
    """The mean of the folds' policy networks; ``softmax(g / temperature)``.

    Parameters
    ----------
    net : RegretNet
        The fitted skorch net of a :class:`~skroute._net.PolicyEnsemble`.
    n_classes : int
    """

    name = "network"
    learned = True

    def __init__(self, net, n_classes):
        self.net = net
        self.n_classes = n_classes

    def scores(self, X, cost_sensitivity):
        return _module_outputs(self.net, _Blocks(X), (self.n_classes,))

    def proba(self, scores, temperature):
        # Shifted by the row maximum before the temperature divides them, so
        # that a small temperature cannot overflow: the best score becomes 0.
        shifted = scores - scores.max(axis=1, keepdims=True)
        return softmax(shifted / temperature, axis=1)

    def to_arrays(self, meta, temperature):
        module = self.net.module_
        meta.update(
            policy="mlp",
            proba="softmax",
            proba_factor=1.0 / temperature,
            n_members=len(module.members),
        )
        arrays = {
            "shift": module.shift.cpu().numpy(),
            "scale": module.scale.cpu().numpy(),
        }
        for m, member in enumerate(module.members):
            arrays.update(_linear_layers(member.layers, f"member/{m}/layers/", meta))
        return arrays


class _CorrectedNetworkPolicy(NetworkPolicy):
    """A network whose scores correct the outcome models' lines, in units of
    utility: what the interval router's ``"quality"`` heads and the anchored
    causal router share (their sharpness, their softmax, their export as
    ``"corrected_lines"``, read by serving).

    Parameters
    ----------
    net : skorch NeuralNet
    n_classes : int
    training_scale : float
        The power of two the pseudo-outcomes were divided by in training.
    reward_models, cost_models : list
        The outcome models (``cost_models`` None without cost).
    """

    def __init__(self, net, n_classes, *, training_scale, reward_models, cost_models):
        super().__init__(net, n_classes)
        self.training_scale = training_scale
        self.reward_models = reward_models
        self.cost_models = cost_models

    def _sharpness(self):
        return float(self.net.module_.sharpness().detach())

    def _outcome_lines(self, X):
        return DirectMethodPolicy(self.reward_models, self.cost_models).lines(X)

    def proba(self, scores, temperature):
        # The scores are in units of utility; the policy the surrogate trained
        # is the softmax of the module's outputs.
        factor = self._sharpness() / self.training_scale
        return super().proba(scores * factor, temperature)

    def to_arrays(self, meta, temperature):
        # The outcome models and every member's correction.
        arrays = _outcome_arrays(self.reward_models, self.cost_models, meta)
        module = self.net.module_
        meta.update(
            policy="corrected_lines",
            proba="softmax",
            proba_factor=self._sharpness() / self.training_scale / temperature,
            training_scale=self.training_scale,
            n_members=len(module.members),
        )
        arrays["shift"] = module.shift.cpu().numpy()
        arrays["scale"] = module.scale.cpu().numpy()
        for m, member in enumerate(module.members):
            prefix = f"member/{m}/"
            arrays.update(_linear_layers(member.trunk, prefix + "trunk/", meta))
            # An anchored member scales its correction by a constant unit; the
            # file holds the scaled layer, which serving reads as the interval
            # network's correction.
            unit = float(getattr(member, "unit", 1.0))
            for name, tensor, factor in (
                ("quality/weight", member.quality.weight, unit),
                ("quality/bias", member.quality.bias, unit),
                ("log_sharpness", member.log_sharpness, 1.0),
            ):
                arrays[prefix + name] = tensor.detach().cpu().numpy() * factor
        return arrays


class IntervalNetworkPolicy(_CorrectedNetworkPolicy):
    """The folds' interval networks: scores at any ``lambda`` of a grid's range.

    With ``"quality"`` heads the scores are the network's quality score
    against the cost model's predicted cost; with ``"affine"`` heads both
    are the network's; ``"independent"`` heads are interpolated between the
    grid's points and are not lines.

    Parameters
    ----------
    net : IntervalRegretNet
        The fitted skorch net of an :class:`~skroute._net.IntervalEnsemble`.
    n_classes : int
    grid : ndarray of shape (n_points,)
    training_scale : float
        The power of two the pseudo-outcomes were divided by in training.
    reward_models, cost_models : list
        The outcome models (the ``"quality"`` heads' lines).
    """

    def __init__(
        self,
        net,
        n_classes,
        *,
        grid,
        training_scale,
        reward_models,
        cost_models,
    ):
        super().__init__(
            net,
            n_classes,
            training_scale=training_scale,
            reward_models=reward_models,
            cost_models=cost_models,
        )
        self.grid = grid

    @property
    def heads(self):
        return self.net.module_.heads

    def _endpoints(self, X, quality_line=None):
        """The module's endpoint scores (float64, scaled units), with no cost line
        (and the quality line given, scaled)."""
        blocks = _Blocks(X, self.n_classes, quality_line)
        return _module_outputs(self.net, blocks, (self.grid.size, self.n_classes))

    def lines(self, X):
        scale = self.training_scale
        if self.heads == "quality":
            # With no cost line, every endpoint is the sharpened quality score.
            quality, cost = self._outcome_lines(X)
            quality = self._endpoints(X, quality / scale)[:, 0, :]
            return quality * (scale / self._sharpness()), cost
        if self.heads == "affine":
            endpoints = self._endpoints(X) * scale
            low, high = self.grid[0], self.grid[-1]
            cost = (endpoints[:, 0] - endpoints[:, -1]) / (high - low)
            return endpoints[:, 0] + low * cost, cost
        return None

    def endpoint_scores(self, X):
        """Scores at the grid points, (n, K + 1, T), in units of utility."""
        lines = self.lines(X)
        if lines is None:
            return self._endpoints(X) * self.training_scale
        quality, cost = lines
        grid = self.grid[None, :, None]
        return quality[:, None, :] - grid * cost[:, None, :]

    def scores(self, X, cost_sensitivity):
        lines = self.lines(X)
        if lines is not None:
            quality, cost = lines
            return quality - _per_row(cost_sensitivity) * cost
        return self.interpolated(self.endpoint_scores(X), cost_sensitivity)

    def interpolated(self, endpoint_scores, cost_sensitivity):
        """Scores at ``cost_sensitivity`` (a number or one per row), linear between
        the grid's points, from the :meth:`endpoint_scores` of the rows."""
        values = np.broadcast_to(
            np.asarray(cost_sensitivity, dtype=np.float64), endpoint_scores.shape[:1]
        )
        return interpolate_scores(
            torch.from_numpy(endpoint_scores),
            torch.from_numpy(self.grid),
            torch.from_numpy(np.ascontiguousarray(values)),
        ).numpy()

    def to_arrays(self, meta, temperature):
        if self.heads != "quality":
            raise ValueError(
                f"export supports the interval router's default heads ('quality'); "
                f"this one has heads={self.heads!r}. Keep it as a pickle, for "
                "trusted use only, instead."
            )
        return super().to_arrays(meta, temperature)


class AnchoredNetworkPolicy(_CorrectedNetworkPolicy):
    """The direct method's utilities plus the folds' learned correction.

    The scores are ``q(x) + d(x) - lambda c(x)``: the outcome models' quality
    and cost lines, with ``d`` the members' corrections averaged with their
    sharpness as weights, in units of utility. At the fitted ``lambda`` they
    rank the models as the ensemble of :class:`~skroute._net.AnchoredEnsemble`
    does.

    Parameters
    ----------
    net : RegretNet
        The fitted skorch net of an :class:`~skroute._net.AnchoredEnsemble`.
    n_classes : int
    training_scale : float
        The power of two the pseudo-outcomes were divided by in training.
    reward_models, cost_models : list
        The outcome models (``cost_models`` None without cost).
    """

    def lines(self, X):
        quality, cost = self._outcome_lines(X)
        # With no utility line, the module's scores are the sharpened correction.
        correction = _module_outputs(
            self.net, _Blocks(X, self.n_classes), (self.n_classes,)
        )
        return quality + correction * (self.training_scale / self._sharpness()), cost

    def scores(self, X, cost_sensitivity):
        return DeployedPolicy.scores(self, X, cost_sensitivity)


# What routers kept of their deployed policy before ``deployed_`` held it.
_LEGACY_ATTRIBUTES = (
    "fallback_model_",
    "fallback_reward_models_",
    "fallback_cost_models_",
    "fallback_lines_",
    "training_scale_",
    "budget_mixture_",
)


def legacy_deployed_policy(router):
    """The deployed policy of a neural router saved before ``deployed_`` existed.

    Such routers recorded the kind as ``deployed_policy_`` and its pieces as
    attributes of their own; those attributes are removed from ``router``
    (and ``deployed_policy_`` set where it was missing). A budget mixture,
    which routers no longer follow, is dropped with a warning.
    """
    state = router.__dict__
    state.setdefault("deployed_policy_", "network")
    deployed = _legacy_policy(router, state, state["deployed_policy_"])
    mixture = state.get("budget_mixture_")
    if mixture is not None:
        warn_at_caller(
            f"This {type(router).__name__} was saved following a budget mixture "
            f"(lambda {mixture.low:g} or {mixture.high:g}, the latter with "
            f"probability {mixture.high_probability:.3g}), which routers no longer "
            "keep: predict now routes at cost_sensitivity="
            f"{router.cost_sensitivity:g} unless given one. Refit the budget with "
            "skroute.BudgetRouter(router, budget=..., mixture=True, cv='prefit').",
            SkrouteVersionWarning,
        )
    for name in _LEGACY_ATTRIBUTES:
        state.pop(name, None)
    return deployed


def _legacy_policy(router, state, kind):
    n_classes = router.classes_.size
    interval = "cost_grid_" in state
    if kind == "direct_method":
        if interval:
            return DirectMethodPolicy(router.reward_models_, router.cost_models_)
        return DirectMethodPolicy(
            router.fallback_reward_models_, router.fallback_cost_models_
        )
    if kind == "best_single":
        if interval:
            return BestSinglePolicy(*router.fallback_lines_)
        return BestSinglePolicy((router.classes_ == router.fallback_model_) * 1.0)
    if interval:
        return IntervalNetworkPolicy(
            router.net_,
            n_classes,
            grid=router.cost_grid_,
            training_scale=state.get("training_scale_", 1.0),
            # Absent from routers saved before the "quality" heads existed.
            reward_models=state.get("reward_models_"),
            cost_models=state.get("cost_models_"),
        )
    return NetworkPolicy(router.net_, n_classes)
