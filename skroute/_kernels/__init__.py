"""Numpy kernels shared by training and serving (private).

The routers fit with scikit-learn and torch; an exported router predicts with
numpy alone (:mod:`skroute.serving`). Where both compute the same numbers
(the outcome models' predictions, the draw of a row's cost sensitivity) they
call one kernel from here, so that the two cannot drift apart; serving's
routing probabilities use ``softmax``. The kernels import numpy and the
standard library only.
"""

from skroute._kernels._arms import PREDICT_BLOCK, RIDGE_ARRAYS, stacked_arm_predictions
from skroute._kernels._policy import row_uniforms, softmax

__all__ = [
    "PREDICT_BLOCK",
    "RIDGE_ARRAYS",
    "row_uniforms",
    "softmax",
    "stacked_arm_predictions",
]
