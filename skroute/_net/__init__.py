"""Private torch modules and the skorch NeuralNet subclass."""

from skroute._net._modules import (
    IntervalPolicyNetwork,
    PolicyNetwork,
    interpolate_scores,
)
from skroute._net._regret_net import IntervalRegretNet, RegretNet, seeded_torch

__all__ = [
    "IntervalPolicyNetwork",
    "IntervalRegretNet",
    "PolicyNetwork",
    "RegretNet",
    "interpolate_scores",
    "seeded_torch",
]
