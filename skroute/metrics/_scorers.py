"""Scorers for model selection that receive the logged arrays by metadata routing."""

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest, _routing_enabled

from skroute.metrics._full_feedback import regret
from skroute.metrics._policy_value import policy_value
from skroute.ope import OPE_METHODS, UnreliableEstimateWarning
from skroute.ope._estimators import MIN_EFFECTIVE_SAMPLE_SIZE
from skroute.utils import check_choice
from skroute.utils._warnings import warn_at_caller

_RESPONSE_METHODS = ("predict", "predict_proba")


def _warn_without_routing(reward):
    # Model-selection tools turn a scorer's error into a NaN score by default;
    # the warning keeps the cause visible.
    if reward is None and not _routing_enabled():
        warn_at_caller(
            "The scorer received no reward: enable metadata routing with "
            "sklearn.set_config(enable_metadata_routing=True) so that reward, cost "
            "and propensity reach it (pass error_score='raise' to GridSearchCV or "
            "cross_validate to stop at the first failed score).",
            UserWarning,
        )


class _LoggedArraysScorer:
    """Base of scorers called as ``scorer(estimator, X, y, reward=..., ...)``."""

    _requested = ("reward", "cost", "propensity", "sample_weight")

    def __init__(self, cost_sensitivity, response_method):
        check_choice(response_method, "response_method", _RESPONSE_METHODS)
        self.cost_sensitivity = cost_sensitivity
        self.response_method = response_method

    def get_metadata_routing(self):
        """The logged arrays this scorer requests for ``score``."""
        request = MetadataRequest(owner=type(self).__name__)
        for name in self._requested:
            request.score.add_request(param=name, alias=True)
        return request

    def _cost_sensitivity(self, estimator, cost):
        if self.cost_sensitivity is not None:
            return self.cost_sensitivity
        if cost is None:
            return 0.0  # without cost, a router's lambda plays no part
        final = getattr(estimator, "_final_estimator", estimator)
        fitted = getattr(final, "cost_sensitivity_", None)
        if fitted is not None:
            return fitted  # what the router was fitted at, as its predict uses
        if not hasattr(final, "cost_sensitivity"):
            raise ValueError(
                f"{type(final).__name__} has no cost_sensitivity; pass "
                "cost_sensitivity= to the scorer factory."
            )
        return final.cost_sensitivity

    def _policy(self, estimator, X):
        method = getattr(estimator, self.response_method, None)
        if method is None:
            raise TypeError(
                f"estimator must be a fitted router with a {self.response_method} "
                f"method; got {type(estimator).__name__}."
            )
        return method(X)

    def __repr__(self):
        return (
            f"{type(self).__name__}(cost_sensitivity={self.cost_sensitivity!r}, "
            f"response_method={self.response_method!r})"
        )


