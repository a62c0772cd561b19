"""Validation of logged routing data and scikit-learn compatibility helpers."""

from skroute.utils._persistence import (
    PERSISTENCE_FORMAT,
    SkrouteVersionWarning,
    persisted_state,
    restored_state,
)
from skroute.utils._safe_pickle import load_router, save_router
from skroute.utils._validation import (
    MAX_FEATURE_MAGNITUDE,
    MAX_OUTCOME_MAGNITUDE,
    ROUTING_HINT,
    check_action_counts,
    check_cost_sensitivity,
    check_cv_folds,
    check_feature_range,
    check_finite,
    check_hidden_layer_sizes,
    check_logged_outcomes,
    check_numeric,
    encode_actions,
    naming_array_errors,
)

__all__ = [
    "MAX_FEATURE_MAGNITUDE",
    "MAX_OUTCOME_MAGNITUDE",
    "PERSISTENCE_FORMAT",
    "ROUTING_HINT",
    "SkrouteVersionWarning",
    "check_action_counts",
    "check_cost_sensitivity",
    "check_cv_folds",
    "check_feature_range",
    "check_finite",
    "check_hidden_layer_sizes",
    "check_logged_outcomes",
    "check_numeric",
    "encode_actions",
    "load_router",
    "naming_array_errors",
    "save_router",
    "persisted_state",
    "restored_state",
]


def __getattr__(name):
    if name == "InconsistentVersionWarning":
        import warnings

        warnings.warn(
            "skroute.utils.InconsistentVersionWarning is renamed "
            "SkrouteVersionWarning (it is not scikit-learn's class of that name); "
            "the old name goes in a later release.",
            FutureWarning,
            stacklevel=2,
        )
        return SkrouteVersionWarning
    raise AttributeError(f"module 'skroute.utils' has no attribute {name!r}")
