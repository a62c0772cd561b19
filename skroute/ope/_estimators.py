"""Off-policy estimators of a routing policy's value, with standard errors.

Every estimator is written as a sum of weighted ratios ``sum_i a_i / sum_i b_i``
of per-row terms; their influence terms give the standard error and the normal
confidence interval, and a multinomial bootstrap resamples the same sums.
"""

from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np

from skroute.ope._pseudo_outcomes import pseudo_outcomes
from skroute.utils import (
    check_action_codes,
    check_choice,
    check_logged_actions,
    check_number,
    check_observed_outcome,
    check_outcome_estimates,
    check_policy,
    check_propensity,
    check_row_weights,
    check_weight_inputs,
)
from skroute.utils._warnings import warn_at_caller

OPE_METHODS = ("dm", "ipw", "snipw", "dr", "sndr")
_NEEDS_OUTCOME_MODEL = ("dm", "dr", "sndr")
_NEEDS_PROPENSITY = ("ipw", "snipw", "dr", "sndr")

# Below this effective sample size of the importance weights, the normal
# approximation behind the interval is not to be trusted.
MIN_EFFECTIVE_SAMPLE_SIZE = 30


class UnreliableEstimateWarning(UserWarning):
    """The importance weights leave too few effective rows for a reliable estimate.

    Emitted by :func:`importance_weight_diagnostics`, and so by
    :func:`estimate_policy_value`, when the effective sample size of the
    weights is below ``MIN_EFFECTIVE_SAMPLE_SIZE`` (30).

    Examples
    --------
    Four logged rows cannot carry a reliable estimate; the filter turns the
    warning into an error:

    >>> import warnings
    >>> import numpy as np
    >>> from skroute.ope import UnreliableEstimateWarning, estimate_policy_value
    >>> action = np.array([0, 1, 0, 1])
    >>> outcome = np.array([1.0, 0.0, 0.0, 1.0])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", UnreliableEstimateWarning)
    ...     try:
    ...         estimate_policy_value(
    ...             np.zeros(4, dtype=int), action, outcome,
    ...             propensity=np.full(4, 0.5), method="ipw",
    ...         )
    ...     except UnreliableEstimateWarning as warning:
    ...         print(str(warning).split(" rows")[0])
    The importance weights leave an effective sample size of 2.0
    """


@dataclass(frozen=True)
class PolicyValue:
    """Estimated value of a policy with its uncertainty.

    Returned by :func:`estimate_policy_value`; the constructor stores its
    arguments as given and checks nothing. Each parameter is kept as the
    attribute of the same name, and ``float(value)`` is the estimate.

    Parameters
    ----------
    estimate : float
        Estimated mean outcome of the policy.
    standard_error : float
        From the per-row influence terms; NaN when fewer than two rows carry
        the estimate.
    confidence_interval : (float, float)
        Normal or bootstrap interval at ``confidence_level``.
    confidence_level : float
        Coverage aimed at by ``confidence_interval``, e.g. 0.95.
    method : str
        The estimator: ``"dm"``, ``"ipw"``, ``"snipw"``, ``"dr"`` or ``"sndr"``.
    n_samples : int
        Number of logged rows.
    diagnostics : dict, default={}
        Importance-weight diagnostics (empty for ``"dm"`` and full feedback).

    See Also
    --------
    estimate_policy_value : The estimate of a policy's value from logs.

    Examples
    --------
    Always routing to model 0, judged from four rows logged uniformly over
    two models:

    >>> import numpy as np
    >>> from skroute.ope import estimate_policy_value
    >>> value = estimate_policy_value(
    ...     np.zeros(4, dtype=int), np.array([0, 1, 0, 1]),
    ...     np.array([1.0, 0.0, 0.0, 1.0]), propensity=np.full(4, 0.5),
    ...     method="ipw", warn=False,
    ... )
    >>> value.method, value.n_samples, float(value)
    ('ipw', 4, 0.5)
    >>> round(float(value.standard_error), 3)
    0.5
    >>> [round(bound, 2) for bound in value.confidence_interval]
    [-0.48, 1.48]
    >>> value.diagnostics["effective_sample_size"]
    2.0
    """

    estimate: float
    standard_error: float
    confidence_interval: tuple
    confidence_level: float
    method: str
    n_samples: int
    diagnostics: dict = field(default_factory=dict)

    def __float__(self):
        return self.estimate


