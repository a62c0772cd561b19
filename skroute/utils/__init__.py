"""Validation of logged routing data and scikit-learn compatibility helpers."""

from skroute.utils._validation import (
    ROUTING_HINT,
    check_action_counts,
    check_cost_sensitivity,
    check_finite,
    check_hidden_layer_sizes,
    check_logged_outcomes,
    encode_actions,
)

__all__ = [
    "ROUTING_HINT",
    "check_action_counts",
    "check_cost_sensitivity",
    "check_finite",
    "check_hidden_layer_sizes",
    "check_logged_outcomes",
    "encode_actions",
]
