"""Cross-fitted selection of a policy's training length, and the safety check.

The policy is trained on ``policy_cv`` folds; each fold's network is judged on
the rows it never saw, by doubly robust pseudo-outcomes, against the simple
policies the logs already support: the direct method (argmax of the outcome
models) and the best single model. The training length is the epoch whose
lower confidence bound on the paired difference is largest, and the learned
policy is deployed only where that bound shows it better than the simple
policy the logs support (see ``safety_report``).
"""

from statistics import NormalDist

import numpy as np

from skroute.utils._warnings import warn_at_caller


class PolicyFallbackWarning(UserWarning):
    """The learned policy could not be shown better than a simple policy.

    Emitted by the ``fit`` of the neural routers (``CausalRouterClassifier``,
    ``IntervalCostRouter``) when their safety check finds no confident gain
    of the learned policy over the best single model or the direct-method
    policy on held-out logs; with ``safety_check="fallback"`` the router then
    deploys that simple policy. The comparison is in ``safety_report_``.

    Examples
    --------
    Silence it, for a benchmark that reads ``safety_report_`` itself, or make
    it an error, to stop where a fallback would be deployed:

    >>> import warnings
    >>> from skroute.routers import PolicyFallbackWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", PolicyFallbackWarning)
    ...     warnings.warn("no confident gain", PolicyFallbackWarning)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", PolicyFallbackWarning)
    ...     try:
    ...         warnings.warn("no confident gain", PolicyFallbackWarning)
    ...     except PolicyFallbackWarning as warning:
    ...         print(f"stopped: {warning}")
    stopped: no confident gain
    """


def checkpoint_epochs(max_epochs):
    """Epochs at which a fold's network is kept: dense early, sparse late."""
    epochs = set(range(1, 11))
    epochs |= set(range(12, 21, 2)) | set(range(25, 51, 5))
    epochs |= set(range(60, max_epochs + 1, 10)) | {max_epochs}
    return sorted(e for e in epochs if e <= max_epochs)


def weighted_mean_and_error(values, weight):
    """Weighted mean of per-row terms and its standard error."""
    weight = weight / weight.sum()
    mean = float(weight @ values)
    error = float(np.sqrt((weight**2) @ (values - mean) ** 2))
    return mean, error


def state_at(states, epoch):
    """The kept state of the last epoch at or before ``epoch`` (else the first)."""
    kept = sorted(states)
    earlier = [e for e in kept if e <= epoch]
    return states[earlier[-1] if earlier else kept[0]]


def choose_epoch(values, reference, weight, z):
    """Training length with the largest lower bound on the gain over ``reference``.

    Parameters
    ----------
    values : dict
        ``{epoch: estimated utility per row}`` of the policy kept at each
        epoch, out of fold, from unbiased (doubly robust) estimates.
    reference : ndarray of shape (n_samples,)
        Estimated utility of the reference policy per row.
    weight : ndarray of shape (n_samples,)
    z : float
        Normal quantile of the bound.

    Returns
    -------
    epoch : int
    bounds : dict
        ``{epoch: lower bound}``.
    """
    bounds = {}
    for epoch, rows in sorted(values.items()):
        mean, error = weighted_mean_and_error(rows - reference, weight)
        bounds[epoch] = mean - z * error
    best = max(bounds.values())
    return min(e for e, b in bounds.items() if b == best), bounds


def safety_report(values, candidates, weight, level):
    """Compare the learned policy with the simple ones; choose what to deploy.

    The baseline is the direct method, unless the best single model is
    better than it at the same confidence (the upper bound of the direct
    method's paired gain over it below 0); the learned policy is deployed only
    where the lower confidence bound of its paired gain over that baseline is
    above 0. (Taking whichever simple policy had the larger point estimate
    fell back to a far worse best single model wherever the doubly robust
    estimates were noisy; requiring the direct method to be confidently better
    than the best single model lost more often still. Both were measured on
    the robustness suite's dev cells.)

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
        Out-of-fold estimated utility of the learned policy per row.
    candidates : dict
        ``{name: per-row estimated utility}`` of the simple policies:
        ``"best_single"`` and, where outcome models exist, ``"direct_method"``.
    weight : ndarray of shape (n_samples,)
    level : float
        One-sided confidence with which the learned policy must be better.

    Returns
    -------
    dict
        ``estimates`` (value per policy), ``differences`` (per simple policy:
        estimated ``gain`` of the learned one, its ``standard_error`` and
        ``lower_bound``), ``direct_method_gain`` (the same for the direct
        method over the best single model, where both exist), ``baseline``
        (the simple policy the learned one must beat), ``confidence_level``,
        and ``choice``: ``"network"`` or the baseline.
    """
    z = NormalDist().inv_cdf(level)

    def gain(better, worse):
        mean, error = weighted_mean_and_error(better - worse, weight)
        return {"gain": mean, "standard_error": error, "lower_bound": mean - z * error}

    estimates = {"network": weighted_mean_and_error(values, weight)[0]}
    for name, rows in candidates.items():
        estimates[name] = weighted_mean_and_error(rows, weight)[0]
    report = {
        "estimates": estimates,
        "differences": {name: gain(values, rows) for name, rows in candidates.items()},
    }
    if "direct_method" in candidates:
        report["direct_method_gain"] = gain(
            candidates["direct_method"], candidates["best_single"]
        )
    baseline = "best_single"
    if "direct_method" in candidates:
        direct = report["direct_method_gain"]
        single_better = direct["gain"] + z * direct["standard_error"] < 0
        baseline = "best_single" if single_better else "direct_method"
    confident = report["differences"][baseline]["lower_bound"] > 0
    report.update(
        baseline=baseline,
        confidence_level=level,
        choice="network" if confident else baseline,
    )
    return report


def warn_fallback(report, fell_back):
    """Emit the PolicyFallbackWarning of ``report``; ``fell_back``: whether the
    simple policy is deployed instead of the network."""
    baseline = report["baseline"]
    gain = report["differences"][baseline]
    action = (
        f"it deploys the {baseline.replace('_', ' ')} policy instead"
        if fell_back
        else "it is deployed anyway (safety_check='warn')"
    )
    warn_at_caller(
        "The learned routing policy could not be shown better than the "
        f"{baseline.replace('_', ' ')} policy on held-out logs: estimated gain "
        f"{gain['gain']:.4g} with a {report['confidence_level']:.0%} lower bound "
        f"of {gain['lower_bound']:.4g}; {action}. See safety_report_. More logged "
        "rows, or logs with more exploration, give the learned policy its chance.",
        PolicyFallbackWarning,
    )