class PolicyValueScorer(_LoggedArraysScorer):
    """Off-policy estimate of a router's value; see :func:`make_policy_value_scorer`.

    Called as ``scorer(estimator, X, y, reward=..., cost=..., propensity=...,
    sample_weight=...)``, with ``y`` the logged model, it returns the
    estimated mean utility ``quality - lambda * cost`` of the estimator's
    policy on those rows, as :func:`policy_value` computes it. Build it with
    :func:`make_policy_value_scorer`, which checks the settings and gathers
    the nuisance options, rather than directly. A score that rests on a small
    effective sample size warns (:class:`~skroute.ope.UnreliableEstimateWarning`)
    once per scorer, not once per fold.

    Parameters
    ----------
    method : {"dm", "ipw", "snipw", "dr", "sndr"}
        The off-policy estimator.
    cost_sensitivity : float or None
        ``lambda`` of the utility being scored; None uses each router's own
        ``cost_sensitivity`` (and 0 when no ``cost`` is passed).
    response_method : {"predict", "predict_proba"}
        Score the deployed (argmax) policy, or the stochastic policy of
        ``predict_proba``.
    nuisance_params : dict
        Passed on to :func:`policy_value`: ``min_propensity``,
        ``propensity_model``, ``reward_model``, ``cost_model``, ``cv``,
        ``n_jobs`` and ``random_state``.

    See Also
    --------
    make_policy_value_scorer : The factory of this scorer.
    policy_value : The estimate the scorer returns.

    Examples
    --------
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import make_policy_value_scorer
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity)
    >>> scorer = make_policy_value_scorer(method="snipw")
    >>> scorer
    PolicyValueScorer(cost_sensitivity=None, response_method='predict')
    >>> score = scorer(router, logs.X, logs.action, reward=logs.reward,
    ...                cost=logs.cost, propensity=logs.propensity)
    >>> round(score, 3)
    0.805
    """

    def __init__(self, method, cost_sensitivity, response_method, nuisance_params):
        super().__init__(cost_sensitivity, response_method)
        check_choice(method, "method", OPE_METHODS)
        self.method = method
        self.nuisance_params = nuisance_params

    def __call__(
        self,
        estimator,
        X,
        y,
        reward=None,
        cost=None,
        propensity=None,
        sample_weight=None,
    ):
        _warn_without_routing(reward)
        value = policy_value(
            self._policy(estimator, X),
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            cost_sensitivity=self._cost_sensitivity(estimator, cost),
            X=X,
            classes=estimator.classes_,
            method=self.method,
            sample_weight=sample_weight,
            warn=False,
            **self.nuisance_params,
        )
        self._note_reliability(value)
        return value.estimate

    def _note_reliability(self, value):
        """Warn once per scorer, not once per fold, about weak scores.

        A model-selection search calls its scorer once per candidate and fold;
        the first unreliable score warns, and the message counts the scores
        seen so far. Each joblib worker holds its own copy of the scorer, so a
        parallel search warns at most once per worker.
        """
        size = value.diagnostics.get("effective_sample_size")
        self._n_scored = getattr(self, "_n_scored", 0) + 1
        if size is None or size >= MIN_EFFECTIVE_SAMPLE_SIZE:
            return
        if getattr(self, "_warned", False):
            return
        self._warned = True
        warn_at_caller(
            f"An off-policy score rests on an effective sample size of {size:.1f} "
            f"rows (of {value.n_samples}; score {self._n_scored} of this scorer): "
            "the logs say little about that candidate, and its score is noisy. "
            "This scorer warns once, whatever the number of folds and candidates; "
            "check skroute.ope.importance_weight_diagnostics on the logs, use "
            "more rows per fold, or logs that explore more.",
            UnreliableEstimateWarning,
        )


class RegretScorer(_LoggedArraysScorer):
    """Negated true regret under full feedback; see :func:`make_regret_scorer`.

    Called as ``scorer(estimator, X, y, reward=..., cost=...)`` with
    full-feedback ``reward`` and ``cost`` of shape (n_samples, n_classes),
    columns in the estimator's ``classes_`` order, it returns ``-regret`` of
    the estimator's policy on those rows (see :func:`regret`): 0 for the
    oracle, lower for worse routers. Build it with :func:`make_regret_scorer`
    rather than directly.

    Parameters
    ----------
    cost_sensitivity : float or None
        ``lambda`` of the utility; None uses each router's own
        ``cost_sensitivity`` (and 0 when no ``cost`` is passed).
    response_method : {"predict", "predict_proba"}
        Score the deployed (argmax) policy, or the stochastic policy of
        ``predict_proba``.

    See Also
    --------
    make_regret_scorer : The factory of this scorer.
    regret : The regret the scorer negates.

    Examples
    --------
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import make_regret_scorer, regret
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=problem.reward, cost=problem.cost)
    >>> scorer = make_regret_scorer()
    >>> scorer
    RegretScorer(cost_sensitivity=None, response_method='predict')
    >>> score = scorer(router, logs.X, logs.action, reward=problem.reward,
    ...                cost=problem.cost)
    >>> truth = regret(problem.reward, router.predict(logs.X),
    ...                cost=problem.cost, cost_sensitivity=0.05,
    ...                classes=router.classes_)
    >>> round(score, 3), round(truth, 3)
    (-0.197, 0.197)
    """

    _requested = ("reward", "cost")

    def __call__(self, estimator, X, y, reward=None, cost=None):
        _warn_without_routing(reward)
        reward = None if reward is None else np.asarray(reward)
        if reward is None or reward.ndim != 2:
            raise ValueError(
                "the regret scorer needs full-feedback reward of shape (n_samples, "
                "n_classes); for logged data use make_policy_value_scorer. With "
                "metadata routing enabled (sklearn.set_config("
                "enable_metadata_routing=True)), pass reward= to fit."
            )
        return -regret(
            reward,
            self._policy(estimator, X),
            cost=cost,
            cost_sensitivity=self._cost_sensitivity(estimator, cost),
            classes=estimator.classes_,
        )


