"""Overlap diagnostics: how much the logs say about each candidate model."""

import numpy as np

from skroute.utils._warnings import warn_at_caller


class OverlapWarning(UserWarning):
    """Raised when the logging policy explored too little for reliable estimates.

    Emitted by :func:`overlap_diagnostics`, and so by
    :func:`cross_fit_pseudo_outcomes` (unless ``warn_overlap=False``) and by
    the routers' ``fit`` on logged data.

    Examples
    --------
    A quarter of the propensities are below the clipping level; the filter
    turns the warning into an error:

    >>> import warnings
    >>> import numpy as np
    >>> from skroute.causal import OverlapWarning, overlap_diagnostics
    >>> action = np.array([0, 0, 1, 1])
    >>> propensity = np.array([0.5, 0.5, 0.5, 0.001])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", OverlapWarning)
    ...     try:
    ...         overlap_diagnostics(
    ...             action, propensity, n_classes=2, min_propensity=0.01
    ...         )
    ...     except OverlapWarning as warning:
    ...         print(str(warning).split(":")[0])
    Poor overlap between the logging policy and the candidate models
    """


def overlap_diagnostics(
    action,
    propensity,
    *,
    n_classes,
    min_propensity,
    max_clipped_fraction=0.05,
    min_ess_ratio=0.1,
    warn=True,
    model_names=None,
):
    """Effective sample size per model and share of clipped propensities.

    Parameters
    ----------
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    propensity : ndarray of shape (n_samples,)
        Unclipped propensity of each logged action (given or estimated).
    n_classes : int
    min_propensity : float
        Clipping level applied to ``propensity``.
    max_clipped_fraction, min_ess_ratio : float
        Thresholds of the warning: more than ``max_clipped_fraction`` of rows
        clipped, or a model whose effective sample size is below
        ``min_ess_ratio`` times its number of logged rows.
    warn : bool, default=True
        Emit an :class:`OverlapWarning` when a threshold is crossed.
    model_names : array-like of shape (n_classes,), default=None
        The models' names, by which the warning names them (their integer
        codes when None).

    Returns
    -------
    dict
        ``n_logged`` (rows per model), ``effective_sample_size`` per model,
        ``ess_ratio`` (effective over logged rows), ``clipped_fraction``,
        ``max_weight`` (largest inverse clipped propensity).

    Examples
    --------
    Model 1's second row has a propensity below the clipping level, so its
    weight of 100 dwarfs the other: its two logged rows count as about one.

    >>> import numpy as np
    >>> from skroute.causal import overlap_diagnostics
    >>> action = np.array([0, 0, 1, 1])
    >>> propensity = np.array([0.5, 0.5, 0.5, 0.001])
    >>> diagnostics = overlap_diagnostics(
    ...     action, propensity, n_classes=2, min_propensity=0.01, warn=False
    ... )
    >>> diagnostics["n_logged"].tolist()
    [2, 2]
    >>> diagnostics["effective_sample_size"].round(2).tolist()
    [2.0, 1.04]
    >>> diagnostics["clipped_fraction"], diagnostics["max_weight"]
    (0.25, 100.0)
    """
    clipped = propensity < min_propensity
    weight = 1.0 / np.maximum(propensity, min_propensity)
    n_logged = np.bincount(action, minlength=n_classes)
    # The effective sample size does not change with the weights' scale: scaled
    # by each model's largest weight, the squares cannot overflow.
    largest = np.zeros(n_classes)
    np.maximum.at(largest, action, weight)
    scaled = weight / largest[action]
    total = np.bincount(action, weights=scaled, minlength=n_classes)
    squares = np.bincount(action, weights=scaled**2, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = np.where(squares > 0, total**2 / squares, 0.0)
        ratio = np.where(n_logged > 0, ess / n_logged, 0.0)
    diagnostics = {
        "n_logged": n_logged,
        "effective_sample_size": ess,
        "ess_ratio": ratio,
        "clipped_fraction": float(clipped.mean()),
        "max_weight": float(weight.max()),
    }
    if warn:
        problems = []
        if diagnostics["clipped_fraction"] > max_clipped_fraction:
            problems.append(
                f"{diagnostics['clipped_fraction']:.1%} of propensities are below "
                f"min_propensity={min_propensity:g} and were clipped"
            )
        poor = np.flatnonzero((ratio < min_ess_ratio) & (n_logged > 0))
        if poor.size:
            names = np.arange(n_classes) if model_names is None else model_names
            listed = ", ".join(
                f"{np.asarray(names)[t]} ({ess[t]:.1f} of {n_logged[t]} rows)"
                for t in poor[:10]
            )
            more = f" and {poor.size - 10} more" if poor.size > 10 else ""
            problems.append(
                f"the logged rows of {listed}{more} count as fewer than "
                f"{min_ess_ratio:.0%} of their number once weighted (effective "
                "sample size)"
            )
        if problems:
            warn_at_caller(
                "Poor overlap between the logging policy and the candidate models: "
                + "; ".join(problems)
                + ". Estimates for rarely logged models are unreliable; log with more "
                "exploration, or raise min_propensity to trade variance for bias.",
                OverlapWarning,
            )
    return diagnostics
