"""Nuisance models, cross-fitting and pseudo-outcome matrices (numpy, sklearn)."""

from skroute.causal._folds import make_folds
from skroute.causal._logged_nuisances import LoggedNuisances
from skroute.causal._outcome import (
    cross_fit_outcomes,
    fit_arm_models,
    predict_arm_models,
)
from skroute.causal._overlap import OverlapWarning, overlap_diagnostics
from skroute.causal._propensity import estimate_propensity
from skroute.causal._pseudo_outcomes import (
    PSEUDO_OUTCOME_METHODS,
    PseudoOutcomes,
    cross_fit_pseudo_outcomes,
)
from skroute.causal._ridge import RidgeOutcomeModel
from skroute.ope import pseudo_outcomes

__all__ = [
    "PSEUDO_OUTCOME_METHODS",
    "LoggedNuisances",
    "OverlapWarning",
    "PseudoOutcomes",
    "RidgeOutcomeModel",
    "cross_fit_outcomes",
    "cross_fit_pseudo_outcomes",
    "estimate_propensity",
    "fit_arm_models",
    "make_folds",
    "overlap_diagnostics",
    "predict_arm_models",
    "pseudo_outcomes",
]