def policy_matrix(policy, n_samples, n_classes, name="policy"):
    """Routing probabilities ``pi(t | x_i)`` as an (n_samples, n_classes) matrix.

    Parameters
    ----------
    policy : array-like of shape (n_samples,) or (n_samples, n_classes)
        Integer code of the chosen model per row (a deterministic policy), or
        routing probabilities whose rows sum to 1.
    n_samples, n_classes : int
    name : str
        Name of the argument in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.ope import policy_matrix
    >>> policy_matrix(np.array([0, 2, 1]), 3, 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]

    Routing probabilities are checked and returned as floats:

    >>> policy_matrix([[0.5, 0.5, 0], [0, 0, 1]], 2, 3).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]
    """
    policy = check_policy(policy, n_samples, n_classes, name)
    if policy.ndim == 2:
        return policy
    proba = np.zeros((n_samples, n_classes))
    proba[np.arange(n_samples), policy] = 1.0
    return proba


def importance_weight_diagnostics(
    policy, action, propensity, *, min_propensity=None, sample_weight=None, warn=True
):
    """Diagnostics of the importance weights ``pi(t_i | x_i) / p_i``.

    Parameters
    ----------
    policy : ndarray of shape (n_samples, n_classes)
        Routing probabilities of the evaluated policy.
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    propensity : ndarray of shape (n_samples,)
        Logging probability of the logged model (before clipping).
    min_propensity : float, default=None
        Clipping level applied to ``propensity``; None for no clipping.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights, multiplied into the importance weights.
    warn : bool, default=True
        Emit an :class:`UnreliableEstimateWarning` when the effective sample
        size of the weights is below 30.

    Returns
    -------
    dict
        ``effective_sample_size``, ``max_weight``, ``clipped_fraction``,
        ``n_logged`` (rows per model) and ``n_matched`` (rows whose logged model
        the policy could choose).

    Examples
    --------
    A policy that always routes to model 0 can use only the two rows that
    logged it; its weights are ``1 / 0.5 = 2`` and ``1 / 0.25 = 4``:

    >>> import numpy as np
    >>> from skroute.ope import importance_weight_diagnostics, policy_matrix
    >>> policy = policy_matrix(np.zeros(4, dtype=int), 4, 2)
    >>> action = np.array([0, 1, 0, 1])
    >>> propensity = np.array([0.5, 0.5, 0.25, 0.8])
    >>> diagnostics = importance_weight_diagnostics(
    ...     policy, action, propensity, warn=False
    ... )
    >>> round(diagnostics["effective_sample_size"], 3), diagnostics["max_weight"]
    (1.8, 4.0)
    >>> diagnostics["n_logged"].tolist(), diagnostics["n_matched"]
    ([2, 2], 2)

    Clipping at 0.3 caps the largest weight at ``1 / 0.3``:

    >>> diagnostics = importance_weight_diagnostics(
    ...     policy, action, propensity, min_propensity=0.3, warn=False
    ... )
    >>> round(diagnostics["max_weight"], 3), diagnostics["clipped_fraction"]
    (3.333, 0.25)
    """
    policy, action, propensity = check_weight_inputs(policy, action, propensity)
    n_classes = policy.shape[1]
    floor = 0.0 if min_propensity is None else min_propensity
    clipped = np.maximum(propensity, floor)
    weight = policy[np.arange(action.shape[0]), action] / clipped
    if sample_weight is not None:
        weight = weight * sample_weight
    diagnostics = {
        "effective_sample_size": _effective_sample_size(weight),
        "max_weight": float(weight.max()),
        "clipped_fraction": float((propensity < floor).mean()),
        "n_logged": np.bincount(action, minlength=n_classes),
        "n_matched": int((weight > 0).sum()),
    }
    if warn and diagnostics["effective_sample_size"] < MIN_EFFECTIVE_SAMPLE_SIZE:
        warn_at_caller(
            f"The importance weights leave an effective sample size of "
            f"{diagnostics['effective_sample_size']:.1f} rows (of {action.shape[0]}; "
            f"largest weight {diagnostics['max_weight']:.3g}): the logs say little "
            "about this policy and its estimate and interval are unreliable. Use "
            "more logged rows, a logging policy that explores more, or the 'dm' "
            "estimator with care.",
            UnreliableEstimateWarning,
        )
    return diagnostics


