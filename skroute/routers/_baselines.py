"""Baseline routers sharing the fit signature of the causal routers."""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skroute.causal import PSEUDO_OUTCOME_METHODS
from skroute.causal._direct_method import fit_outcome_models
from skroute.routers._base import CV_CONSTRAINT, BaseRouter, NuisanceMixin
from skroute.routers._deployed import BestSinglePolicy, DirectMethodPolicy, HashPolicy

_COMMON_CONSTRAINTS = {
    "cost_sensitivity": [Interval(numbers.Real, 0, None, closed="left")],
    "classes": [None, "array-like"],
}


class DecoupledRouter(BaseRouter):
    """Predict-then-optimise router: per-model quality and cost regressors.

    Each candidate model gets a quality regressor and a cost regressor fitted
    on the rows where it was logged, without correcting for the logging
    policy; a query goes to ``argmax_t quality_t(x) - lambda cost_t(x)``. This
    is the usual approach that the causal routers improve upon.

    Parameters
    ----------
    cost_sensitivity : float, default=0.0
        ``lambda`` in the utility ``quality - lambda * cost``.
    reward_model, cost_model : regressor or binary classifier, default=None
        Per-model outcome models; :class:`~skroute.causal.RidgeOutcomeModel`
        when None.
    classes : array-like, default=None
        The candidate models; defaults to the models seen in ``y``.
    n_jobs : int, default=None
        Models fitted in parallel (joblib).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_sensitivity_ : float
        The ``cost_sensitivity`` the router was fitted at: ``predict``,
        ``score`` and ``export`` use it, so setting the parameter after
        ``fit`` changes nothing until the next ``fit``.
    reward_models_, cost_models_ : list of fitted models (``cost_models_`` is
        None without cost)
    deployed_ : object
        The policy ``predict`` and ``export`` go through: argmax of the
        models' ``quality - lambda cost``.

    Examples
    --------
    >>> from skroute.routers import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=500, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost)
    >>> router.predict_proba(logs.X[:2]).sum(axis=1)
    array([1., 1.])
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "reward_model": [None, HasMethods(["fit"])],
        "cost_model": [None, HasMethods(["fit"])],
        "n_jobs": [None, numbers.Integral],
    }

    def __init__(
        self,
        cost_sensitivity=0.0,
        *,
        reward_model=None,
        cost_model=None,
        classes=None,
        n_jobs=None,
    ):
        self.cost_sensitivity = cost_sensitivity
        self.reward_model = reward_model
        self.cost_model = cost_model
        self.classes = classes
        self.n_jobs = n_jobs

    def _fit(self, logs):
        self.reward_models_, self.cost_models_ = fit_outcome_models(
            logs, self.classes_.size, self.reward_model, self.cost_model, self.n_jobs
        )
        self.deployed_ = self._deployed_policy()
        return self

    def _deployed_policy(self):
        return DirectMethodPolicy(self.reward_models_, self.cost_models_)


class BestSingleModelRouter(NuisanceMixin, BaseRouter):
    """Routes every query to the one model with the best estimated utility.

    The value of each model, ``mean_i Gamma_i(t; lambda)``, is estimated off
    policy from the logs with cross-fitted pseudo-outcomes (doubly robust by
    default), so a model that the old router favoured on easy queries is not
    mistaken for the best one.

    Parameters
    ----------
    cost_sensitivity : float, default=0.0
    pseudo_outcome : {"dr", "sndr", "ipw", "dm"}, default="dr"
    cost_pseudo_outcome : {"dr", "sndr", "ipw", "dm"}, default=None
    propensity_model, reward_model, cost_model, cv, min_propensity
        Nuisance settings, as in :class:`~skroute.CausalRouterClassifier`.
    classes : array-like, default=None
    n_jobs : int, default=None
    memory : str, joblib.Memory or None, default=None
        Cache of the cross-fitted nuisances, as in
        :class:`~skroute.CausalRouterClassifier`.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_sensitivity_ : float
        The ``cost_sensitivity`` the router was fitted at: ``predict``,
        ``score`` and ``export`` use it, so setting the parameter after
        ``fit`` changes nothing until the next ``fit``.
    model_values_ : ndarray of shape (n_classes,)
        Estimated utility of routing every query to each model.
    best_model_ : label from ``classes_``
    deployed_ : object
        The policy ``predict`` and ``export`` go through: the scores
        ``model_values_`` for every query.

    Examples
    --------
    >>> from skroute.routers import BestSingleModelRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=500, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = BestSingleModelRouter(random_state=0).fit(
    ...     logs.X, logs.action, reward=logs.reward, propensity=logs.propensity)
    >>> bool((router.predict(logs.X) == router.best_model_).all())
    True
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "pseudo_outcome": [StrOptions(set(PSEUDO_OUTCOME_METHODS))],
        "cost_pseudo_outcome": [None, StrOptions(set(PSEUDO_OUTCOME_METHODS))],
        "propensity_model": [None, HasMethods(["fit", "predict_proba"])],
        "reward_model": [None, HasMethods(["fit"])],
        "cost_model": [None, HasMethods(["fit"])],
        "cv": CV_CONSTRAINT,
        "min_propensity": [Interval(numbers.Real, 0, 1, closed="right")],
        "n_jobs": [None, numbers.Integral],
        "memory": [None, str, HasMethods(["cache"])],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        cost_sensitivity=0.0,
        *,
        pseudo_outcome="dr",
        cost_pseudo_outcome=None,
        propensity_model=None,
        reward_model=None,
        cost_model=None,
        cv=5,
        min_propensity=0.01,
        classes=None,
        n_jobs=None,
        memory=None,
        random_state=None,
    ):
        self.cost_sensitivity = cost_sensitivity
        self.pseudo_outcome = pseudo_outcome
        self.cost_pseudo_outcome = cost_pseudo_outcome
        self.propensity_model = propensity_model
        self.reward_model = reward_model
        self.cost_model = cost_model
        self.cv = cv
        self.min_propensity = min_propensity
        self.classes = classes
        self.n_jobs = n_jobs
        self.memory = memory
        self.random_state = random_state

    def _fit(self, logs):
        estimates = self._pseudo_outcomes(logs, self.random_state)
        utility = estimates.utility(self.cost_sensitivity)
        self.model_values_ = np.average(utility, axis=0, weights=logs.sample_weight)
        self.best_model_ = self.classes_[np.argmax(self.model_values_)]
        self.deployed_ = self._deployed_policy()
        return self

    def _deployed_policy(self):
        return BestSinglePolicy(np.asarray(self.model_values_, dtype=np.float64))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class RandomRouter(BaseRouter):
    """Routes each query to a model drawn uniformly at random.

    The draw is a seeded hash of the query's features, so the same query always
    goes to the same model and predictions do not depend on the batch they
    come in. Over queries the draws are uniform; for one query the policy is
    deterministic, so ``predict_proba`` is one-hot on its draw.

    Parameters
    ----------
    cost_sensitivity : float, default=0.0
        ``lambda`` used by :meth:`score`.
    classes : array-like, default=None
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_sensitivity_ : float
        The ``cost_sensitivity`` the router was fitted at: ``predict``,
        ``score`` and ``export`` use it, so setting the parameter after
        ``fit`` changes nothing until the next ``fit``.
    deployed_ : object
        The policy ``predict`` and ``export`` go through: the seeded hash.

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.routers import RandomRouter
    >>> X = np.random.default_rng(0).normal(size=(400, 3))
    >>> y = np.repeat(["a", "b"], 200)
    >>> router = RandomRouter(random_state=0).fit(X, y, reward=np.ones(400))
    >>> sorted(set(router.predict(X).tolist()))
    ['a', 'b']
    """

    _parameter_constraints = {
        **_COMMON_CONSTRAINTS,
        "random_state": ["random_state"],
    }

    def __init__(self, cost_sensitivity=0.0, *, classes=None, random_state=None):
        self.cost_sensitivity = cost_sensitivity
        self.classes = classes
        self.random_state = random_state

    def _fit(self, logs):
        rng = check_random_state(self.random_state)
        # Odd multipliers of a per-feature multiplicative hash of the row's bits.
        self.hash_multipliers_ = rng.randint(
            0, 2**62, size=logs.X.shape[1], dtype=np.int64
        ).astype(np.uint64) * np.uint64(2) + np.uint64(1)
        self.deployed_ = self._deployed_policy()
        return self

    def _deployed_policy(self):
        return HashPolicy(self.hash_multipliers_, self.classes_.size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags
