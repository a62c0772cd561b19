"""Private torch modules and the skorch NeuralNet subclass."""

from skroute._net._modules import PolicyNetwork
from skroute._net._regret_net import RegretNet, seeded_torch

__all__ = ["PolicyNetwork", "RegretNet", "seeded_torch"]
