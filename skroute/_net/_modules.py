"""Torch modules of routing policies."""

import torch
from torch import nn


def _hidden_layers(n_features, hidden_layer_sizes):
    """Linear layers with ReLU after each, and the width of their output."""
    layers = []
    width = n_features
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return layers, width


class PolicyNetwork(nn.Module):
    """Multi-layer perceptron from query features to one score per model.

    Parameters
    ----------
    n_features : int
    n_outputs : int
        Number of candidate models.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer (ReLU); empty for a linear policy.
    """

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(128,)):
        super().__init__()
        layers, width = _hidden_layers(n_features, hidden_layer_sizes)
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, features, **batch_targets):
        # skorch passes every key of the batch dict; only the features are inputs.
        return self.layers(features)


class PolicyEnsemble(nn.Module):
    """Mean of the scores of several :class:`PolicyNetwork` members.

    The members are the policies trained on the folds of a cross-fitted
    selection; their average is steadier than any one of them. Features are
    standardised first, ``(x - shift) / scale``, with the buffers set from
    the training rows, as the members were trained.

    Parameters
    ----------
    n_features, n_outputs, hidden_layer_sizes
        As for :class:`PolicyNetwork`.
    n_members : int
    """

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(128,), n_members=1):
        super().__init__()
        self.members = nn.ModuleList(
            PolicyNetwork(n_features, n_outputs, hidden_layer_sizes)
            for _ in range(n_members)
        )
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def forward(self, features, **batch_targets):
        features = (features - self.shift) / self.scale
        return torch.stack([member(features) for member in self.members]).mean(dim=0)


class AnchoredPolicyNetwork(nn.Module):
    """The direct method's utilities plus a learned correction that starts at 0.

    The scores are ``s (u(x) + r d(x))``: ``u`` is the ``utility_line`` of
    the batch (the outcome models' utility of each model), ``d`` a
    multi-layer perceptron whose last layer starts at zero, ``r`` the typical
    utility gap between models (a constant: the optimiser's steps, of a size
    set by the learning rate, then move the scores by a fraction of a gap,
    whatever the units of utility), and ``s > 0`` a learned sharpness.
    Untrained, the policy is the direct method; training moves it only where
    the regret surrogate finds a gain, so that where the correction flips no
    argmax the two policies agree.

    Parameters
    ----------
    n_features : int
    n_outputs : int
        Number of candidate models.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer of the correction (ReLU).
    sharpness : float, default=1.0
        Initial ``s``.
    unit : float, default=1.0
        The constant ``r``.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(128,),
        sharpness=1.0,
        unit=1.0,
    ):
        super().__init__()
        layers, width = _hidden_layers(n_features, hidden_layer_sizes)
        self.trunk = nn.Sequential(*layers)
        # Named as the interval network's correction: the export reads both.
        self.quality = nn.Linear(width, n_outputs)
        nn.init.zeros_(self.quality.weight)
        nn.init.zeros_(self.quality.bias)
        self.log_sharpness = nn.Parameter(torch.tensor(float(sharpness)).log())
        self.register_buffer("unit", torch.tensor(float(unit)))

    def sharpness(self):
        return self.log_sharpness.exp()

    def forward(self, features, utility_line=None, **batch_targets):
        correction = self.unit * self.quality(self.trunk(features))
        if utility_line is not None:
            correction = correction + utility_line.to(correction.dtype)
        return self.sharpness() * correction


class AnchoredEnsemble(nn.Module):
    """Mean scores of several :class:`AnchoredPolicyNetwork` members.

    Features are standardised first, as the members were trained. The mean
    of ``s_m (u + d_m)`` ranks the models as ``u`` plus the members'
    corrections averaged with weights ``s_m``.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(128,),
        n_members=1,
        sharpness=1.0,
        unit=1.0,
    ):
        super().__init__()
        self.members = nn.ModuleList(
            AnchoredPolicyNetwork(
                n_features, n_outputs, hidden_layer_sizes, sharpness, unit
            )
            for _ in range(n_members)
        )
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def sharpness(self):
        """Mean sharpness of the members: the factor of the mean scores."""
        return torch.stack([member.sharpness() for member in self.members]).mean()

    def forward(self, features, utility_line=None, **batch_targets):
        features = (features - self.shift) / self.scale
        return torch.stack(
            [member(features, utility_line=utility_line) for member in self.members]
        ).mean(dim=0)


