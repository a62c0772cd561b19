"""Value of a routing policy: off policy from logs, or exact under full feedback."""

from statistics import NormalDist

import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_memory

from skroute.causal import make_folds
from skroute.causal._pseudo_outcomes import _cross_fitted_nuisances
from skroute.metrics._full_feedback import _policy_codes
from skroute.ope import PolicyValue, estimate_policy_value, policy_matrix
from skroute.utils import (
    check_cost_sensitivity,
    check_cv_folds,
    check_feature_range,
    check_logged_outcomes,
    encode_actions,
    naming_array_errors,
)


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
    evaluation = _LoggedEvaluation(
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
    evaluation = _LoggedEvaluation(
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


class _LoggedEvaluation:
    """Validated logs and their cross-fitted nuisances, fitted once for many policies.

    ``value`` estimates the mean of ``reward_weight * reward + cost_weight *
    cost`` under a policy.
    """

    def __init__(
        self,
        y,
        *,
        reward,
        cost,
        propensity,
        X,
        classes,
        method,
        propensity_model=None,
        reward_model=None,
        cost_model=None,
        cv=5,
        n_jobs=None,
        random_state=0,
        sample_weight=None,
        memory=None,
    ):
        y = np.asarray(y)
        if y.ndim == 1 and y.shape[0] == 0:
            raise ValueError("y is empty: there are no logged rows to evaluate.")
        self.classes, self.action = encode_actions(y, classes)
        self.reward, self.cost, self.propensity, self.sample_weight = (
            check_logged_outcomes(
                reward,
                cost,
                propensity,
                sample_weight,
                n_samples=y.shape[0],
                n_classes=self.classes.size,
            )
        )
        self.method = method
        self.random_state = random_state
        self.outcome_estimates = None
        self.unseen = None
        if self.reward.ndim == 2:
            return
        needs_outcomes = method in ("dm", "dr", "sndr")
        needs_propensity = self.propensity is None and method != "dm"
        if (needs_outcomes or needs_propensity) and X is None:
            raise ValueError(
                f"method {method!r} needs X to fit its nuisance models"
                + ("" if needs_outcomes else " (propensity was not given)")
                + "; pass the query features X."
            )
        if not (needs_outcomes or needs_propensity):
            return
        with naming_array_errors("X"):
            X = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        check_feature_range(X)
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows but y has {y.shape[0]}; pass the features "
                "of the logged rows being evaluated."
            )
        check_cv_folds(self.action, cv)
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        folds = make_folds(self.action, cv, seed)
        targets = [self.reward] if self.cost is None else [self.reward, self.cost]
        nuisances = check_memory(memory).cache(
            _cross_fitted_nuisances, ignore=["n_jobs"]
        )
        propensity, estimates = nuisances(
            X,
            self.action,
            targets if needs_outcomes else [],
            self.propensity,
            folds,
            estimate=needs_propensity,
            n_classes=self.classes.size,
            propensity_model=propensity_model,
            models=[reward_model, cost_model][: len(targets)],
            sample_weight=self.sample_weight,
            n_jobs=n_jobs,
        )
        if needs_propensity:
            # An estimated propensity is 0 for a row whose model its training
            # folds lack (a model logged once): usable only once clipped.
            self.unseen = propensity <= 0
            self.propensity = np.clip(propensity, np.finfo(float).tiny, 1.0)
        if needs_outcomes:
            self.outcome_estimates = estimates

    def cost_quality(self, y_preds, *, min_propensity=None, warn=True):
        """Mean quality and mean cost of each policy in ``y_preds``."""
        options = {"min_propensity": min_propensity, "warn": warn}
        qualities = [self.value(p, cost_weight=0.0, **options) for p in y_preds]
        costs = [
            self.value(p, reward_weight=0.0, cost_weight=1.0, **options)
            for p in y_preds
        ]
        return qualities, costs

    def _combine(self, values, reward_weight, cost_weight):
        combined = reward_weight * values[0]
        if len(values) > 1 and cost_weight != 0:
            combined = combined + cost_weight * values[1]
        return combined

    def value(
        self,
        y_pred,
        *,
        reward_weight=1.0,
        cost_weight=0.0,
        min_propensity=None,
        confidence_level=0.95,
        interval="normal",
        n_bootstrap=1000,
        warn=True,
    ):
        n_samples = self.action.shape[0]
        policy = policy_matrix(
            _policy_codes(y_pred, self.classes), n_samples, self.classes.size, "y_pred"
        )
        outcomes = [self.reward] if self.cost is None else [self.reward, self.cost]
        with np.errstate(over="ignore", invalid="ignore"):
            outcome = self._combine(outcomes, reward_weight, cost_weight)
        if not np.isfinite(outcome).all():
            raise ValueError(
                "reward - cost_sensitivity * cost overflows float64 (cost_sensitivity="
                f"{-cost_weight:g}, largest |cost| {np.max(np.abs(self.cost)):.3g}); "
                "rescale cost or lower cost_sensitivity."
            )
        if (
            self.unseen is not None
            and min_propensity is None
            and self.method != "dm"
            and (self.unseen & (policy[np.arange(n_samples), self.action] > 0)).any()
        ):
            rows = np.flatnonzero(self.unseen)
            models = np.unique(self.classes[self.action[rows]]).tolist()
            raise ValueError(
                f"the propensity of rows {rows[:10].tolist()} cannot be estimated: "
                f"their models {models} were logged only once in y, so the "
                "cross-fitted propensity model never saw them. Pass propensity=, "
                "min_propensity=, or evaluate on more logged rows."
            )
        if self.reward.ndim == 2:
            per_row = (policy * outcome).sum(axis=1)
            value = float(np.average(per_row, weights=self.sample_weight))
            spread = 0.0
            if per_row.size > 1:
                spread = np.sqrt(np.cov(per_row, aweights=self.sample_weight))
            standard_error = float(spread / np.sqrt(per_row.size))
            z = NormalDist().inv_cdf(0.5 + confidence_level / 2)
            return PolicyValue(
                estimate=value,
                standard_error=standard_error,
                # Exact on these rows; the interval is for the population they
                # were drawn from.
                confidence_interval=(
                    value - z * standard_error,
                    value + z * standard_error,
                ),
                confidence_level=confidence_level,
                method="full_feedback",
                n_samples=per_row.size,
            )
        estimates = self.outcome_estimates
        return estimate_policy_value(
            policy,
            self.action,
            outcome,
            propensity=self.propensity,
            outcome_estimates=(
                None
                if estimates is None
                else self._combine(estimates, reward_weight, cost_weight)
            ),
            method=self.method,
            min_propensity=min_propensity,
            sample_weight=self.sample_weight,
            confidence_level=confidence_level,
            interval=interval,
            n_bootstrap=n_bootstrap,
            random_state=self.random_state,
            warn=warn,
        )
