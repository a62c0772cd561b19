"""Checks of the arrays that off-policy estimates, metrics and data sets read.

The estimators in :mod:`skroute.ope`, :mod:`skroute.metrics` and the loaders
in :mod:`skroute.datasets` keep their formulas; what they refuse, and how they
say so, is written here.
"""

import numpy as np

from skroute.utils._validation import check_numeric


def check_choice(value, name, choices):
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if value in choices:
        return value
    if len(choices) == 2:
        expected = f"{choices[0]!r} or {choices[1]!r}"
    else:
        expected = f"one of {tuple(choices)}"
    raise ValueError(f"{name} must be {expected}; got {value!r}.")


def check_policy(policy, n_samples, n_classes, name="policy"):
    """Check a policy: routing probabilities, or one chosen model code per row.

    Returns
    -------
    ndarray
        Float64 probabilities of shape (n_samples, n_classes), or integer codes
        of shape (n_samples,).
    """
    policy = np.asarray(policy)
    if policy.ndim == 2:
        if policy.shape != (n_samples, n_classes):
            raise ValueError(
                f"{name} probabilities must have shape ({n_samples}, {n_classes}); "
                f"got {policy.shape}."
            )
        proba = policy.astype(np.float64)
        if not np.isfinite(proba).all() or (proba < 0).any() or (proba > 1).any():
            raise ValueError(f"{name} probabilities must be finite and in [0, 1].")
        sums = proba.sum(axis=1)
        bad = np.abs(sums - 1.0) > 1e-6
        if bad.any():
            raise ValueError(
                f"{name} probabilities must sum to 1 in every row; row "
                f"{np.flatnonzero(bad)[0]} sums to {sums[bad][0]:.6g}. Normalise them "
                "or pass the chosen model per row."
            )
        return proba
    if policy.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape ({n_samples},) or ({n_samples}, {n_classes}); "
            f"got {policy.shape}: pass one chosen model per row, or one row of "
            "routing probabilities per query."
        )
    if not np.issubdtype(policy.dtype, np.integer):
        raise TypeError(
            f"{name} must hold integer model codes in [0, {n_classes}); got dtype "
            f"{policy.dtype}. Map labels to codes first."
        )
    if ((policy < 0) | (policy >= n_classes)).any():
        raise ValueError(f"{name} codes must be in [0, {n_classes}).")
    return policy


def check_logged_actions(action):
    """Return ``action`` as a non-empty 1-D array of integer model codes."""
    action = np.asarray(action)
    if action.ndim != 1 or not np.issubdtype(action.dtype, np.integer):
        raise TypeError("action must be a 1-D array of integer model codes.")
    if action.shape[0] == 0:
        raise ValueError("no logged rows: action is empty.")
    return action


def check_action_codes(action, n_classes):
    """Raise a ValueError unless every code of ``action`` names one of the models."""
    if action.min() < 0 or action.max() >= n_classes:
        raise ValueError(f"action codes must be in [0, {n_classes}).")


def check_observed_outcome(outcome, n_samples):
    """Return the observed outcome of each logged row, finite, as float64."""
    outcome = check_numeric(outcome, "outcome")
    if outcome.shape != (n_samples,):
        raise ValueError(
            f"outcome has shape {outcome.shape} but action has {n_samples} rows; pass "
            "one observed outcome per logged row."
        )
    if not np.isfinite(outcome).all():
        raise ValueError("outcome contains NaN or infinity; drop those rows.")
    return outcome


def check_outcome_estimates(outcome_estimates, n_samples):
    """Return an outcome model's (n_samples, n_classes) predictions, finite."""
    estimates = check_numeric(outcome_estimates, "outcome_estimates")
    if estimates.ndim != 2 or estimates.shape[0] != n_samples:
        raise ValueError(
            f"outcome_estimates must have shape ({n_samples}, n_classes); got "
            f"{estimates.shape}."
        )
    if not np.isfinite(estimates).all():
        raise ValueError(
            "outcome_estimates contains NaN or infinity; refit the outcome model "
            "or drop those rows."
        )
    return estimates


def check_row_weights(sample_weight, n_samples):
    """Return finite, non-negative row weights with a positive sum (ones if None)."""
    weight = (
        np.ones(n_samples)
        if sample_weight is None
        else check_numeric(sample_weight, "sample_weight")
    )
    if (
        weight.shape != (n_samples,)
        or not np.isfinite(weight).all()
        or (weight < 0).any()
        or not weight.sum() > 0
    ):
        raise ValueError(
            "sample_weight must be finite and non-negative, one per row, with a "
            "positive sum."
        )
    return weight


def check_weight_inputs(policy, action, propensity):
    """Check the routing probabilities, actions and propensities of weights."""
    policy = check_numeric(policy, "policy")
    action = np.asarray(action)
    propensity = check_numeric(propensity, "propensity")
    rows = (policy.shape[0],) if policy.ndim == 2 else None
    if rows is None or action.shape != rows or propensity.shape != rows:
        raise ValueError(
            "policy must have shape (n_samples, n_classes), and action and "
            f"propensity shape (n_samples,); got {policy.shape}, {action.shape} and "
            f"{propensity.shape}."
        )
    if action.size == 0:
        raise ValueError("no logged rows: action is empty.")
    return policy, action, propensity
