"""Off-policy evaluation of routing policies (numpy only; imports without torch)."""

from skroute.ope._estimators import (
    MIN_EFFECTIVE_SAMPLE_SIZE,
    OPE_METHODS,
    PolicyValue,
    UnreliableEstimateWarning,
    estimate_policy_value,
    importance_weight_diagnostics,
    policy_matrix,
)
from skroute.ope._pseudo_outcomes import (
    PSEUDO_OUTCOME_METHODS,
    SHRINKAGE_GRID,
    pseudo_outcomes,
    select_shrinkage,
    shrunk_weights,
)

__all__ = [
    "MIN_EFFECTIVE_SAMPLE_SIZE",
    "OPE_METHODS",
    "PSEUDO_OUTCOME_METHODS",
    "PolicyValue",
    "SHRINKAGE_GRID",
    "UnreliableEstimateWarning",
    "estimate_policy_value",
    "importance_weight_diagnostics",
    "policy_matrix",
    "pseudo_outcomes",
    "select_shrinkage",
    "shrunk_weights",
]
