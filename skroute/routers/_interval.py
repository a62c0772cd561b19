"""IntervalCostRouter: one router for a whole range of cost sensitivities."""

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skroute.causal import LoggedNuisances
from skroute.routers._base import check_finite_scores, routes_by_block
from skroute.routers._neural import NEURAL_ROUTER_CONSTRAINTS, NeuralRouter
from skroute.routers._targets import CostRangeTargets
from skroute.utils import check_cost_sensitivity, check_numeric

# Geometric grids from 0 halve the first interval n_intervals - 1 times; past
# this many, it is below 1e-12 of the range.
_MAX_HALVINGS = 40


@dataclass(frozen=True)
class RoutingPath:
    """The model chosen for one query as the cost sensitivity varies.

    :meth:`~skroute.routers.IntervalCostRouter.routing_path` returns one per
    query. Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    breakpoints : ndarray of shape (n_switches,)
        Increasing cost sensitivities at which the chosen model changes.
    models : ndarray of shape (n_switches + 1,)
        The model chosen on each piece: ``models[0]`` below the first
        breakpoint, ``models[j]`` between breakpoints ``j - 1`` and ``j``.
    costs : ndarray of shape (n_switches + 1,), default=None
        The router's estimate of the chosen model's cost on each piece: the
        rate at which its score falls as the cost sensitivity rises. With
        heads affine in ``lambda`` (and with the fallback policies) it is
        non-increasing along the path. None when not known.

    Examples
    --------
    A query sent to the large model up to ``lambda = 0.05``, then to the
    medium one up to 0.2, then to the small one:

    >>> import numpy as np
    >>> from skroute.routers import RoutingPath
    >>> path = RoutingPath(breakpoints=np.array([0.05, 0.2]),
    ...                    models=np.array(["large", "medium", "small"]),
    ...                    costs=np.array([2.0, 0.5, 0.1]))
    >>> path.model_at([0.0, 0.1, 0.5]).tolist()
    ['large', 'medium', 'small']

    At a breakpoint, the model of the piece that starts there is chosen:

    >>> str(path.model_at(0.05))
    'medium'
    """

    breakpoints: np.ndarray
    models: np.ndarray
    costs: np.ndarray | None = None

    def model_at(self, cost_sensitivity):
        """The model chosen at a cost sensitivity (one value or an array)."""
        index = np.searchsorted(self.breakpoints, cost_sensitivity, side="right")
        return self.models[index]


def _upper_envelope(left_scores, right_scores, left, right):
    """Pieces of ``argmax_t`` of scores linear in lambda over ``[left, right]``.

    Returns the breakpoints inside the interval, the winning index per piece
    and the slope of each winner.
    """
    slopes = (right_scores - left_scores) / (right - left)
    position = left
    values = left_scores.copy()
    # At a tie, the line that rises fastest wins just after the point.
    best = np.flatnonzero(values >= values.max() - 1e-12)
    current = best[np.argmax(slopes[best])]
    breakpoints, winners = [], [current]
    while True:
        gaining = slopes > slopes[current] + 1e-15
        if not gaining.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = position + (values[current] - values) / (
                slopes - slopes[current]
            )
        crossing = np.where(gaining, np.maximum(crossing, position), np.inf)
        first = crossing.min()
        if not first < right:
            break
        tied = np.flatnonzero(crossing <= first + 1e-15)
        current = tied[np.argmax(slopes[tied])]
        values = values + slopes * (first - position)
        position = first
        breakpoints.append(first)
        winners.append(current)
    return breakpoints, winners, slopes[winners]


def _switch_points(quality, cost, low, high, n_probe=257):
    """Cost sensitivities where ``argmax_t quality - lambda cost`` changes.

    One point per change and row, located to a ``1 / (n_probe - 1)`` share of
    ``[low, high]``.
    """
    probe = np.linspace(low, high, n_probe)
    points = []
    for start in range(0, quality.shape[0], 512):
        scores = (
            quality[start : start + 512, None, :]
            - probe[None, :, None] * cost[start : start + 512, None, :]
        )
        choice = np.argmax(scores, axis=2)
        _, where = np.nonzero(choice[:, 1:] != choice[:, :-1])
        points.append((probe[where] + probe[where + 1]) / 2)
    return np.concatenate(points) if points else np.empty(0)


