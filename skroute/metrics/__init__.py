"""Evaluation of routing policies: values, regret, scorers and cost-quality curves."""

from skroute.metrics._curves import (
    CostQualityCurve,
    cost_quality_curve,
    cost_to_reach,
    normalised_area,
    quality_gap_recovered,
)
from skroute.metrics._full_feedback import regret, routing_summary, utility
from skroute.metrics._policy_value import cost_quality_values, policy_value
from skroute.metrics._scorers import (
    PolicyValueScorer,
    RegretScorer,
    make_policy_value_scorer,
    make_regret_scorer,
)

__all__ = [
    "CostQualityCurve",
    "PolicyValueScorer",
    "RegretScorer",
    "cost_quality_curve",
    "cost_quality_values",
    "cost_to_reach",
    "make_policy_value_scorer",
    "make_regret_scorer",
    "normalised_area",
    "policy_value",
    "quality_gap_recovered",
    "regret",
    "routing_summary",
    "utility",
]