def make_policy_value_scorer(
    method="dr",
    cost_sensitivity=None,
    *,
    response_method="predict",
    min_propensity=None,
    propensity_model=None,
    reward_model=None,
    cost_model=None,
    cv=5,
    n_jobs=None,
    random_state=0,
    memory=None,
):
    """Scorer of a router's estimated value on logged validation folds.

    The scorer requests ``reward``, ``cost`` and ``propensity`` through metadata
    routing, so ``GridSearchCV(router, grid, scoring=scorer)`` and
    ``cross_validate(..., scoring={...}, params=...)`` slice them per fold once
    ``sklearn.set_config(enable_metadata_routing=True)`` is set; ``y`` is the
    logged model. Higher is better.

    The nuisance models of the estimate are cross-fitted within the scored
    fold, never fitted on the rows they score and never taken from the router:
    the score is then the same computation for any router, baseline or
    Pipeline, and does not trust the model being evaluated.

    Parameters
    ----------
    method : {"dm", "ipw", "snipw", "dr", "sndr"}, default="dr"
    cost_sensitivity : float, default=None
        ``lambda`` of the utility being scored. None uses each router's own
        ``cost_sensitivity``; fix it when ``cost_sensitivity`` is itself tuned,
        so that all candidates are scored on the same utility.
    response_method : {"predict", "predict_proba"}, default="predict"
        Score the deployed (argmax) policy, or the stochastic policy of
        ``predict_proba``.
    min_propensity, propensity_model, reward_model, cost_model, cv, n_jobs, \
random_state
        As in :func:`policy_value`.
    memory : str, joblib.Memory or None, default=None
        Cache of the nuisances of each scored fold. A search scores every
        candidate on the same validation folds, whose nuisances do not
        depend on the candidate: with a cache they are fitted once per fold,
        not once per candidate and fold. None caches nothing.

    Returns
    -------
    PolicyValueScorer

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.model_selection import cross_validate
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import make_policy_value_scorer
    >>> problem = make_routing_problem(n_samples=1500, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     result = cross_validate(
    ...         DecoupledRouter(cost_sensitivity=0.05), logs.X, logs.action,
    ...         scoring={"value": make_policy_value_scorer()},
    ...         params={"reward": logs.reward, "cost": logs.cost,
    ...                 "propensity": logs.propensity}, cv=3)
    >>> result["test_value"].shape
    (3,)
    """
    return PolicyValueScorer(
        method,
        cost_sensitivity,
        response_method,
        {
            "min_propensity": min_propensity,
            "propensity_model": propensity_model,
            "reward_model": reward_model,
            "cost_model": cost_model,
            "cv": cv,
            "n_jobs": n_jobs,
            "random_state": random_state,
            "memory": memory,
        },
    )


def make_regret_scorer(cost_sensitivity=None, *, response_method="predict"):
    """Scorer of a router's negated true regret, for full-feedback data.

    Requests ``reward`` and ``cost`` (2-D, columns in ``classes_`` order) by
    metadata routing. Returns ``-regret``, so that higher is better as
    scikit-learn's model selection expects.

    Parameters
    ----------
    cost_sensitivity : float, default=None
        ``lambda``; None uses each router's own ``cost_sensitivity``.
    response_method : {"predict", "predict_proba"}, default="predict"
        Score the deployed (argmax) policy, or the stochastic policy of
        ``predict_proba``.

    Returns
    -------
    RegretScorer

    Examples
    --------
    With full feedback, ``reward`` and ``cost`` are the quality and cost of
    every model on every query; ``y`` is still the logged model.

    >>> import sklearn
    >>> from sklearn.model_selection import cross_validate
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.metrics import make_regret_scorer
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     result = cross_validate(
    ...         DecoupledRouter(cost_sensitivity=0.05), logs.X, logs.action,
    ...         scoring={"neg_regret": make_regret_scorer()},
    ...         params={"reward": problem.reward, "cost": problem.cost}, cv=3)
    >>> result["test_neg_regret"].shape, bool((result["test_neg_regret"] <= 0).all())
    ((3,), True)
    """
    return RegretScorer(cost_sensitivity, response_method)
