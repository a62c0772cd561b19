"""Value of a routing policy: off policy from logs, or exact under full feedback."""

import numpy as np
from sklearn.utils import check_random_state

from skroute.causal import cross_fit_outcomes, estimate_propensity, make_folds
from skroute.ope import PolicyValue, estimate_policy_value, policy_matrix
from skroute.utils import check_cost_sensitivity, check_logged_outcomes, encode_actions


def _policy_codes(y_pred, classes):
    """Map chosen labels to column codes, or pass probabilities through."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        return y_pred
    lookup = {label: index for index, label in enumerate(classes.tolist())}
    try:
        return np.array([lookup[label] for label in y_pred.tolist()], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(
            f"y_pred holds a model that is not among classes: {exc.args[0]!r}."
        ) from None


def policy_value(
    y_pred,
    y,
    *,
    reward,
    cost=None,
    propensity=None,
    cost_sensitivity=0.0,
    X=None,
    classes=None,
    method="dr",
    min_propensity=None,
    propensity_model=None,
    reward_model=None,
    cost_model=None,
    cv=5,
    n_jobs=None,
    random_state=0,
    sample_weight=None,
    confidence_level=0.95,
    interval="normal",
    n_bootstrap=1000,
    warn=True,
):
    """Estimated mean utility ``quality - lambda * cost`` of a routing policy.

    From logged data the value is estimated off policy; the nuisance models it
    needs (propensity when not given, outcome models for ``"dm"``, ``"dr"``,
    ``"sndr"``) are cross-fitted on the rows passed here, so no row is scored by
    a model that saw it. With full-feedback 2-D ``reward`` the value is exact.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
        Model chosen for each query (labels from ``classes``), or routing
        probabilities with columns in ``classes`` order (e.g. ``predict_proba``).
    y : array-like of shape (n_samples,)
        Logged model of each row.
    reward : array-like of shape (n_samples,) or (n_samples, n_classes)
        Quality of the logged answer, or the full-feedback quality matrix.
    cost : array-like of the same shape as ``reward``, default=None
    propensity : array-like of shape (n_samples,), default=None
        Logging probability of the logged model; estimated from ``X`` when None.
    cost_sensitivity : float, default=0.0
        ``lambda``; use ``reward=cost, cost=None`` to estimate mean cost alone.
    X : array-like of shape (n_samples, n_features), default=None
        Query features; needed to fit nuisance models.
    classes : array-like of shape (n_classes,), default=None
        Candidate models (column order); the sorted labels of ``y`` when None.
    method : {"dm", "ipw", "snipw", "dr", "sndr"}, default="dr"
    min_propensity : float, default=None
        Clip propensities below at this value; None for no clipping.
    propensity_model, reward_model, cost_model, cv, n_jobs
        Nuisance models and cross-fitting, as in
        :func:`~skroute.causal.cross_fit_pseudo_outcomes`.
    random_state : int, RandomState instance or None, default=0
        Seeds the cross-fitting folds and the bootstrap; a fixed default makes
        scores of different routers on the same rows comparable.
    sample_weight : array-like of shape (n_samples,), default=None
    confidence_level, interval, n_bootstrap, warn
        As in :func:`~skroute.ope.estimate_policy_value`.

    Returns
    -------
    PolicyValue
        ``method`` is ``"full_feedback"`` for an exact value.

    Examples
    --------
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import policy_value
    >>> problem = make_routing_problem(n_samples=2000, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, models=problem.models,
    ...                         random_state=0)
    >>> always_best = ["llm-5"] * 2000
    >>> estimate = policy_value(always_best, logs.action, reward=logs.reward,
    ...                         propensity=logs.propensity, X=logs.X)
    >>> truth = problem.reward[:, 5].mean()
    >>> bool(abs(estimate.estimate - truth) < 3 * estimate.standard_error)
    True
    """
    cost_sensitivity = check_cost_sensitivity(cost_sensitivity)
    y = np.asarray(y)
    classes, action = encode_actions(y, classes)
    reward, cost, propensity, sample_weight = check_logged_outcomes(
        reward,
        cost,
        propensity,
        sample_weight,
        n_samples=y.shape[0],
        n_classes=classes.size,
    )
    policy = policy_matrix(
        _policy_codes(y_pred, classes), y.shape[0], classes.size, name="y_pred"
    )
    outcome = reward if cost is None else reward - cost_sensitivity * cost
    if reward.ndim == 2:
        per_row = (policy * outcome).sum(axis=1)
        value = float(np.average(per_row, weights=sample_weight))
        spread = (
            np.sqrt(np.cov(per_row, aweights=sample_weight))
            if per_row.size > 1
            else 0.0
        )
        standard_error = float(spread / np.sqrt(per_row.size))
        return PolicyValue(
            estimate=value,
            standard_error=standard_error,
            confidence_interval=(value, value),
            confidence_level=confidence_level,
            method="full_feedback",
            n_samples=per_row.size,
        )

    needs_outcomes = method in ("dm", "dr", "sndr")
    if (needs_outcomes or propensity is None) and X is None:
        raise ValueError(
            f"method {method!r} needs X to fit its nuisance models"
            + ("" if needs_outcomes else " (propensity was not given)")
            + "; pass the query features X."
        )
    outcome_estimates = None
    if needs_outcomes or (propensity is None and method != "dm"):
        X = np.asarray(X)
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        folds = make_folds(action, cv, seed)
        if propensity is None and method != "dm":
            propensity = estimate_propensity(
                X,
                action,
                folds,
                n_classes=classes.size,
                propensity_model=propensity_model,
                sample_weight=sample_weight,
                n_jobs=n_jobs,
            )
            # Estimated propensities can reach 0 on a fold that lacks a model.
            propensity = np.clip(propensity, np.finfo(float).tiny, 1.0)
        if needs_outcomes:
            targets = [reward] if cost is None else [reward, cost]
            estimates = cross_fit_outcomes(
                X,
                action,
                targets,
                folds,
                n_classes=classes.size,
                models=[reward_model, cost_model][: len(targets)],
                sample_weight=sample_weight,
                n_jobs=n_jobs,
            )
            outcome_estimates = estimates[0]
            if cost is not None:
                outcome_estimates = estimates[0] - cost_sensitivity * estimates[1]
    return estimate_policy_value(
        policy,
        action,
        outcome,
        propensity=propensity,
        outcome_estimates=outcome_estimates,
        method=method,
        min_propensity=min_propensity,
        sample_weight=sample_weight,
        confidence_level=confidence_level,
        interval=interval,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        warn=warn,
    )
