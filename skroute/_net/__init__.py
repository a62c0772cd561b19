"""Private torch modules and the skorch NeuralNet subclass."""

from skroute._net._modules import (
    AnchoredEnsemble,
    AnchoredPolicyNetwork,
    IntervalEnsemble,
    IntervalPolicyNetwork,
    PolicyEnsemble,
    PolicyNetwork,
    interpolate_scores,
)
from skroute._net._regret_net import (
    EarlyStopping,
    IntervalRegretNet,
    RegretNet,
    Snapshots,
    StopOnDivergence,
    TrainingDiverged,
    TrainingInterrupted,
    seeded_torch,
)

__all__ = [
    "AnchoredEnsemble",
    "AnchoredPolicyNetwork",
    "EarlyStopping",
    "IntervalEnsemble",
    "IntervalPolicyNetwork",
    "IntervalRegretNet",
    "PolicyEnsemble",
    "PolicyNetwork",
    "RegretNet",
    "Snapshots",
    "StopOnDivergence",
    "TrainingDiverged",
    "TrainingInterrupted",
    "interpolate_scores",
    "seeded_torch",
]
