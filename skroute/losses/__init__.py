"""Torch surrogate losses for regret minimisation."""

from skroute.losses._surrogates import (
    ClassificationRegretLoss,
    SoftmaxRegretLoss,
    classification_regret_loss,
    regret_gaps,
    softmax_regret_loss,
)

SURROGATES = {
    "softmax": SoftmaxRegretLoss,
    "classification": ClassificationRegretLoss,
}

__all__ = [
    "SURROGATES",
    "ClassificationRegretLoss",
    "SoftmaxRegretLoss",
    "classification_regret_loss",
    "regret_gaps",
    "softmax_regret_loss",
]
