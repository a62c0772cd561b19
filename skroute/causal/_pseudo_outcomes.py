"""Pseudo-outcome matrices: the doubly robust (and IPW, DM) estimates of every arm."""

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_memory

from skroute.causal._folds import make_folds
from skroute.causal._outcome import cross_fit_tuned_outcomes
from skroute.causal._overlap import overlap_diagnostics
from skroute.causal._propensity import estimate_propensity
from skroute.ope import pseudo_outcomes, select_shrinkage

# "auto": doubly robust with optimistic weight shrinkage, its level chosen per
# model column from the logs (select_shrinkage). The shrunk formulas of
# skroute.ope need a level per model, so they are reached through "auto".
PSEUDO_OUTCOME_METHODS = ("auto", "dr", "sndr", "ipw", "dm")


@dataclass
class PseudoOutcomes:
    """Pseudo-outcome matrices of quality and cost, with their diagnostics.

    Built by :func:`cross_fit_pseudo_outcomes`; the constructor stores its
    arguments as given and checks nothing. Each parameter is kept as the
    attribute of the same name.

    Parameters
    ----------
    reward : ndarray of shape (n_samples, n_classes)
        ``Gamma_a``: estimated quality of every model on every row.
    cost : ndarray of shape (n_samples, n_classes) or None
        ``Gamma_c``: estimated cost, or None when no cost was given.
    propensity : ndarray of shape (n_samples,) or None
        Clipped propensity of each logged action (None in full-feedback mode
        and when both quality and cost use ``"dm"``).
    overlap : dict or None
        Output of :func:`overlap_diagnostics` (None when propensities are unused).
    method : str
        ``"auto"``, ``"dr"``, ``"sndr"``, ``"ipw"``, ``"dm"``, ``"dr-shrink"``,
        ``"switch-dr"`` or ``"full_feedback"``: the method of the quality's
        pseudo-outcomes.
    cost_method : str or None
        The method of the cost's (None when there is no cost).
    reward_estimate, cost_estimate : ndarray of shape (n_samples, n_classes) or None
        Cross-fitted outcome-model estimates ``mu_hat(x_i, t)`` (None where
        no outcome model was fitted).
    dr_reward, dr_cost : ndarray of shape (n_samples, n_classes) or None
        Doubly robust pseudo-outcomes from the same nuisances: unbiased where
        the trained-on ones trade bias for variance, so that the policies
        they select are judged on them (None where they cannot be formed).
    shrinkage : dict
        ``{"reward": tau, "cost": tau}``: the weight shrinkage chosen per
        model column by ``"auto"`` (absent for other methods).
    tuned_outcomes : dict or None
        The ridge outcome models of each arm fitted on all of its rows, whose
        penalty and logistic map every fold refit at (see
        :func:`cross_fit_outcomes`); a cross-fitting of a subset of the rows
        may refit at them too (``tuned_outcomes`` of
        :func:`cross_fit_pseudo_outcomes`).

    See Also
    --------
    cross_fit_pseudo_outcomes : The pseudo-outcomes of logged data.

    Examples
    --------
    With full feedback (the quality and cost of every model on every row),
    the pseudo-outcomes are the outcomes themselves:

    >>> import numpy as np
    >>> from skroute.causal import PseudoOutcomes
    >>> gamma = PseudoOutcomes(
    ...     reward=np.array([[1.0, 0.0], [0.5, 1.0]]),
    ...     cost=np.array([[2.0, 0.5], [2.0, 0.5]]),
    ...     propensity=None,
    ...     overlap=None,
    ...     method="full_feedback",
    ... )
    >>> gamma.utility(0.1).round(3).tolist()
    [[0.8, -0.05], [0.3, 0.95]]

    The best model of each row moves to the cheaper one as the cost
    sensitivity grows:

    >>> gamma.utility(0.1).argmax(axis=1).tolist()
    [0, 1]
    >>> gamma.utility(1.0).argmax(axis=1).tolist()
    [1, 1]
    """

    reward: np.ndarray
    cost: np.ndarray | None
    propensity: np.ndarray | None
    overlap: dict | None
    method: str
    cost_method: str | None = None
    reward_estimate: np.ndarray | None = None
    cost_estimate: np.ndarray | None = None
    dr_reward: np.ndarray | None = None
    dr_cost: np.ndarray | None = None
    shrinkage: dict = field(default_factory=dict)
    tuned_outcomes: dict | None = None

    def utility(self, cost_sensitivity):
        """``Gamma(lambda) = Gamma_a - lambda Gamma_c``, the utility of every arm."""
        if self.cost is None or cost_sensitivity == 0:
            return self.reward.copy()
        return self.reward - cost_sensitivity * self.cost

    def dr_utility(self, cost_sensitivity):
        """Doubly robust utility of every arm (the truth in full-feedback mode).

        None when it cannot be formed (no outcome model, or no propensities).
        """
        if self.method == "full_feedback":
            return self.utility(cost_sensitivity)
        if self.dr_reward is None or (self.cost is not None and self.dr_cost is None):
            return None
        if self.cost is None or cost_sensitivity == 0:
            return self.dr_reward.copy()
        return self.dr_reward - cost_sensitivity * self.dr_cost

    def direct_utility(self, cost_sensitivity):
        """Outcome-model utility ``mu_a - lambda mu_c`` (None without models)."""
        if self.reward_estimate is None or (
            self.cost is not None and self.cost_estimate is None
        ):
            return None
        if self.cost is None or cost_sensitivity == 0:
            return self.reward_estimate.copy()
        return self.reward_estimate - cost_sensitivity * self.cost_estimate


