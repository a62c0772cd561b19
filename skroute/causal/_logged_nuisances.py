"""Logged data and their cross-fitted nuisances, fitted once to value many policies."""

from statistics import NormalDist

import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_memory

from skroute.causal._folds import make_folds
from skroute.causal._pseudo_outcomes import _cross_fitted_nuisances
from skroute.ope import PolicyValue, estimate_policy_value, policy_matrix
from skroute.utils import (
    check_cv_folds,
    check_feature_range,
    check_logged_outcomes,
    encode_actions,
    encode_policy,
    naming_array_errors,
)


class LoggedNuisances:
    """Validated logs and their cross-fitted nuisances, fitted once for many policies.

    The nuisance models that the estimator ``method`` needs (the propensity
    when it is not given, the quality and cost models for ``"dm"``, ``"dr"``
    and ``"sndr"``) are cross-fitted on the logs when the object is made, so
    that no row is scored by a model that saw it. :meth:`value` then estimates
    the mean of ``reward_weight * reward + cost_weight * cost`` under any
    policy from them, without fitting again. With full-feedback 2-D
    ``reward`` nothing is fitted and values are exact.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Logged model of each row.
    reward : array-like of shape (n_samples,) or (n_samples, n_classes)
        Quality of the logged answer, or the full-feedback quality matrix.
    cost : array-like of the same shape as ``reward`` or None
    propensity : array-like of shape (n_samples,) or None
        Logging probability of the logged model; estimated from ``X`` when None.
    X : array-like of shape (n_samples, n_features) or None
        Query features; needed to fit nuisance models.
    classes : array-like of shape (n_classes,) or None
        Candidate models (column order); the sorted labels of ``y`` when None.
    method : {"dm", "ipw", "snipw", "dr", "sndr"}
        The off-policy estimator of :meth:`value`.
    propensity_model, reward_model, cost_model, cv, n_jobs
        Nuisance models and cross-fitting, as in
        :func:`~skroute.causal.cross_fit_pseudo_outcomes`.
    random_state : int, RandomState instance or None, default=0
        Seeds the cross-fitting folds and the bootstrap.
    sample_weight : array-like of shape (n_samples,), default=None
    memory : str, joblib.Memory or None, default=None
        Cache of the cross-fitted nuisances, as in
        :func:`~skroute.metrics.policy_value`.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
    action : ndarray of shape (n_samples,)
        Column code of each row's logged model.
    reward, cost, propensity, sample_weight : ndarray or None
        The validated logs; ``propensity`` is the cross-fitted estimate
        (clipped above 0) when it was not given and ``method`` needs it.
    outcome_estimates : list of ndarray of shape (n_samples, n_classes) or None
        Cross-fitted quality (and cost) predictions for every model, when
        ``method`` uses outcome models.
    unseen : ndarray of shape (n_samples,) of bool or None
        Rows whose model the propensity model's training folds lacked.

    Examples
    --------
    Fit the nuisances of held-out logs once, then value two policies:

    >>> from skroute.causal import LoggedNuisances
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=1000, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> nuisances = LoggedNuisances(
    ...     logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity, X=logs.X, classes=problem.models,
    ...     method="dr")
    >>> cheapest = nuisances.value(["llm-0"] * 1000)
    >>> best = nuisances.value(["llm-5"] * 1000)
    >>> bool(best.estimate > cheapest.estimate)
    True
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
        propensity, estimates, _ = nuisances(
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
        """Mean quality and mean cost of each policy in ``y_preds``.

        Parameters
        ----------
        y_preds : list of array-like
            One policy per entry: chosen labels or routing probabilities.
        min_propensity : float, default=None
            Clip propensities below at this value; None for no clipping.
        warn : bool, default=True
            Warn when an estimate is unreliable.

        Returns
        -------
        qualities, costs : list of PolicyValue
        """
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
        """Estimated mean of ``reward_weight * reward + cost_weight * cost``.

        Parameters
        ----------
        y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
            Model chosen for each row (labels from ``classes``), or routing
            probabilities with columns in ``classes`` order.
        reward_weight, cost_weight : float, default=1.0 and 0.0
            ``cost_weight=-lambda`` values the utility at ``lambda``.
        min_propensity : float, default=None
            Clip propensities below at this value; None for no clipping.
        confidence_level, interval, n_bootstrap, warn
            As in :func:`~skroute.ope.estimate_policy_value`.

        Returns
        -------
        PolicyValue
        """
        n_samples = self.action.shape[0]
        policy = policy_matrix(
            encode_policy(y_pred, self.classes), n_samples, self.classes.size, "y_pred"
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
