"""Torch modules of routing policies."""

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