def _effective_sample_size(weight):
    """``sum(w)**2 / sum(w**2)``, computed on ``w / max(w)`` so as not to overflow."""
    largest = weight.max() if weight.size else 0.0
    if not largest > 0:
        return 0.0
    scaled = weight / largest
    return float(scaled.sum() ** 2 / (scaled**2).sum())


def _norm(values):
    """Euclidean norm of ``values``, scaled so that squaring cannot overflow."""
    largest = np.max(np.abs(values)) if values.size else 0.0
    if not largest > 0 or not np.isfinite(largest):
        return float(largest)
    return float(largest * np.sqrt(np.sum((values / largest) ** 2)))


def _overflow_error(outcome, propensity):
    smallest = (
        "" if propensity is None else f", smallest propensity {propensity.min():.3g}"
    )
    return ValueError(
        "the estimate overflows float64: outcome / propensity, summed over rows, "
        f"exceeds 1.8e308 (largest |outcome| {np.max(np.abs(outcome)):.3g}{smallest}). "
        "Clip propensities with min_propensity=, or rescale outcome."
    )


def _ratio_terms(method, proba, action, outcome, propensity, outcome_estimates):
    """The (numerator, denominator) per-row terms whose ratios sum to the value."""
    rows = np.arange(action.shape[0])
    ones = np.ones(action.shape[0])
    if method in ("dm", "ipw", "dr"):
        gamma = pseudo_outcomes(
            outcome,
            action,
            propensity,
            outcome_estimates if method != "ipw" else np.zeros(proba.shape),
            method=method,
        )
        return [((proba * gamma).sum(axis=1), ones)]
    weight = proba[rows, action] / propensity
    if method == "snipw":
        return [(weight * outcome, weight)]
    direct = (proba * outcome_estimates).sum(axis=1)
    residual = outcome - outcome_estimates[rows, action]
    return [(direct, ones), (weight * residual, weight)]


def _largest(values):
    """Largest absolute value, or 1 for an array of zeros (a safe divisor)."""
    largest = np.max(np.abs(values))
    return largest if largest > 0 else 1.0


def _value_and_influence(terms, sample_weight):
    value = 0.0
    influence = np.zeros(sample_weight.shape[0])
    # Weights of any size: only their ratios enter the estimate.
    sample_weight = sample_weight / sample_weight.max()
    for numerator, denominator in terms:
        # Sums of terms divided by their largest size cannot overflow.
        top, bottom = _largest(numerator), _largest(denominator)
        total = np.sum(sample_weight * (denominator / bottom))
        scale = total / np.sum(sample_weight) * bottom
        if scale <= 0:
            raise ValueError(
                "the policy puts no weight on any logged action: a self-normalised "
                "estimate is undefined. Use 'dr' or 'ipw', or more logs."
            )
        ratio = np.sum(sample_weight * (numerator / top)) / total * (top / bottom)
        value += ratio
        influence += (numerator - ratio * denominator) / scale
    return value, influence


