"""IntervalCostRouter: one router for a whole range of cost sensitivities."""

import numbers
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skroute._net import IntervalPolicyNetwork, IntervalRegretNet, interpolate_scores
from skroute.metrics._policy_value import _LoggedEvaluation
from skroute.routers._neural import NEURAL_ROUTER_CONSTRAINTS, NeuralRouter
from skroute.utils import check_hidden_layer_sizes, check_numeric


@dataclass(frozen=True)
class RoutingPath:
    """The model chosen for one query as the cost sensitivity varies.

    Attributes
    ----------
    breakpoints : ndarray of shape (n_switches,)
        Increasing cost sensitivities at which the chosen model changes.
    models : ndarray of shape (n_switches + 1,)
        The model chosen on each piece: ``models[0]`` below the first
        breakpoint, ``models[j]`` between breakpoints ``j - 1`` and ``j``.
    """

    breakpoints: np.ndarray
    models: np.ndarray

    def model_at(self, cost_sensitivity):
        """The model chosen at a cost sensitivity (one value or an array)."""
        index = np.searchsorted(self.breakpoints, cost_sensitivity, side="right")
        return self.models[index]


def _upper_envelope(left_scores, right_scores, left, right):
    """Pieces of ``argmax_t`` of scores linear in lambda over ``[left, right]``.

    Returns the breakpoints inside the interval and the winning index per piece.
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
    return breakpoints, winners


class IntervalCostRouter(NeuralRouter):
    """One router for every cost sensitivity in a range, chosen at prediction time.

    A shared trunk feeds one score head per grid point ``l_0 < ... < l_K`` of
    ``cost_range``; the scores at ``lambda`` interpolate linearly between the
    two enclosing grid points, which is exact when the heads are utilities,
    since utility is affine in ``lambda``. Training draws ``lambda`` per row
    (each grid interval equally often, uniformly inside it) and applies the
    regret surrogate to the interpolated scores against ``Gamma_a - lambda *
    Gamma_c``, each row weighted by the inverse of the typical regret at its
    ``lambda``: the nuisances are fitted once for all ``lambda``.

    Parameters
    ----------
    cost_range : (float, float), default=(0.0, 1.0)
        ``(lambda_min, lambda_max)``, with ``0 <= lambda_min < lambda_max``.
    n_intervals : int, default=8
        Number of intervals of the grid over ``cost_range``.
    spacing : {"geometric", "linear"}, default="geometric"
        ``"geometric"``: interval widths double towards ``lambda_max`` (from
        ``lambda_min`` = 0, the first interval is ``lambda_max / 2**(K-1)``
        wide), since routes change most at small cost sensitivities when
        prices span orders of magnitude; ``"linear"``: equal intervals.
    grid : array-like of shape (n_points,), default=None
        An explicit increasing grid; it replaces ``cost_range``,
        ``n_intervals`` and ``spacing``, and the range is
        ``[grid[0], grid[-1]]``. Put points where routes change.
    heads : {"independent", "affine"}, default="independent"
        ``"independent"``: a free score head per grid point, each trained by
        the cost sensitivities next to it. ``"affine"``: endpoint scores
        ``q(x) - s_k c(x)`` (``s_k`` the grid point's position in the range),
        the form of true utilities, so that along the range a query's route
        only moves to models with a lower learned cost ``c(x)``; it shares
        more between cost sensitivities but, on the RouterBench benchmark,
        routes almost the same at every cost sensitivity.
    cost_sensitivity : float, default=0.0
        The ``lambda`` used when ``predict`` gets none (and by ``score`` and
        scorers); it must lie in the range.
    out_of_range : {"error", "clip"}, default="error"
        What ``predict`` does with a ``lambda`` outside the range.
    surrogate, pseudo_outcome, cost_pseudo_outcome, propensity_model, \
reward_model, cost_model, cv, min_propensity, hidden_layer_sizes, temperature, \
gap_weighted, max_epochs, batch_size, lr, weight_decay, n_iter_no_change, \
classes, device, n_jobs, random_state, verbose
        As in :class:`~skroute.CausalRouterClassifier`.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop when the
        surrogate on them, averaged over the grid points and midpoints, stops
        improving, restoring the best epoch. (This router has no cross-fitted
        selection or safety check yet.)
    validation_fraction : float, default=0.1

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    cost_grid_ : ndarray of shape (n_points,)
        The grid of cost sensitivities.
    net_ : IntervalRegretNet
        The fitted skorch net.
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
    """

    _parameter_constraints = {
        **NEURAL_ROUTER_CONSTRAINTS,
        "cost_range": ["array-like"],
        "n_intervals": [Interval(numbers.Integral, 1, None, closed="left")],
        "grid": [None, "array-like"],
        "out_of_range": [StrOptions({"error", "clip"})],
        "spacing": [StrOptions({"linear", "geometric"})],
        "heads": [StrOptions({"independent", "affine"})],
    }

    def __init__(
        self,
        cost_range=(0.0, 1.0),
        n_intervals=8,
        *,
        spacing="geometric",
        grid=None,
        heads="independent",
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
        validation_fraction=0.1,
        n_iter_no_change=10,
        classes=None,
        device="cpu",
        n_jobs=None,
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
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.classes = classes
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _cost_grid(self):
        if self.grid is not None:
            grid = np.asarray(self.grid, dtype=np.float64)
            if (
                grid.ndim != 1
                or grid.size < 2
                or not np.isfinite(grid).all()
                or grid[0] < 0
                or (np.diff(grid) <= 0).any()
            ):
                raise ValueError(
                    "grid must be a strictly increasing 1-D array of at least two "
                    f"finite cost sensitivities >= 0; got {self.grid!r}."
                )
            return grid
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
        if self.spacing == "linear":
            return np.linspace(bounds[0], bounds[1], self.n_intervals + 1)
        if bounds[0] > 0:
            return np.geomspace(bounds[0], bounds[1], self.n_intervals + 1)
        # From 0: halve the interval width down from the top of the range.
        steps = bounds[1] * 0.5 ** np.arange(self.n_intervals - 1, -1, -1)
        return np.concatenate([[0.0], steps])

    def _fit(self, logs):
        grid = self._cost_grid()
        if not grid[0] <= self.cost_sensitivity <= grid[-1]:
            raise ValueError(
                f"cost_sensitivity={self.cost_sensitivity} lies outside the range "
                f"[{grid[0]:g}, {grid[-1]:g}]; set cost_sensitivity (the default "
                "lambda of predict and score) inside cost_range."
            )
        hidden_layer_sizes = check_hidden_layer_sizes(self.hidden_layer_sizes)
        nuisance_seed, torch_seed = self._seeds()
        estimates = self._pseudo_outcomes(logs, nuisance_seed)
        cost = estimates.cost
        if cost is None:
            cost = np.zeros_like(estimates.reward)
        training_scale, magnitude = self._training_scale(
            estimates.reward, grid[-1] * cost
        )
        reward, cost = estimates.reward / training_scale, cost / training_scale
        # Typical regret of a uniform policy at each grid point, to weigh all
        # cost sensitivities alike in the loss.
        utilities = reward[None] - grid[:, None, None] * cost[None]
        scale = (utilities.max(axis=2) - utilities.mean(axis=2)).mean(axis=1)
        scale = np.maximum(scale, 1e-12 + 1e-6 * scale.max())
        net = IntervalRegretNet(
            module=IntervalPolicyNetwork,
            module__n_features=logs.X.shape[1],
            module__n_outputs=self.classes_.size,
            module__grid=grid,
            module__heads=self.heads,
            module__hidden_layer_sizes=hidden_layer_sizes,
            cost_grid=grid,
            regret_scale=scale,
            **self._net_params(logs.X.shape[0], torch_seed),
        )
        batches = {
            "features": logs.X.astype(np.float32, copy=False),
            "reward": reward.astype(np.float32),
            "cost": cost.astype(np.float32),
            "sample_weight": self._loss_weights(logs.sample_weight),
        }
        self._train(net, batches, torch_seed, magnitude)
        self.cost_grid_ = grid
        self.overlap_ = estimates.overlap
        return self

    def _check_cost_sensitivity(self, cost_sensitivity, n_samples):
        """One validated lambda per row, as a float64 array."""
        if cost_sensitivity is None:
            cost_sensitivity = self.cost_sensitivity
        if isinstance(cost_sensitivity, (str, bytes)) or cost_sensitivity is True:
            raise TypeError(
                "cost_sensitivity must be a number or an array of numbers; got "
                f"{cost_sensitivity!r}."
            )
        try:
            values = np.asarray(cost_sensitivity, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "cost_sensitivity must be a number or an array of numbers."
            ) from exc
        if values.ndim == 0:
            values = np.full(n_samples, float(values))
        elif values.shape != (n_samples,):
            raise ValueError(
                f"cost_sensitivity must be a scalar or one value per row, shape "
                f"({n_samples},); got shape {values.shape}."
            )
        if not np.isfinite(values).all():
            raise ValueError("cost_sensitivity contains NaN or infinity.")
        if (values < 0).any():
            raise ValueError(
                f"cost_sensitivity must be >= 0; got {values[values < 0][0]:g}."
            )
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

    def _scores_at(self, X, cost_sensitivity):
        endpoint_scores = self._module_outputs(X)
        return interpolate_scores(
            endpoint_scores,
            torch.from_numpy(self.cost_grid_),
            torch.from_numpy(cost_sensitivity),
        ).numpy()

    def _decision_scores(self, X):
        return self._scores_at(X, np.full(X.shape[0], float(self.cost_sensitivity)))

    def decision_function(self, X, cost_sensitivity=None):
        """Scores of every model for each query at the given cost sensitivity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None
            ``lambda`` for all rows or per row; ``self.cost_sensitivity`` when
            None.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two models
        """
        X = self._check_X(X)
        scores = self._scores_at(
            X, self._check_cost_sensitivity(cost_sensitivity, X.shape[0])
        )
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X, cost_sensitivity=None):
        """The model to route each query to at the given cost sensitivity.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        values = self._check_cost_sensitivity(cost_sensitivity, X.shape[0])
        return self.classes_[np.argmax(self._scores_at(X, values), axis=1)]

    def predict_proba(self, X, cost_sensitivity=None):
        """Routing probabilities ``softmax(scores / temperature)`` at ``lambda``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        values = self._check_cost_sensitivity(cost_sensitivity, X.shape[0])
        return self._policy_proba(self._scores_at(X, values))

    def routing_path(self, X):
        """For each query, where over the range the chosen model changes.

        Computed exactly from the interpolated scores, which are linear in
        ``lambda`` on each grid interval: the upper envelope of the lines of
        every model, interval by interval.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        list of RoutingPath
        """
        X = self._check_X(X)
        endpoint_scores = self._module_outputs(X).numpy()
        grid = self.cost_grid_
        paths = []
        for scores in endpoint_scores:
            breakpoints, winners = [], []
            for k in range(grid.size - 1):
                inner, pieces = _upper_envelope(
                    scores[k], scores[k + 1], grid[k], grid[k + 1]
                )
                if winners and pieces[0] != winners[-1]:
                    breakpoints.append(grid[k])
                    winners.append(pieces[0])
                elif not winners:
                    winners.append(pieces[0])
                breakpoints.extend(inner)
                winners.extend(pieces[1:])
            paths.append(RoutingPath(np.array(breakpoints), self.classes_[winners]))
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
        return _LoggedEvaluation(
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
        routes = [
            self.predict(X, cost_sensitivity=float(v)) for v in cost_sensitivities
        ]
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

    def cost_sensitivity_for_budget(
        self, X, y, *, reward, cost, propensity=None, budget, n_points=201
    ):
        """The ``lambda`` whose estimated mean cost per query meets a budget.

        The router's mean cost is estimated off policy (doubly robust, from the
        logs given) on ``n_points`` values of ``lambda`` across the range; the
        ``lambda`` whose estimate comes closest to the budget without exceeding
        it is returned (the smallest such ``lambda`` on ties), with the
        estimated quality there. The step where the estimate first falls
        within the budget is searched again on ``n_points`` finer values. Set it with
        ``router.set_params(cost_sensitivity=result.cost_sensitivity)``.

        The mean cost is a step function of ``lambda`` and can jump where many
        queries change model at once: a budget inside such a jump is met only
        up to the jump (``estimated_cost`` says how closely).

        Parameters
        ----------
        X, y, reward, cost, propensity
            Logged data, preferably rows the router was not fitted on.
        budget : float
            Target mean cost per query, in the units of ``cost``.
        n_points : int, default=201

        Returns
        -------
        Bunch
            ``cost_sensitivity``, ``estimated_cost``, ``estimated_quality`` and
            their standard errors ``cost_se``, ``quality_se``.
        """
        if not (
            isinstance(budget, numbers.Real) and np.isfinite(budget) and budget > 0
        ):
            raise ValueError(f"budget must be a positive number; got {budget!r}.")
        if (
            isinstance(n_points, bool)
            or not isinstance(n_points, numbers.Integral)
            or n_points < 1
        ):
            raise ValueError(f"n_points must be a positive int; got {n_points!r}.")
        check_is_fitted(self)
        X = self._check_X(X)
        evaluation = self._logged_evaluation(X, y, reward, cost, propensity, "dr")
        grid = np.linspace(self.cost_grid_[0], self.cost_grid_[-1], n_points)
        path = self._path(evaluation, X, grid)
        within = np.flatnonzero(path.cost <= budget)
        if within.size == 0:
            raise ValueError(
                f"no cost sensitivity in [{self.cost_grid_[0]:g}, "
                f"{self.cost_grid_[-1]:g}] meets the budget {budget:g}: the lowest "
                f"estimated mean cost is {path.cost.min():.4g}. Refit with a wider "
                "cost_range or raise the budget."
            )
        if within[0] > 0:
            # Many queries can switch within one step of the grid: look again
            # between the last point above the budget and the first below it.
            finer = np.linspace(grid[within[0] - 1], grid[within[0]], n_points)
            refined = self._path(evaluation, X, finer)
            path = Bunch(
                **{key: np.concatenate([path[key], refined[key]]) for key in path}
            )
            within = np.flatnonzero(path.cost <= budget)
        # Closest to the budget from below; on ties, the smallest lambda.
        order = np.lexsort((path.cost_sensitivity[within], -path.cost[within]))
        chosen = within[order[0]]
        return Bunch(
            cost_sensitivity=float(path.cost_sensitivity[chosen]),
            estimated_cost=float(path.cost[chosen]),
            cost_se=float(path.cost_se[chosen]),
            estimated_quality=float(path.quality[chosen]),
            quality_se=float(path.quality_se[chosen]),
        )
