"""Helpers every layer of skroute shares: validation, atomic writes, pickled state.

Nothing here is public API: saving and loading routers is
:mod:`skroute.persistence`. The helpers are importable from here for skroute's
own modules and may change without notice.
"""

# The shared helpers are re-exported for skroute's own modules.
from skroute.utils._atomic_write import atomic_write  # noqa: F401
from skroute.utils._checks_data import (  # noqa: F401
    check_action_codes,
    check_choice,
    check_column_names,
    check_column_values,
    check_curve_points,
    check_embedding_columns,
    check_embeddings,
    check_finite_values,
    check_full_feedback,
    check_full_feedback_outcomes,
    check_full_feedback_rows,
    check_has_column,
    check_instance,
    check_logged_actions,
    check_model_names,
    check_observed_outcome,
    check_outcome_estimates,
    check_policy,
    check_price_entry,
    check_prompts,
    check_pseudo_outcome_inputs,
    check_row_weights,
    check_shrinkage,
    check_table_path,
    check_unique_columns,
    check_weight_inputs,
    load_array_file,
)
from skroute.utils._validation import (  # noqa: F401
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
    check_number,
    check_numeric,
    check_propensity,
    encode_actions,
    encode_policy,
    naming_array_errors,
)
from skroute.utils._versioned_state import (  # noqa: F401
    PERSISTENCE_FORMAT,
    SkrouteVersionWarning,
    persisted_state,
    restored_state,
    skroute_version,
)

__all__ = []


def __getattr__(name):
    if name == "InconsistentVersionWarning":
        import warnings

        warnings.warn(
            "skroute.utils.InconsistentVersionWarning is renamed "
            "SkrouteVersionWarning (it is not scikit-learn's class of that name) "
            "and lives in skroute.persistence; the old name goes in a later release.",
            FutureWarning,
            stacklevel=2,
        )
        return SkrouteVersionWarning
    raise AttributeError(f"module 'skroute.utils' has no attribute {name!r}")