def _bootstrap(terms, weight, n_bootstrap, random_state):
    """Multinomial bootstrap of the estimate, in chunks of bounded memory.

    Replicates whose self-normalising denominator is 0 (no row of the policy
    drawn) are undefined and dropped; the caller reports how many.
    """
    rng = np.random.default_rng(random_state)
    n_samples = weight.shape[0]
    per_chunk = max(1, int(2e7 // n_samples))
    replicates = []
    for start in range(0, n_bootstrap, per_chunk):
        size = min(per_chunk, n_bootstrap - start)
        rows = rng.integers(n_samples, size=(size, n_samples))
        counts = np.zeros((size, n_samples))
        np.add.at(counts, (np.arange(size)[:, None], rows), 1.0)
        counts *= weight / weight.max()
        values = np.zeros(size)
        for numerator, denominator in terms:
            # Sums of scaled terms cannot overflow; the ratio is rescaled after.
            top, bottom = _largest(numerator), _largest(denominator)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                values += (
                    (counts @ (numerator / top))
                    / (counts @ (denominator / bottom))
                    * (top / bottom)
                )
        replicates.append(values)
    replicates = np.concatenate(replicates)
    return replicates[np.isfinite(replicates)]


def estimate_policy_value(
    policy,
    action,
    outcome,
    *,
    propensity=None,
    outcome_estimates=None,
    method="dr",
    min_propensity=None,
    sample_weight=None,
    confidence_level=0.95,
    interval="normal",
    n_bootstrap=1000,
    random_state=None,
    warn=True,
):
    """Off-policy estimate of a policy's mean outcome from logged data.

    Parameters
    ----------
    policy : array-like of shape (n_samples,) or (n_samples, n_classes)
        Chosen model codes (deterministic policy) or routing probabilities.
    action : array-like of shape (n_samples,)
        Integer code of the logged model.
    outcome : array-like of shape (n_samples,)
        Observed outcome of the logged model: quality, cost, or utility
        ``quality - lambda * cost``.
    propensity : array-like of shape (n_samples,), default=None
        Logging probability of the logged model; required by all but ``"dm"``.
    outcome_estimates : array-like of shape (n_samples, n_classes), default=None
        Outcome model ``mu(x_i, t)`` (fitted on other rows); required by
        ``"dm"``, ``"dr"`` and ``"sndr"``.
    method : {"dm", "ipw", "snipw", "dr", "sndr"}, default="dr"
        Direct method, inverse propensity weighting, self-normalised IPW,
        doubly robust, self-normalised doubly robust. The direct method's
        standard error counts only the spread over queries, not the outcome
        model's error, so its interval undercovers (about 20-35% coverage of
        nominal 95% in ``benchmarks/bench_ope.py``); prefer ``"dr"``.
    min_propensity : float, default=None
        Clip propensities below at this value (reported in the diagnostics);
        None for no clipping.
    sample_weight : array-like of shape (n_samples,), default=None
    confidence_level : float, default=0.95
    interval : {"normal", "bootstrap"}, default="normal"
        Normal interval from the influence terms, or percentile interval of a
        multinomial bootstrap.
    n_bootstrap : int, default=1000
    random_state : int, Generator or None, default=None
        Seeds the bootstrap.
    warn : bool, default=True
        Warn (:class:`UnreliableEstimateWarning`) when the importance weights
        leave fewer than 30 effective rows.

    Returns
    -------
    PolicyValue

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.ope import estimate_policy_value
    >>> action = np.array([0, 1, 0, 1])
    >>> outcome = np.array([1.0, 0.0, 0.0, 1.0])
    >>> propensity = np.full(4, 0.5)
    >>> result = estimate_policy_value(np.zeros(4, dtype=int), action, outcome,
    ...                                propensity=propensity, method="ipw",
    ...                                warn=False)
    >>> result.estimate  # (1/0.5 + 0 + 0 + 0) / 4
    0.5
    """
    _check_settings(method, interval, confidence_level, n_bootstrap, min_propensity)
    action, outcome, outcome_estimates, proba = _checked_logs(
        policy, action, outcome, outcome_estimates, method
    )
    n_samples = action.shape[0]
    weight = check_row_weights(sample_weight, n_samples)
    diagnostics = {}
    if method in _NEEDS_PROPENSITY:
        propensity = _checked_propensity(propensity, n_samples, method)
        # Called here so that its warning points at the caller of this function.
        diagnostics = importance_weight_diagnostics(
            proba,
            action,
            propensity,
            min_propensity=min_propensity,
            sample_weight=None if sample_weight is None else weight,
            warn=warn,
        )
        if min_propensity is not None:
            propensity = np.maximum(propensity, min_propensity)
    terms, value, standard_error = _value_and_standard_error(
        method, proba, action, outcome, propensity, outcome_estimates, weight
    )
    if interval == "normal":
        z = NormalDist().inv_cdf(0.5 + confidence_level / 2)
        bounds = (value - z * standard_error, value + z * standard_error)
    else:
        bounds, diagnostics["bootstrap_dropped"] = _bootstrap_interval(
            terms, weight, n_bootstrap, random_state, confidence_level, standard_error
        )
    # NaN bounds (fewer than two usable bootstrap replicates) are returned as
    # NaN; infinite ones mean the sums overflowed.
    if not np.isnan(standard_error) and np.isinf(bounds).any():
        raise _overflow_error(outcome, propensity)
    return PolicyValue(
        estimate=float(value),
        standard_error=standard_error,
        confidence_interval=(float(bounds[0]), float(bounds[1])),
        confidence_level=confidence_level,
        method=method,
        n_samples=n_samples,
        diagnostics=diagnostics,
    )


def _check_settings(method, interval, confidence_level, n_bootstrap, min_propensity):
    """Check the estimator's settings before any array is read."""
    check_choice(method, "method", OPE_METHODS)
    check_choice(interval, "interval", ("normal", "bootstrap"))
    check_number(confidence_level, "confidence_level", low=0, high=1, closed="neither")
    if interval == "bootstrap":
        check_number(
            n_bootstrap,
            "n_bootstrap",
            low=2,
            integer=True,
            note=" (an interval needs two replicates or more; 1000 is usual)",
            type_error=ValueError,
        )
    check_number(
        min_propensity,
        "min_propensity",
        low=0,
        high=1,
        closed="right",
        allow_none=True,
    )


def _checked_logs(policy, action, outcome, outcome_estimates, method):
    """Checked actions, outcomes, outcome estimates and policy probabilities."""
    action = check_logged_actions(action)
    n_samples = action.shape[0]
    outcome = check_observed_outcome(outcome, n_samples)
    if outcome_estimates is not None:
        outcome_estimates = check_outcome_estimates(outcome_estimates, n_samples)
        n_classes = outcome_estimates.shape[1]
    elif method in _NEEDS_OUTCOME_MODEL:
        raise ValueError(
            f"method {method!r} needs outcome_estimates, the outcome model's "
            "predictions for every model on every row."
        )
    else:
        codes = np.asarray(policy)
        if codes.ndim == 2:
            n_classes = codes.shape[1]
        elif np.issubdtype(codes.dtype, np.integer) and codes.size:
            n_classes = int(max(codes.max(), action.max())) + 1
        else:
            # policy_matrix says what is wrong with such a policy.
            n_classes = int(action.max()) + 1
    check_action_codes(action, n_classes)
    proba = policy_matrix(policy, n_samples, n_classes)
    return action, outcome, outcome_estimates, proba


def _checked_propensity(propensity, n_samples, method):
    """The logging propensities that ``method`` needs, checked."""
    if propensity is None:
        raise ValueError(
            f"method {method!r} needs propensity, the logging probability of "
            "each logged model; pass it or estimate it first."
        )
    return check_propensity(
        propensity,
        n_samples,
        hint="Pass the probability with which the logging policy chose the "
        "logged model.",
    )


def _value_and_standard_error(
    method, proba, action, outcome, propensity, outcome_estimates, weight
):
    """The estimate's ratio terms, its value and its standard error."""
    with np.errstate(over="ignore", invalid="ignore"):
        terms = _ratio_terms(
            method, proba, action, outcome, propensity, outcome_estimates
        )
        finite = all(np.isfinite(part).all() for pair in terms for part in pair)
        if finite:
            value, influence = _value_and_influence(terms, weight)
            relative = weight / weight.max()
            standard_error = _norm(relative * influence) / relative.sum()
    if not finite or not np.isfinite(value) or not np.isfinite(standard_error):
        raise _overflow_error(outcome, propensity)
    # A standard error needs two rows that carry the estimate: for the
    # self-normalised estimators, two rows whose logged model the policy uses.
    n_samples = action.shape[0]
    carrying = weight > 0
    if method in ("snipw", "sndr"):
        carrying &= proba[np.arange(n_samples), action] > 0
    if carrying.sum() < 2:
        standard_error = float("nan")
    elif n_samples > 1:
        standard_error *= np.sqrt(n_samples / (n_samples - 1))
    return terms, value, standard_error


def _bootstrap_interval(
    terms, weight, n_bootstrap, random_state, confidence_level, standard_error
):
    """Percentile interval of the bootstrap, and how many replicates it dropped."""
    replicates = _bootstrap(terms, weight, n_bootstrap, random_state)
    tail = (1 - confidence_level) / 2
    bounds = (float("nan"), float("nan"))
    if replicates.size >= 2 and not np.isnan(standard_error):
        bounds = tuple(np.quantile(replicates, [tail, 1 - tail]))
    return bounds, int(n_bootstrap - replicates.size)
