"""Per-arm pseudo-outcomes: the one formula shared by training and evaluation."""

import numpy as np

from skroute.utils import check_numeric

PSEUDO_OUTCOME_METHODS = ("dr", "sndr", "ipw", "dm")


def pseudo_outcomes(target, action, propensity, outcome_estimates, method="dr"):
    """Per-arm pseudo-outcomes of one logged outcome.

    ``Gamma[i, t] = mu(x_i, t) + 1{t_i = t} (y_i - mu(x_i, t)) / e(t_i | x_i)``
    for ``"dr"``; ``mu = 0`` for ``"ipw"``; no correction term for ``"dm"``.
    ``"sndr"`` (self-normalised per model) divides arm ``t``'s correction
    terms by the mean of ``1{t_i = t} / e(t_i | x_i)`` over the rows, whose
    expectation is 1: a little bias for less variance when some propensities
    are small. (It does not use sample weights. The off-policy estimator
    ``estimate_policy_value(method="sndr")`` normalises instead by the weights
    ``pi(t_i | x_i) / e(t_i | x_i)`` of the policy it evaluates, which only
    exist once a policy is given.)
    This is the one place the formula is written: training and evaluation both
    call it.

    Parameters
    ----------
    target : ndarray of shape (n_samples,)
        Observed outcome of the logged model.
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    propensity : ndarray of shape (n_samples,) or None
        Probability of the logged action (already clipped). Unused by ``"dm"``.
    outcome_estimates : ndarray of shape (n_samples, n_classes) or None
        Cross-fitted ``mu(x_i, t)``. Unused by ``"ipw"`` except for its shape.
    method : {"dr", "sndr", "ipw", "dm"}

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.ope import pseudo_outcomes
    >>> mu = np.array([[0.5, 0.5], [0.2, 0.8]])
    >>> pseudo_outcomes(np.array([1.0, 0.0]), np.array([0, 1]),
    ...                 np.array([0.5, 0.25]), mu, method="dr")
    array([[ 1.5,  0.5],
           [ 0.2, -2.4]])
    """
    if method not in PSEUDO_OUTCOME_METHODS:
        raise ValueError(
            f"pseudo_outcome must be one of {PSEUDO_OUTCOME_METHODS}; got {method!r}."
        )
    estimates = check_numeric(outcome_estimates, "outcome_estimates")
    if estimates.ndim != 2:
        raise ValueError(
            "outcome_estimates must be 2-D (n_samples, n_classes); got shape "
            f"{estimates.shape}."
        )
    if method == "dm":
        return estimates.copy()
    target = check_numeric(target, "target")
    action = np.asarray(action)
    if action.dtype.kind not in "iu":
        raise TypeError(
            "action must hold integer model codes (columns of outcome_estimates); "
            f"got dtype {action.dtype}."
        )
    propensity = check_numeric(propensity, "propensity")
    n_samples, n_classes = estimates.shape
    for name, array in (
        ("target", target),
        ("action", action),
        ("propensity", propensity),
    ):
        if array.shape != (n_samples,):
            raise ValueError(
                f"{name} must have shape ({n_samples},), one value per row of "
                f"outcome_estimates; got {array.shape}."
            )
    if n_samples and (action.min() < 0 or action.max() >= n_classes):
        outside = np.unique(action[(action < 0) | (action >= n_classes)])
        raise ValueError(
            f"action codes must lie in [0, {n_classes}); got {outside[:10].tolist()}."
        )
    if not (propensity > 0).all():
        raise ValueError("propensity must be > 0 (clip it first).")
    rows = np.arange(n_samples)
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "ipw":
            gamma = np.zeros(estimates.shape)
            gamma[rows, action] = target / propensity
            return _checked(gamma)
        gamma = estimates.copy()
        correction = (target - gamma[rows, action]) / propensity
        if method == "sndr":
            # Mean inverse propensity of each arm over all rows (0 where unlogged).
            normaliser = (
                np.bincount(action, weights=1.0 / propensity, minlength=n_classes)
                / n_samples
            )
            correction /= normaliser[action]
        gamma[rows, action] += correction
    return _checked(gamma)


def _checked(gamma):
    if not np.isfinite(gamma).all():
        raise ValueError(
            "a pseudo-outcome overflows float64: an outcome divided by its "
            "propensity exceeds 1.8e308. Clip propensity higher (min_propensity) or "
            "rescale the outcomes."
        )
    return gamma