def cross_fit_pseudo_outcomes(
    X,
    action,
    reward,
    cost=None,
    propensity=None,
    *,
    n_classes,
    method="dr",
    cost_method=None,
    propensity_model=None,
    reward_model=None,
    cost_model=None,
    cv=5,
    min_propensity=0.01,
    sample_weight=None,
    n_jobs=None,
    random_state=None,
    warn_overlap=True,
    memory=None,
    model_names=None,
    tuned_outcomes=None,
):
    """Cross-fit the nuisance models and build the pseudo-outcome matrices.

    Each row's nuisance estimates (propensity and outcomes) come from models
    fitted on the other ``cv`` folds, stratified by the logged model.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    reward : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Observed quality, or the full-feedback quality matrix (then returned
        as is: the oracle-fed reference).
    cost : ndarray of the same shape as ``reward``, default=None
    propensity : ndarray of shape (n_samples,), default=None
        Logged propensities; estimated by ``propensity_model`` when None.
    n_classes : int
    method : {"auto", "dr", "sndr", "ipw", "dm"}, default="dr"
        Pseudo-outcomes of the quality (and of the cost unless
        ``cost_method`` is given). ``"auto"`` is doubly robust with optimistic
        shrinkage of the importance weights, its level chosen per model column
        by estimated mean squared error (:func:`skroute.ope.select_shrinkage`),
        from the direct method to plain DR.
    cost_method : {"auto", "dr", "sndr", "ipw", "dm"}, default=None
        Pseudo-outcomes of the cost; ``method`` when None. A cost that the
        outcome model predicts well (set by the model and the prompt length)
        gains little from the importance-weighted correction and pays its
        variance: ``"dm"`` drops it.
    propensity_model : classifier with ``predict_proba``, default=None
        Multinomial logistic regression when None.
    reward_model, cost_model : regressor or binary classifier, default=None
        :class:`RidgeOutcomeModel` when None; fitted per arm.
    cv : int, splitter or list of (train, test) index arrays, default=5
    min_propensity : float, default=0.01
        Propensities are clipped below at this value.
    sample_weight : ndarray of shape (n_samples,), default=None
    n_jobs : int, default=None
    random_state : int, RandomState or None
        Seeds the fold split.
    warn_overlap : bool, default=True
        Emit an :class:`OverlapWarning` when overlap is poor.
    memory : str, joblib.Memory or None, default=None
        Where to cache the fitted nuisances (the estimated propensities and
        the cross-fitted outcome estimates): a directory, or a
        ``joblib.Memory``. A later call with the same logs, folds, seed and
        nuisance models reads them instead of fitting them again, so that
        the candidates of a search over settings the nuisances do not
        depend on (``cost_sensitivity``, the policy's) share them. The
        cache is keyed on the content of every input; ``n_jobs`` is not part
        of the key. None caches nothing.

    model_names : array-like of shape (n_classes,), default=None
        The models' names, by which an :class:`OverlapWarning` names them.
    tuned_outcomes : dict, default=None
        The ``tuned_outcomes`` of a cross-fitting of a superset of these
        rows with the same settings: the ridge outcome models refit at the
        penalties and logistic maps chosen there instead of choosing them
        again on these rows.

    Returns
    -------
    PseudoOutcomes

    Examples
    --------
    >>> from skroute.causal import cross_fit_pseudo_outcomes
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=600, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         random_state=0)
    >>> action = logs.action_index
    >>> gamma = cross_fit_pseudo_outcomes(
    ...     logs.X, action, logs.reward, logs.cost, logs.propensity,
    ...     n_classes=len(problem.models), random_state=0)
    >>> gamma.reward.shape
    (600, 6)
    """
    cost_method = method if cost_method is None else cost_method
    for name, value in (
        ("method", method),
        ("cost_method", cost_method),
    ):
        if value not in PSEUDO_OUTCOME_METHODS:
            raise ValueError(
                f"{name} must be one of {PSEUDO_OUTCOME_METHODS}; got {value!r}."
            )
    if not isinstance(min_propensity, numbers.Real) or not 0 < min_propensity <= 1:
        raise ValueError(
            f"min_propensity must be a number in (0, 1]; got {min_propensity!r}."
        )
    if reward.ndim == 2:
        return PseudoOutcomes(reward, cost, None, None, "full_feedback")
    n_samples = X.shape[0]
    weight = np.ones(n_samples) if sample_weight is None else sample_weight
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    folds = make_folds(action, cv, seed)

    targets = [reward] if cost is None else [reward, cost]
    methods = [method, cost_method][: len(targets)]
    uses_propensity = any(m != "dm" for m in methods)
    modelled = [t for t, m in enumerate(methods) if m != "ipw"]
    nuisances = check_memory(memory).cache(_cross_fitted_nuisances, ignore=["n_jobs"])
    propensity, fitted, tuned_outcomes = nuisances(
        X,
        action,
        [targets[t] for t in modelled],
        propensity,
        folds,
        estimate=uses_propensity and propensity is None,
        n_classes=n_classes,
        propensity_model=propensity_model,
        models=[[reward_model, cost_model][t] for t in modelled],
        sample_weight=weight,
        n_jobs=n_jobs,
        tuned=tuned_outcomes,
    )
    clipped = overlap = None
    if uses_propensity:
        overlap = overlap_diagnostics(
            action,
            propensity,
            n_classes=n_classes,
            min_propensity=min_propensity,
            warn=warn_overlap,
            model_names=model_names,
        )
        clipped = np.maximum(propensity, min_propensity)
    estimates = [np.zeros((n_samples, n_classes)) for _ in targets]
    for t, estimate in zip(modelled, fitted):
        estimates[t] = estimate
    gammas, doubly_robust, shrinkage = [], [], {}
    for name, target, estimate, m in zip(
        ("reward", "cost"), targets, estimates, methods
    ):
        if m == "auto":
            tau, _ = select_shrinkage(
                target, action, clipped, estimate, sample_weight=weight
            )
            shrinkage[name] = tau
            gammas.append(
                pseudo_outcomes(
                    target, action, clipped, estimate, method="dr-shrink", shrinkage=tau
                )
            )
        else:
            gammas.append(pseudo_outcomes(target, action, clipped, estimate, method=m))
        # DR from the same nuisances judges policies trained on any of them
        # (none for "ipw", which has no outcome model, or without propensities).
        if m == "dr":
            doubly_robust.append(gammas[-1])
        elif m == "ipw" or clipped is None:
            doubly_robust.append(None)
        else:
            doubly_robust.append(
                pseudo_outcomes(target, action, clipped, estimate, method="dr")
            )
    modelled_estimates = [
        estimate if m != "ipw" else None for estimate, m in zip(estimates, methods)
    ]
    has_cost = cost is not None
    return PseudoOutcomes(
        reward=gammas[0],
        cost=gammas[1] if has_cost else None,
        propensity=clipped,
        overlap=overlap,
        method=method,
        cost_method=cost_method if has_cost else None,
        reward_estimate=modelled_estimates[0],
        cost_estimate=modelled_estimates[1] if has_cost else None,
        dr_reward=doubly_robust[0],
        dr_cost=doubly_robust[1] if has_cost else None,
        shrinkage=shrinkage,
        tuned_outcomes=tuned_outcomes,
    )


def _cross_fitted_nuisances(
    X,
    action,
    targets,
    propensity,
    folds,
    *,
    estimate,
    n_classes,
    propensity_model,
    models,
    sample_weight,
    n_jobs,
    tuned=None,
):
    """The propensities (estimated if ``estimate``), the outcome estimates and
    the tuned outcome models (``tuned`` where given).

    Everything of :func:`cross_fit_pseudo_outcomes` that fits a model, in one
    function of its inputs, so that ``memory`` can cache it; warnings on the
    results (overlap) are left to the caller, so that they reach the user on
    a cached call too.
    """
    if estimate:
        propensity = estimate_propensity(
            X,
            action,
            folds,
            n_classes=n_classes,
            propensity_model=propensity_model,
            sample_weight=sample_weight,
            n_jobs=n_jobs,
        )
    fitted = []
    if targets:
        fitted, tuned = cross_fit_tuned_outcomes(
            X,
            action,
            targets,
            folds,
            n_classes=n_classes,
            models=models,
            sample_weight=sample_weight,
            n_jobs=n_jobs,
            tuned=tuned,
        )
    return propensity, fitted, tuned
