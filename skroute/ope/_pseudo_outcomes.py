"""Per-arm pseudo-outcomes: the one formula shared by training and evaluation."""

import numpy as np

from skroute.utils import (
    check_choice,
    check_numeric,
    check_pseudo_outcome_inputs,
    check_shrinkage,
)

PSEUDO_OUTCOME_METHODS = ("dr", "sndr", "ipw", "dm", "dr-shrink", "switch-dr")


def shrunk_weights(weight, shrinkage, method="dr-shrink"):
    """Importance weights ``w = 1 / e`` shrunk towards 0 at level ``tau``.

    ``"dr-shrink"`` (optimistic shrinkage): ``w tau / (w^2 + tau)``;
    ``"switch-dr"``: ``w`` where ``w <= tau``, else 0. ``tau = 0`` gives 0
    (the direct method) and ``tau = inf`` gives ``w`` (doubly robust).

    Parameters
    ----------
    weight : array-like
        Importance weights, non-negative.
    shrinkage : float or array-like
        The level ``tau`` in ``[0, inf]``, broadcast against ``weight`` (one
        per model column, for instance).
    method : {"dr-shrink", "switch-dr"}, default="dr-shrink"
        Optimistic shrinkage, or switching off the weights above ``tau``.

    Returns
    -------
    ndarray of the shape of ``weight``

    Examples
    --------
    >>> from skroute.ope import shrunk_weights
    >>> weight = [1.0, 2.0, 10.0]
    >>> shrunk_weights(weight, 4.0).round(3).tolist()
    [0.8, 1.0, 0.385]
    >>> shrunk_weights(weight, 4.0, method="switch-dr").tolist()
    [1.0, 2.0, 0.0]

    The two ends of the range, the direct method and doubly robust:

    >>> shrunk_weights(weight, 0.0).tolist()
    [0.0, 0.0, 0.0]
    >>> shrunk_weights(weight, float("inf")).tolist()
    [1.0, 2.0, 10.0]
    """
    weight = np.asarray(weight, dtype=np.float64)
    tau = np.broadcast_to(np.asarray(shrinkage, dtype=np.float64), weight.shape)
    if method == "switch-dr":
        return np.where(weight <= tau, weight, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        shrunk = weight * tau / (weight**2 + tau)
    # tau = inf gives inf / inf; the limit is the weight itself.
    return np.where(np.isinf(tau), weight, np.where(tau > 0, shrunk, 0.0))


def pseudo_outcomes(
    target, action, propensity, outcome_estimates, method="dr", shrinkage=None
):
    """Per-arm pseudo-outcomes of one logged outcome.

    ``Gamma[i, t] = mu(x_i, t) + 1{t_i = t} (y_i - mu(x_i, t)) / e(t_i | x_i)``
    for ``"dr"``; ``mu = 0`` for ``"ipw"``; no correction term for ``"dm"``.
    ``"dr-shrink"`` and ``"switch-dr"`` replace the weight ``1 / e`` by its
    shrunk value (:func:`shrunk_weights`) at level ``shrinkage``: less
    variance for some bias, from the direct method (``shrinkage=0``) to the
    doubly robust estimate (``shrinkage=inf``).
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
    method : {"dr", "sndr", "ipw", "dm", "dr-shrink", "switch-dr"}
    shrinkage : float or ndarray of shape (n_classes,), default=None
        ``tau`` of the shrunk methods, one value or one per arm (required by
        them, ignored by the others).

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
    check_choice(method, "pseudo_outcome", PSEUDO_OUTCOME_METHODS)
    estimates = check_numeric(outcome_estimates, "outcome_estimates")
    if estimates.ndim != 2:
        raise ValueError(
            "outcome_estimates must be 2-D (n_samples, n_classes); got shape "
            f"{estimates.shape}."
        )
    if method == "dm":
        return estimates.copy()
    n_samples, n_classes = estimates.shape
    target, action, propensity = check_pseudo_outcome_inputs(
        target, action, propensity, n_samples, n_classes
    )
    if method in ("dr-shrink", "switch-dr"):
        tau = check_shrinkage(shrinkage, n_classes, method)
    rows = np.arange(n_samples)
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "ipw":
            gamma = np.zeros(estimates.shape)
            gamma[rows, action] = target / propensity
            return _checked(gamma)
        gamma = estimates.copy()
        if method in ("dr-shrink", "switch-dr"):
            weight = shrunk_weights(1.0 / propensity, tau[action], method)
            gamma[rows, action] += (target - gamma[rows, action]) * weight
            return _checked(gamma)
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


# Shrinkage levels tried by ``select_shrinkage``: 0 (direct method), powers of
# two across the squared weights 1 / e^2 of propensities down to 1e-4, and inf
# (doubly robust).
SHRINKAGE_GRID = (0.0,) + tuple(2.0**k for k in range(-2, 27, 2)) + (np.inf,)


def select_shrinkage(
    target,
    action,
    propensity,
    outcome_estimates,
    *,
    method="dr-shrink",
    grid=SHRINKAGE_GRID,
    sample_weight=None,
):
    """Choose the weight shrinkage of each arm by its estimated mean squared error.

    For arm ``t`` and each ``tau`` of ``grid``, the value of always choosing
    ``t``, ``mean_i Gamma_tau[i, t]``, has an estimated squared error
    ``bias^2 + variance``. The variance is that of the mean of the per-row
    terms. The bias is measured against the unbiased doubly robust mean
    (``tau = inf``): the squared difference of the two means, less its own
    sampling variance, so that the noise of the doubly robust mean is not
    mistaken for bias (floored at 0). Each arm keeps the ``tau`` of smallest
    estimated error: towards the direct method (``tau = 0``) where the
    correction adds variance and no visible bias, towards doubly robust where
    the outcome model is visibly biased and the weights are tame. This is the
    tuning rule of Open Bandit Pipeline's shrinkage estimators, with an
    unbiased rather than an upper estimate of the squared bias.

    Parameters
    ----------
    target, action, propensity, outcome_estimates
        As in :func:`pseudo_outcomes` (``propensity`` already clipped).
    method : {"dr-shrink", "switch-dr"}, default="dr-shrink"
    grid : sequence of float, default=SHRINKAGE_GRID
        Candidate ``tau`` values, ``0`` and ``inf`` included.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    shrinkage : ndarray of shape (n_classes,)
        Chosen ``tau`` per arm.
    errors : ndarray of shape (len(grid), n_classes)
        Estimated mean squared error of each candidate.

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.ope import select_shrinkage
    >>> rng = np.random.default_rng(0)
    >>> action = rng.integers(2, size=500)
    >>> propensity = np.where(action == 0, 0.9, 0.1)
    >>> target = rng.normal(size=500)
    >>> tau, errors = select_shrinkage(target, action, propensity,
    ...                                np.zeros((500, 2)))
    >>> errors.shape
    (17, 2)
    """
    check_choice(method, "method", ("dr-shrink", "switch-dr"))
    estimates = check_numeric(outcome_estimates, "outcome_estimates")
    n_samples, n_classes = estimates.shape
    grid = np.asarray(grid, dtype=np.float64)
    weight = np.ones(n_samples) if sample_weight is None else sample_weight
    weight = weight / weight.sum()
    rows = np.arange(n_samples)
    residual = np.asarray(target, dtype=np.float64) - estimates[rows, action]
    inverse = 1.0 / np.asarray(propensity, dtype=np.float64)
    errors = np.empty((grid.size, n_classes))
    for t in range(n_classes):
        logged = (action == t).astype(np.float64)
        full = estimates[:, t] + logged * inverse * residual
        full_mean = weight @ full
        for k, tau in enumerate(grid):
            terms = estimates[:, t] + logged * shrunk_weights(inverse, tau, method) * (
                residual
            )
            mean = weight @ terms
            variance = (weight**2) @ (terms - mean) ** 2
            gap = terms - full
            gap_mean = mean - full_mean
            gap_variance = (weight**2) @ (gap - gap_mean) ** 2
            errors[k, t] = max(gap_mean**2 - gap_variance, 0.0) + variance
    return grid[np.argmin(errors, axis=0)], errors