def _grid_from_switches(switches, low, high, n_intervals):
    """Grid points at quantiles of half the switch points, half a uniform law.

    Intervals are then narrow where many routes change, and never wider than
    twice those of an even split.
    """
    fine = np.linspace(low, high, 4097)
    cdf = (fine - low) / (high - low)
    if switches.size:
        empirical = np.searchsorted(np.sort(switches), fine, side="right")
        cdf = 0.5 * cdf + 0.5 * empirical / switches.size
    grid = np.interp(np.linspace(0.0, 1.0, n_intervals + 1), cdf, fine)
    grid[0], grid[-1] = low, high
    return grid


class IntervalCostRouter(NeuralRouter):
    """One router for every cost sensitivity in a range, chosen at prediction time.

    The scores of the models at ``lambda`` are, by default, ``q(x) - lambda
    c(x)``: a quality score ``q`` learned by a torch network against the cost
    ``c`` that the cross-fitted cost model predicts. They are the form of the
    true utilities, affine in ``lambda``, so that each query's route is the
    upper envelope of one line per model: piecewise constant in ``lambda``,
    and the estimated cost of the chosen model never rises as ``lambda``
    rises. Training draws ``lambda`` per row across the range and applies the
    regret surrogate against ``Gamma_a - lambda Gamma_c``, each row weighted
    by the inverse of the typical regret at its ``lambda``: the nuisances are
    fitted once for all ``lambda``.

    The training length and the safety check are those of
    :class:`~skroute.CausalRouterClassifier`, with the policy judged over the
    whole range: on ``policy_cv`` folds, by its out-of-fold doubly robust
    utility averaged over the grid points and midpoints (each ``lambda``
    scaled by its typical regret). Where the network cannot be shown better
    than the direct method (``argmax`` of the outcome models'
    ``quality - lambda cost``) or the best single model at each ``lambda``,
    that policy is deployed for the whole range; both are affine in
    ``lambda`` too.

    Parameters
    ----------
    cost_range : (float, float), default=(0.0, 1.0)
        ``(lambda_min, lambda_max)``, with ``0 <= lambda_min < lambda_max``.
    n_intervals : int in [1, 1000], default=8
        Number of intervals of the grid over ``cost_range`` (at most 40 for a
        geometric grid from 0). With
        ``heads="quality"`` or ``"affine"`` the grid places the training
        draws of ``lambda`` and the points the policy is judged at; with
        ``"independent"`` heads it also places the heads.
    spacing : {"auto", "geometric", "linear"}, default="auto"
        ``"auto"``: grid points at quantiles of the cost sensitivities where
        the direct method's routes change on the training rows (mixed half
        and half with an even spread, so that no interval is wider than
        twice an even one): the draws of ``lambda`` go where routes change.
        ``"geometric"``: interval widths double towards ``lambda_max`` (from
        ``lambda_min`` = 0, the first interval is ``lambda_max / 2**(K-1)``
        wide); ``"linear"``: equal intervals.
    grid : array-like of shape (n_points,), default=None
        An explicit increasing grid; it replaces ``cost_range``,
        ``n_intervals`` and ``spacing``, and the range is
        ``[grid[0], grid[-1]]``.
    heads : {"quality", "affine", "independent"}, default="quality"
        ``"quality"``: scores ``q(x) - lambda c(x)`` with ``c`` the cost
        model's prediction; ``"affine"``: the same form with ``c`` learned
        by the network too. ``"independent"``: a free score head per grid
        point, interpolated linearly between grid points; it can fit
        anything along the range but does not keep the chosen model's cost
        from rising with ``lambda``.
    cost_sensitivity : float, default=0.0
        The ``lambda`` used when ``predict`` gets none (and by ``score`` and
        scorers); it must lie in the range.
    out_of_range : {"error", "clip"}, default="error"
        What ``predict`` does with a ``lambda`` outside the range.
    surrogate, pseudo_outcome, cost_pseudo_outcome, propensity_model, \
reward_model, cost_model, cv, min_propensity, hidden_layer_sizes, temperature, \
gap_weighted, max_epochs, batch_size, lr, weight_decay, early_stopping, \
n_iter_no_change, policy_cv, safety_check, safety_level, classes, device, \
n_jobs, memory, random_state, verbose
        As in :class:`~skroute.CausalRouterClassifier`, with the policy
        judged over the whole range.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_sensitivity_ : float
        The ``cost_sensitivity`` the router was fitted at: the default
        ``lambda`` of ``predict``, ``score`` and ``export``. Setting the
        parameter after ``fit`` changes nothing until the next ``fit``; pass
        ``cost_sensitivity=`` to ``predict`` to route at another ``lambda``.
    n_features_in_ : int
    cost_grid_ : ndarray of shape (n_points,)
        The grid of cost sensitivities.
    net_ : IntervalRegretNet
        The fitted skorch net; its module averages the networks of the
        ``policy_cv`` folds.
    n_epochs_ : int
        Training length selected (per fold network).
    training_epochs_ : list of int
        Epochs each fold's network trained before it stopped.
    deployed_policy_ : {"network", "direct_method", "best_single"}
        What ``predict`` uses (see ``safety_check``).
    learned_policy_ : object
        The learned policy, deployed or not, as a deployed-policy object:
        ``learned_policy_.scores(X, cost_sensitivity)`` are its scores. It
        is ``deployed_`` unless the safety check fell back.
    deployed_ : object
        The deployed policy itself, through which ``predict``,
        ``predict_proba``, ``routing_path`` and ``export`` go.
    safety_report_ : dict or None
        As for :class:`~skroute.CausalRouterClassifier`, with values averaged
        over the range.
    reward_models_, cost_models_ : list
        The per-model quality and cost models, fitted on every row: the
        lines the ``"quality"`` heads start from and the direct method's
        (``cost_models_`` is None without cost).
    shrinkage_ : dict or None
        With ``"auto"`` pseudo-outcomes, the weight shrinkage chosen per model.
    overlap_ : dict or None
        Overlap diagnostics of the logs.

    Examples
    --------
    >>> from skroute import IntervalCostRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> problem = make_routing_problem(n_samples=1000, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = IntervalCostRouter(cost_range=(0.0, 0.2), max_epochs=20,
    ...                             random_state=0)
    >>> router = router.fit(logs.X, logs.action, reward=logs.reward,
    ...                     cost=logs.cost, propensity=logs.propensity)
    >>> router.predict(logs.X[:2], cost_sensitivity=0.1).shape
    (2,)
    >>> path = router.routing_path(logs.X[:1])[0]
    >>> bool(path.model_at(0.1) == router.predict(logs.X[:1], cost_sensitivity=0.1)[0])
    True
    >>> bool((np.diff(path.costs) <= 1e-9).all())
    True
    """

    _parameter_constraints = {
        **NEURAL_ROUTER_CONSTRAINTS,
        "cost_range": ["array-like"],
        "n_intervals": [Interval(numbers.Integral, 1, 1000, closed="both")],
        "grid": [None, "array-like"],
        "out_of_range": [StrOptions({"error", "clip"})],
        "spacing": [StrOptions({"auto", "linear", "geometric"})],
        "heads": [StrOptions({"quality", "independent", "affine"})],
    }

    def __init__(
        self,
        cost_range=(0.0, 1.0),
        n_intervals=8,
        *,
        spacing="auto",
        grid=None,
        heads="quality",
        cost_sensitivity=0.0,
        out_of_range="error",
        surrogate="softmax",
        pseudo_outcome="auto",
        cost_pseudo_outcome=None,
        propensity_model=None,
        reward_model=None,
        cost_model=None,
        cv=5,
        min_propensity=0.01,
        hidden_layer_sizes=(128,),
        temperature=1.0,
        gap_weighted=False,
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=1e-4,
        early_stopping=True,
        n_iter_no_change=10,
        policy_cv=3,
        safety_check="fallback",
        safety_level=0.9,
        classes=None,
        device="cpu",
        n_jobs=None,
        memory=None,
        random_state=None,
        verbose=0,
    ):
        self.cost_range = cost_range
        self.n_intervals = n_intervals
        self.spacing = spacing
        self.grid = grid
        self.heads = heads
        self.cost_sensitivity = cost_sensitivity
        self.out_of_range = out_of_range
        self.surrogate = surrogate
        self.pseudo_outcome = pseudo_outcome
        self.cost_pseudo_outcome = cost_pseudo_outcome
        self.propensity_model = propensity_model
        self.reward_model = reward_model
        self.cost_model = cost_model
        self.cv = cv
        self.min_propensity = min_propensity
        self.hidden_layer_sizes = hidden_layer_sizes
        self.temperature = temperature
        self.gap_weighted = gap_weighted
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.policy_cv = policy_cv
        self.safety_check = safety_check
        self.safety_level = safety_level
        self.classes = classes
        self.device = device
        self.n_jobs = n_jobs
        self.memory = memory
        self.random_state = random_state
        self.verbose = verbose

    def _cost_sensitivities(self):
        return self._bounds()

    def _bounds(self):
        """``(lambda_min, lambda_max)`` from ``grid`` or ``cost_range``, checked."""
        if self.grid is not None:
            grid = np.asarray(self.grid, dtype=np.float64)
            if (
                grid.ndim != 1
                or grid.size < 2
                or not np.isfinite(grid).all()
                or grid[0] < 0
                or np.any(np.diff(grid) <= 0)
            ):
                raise ValueError(
                    "grid must be a strictly increasing 1-D array of at least two "
                    f"finite cost sensitivities >= 0; got {self.grid!r}."
                )
            return float(grid[0]), float(grid[-1])
        bounds = np.asarray(self.cost_range, dtype=np.float64)
        if (
            bounds.shape != (2,)
            or not np.isfinite(bounds).all()
            or not 0 <= bounds[0] < bounds[1]
        ):
            raise ValueError(
                "cost_range must be (lambda_min, lambda_max) with 0 <= lambda_min < "
                f"lambda_max; got {self.cost_range!r}."
            )
        return float(bounds[0]), float(bounds[1])

    def _cost_grid(self, quality=None, cost=None):
        """The grid; ``"auto"`` spacing places it by the routes of the
        ``quality - lambda cost`` lines given (evenly without them)."""
        low, high = self._bounds()
        if self.grid is not None:
            return np.asarray(self.grid, dtype=np.float64)
        if self.spacing == "linear":
            return np.linspace(low, high, self.n_intervals + 1)
        if self.spacing == "auto":
            switches = np.empty(0)
            if quality is not None and cost is not None:
                switches = _switch_points(quality, cost, low, high)
            return _grid_from_switches(switches, low, high, self.n_intervals)
        if low > 0:
            return np.geomspace(low, high, self.n_intervals + 1)
        if self.n_intervals > _MAX_HALVINGS:
            raise ValueError(
                f"n_intervals={self.n_intervals} with spacing='geometric' from 0 "
                f"halves the first interval {self.n_intervals - 1} times, to "
                f"{high * 0.5 ** (self.n_intervals - 1):.3g}; use at most "
                f"{_MAX_HALVINGS} intervals, or spacing='auto' or 'linear'."
            )
        # From 0: halve the interval width down from the top of the range.
        steps = high * 0.5 ** np.arange(self.n_intervals - 1, -1, -1)
        return np.concatenate([[0.0], steps])

    def _check_fit_settings(self):
        super()._check_fit_settings()
        check_cost_sensitivity(
            self.cost_sensitivity,
            cost_range=self._bounds(),
            hint="set cost_sensitivity (the default lambda of predict and score) "
            "inside cost_range.",
        )

    def _targets(self, logs, estimates):
        return CostRangeTargets(self, logs, estimates)

    def _record(self, targets):
        self.cost_grid_ = targets.grid
        self.reward_models_ = targets.reward_models
        self.cost_models_ = targets.cost_models

    def _check_cost_sensitivity(self, cost_sensitivity, X):
        """One validated lambda per row of ``X`` (``cost_sensitivity`` when
        None), as a float64 array within the router's range."""
        if cost_sensitivity is None:
            cost_sensitivity = self.cost_sensitivity_
        values = check_cost_sensitivity(cost_sensitivity, n_samples=X.shape[0])
        low, high = self.cost_grid_[0], self.cost_grid_[-1]
        outside = (values < low) | (values > high)
        if outside.any():
            if self.out_of_range == "clip":
                return np.clip(values, low, high)
            raise ValueError(
                f"cost_sensitivity {values[outside][0]:g} lies outside the router's "
                f"range [{low:g}, {high:g}]; refit with a wider cost_range, or set "
                "out_of_range='clip' to use the nearest end of the range."
            )
        return values

    def _checked_scores_at(self, X, cost_sensitivity, first_row=0):
        """The deployed policy's scores, checked to be finite; ``X`` holds the
        caller's rows from ``first_row`` on, which an error names."""
        scores = self.deployed_.scores(X, cost_sensitivity)
        check_finite_scores(scores, first_row)
        return scores

    def _decision_scores(self, X):
        return self.deployed_.scores(X, self._check_cost_sensitivity(None, X))

    def _export_arrays(self, meta):
        grid = self.cost_grid_
        meta.update(
            range=[float(grid[0]), float(grid[-1])], out_of_range=self.out_of_range
        )
        return super()._export_arrays(meta)

    def decision_function(self, X, cost_sensitivity=None):
        """Scores of every model for each query at the given cost sensitivity.

        With the default heads and the fallback policies, the score is the
        router's estimate of the model's utility ``quality - lambda cost``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None
            ``lambda`` for all rows or per row; when None, ``cost_sensitivity_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two models
        """
        X = self._check_X(X)
        values = self._check_cost_sensitivity(cost_sensitivity, X)
        scores = self._checked_scores_at(X, values)
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X, cost_sensitivity=None):
        """The model to route each query to at the given cost sensitivity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None
            ``lambda`` for all rows or per row; when None,
            ``cost_sensitivity_``. :class:`~skroute.BudgetRouter` chooses
            it to meet a budget on the mean cost per query.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        values = self._check_cost_sensitivity(cost_sensitivity, X)

        index = routes_by_block(
            lambda rows: self._checked_scores_at(X[rows], values[rows], rows.start),
            X.shape[0],
        )
        return self.classes_[index]

    def predict_proba(self, X, cost_sensitivity=None):
        """Routing probabilities ``softmax(scores / temperature)`` at ``lambda``.

        Deterministic (all mass on one model) where a fallback policy is
        deployed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None
            As in :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        values = self._check_cost_sensitivity(cost_sensitivity, X)
        return self._policy_proba(self._checked_scores_at(X, values))

    def routing_path(self, X):
        """For each query, where over the range the chosen model changes.

        Computed exactly from the scores: with heads affine in ``lambda`` (the
        default) and with the fallback policies, the upper envelope of one
        line per model over the whole range, along which the chosen model's
        estimated cost can only fall; with independent heads, the envelope
        interval by interval.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        list of RoutingPath
        """
        X = self._check_X(X)
        grid = self.cost_grid_
        low, high = grid[0], grid[-1]
        lines = self.deployed_.lines(X)
        if lines is not None:
            quality, cost = lines
            check_finite_scores(quality)
            check_finite_scores(cost)
            paths = []
            for q, c in zip(quality, cost):
                breakpoints, winners, slopes = _upper_envelope(
                    q - low * c, q - high * c, low, high
                )
                paths.append(
                    RoutingPath(
                        np.array(breakpoints, dtype=np.float64),
                        self.classes_[winners],
                        c[winners].astype(np.float64),
                    )
                )
            return paths
        # Independent heads: the envelope of each interval's scores.
        endpoint_scores = self.deployed_.endpoint_scores(X)
        check_finite_scores(endpoint_scores)
        paths = []
        for scores in endpoint_scores:
            breakpoints, winners, costs = [], [], []
            for k in range(grid.size - 1):
                inner, pieces, slopes = _upper_envelope(
                    scores[k], scores[k + 1], grid[k], grid[k + 1]
                )
                if winners and pieces[0] != winners[-1]:
                    breakpoints.append(grid[k])
                    winners.append(pieces[0])
                    costs.append(-slopes[0])
                elif not winners:
                    winners.append(pieces[0])
                    costs.append(-slopes[0])
                breakpoints.extend(inner)
                winners.extend(pieces[1:])
                costs.extend(-slopes[1:])
            paths.append(
                RoutingPath(
                    np.array(breakpoints, dtype=np.float64),
                    self.classes_[winners],
                    np.array(costs),
                )
            )
        return paths

    def cost_quality_path(
        self,
        X,
        y,
        *,
        reward,
        cost,
        propensity=None,
        cost_sensitivities=None,
        method="dr",
    ):
        """Mean quality and cost of the router across its range of ``lambda``.

        Estimated off policy from logs (nuisances cross-fitted once on the rows
        given, with this router's settings), or exact from full-feedback 2-D
        ``reward`` and ``cost``. The points feed
        :func:`skroute.metrics.cost_quality_curve`.

        Parameters
        ----------
        X, y, reward, cost, propensity
            Logged data as in :meth:`fit`; ``cost`` is required.
        cost_sensitivities : array-like, default=None
            Values of ``lambda``; 101 points across the range when None.
        method : {"dm", "ipw", "snipw", "dr", "sndr"}, default="dr"

        Returns
        -------
        Bunch
            ``cost_sensitivity``, ``quality`` and ``cost`` (arrays of
            estimates), ``quality_se`` and ``cost_se`` (standard errors).
        """
        check_is_fitted(self)
        X = self._check_X(X)
        if cost_sensitivities is None:
            cost_sensitivities = np.linspace(
                self.cost_grid_[0], self.cost_grid_[-1], 101
            )
        evaluation = self._logged_evaluation(X, y, reward, cost, propensity, method)
        return self._path(evaluation, X, cost_sensitivities)

    def _logged_evaluation(self, X, y, reward, cost, propensity, method):
        """Logs and their nuisances, fitted once with this router's settings."""
        if cost is None:
            raise ValueError("cost is required to estimate mean costs; pass cost=.")
        return LoggedNuisances(
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            X=X,
            classes=self.classes_,
            method=method,
            sample_weight=None,
            **self._evaluation_settings(),
        )

    def _path(self, evaluation, X, cost_sensitivities):
        cost_sensitivities = check_numeric(cost_sensitivities, "cost_sensitivities")
        if cost_sensitivities.ndim != 1 or cost_sensitivities.size == 0:
            raise ValueError(
                "cost_sensitivities must be a non-empty 1-D array of cost "
                f"sensitivities; got shape {cost_sensitivities.shape}."
            )
        # The deployed policy's lines (or, for independent heads, its scores at
        # the grid's points), computed once for every lambda.
        lines = self.deployed_.lines(X)
        for line in lines or ():
            check_finite_scores(line)
        if lines is None:
            endpoint_scores = self.deployed_.endpoint_scores(X)
        routes = []
        for value in cost_sensitivities:
            values = self._check_cost_sensitivity(float(value), X)
            if lines is None:
                scores = self.deployed_.interpolated(endpoint_scores, values)
                check_finite_scores(scores)
            else:
                scores = lines[0] - values[:, None] * lines[1]
            routes.append(self.classes_[np.argmax(scores, axis=1)])
        qualities, costs = evaluation.cost_quality(
            routes, min_propensity=self.min_propensity, warn=False
        )
        return Bunch(
            cost_sensitivity=cost_sensitivities,
            quality=np.array([value.estimate for value in qualities]),
            cost=np.array([value.estimate for value in costs]),
            quality_se=np.array([value.standard_error for value in qualities]),
            cost_se=np.array([value.standard_error for value in costs]),
        )
