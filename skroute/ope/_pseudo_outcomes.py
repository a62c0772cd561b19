"""Per-arm pseudo-outcomes: the one formula shared by training and evaluation."""

import numpy as np

PSEUDO_OUTCOME_METHODS = ("dr", "sndr", "ipw", "dm")


def pseudo_outcomes(target, action, propensity, outcome_estimates, method="dr"):
    """Per-arm pseudo-outcomes of one logged outcome.

    ``Gamma[i, t] = mu(x_i, t) + 1{t_i = t} (y_i - mu(x_i, t)) / e(t_i | x_i)``
    for ``"dr"``; ``mu = 0`` for ``"ipw"``; no correction term for ``"dm"``.
    ``"sndr"`` (self-normalised) divides arm ``t``'s correction terms by the
    mean of ``1{t_i = t} / e(t_i | x_i)`` over the rows, whose expectation is
    1: a little bias for less variance when some propensities are small.
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
    if method == "dm":
        return np.array(outcome_estimates, dtype=np.float64, copy=True)
    rows = np.arange(target.shape[0])
    if method == "ipw":
        gamma = np.zeros(outcome_estimates.shape)
        gamma[rows, action] = target / propensity
        return gamma
    gamma = np.array(outcome_estimates, dtype=np.float64, copy=True)
    correction = (target - gamma[rows, action]) / propensity
    if method == "sndr":
        # Mean inverse propensity of each arm over all rows (0 where unlogged).
        normaliser = (
            np.bincount(action, weights=1.0 / propensity, minlength=gamma.shape[1])
            / target.shape[0]
        )
        correction /= normaliser[action]
    gamma[rows, action] += correction
    return gamma