class IntervalPolicyNetwork(nn.Module):
    """Shared trunk with score heads over a grid of cost sensitivities.

    Outputs endpoint scores ``h_k(x)`` of shape ``(n, n_endpoints,
    n_outputs)``, one row of model scores per grid point.

    Parameters
    ----------
    n_features : int
    n_outputs : int
        Number of candidate models.
    grid : sequence of float
        The grid points ``l_0 < ... < l_K``.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer of the shared trunk (ReLU).
    heads : {"quality", "affine", "independent"}, default="quality"
        ``"quality"``: ``h_k(x) = s (q(x) - l_k c(x))``: the quality ``q`` is
        the ``quality_line`` of the batch (the outcome model's estimate) plus
        a learned correction that starts at 0, against the cost ``c`` given
        as ``cost_line`` (the outcome model's estimate), with a learned
        sharpness ``s > 0`` that lets the surrogate sharpen the policy
        without moving where it switches models. ``"affine"``: ``h_k(x) =
        q(x) - p_k c(x)`` with a learned ``c`` and ``p_k`` the position of
        ``l_k`` in the range. ``"independent"``: a free head per grid point.
        The first two are affine in ``lambda``, so that a query's route only
        moves to models of lower cost ``c`` as ``lambda`` rises.
    sharpness : float, default=1.0
        Initial ``s`` of the ``"quality"`` heads.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        grid,
        hidden_layer_sizes=(128,),
        heads="quality",
        sharpness=1.0,
    ):
        super().__init__()
        layers, width = _hidden_layers(n_features, hidden_layer_sizes)
        self.trunk = nn.Sequential(*layers)
        grid = torch.as_tensor(grid, dtype=torch.float32)
        self.n_endpoints, self.n_outputs = grid.shape[0], n_outputs
        self.heads = heads
        self.register_buffer("grid", grid)
        if heads == "quality":
            self.quality = nn.Linear(width, n_outputs)
            # A correction of the quality line given, which it starts from.
            nn.init.zeros_(self.quality.weight)
            nn.init.zeros_(self.quality.bias)
            self.log_sharpness = nn.Parameter(torch.tensor(float(sharpness)).log())
        elif heads == "affine":
            self.quality = nn.Linear(width, n_outputs)
            self.cost = nn.Linear(width, n_outputs)
            # Positions in [0, 1] keep the cost head's gradients on the scale of
            # the quality head's, whatever the units of cost.
            self.register_buffer("position", (grid - grid[0]) / (grid[-1] - grid[0]))
        else:
            self.endpoints = nn.Linear(width, self.n_endpoints * n_outputs)

    def sharpness(self):
        """The factor ``s`` of the scores (1 but for ``"quality"`` heads)."""
        if self.heads == "quality":
            return self.log_sharpness.exp()
        return torch.ones((), device=self.trunk_device())

    def trunk_device(self):
        return next(self.parameters()).device

    def forward(self, features, cost_line=None, quality_line=None, **batch_targets):
        hidden = self.trunk(features)
        if self.heads == "quality":
            quality = self.quality(hidden)
            if quality_line is not None:
                quality = quality + quality_line.to(hidden.dtype)
            quality = quality.unsqueeze(1)
            grid = self.grid.to(hidden.dtype)[None, :, None]
            scores = quality - grid * cost_line.to(hidden.dtype).unsqueeze(1)
            return self.sharpness() * scores
        if self.heads == "affine":
            position = self.position.to(hidden.dtype)[None, :, None]
            quality = self.quality(hidden).unsqueeze(1)
            return quality - position * self.cost(hidden).unsqueeze(1)
        return self.endpoints(hidden).reshape(-1, self.n_endpoints, self.n_outputs)


class IntervalEnsemble(nn.Module):
    """Mean endpoint scores of several :class:`IntervalPolicyNetwork` members.

    Features are standardised first, ``(x - shift) / scale``, as the members
    were trained. The mean of affine members is affine: the guarantee of the
    ``"quality"`` and ``"affine"`` heads holds for the ensemble.

    Parameters
    ----------
    n_features, n_outputs, grid, hidden_layer_sizes, heads
        As for :class:`IntervalPolicyNetwork`.
    n_members : int
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        grid,
        hidden_layer_sizes=(128,),
        heads="quality",
        n_members=1,
        sharpness=1.0,
    ):
        super().__init__()
        self.members = nn.ModuleList(
            IntervalPolicyNetwork(
                n_features, n_outputs, grid, hidden_layer_sizes, heads, sharpness
            )
            for _ in range(n_members)
        )
        self.heads = heads
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def sharpness(self):
        """Mean sharpness of the members: the factor of the mean scores."""
        return torch.stack([member.sharpness() for member in self.members]).mean()

    def forward(self, features, cost_line=None, quality_line=None, **batch_targets):
        features = (features - self.shift) / self.scale
        return torch.stack(
            [
                member(features, cost_line=cost_line, quality_line=quality_line)
                for member in self.members
            ]
        ).mean(dim=0)


def interpolate_scores(endpoint_scores, grid, cost_sensitivity):
    """Scores at each row's cost sensitivity, interpolated between grid endpoints.

    For ``lambda`` in ``[l_k, l_{k+1}]`` with ``alpha = (lambda - l_k) /
    (l_{k+1} - l_k)``, the scores are ``(1 - alpha) h_k + alpha h_{k+1}``.

    Parameters
    ----------
    endpoint_scores : Tensor of shape (n_samples, n_endpoints, n_outputs)
    grid : Tensor of shape (n_endpoints,)
        Increasing grid points.
    cost_sensitivity : Tensor of shape (n_samples,)
        Within ``[grid[0], grid[-1]]``.

    Returns
    -------
    Tensor of shape (n_samples, n_outputs)
    """
    grid = grid.to(endpoint_scores.dtype)
    cost_sensitivity = cost_sensitivity.to(endpoint_scores.dtype)
    last = grid.shape[0] - 2
    interval = torch.searchsorted(grid, cost_sensitivity, right=True) - 1
    interval = interval.clamp(0, last)
    left, right = grid[interval], grid[interval + 1]
    alpha = ((cost_sensitivity - left) / (right - left)).unsqueeze(1)
    rows = torch.arange(endpoint_scores.shape[0], device=endpoint_scores.device)
    return (1 - alpha) * endpoint_scores[rows, interval] + alpha * endpoint_scores[
        rows, interval + 1
    ]
