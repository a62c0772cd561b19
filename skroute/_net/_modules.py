"""Torch modules of routing policies."""

import torch
from torch import nn


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
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, features, **batch_targets):
        # skorch passes every key of the batch dict; only the features are inputs.
        return self.layers(features)


class IntervalPolicyNetwork(nn.Module):
    """Shared trunk with one score head per grid point of cost sensitivities.

    The endpoint scores are ``h_k(x) = q(x) - s_k c(x) + r_k(x)`` with
    ``s_k = (l_k - l_0) / (l_K - l_0)`` the grid point's position in the range:
    a quality head ``q``, a cost head ``c``, and (with ``residual_heads``) a
    free head per grid point, initialised at zero. True utilities have exactly
    this affine form, so the shared heads carry what all cost sensitivities
    have in common and every grid point learns from every row; positions in
    [0, 1] keep the cost head's gradients on the scale of the quality head's,
    whatever the units of cost.

    Parameters
    ----------
    n_features : int
    n_outputs : int
        Number of candidate models.
    grid : sequence of float
        The grid points ``l_0 < ... < l_K``.
    hidden_layer_sizes : tuple of int
        Width of each hidden layer of the shared trunk (ReLU).
    residual_heads : bool, default=False
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        grid,
        hidden_layer_sizes=(128,),
        residual_heads=False,
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.quality = nn.Linear(width, n_outputs)
        self.cost = nn.Linear(width, n_outputs)
        grid = torch.as_tensor(grid, dtype=torch.float32)
        self.register_buffer("position", (grid - grid[0]) / (grid[-1] - grid[0]))
        self.residuals = None
        if residual_heads:
            self.residuals = nn.Linear(width, len(grid) * n_outputs)
            nn.init.zeros_(self.residuals.weight)
            nn.init.zeros_(self.residuals.bias)

    def forward(self, features, **batch_targets):
        hidden = self.trunk(features)
        position = self.position.to(hidden.dtype)[None, :, None]
        scores = self.quality(hidden).unsqueeze(1) - position * self.cost(
            hidden
        ).unsqueeze(1)
        if self.residuals is not None:
            scores = scores + self.residuals(hidden).reshape(scores.shape)
        return scores


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
