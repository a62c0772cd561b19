"""BudgetRouter: an interval router held to a budget on the mean cost per query."""

import numbers
from statistics import NormalDist

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch, _safe_indexing, get_tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skroute._kernels import row_uniforms
from skroute.routers._base import _LOGGED_ARRAYS
from skroute.routers._export import router_payload, write_router_file
from skroute.routers._interval import IntervalCostRouter
from skroute.utils import persisted_state, restored_state
from skroute.utils._docs import DocLinkMixin


class BudgetRouter(DocLinkMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """An interval router at the cost sensitivity that meets a budget.

    The budget is a target mean cost per query. ``fit`` fits the interval
    router (or takes it fitted, with ``cv="prefit"``), estimates its mean
    cost off policy (doubly robust) on calibration rows at ``n_points``
    values of ``lambda`` across its range, and again on ``n_points`` finer
    values in the step where the estimate first meets the budget, and keeps
    the ``lambda`` whose estimate comes closest to the budget without
    exceeding it (the smallest such ``lambda`` on ties). ``predict`` then
    routes with the interval router at that ``lambda``. The interval
    router's own state is never changed after it is fitted.

    The calibration rows are rows the router was not fitted on: with a
    fraction ``cv``, the logs given to ``fit`` are split once (stratified by
    the logged model where every model has two rows or more), the router is
    fitted on the larger part and ``lambda`` is chosen on the held-out
    share; it is not refitted on all rows, so that the estimates are those
    of the router deployed. With ``cv="prefit"``, every row given to ``fit``
    calibrates: pass rows the router was not fitted on.

    The mean cost is a step function of ``lambda`` and can jump where many
    queries change model at once: a budget inside such a jump is met only up
    to the jump. ``mixture=True`` closes the gap: each query is routed at
    one of the two ``lambda`` on either side of the budget, with the
    probability that meets it in expectation, so that the budget lies on the
    cost-quality hull. The draw is fixed by the query's features, so that a
    query always gets the same route.

    Parameters
    ----------
    router : IntervalCostRouter
        The interval router to hold to the budget, fitted or not.
    budget : float
        Target mean cost per query, in the units of ``cost``.
    conservative : bool, default=False
        Meet the budget with the upper confidence bound of the estimated mean
        cost (at ``confidence_level``) instead of the estimate: the true mean
        cost then exceeds the budget rarely, at the price of a lower quality.
    confidence_level : float in (0.5, 1), default=0.95
        One-sided level of the bound of ``conservative`` (and of
        ``cost_upper_bound`` in ``budget_result_``).
    mixture : bool, default=False
        Route each query at one of the two cost sensitivities around the
        budget, as described above.
    n_points : int >= 2, default=201
        Values of ``lambda`` across the range in the first estimation, and
        in the finer one.
    cv : float in (0, 1) or "prefit", default=0.25
        The share of the rows given to ``fit`` held out to choose ``lambda``
        (the router is fitted on the others); or ``"prefit"``: ``router`` is
        fitted already and every row given to ``fit`` calibrates.
    random_state : int, RandomState instance or None, default=None
        Seeds the split of the rows with a fraction ``cv``. The router's own
        ``random_state`` seeds its fit.

    Attributes
    ----------
    router_ : IntervalCostRouter
        The fitted interval router: a clone of ``router`` fitted on the
        training part, or ``router`` itself with ``cv="prefit"``.
    cost_sensitivity_ : float
        The ``lambda`` chosen (with ``mixture``, the ``high`` one).
    budget_result_ : Bunch
        The estimates at ``cost_sensitivity_`` on the calibration rows:
        ``cost_sensitivity``, ``estimated_cost``, ``estimated_quality``,
        their standard errors ``cost_se``, ``quality_se``,
        ``cost_upper_bound``, ``n_samples`` (the calibration rows) and
        ``mixture`` (as ``mixture_``).
    mixture_ : Bunch or None
        With ``mixture=True``: the ``low`` and ``high`` cost sensitivities,
        ``high_probability``, and the mixture's ``estimated_cost`` and
        ``estimated_quality``. None otherwise.
    classes_ : ndarray of shape (n_classes,)
        The candidate models, as the interval router's.
    n_features_in_ : int
        Number of features seen by the interval router's ``fit``.

    Notes
    -----
    :func:`skroute.persistence.load_router` reads routers, not this
    meta-estimator: keep a budgeted router for serving with :meth:`export`
    (the mixture included), or save ``router_`` with its ``cost_sensitivity``
    set to ``cost_sensitivity_``, as ``skroute fit --budget`` does.

    See Also
    --------
    IntervalCostRouter : One router for every cost sensitivity in a range.

    Examples
    --------
    >>> from skroute import BudgetRouter, IntervalCostRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=600, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = IntervalCostRouter(cost_range=(0.0, 0.05), max_epochs=3,
    ...                             random_state=0)
    >>> budgeted = BudgetRouter(router, budget=2.0, random_state=0)
    >>> budgeted = budgeted.fit(logs.X, logs.action, reward=logs.reward,
    ...                         cost=logs.cost, propensity=logs.propensity)
    >>> bool(budgeted.budget_result_.estimated_cost <= 2.0)
    True
    >>> bool(0.0 <= budgeted.cost_sensitivity_ <= 0.05)
    True
    >>> budgeted.predict(logs.X[:3]).shape
    (3,)
    """

    __metadata_request__fit = _LOGGED_ARRAYS
    __metadata_request__score = _LOGGED_ARRAYS

    _parameter_constraints = {
        "router": [IntervalCostRouter],
        "budget": [Interval(numbers.Real, 0, None, closed="neither")],
        "conservative": ["boolean"],
        "confidence_level": [Interval(numbers.Real, 0.5, 1, closed="neither")],
        "mixture": ["boolean"],
        "n_points": [Interval(numbers.Integral, 2, None, closed="left")],
        "cv": [Interval(numbers.Real, 0, 1, closed="neither"), StrOptions({"prefit"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        router,
        *,
        budget,
        conservative=False,
        confidence_level=0.95,
        mixture=False,
        n_points=201,
        cv=0.25,
        random_state=None,
    ):
        self.router = router
        self.budget = budget
        self.conservative = conservative
        self.confidence_level = confidence_level
        self.mixture = mixture
        self.n_points = n_points
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, *, reward, cost, propensity=None, sample_weight=None):
        """Fit the interval router and choose the ``lambda`` that meets the budget.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query features (embeddings).
        y : array-like of shape (n_samples,)
            The model that answered each query (the logged action).
        reward : array-like of shape (n_samples,) or (n_samples, n_classes)
            Quality of the logged answer (a 2-D matrix is full feedback).
        cost : array-like of the same shape as ``reward``
            Cost of the logged answer, in the units of ``budget``.
        propensity : array-like of shape (n_samples,), default=None
            Probability with which the logging policy chose the logged model;
            estimated from the logs when None.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the router's fit. The budget is a mean cost per query:
            the calibration weighs every query alike.

        Returns
        -------
        self : object
        """
        self._validate_params()
        if cost is None:
            raise ValueError("cost is required to meet a budget; pass cost=.")
        logged = {"reward": reward, "cost": cost, "propensity": propensity}
        if self.cv == "prefit":
            check_is_fitted(
                self.router,
                msg="With cv='prefit', router must be fitted; fit it first, or "
                "pass a share of rows to hold out as cv.",
            )
            router, rows = self.router, None
        else:
            fit_rows, rows = self._split(y)
            router = clone(self.router).fit(
                _safe_indexing(X, fit_rows),
                _safe_indexing(y, fit_rows),
                **{k: _rows_of(v, fit_rows) for k, v in logged.items()},
                sample_weight=_rows_of(sample_weight, fit_rows),
            )
        result = _calibrate(
            router,
            X if rows is None else _safe_indexing(X, rows),
            y if rows is None else _safe_indexing(y, rows),
            **{k: _rows_of(v, rows) for k, v in logged.items()},
            budget=float(self.budget),
            conservative=self.conservative,
            confidence_level=self.confidence_level,
            mixture=self.mixture,
            n_points=self.n_points,
        )
        self.router_ = router
        self.budget_result_ = result
        self.cost_sensitivity_ = result.cost_sensitivity
        self.mixture_ = result.mixture
        return self

    def _split(self, y):
        """Fitting and calibration rows: one split, stratified where it can be."""
        labels = np.asarray(y)
        counts = np.unique(labels, return_counts=True)[1] if labels.size else [0]
        return train_test_split(
            np.arange(labels.shape[0]),
            test_size=self.cv,
            random_state=self.random_state,
            stratify=labels if np.min(counts) >= 2 else None,
        )

    @property
    def classes_(self):
        """The candidate models, as the interval router's ``classes_``."""
        return self.router_.classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the interval router's ``fit``."""
        return self.router_.n_features_in_

    @property
    def feature_names_in_(self):
        """Names of the features seen by the interval router's ``fit``."""
        return self.router_.feature_names_in_

    def _cost_sensitivities(self, X):
        """``cost_sensitivity_``, or each row's draw of the mixture."""
        check_is_fitted(self)
        if self.mixture_ is None:
            return self.cost_sensitivity_
        # The draw that serving makes from an export: a hash of the row.
        uniforms = row_uniforms(self.router_._check_X(X))
        at_high = uniforms < self.mixture_.high_probability
        return np.where(at_high, self.mixture_.high, self.mixture_.low)

    def predict(self, X):
        """The model to route each query to, at the chosen cost sensitivity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        values = self._cost_sensitivities(X)
        return self.router_.predict(X, cost_sensitivity=values)

    def predict_proba(self, X):
        """Routing probabilities of the interval router at the chosen ``lambda``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        values = self._cost_sensitivities(X)
        return self.router_.predict_proba(X, cost_sensitivity=values)

    def decision_function(self, X):
        """Scores of every model for each query at the chosen ``lambda``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two models
        """
        values = self._cost_sensitivities(X)
        return self.router_.decision_function(X, cost_sensitivity=values)

    def score(
        self, X, y, *, reward=None, cost=None, propensity=None, sample_weight=None
    ):
        """Estimated value of the routes of ``predict`` on logged data.

        The value is the mean utility ``quality - cost_sensitivity_ * cost``
        of the models that ``predict`` chooses, estimated as the interval
        router's ``score`` estimates its own (doubly robust, nuisance models
        with its settings, cross-fitted on the rows given).

        Parameters
        ----------
        X, y, reward, cost, propensity, sample_weight
            As in :meth:`fit`.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        X = self.router_._check_X(X)
        return self.router_._logged_value(
            self.predict(X),
            X,
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            sample_weight=sample_weight,
            cost_sensitivity=self.cost_sensitivity_,
        )

    def __getstate__(self):
        # As the routers' pickles: the skroute version and format that wrote it.
        return persisted_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(restored_state(self, state))

    def export(self, path):
        """Write the router file of the router at the chosen ``lambda``.

        The file is the interval router's router file (see its ``export``), with
        ``cost_sensitivity_`` as its default ``lambda`` and the mixture, if
        any, which :func:`skroute.serving.load_exported` follows.

        Parameters
        ----------
        path : str or Path
            Written atomically (a temporary file renamed over it).
        """
        write_router_file(path, *self._router_file())

    def _router_file(self):
        """The metadata and arrays of this router's router file."""
        check_is_fitted(self)
        mixture = None
        if self.mixture_ is not None:
            mixture = {
                key: self.mixture_[key] for key in ("low", "high", "high_probability")
            }
        return router_payload(
            self.router_,
            cost_sensitivity=self.cost_sensitivity_,
            budget_mixture=mixture,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.router)
        tags.input_tags = inner.input_tags
        tags.classifier_tags = inner.classifier_tags
        tags.target_tags.required = inner.target_tags.required
        return tags


def _rows_of(values, rows):
    """``values`` at ``rows`` (all of it for None rows); None stays None."""
    if values is None or rows is None:
        return values
    return _safe_indexing(values, rows)


def _calibrate(
    router,
    X,
    y,
    *,
    reward,
    cost,
    propensity,
    budget,
    conservative,
    confidence_level,
    mixture,
    n_points,
):
    """The budget's result on logs, for a fitted interval router (left as it is)."""
    X = router._check_X(X)
    evaluation = router._logged_evaluation(X, y, reward, cost, propensity, "dr")
    z = NormalDist().inv_cdf(confidence_level)
    grid = np.linspace(router.cost_grid_[0], router.cost_grid_[-1], n_points)
    coarse = router._path(evaluation, X, grid)
    result = _meet_budget(
        router, evaluation, X, coarse, budget, z if conservative else 0.0, z, mixture
    )
    result.n_samples = X.shape[0]
    return result


def _meet_budget(router, evaluation, X, path, budget, margin, z, mixture):
    """One budget's result from the coarse path (``margin`` standard errors)."""
    grid = path.cost_sensitivity
    within = np.flatnonzero(path.cost + margin * path.cost_se <= budget)
    if within.size == 0:
        bound = "upper bound of the " if margin else ""
        lowest = np.min(path.cost + margin * path.cost_se)
        raise ValueError(
            f"no cost sensitivity in [{grid[0]:g}, {grid[-1]:g}] meets the "
            f"budget {budget:g}: the lowest {bound}estimated mean cost is "
            f"{lowest:.4g}. Refit with a wider cost_range or raise the budget."
        )
    if within[0] > 0:
        # Many queries can switch within one step of the grid: look again
        # between the last point above the budget and the first below it.
        finer = np.linspace(grid[within[0] - 1], grid[within[0]], grid.size)
        refined = router._path(evaluation, X, finer[1:-1])
        order = np.argsort(
            np.concatenate([path.cost_sensitivity, refined.cost_sensitivity]),
            kind="stable",
        )
        path = Bunch(
            **{key: np.concatenate([path[key], refined[key]])[order] for key in path}
        )
    bounded = path.cost + margin * path.cost_se
    meets = bounded <= budget
    within = np.flatnonzero(meets)
    # Closest to the budget from below; on ties, the smallest lambda.
    order = np.lexsort((path.cost_sensitivity[within], -bounded[within]))
    chosen = within[order[0]]
    result = Bunch(
        cost_sensitivity=float(path.cost_sensitivity[chosen]),
        estimated_cost=float(path.cost[chosen]),
        cost_se=float(path.cost_se[chosen]),
        cost_upper_bound=float(path.cost[chosen] + z * path.cost_se[chosen]),
        estimated_quality=float(path.quality[chosen]),
        quality_se=float(path.quality_se[chosen]),
        mixture=None,
    )
    if mixture:
        # The nearest smaller lambda over the budget: mix the two routes.
        above = np.flatnonzero(~meets[:chosen])
        if above.size == 0:
            # The budget is met at the bottom of the range already.
            other, probability = chosen, 1.0
        else:
            other = above[-1]
            gap = bounded[other] - bounded[chosen]
            probability = float(np.clip((bounded[other] - budget) / gap, 0.0, 1.0))
        result.mixture = Bunch(
            low=float(path.cost_sensitivity[other]),
            high=result.cost_sensitivity,
            high_probability=probability,
            estimated_cost=float(
                probability * path.cost[chosen] + (1 - probability) * path.cost[other]
            ),
            estimated_quality=float(
                probability * path.quality[chosen]
                + (1 - probability) * path.quality[other]
            ),
        )
    return result
