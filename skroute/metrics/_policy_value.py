"""Value of a routing policy: off policy from logs, or exact under full feedback."""

from skroute.causal import LoggedNuisances
from skroute.utils import check_cost_sensitivity


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
    memory=None,
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
    memory : str, joblib.Memory or None, default=None
        Cache of the cross-fitted nuisances, keyed on the logs, ``X``, the
        nuisance models and ``random_state``: values of other policies on the
        same rows (the candidates of a search, scored on the same validation
        fold) read them instead of fitting them again. None caches nothing.

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
    if cost is None and cost_sensitivity > 0:
        raise ValueError(
            f"cost_sensitivity={cost_sensitivity:g} needs cost: pass cost=, or "
            "cost_sensitivity=0 to estimate quality alone."
        )
    evaluation = LoggedNuisances(
        y,
        reward=reward,
        cost=cost,
        propensity=propensity,
        X=X,
        classes=classes,
        method=method,
        propensity_model=propensity_model,
        reward_model=reward_model,
        cost_model=cost_model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        sample_weight=sample_weight,
        memory=memory,
    )
    return evaluation.value(
        y_pred,
        cost_weight=-cost_sensitivity,
        min_propensity=min_propensity,
        confidence_level=confidence_level,
        interval=interval,
        n_bootstrap=n_bootstrap,
        warn=warn,
    )


def cost_quality_values(
    y_preds,
    y,
    *,
    reward,
    cost,
    propensity=None,
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
    warn=True,
):
    """Mean quality and mean cost of several policies, with one nuisance fit.

    Parameters
    ----------
    y_preds : list of array-like
        One policy per entry: chosen labels or routing probabilities, as
        ``y_pred`` in :func:`policy_value`.
    y, reward, cost, propensity, X, classes, method, min_propensity
        As in :func:`policy_value`; ``cost`` is required.
    propensity_model, reward_model, cost_model, cv, n_jobs, random_state, warn
        As in :func:`policy_value`.

    Returns
    -------
    qualities, costs : list of PolicyValue
        One estimate of each per policy, in the order of ``y_preds``.

    Examples
    --------
    Always routing to the cheapest model, ``"llm-0"``, or to the most
    expensive one, ``"llm-5"``, estimated from logs of a uniform logging
    policy whose propensities are known:

    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import cost_quality_values
    >>> problem = make_routing_problem(n_samples=1000, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         logging_policy="uniform", models=problem.models,
    ...                         random_state=0)
    >>> policies = [["llm-0"] * 1000, ["llm-5"] * 1000]
    >>> qualities, costs = cost_quality_values(
    ...     policies, logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity, method="snipw")
    >>> [round(q.estimate, 3) for q in qualities]
    [0.36, 0.722]
    >>> [round(c.estimate, 3) for c in costs]
    [0.055, 5.459]

    The true means of the full-feedback table, for comparison:

    >>> problem.reward[:, [0, 5]].mean(axis=0).round(3).tolist()
    [0.377, 0.699]
    >>> problem.cost[:, [0, 5]].mean(axis=0).round(3).tolist()
    [0.054, 5.393]
    """
    if cost is None:
        raise ValueError("cost is required to estimate mean costs; pass cost=.")
    evaluation = LoggedNuisances(
        y,
        reward=reward,
        cost=cost,
        propensity=propensity,
        X=X,
        classes=classes,
        method=method,
        propensity_model=propensity_model,
        reward_model=reward_model,
        cost_model=cost_model,
        cv=cv,
        n_jobs=n_jobs,
        random_state=random_state,
        sample_weight=None,
    )
    return evaluation.cost_quality(y_preds, min_propensity=min_propensity, warn=warn)
