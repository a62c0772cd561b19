"""Displays of routers' cost-quality curves and of an interval router's traffic."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from skroute.metrics import cost_quality_curve, cost_quality_values, routing_summary
from skroute.ope import UnreliableEstimateWarning
from skroute.ope._estimators import MIN_EFFECTIVE_SAMPLE_SIZE
from skroute.utils._warnings import warn_at_caller

_DEFAULT_POINTS = 25


def _check_matplotlib(caller):
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"{caller} needs matplotlib: pip install matplotlib (or the 'plot' "
            "extra: pip install 'scikit-route[plot]')."
        ) from error


def _new_axes(ax, figsize=None):
    if ax is not None:
        return ax
    from matplotlib import pyplot as plt

    # Constrained layout keeps a legend placed outside the axes in the figure.
    return plt.subplots(layout="constrained", figsize=figsize)[1]


def _split_pipeline(estimator):
    """``(transform, final)``: the steps before the router, and the router."""
    if isinstance(estimator, Pipeline):
        return estimator[:-1], estimator[-1]
    return None, estimator


def _thinned(grid, n_points):
    """At most ``n_points`` of a sorted grid, both ends kept."""
    index = np.unique(np.linspace(0, grid.size - 1, n_points).round().astype(int))
    return grid[index]


def _cost_sensitivities(final, cost_sensitivities, n_points):
    """The lambdas to predict at: given, or spread over an interval router's grid."""
    grid = getattr(final, "cost_grid_", None)
    if cost_sensitivities is None:
        return None if grid is None else _thinned(grid, n_points)
    if grid is None:
        raise ValueError(
            "cost_sensitivities applies to an IntervalCostRouter, which serves a "
            f"range of lambdas; {type(final).__name__} was fitted at one. Fit one "
            "router per lambda and pass their predictions to from_predictions."
        )
    values = np.atleast_1d(np.asarray(cost_sensitivities, dtype=np.float64))
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(
            f"cost_sensitivities must be a non-empty 1-D list of finite lambdas; "
            f"got {cost_sensitivities!r}."
        )
    return np.sort(values)


def _predictions(estimator, X, cost_sensitivities, n_points):
    """Routes of a fitted router (or Pipeline) at each lambda, and the lambdas."""
    transform, final = _split_pipeline(estimator)
    check_is_fitted(final)
    lambdas = _cost_sensitivities(final, cost_sensitivities, n_points)
    features = X if transform is None else transform.transform(X)
    if lambdas is None:
        own = getattr(final, "cost_sensitivity", None)
        return [final.predict(features)], None if own is None else [own], features
    routes = [final.predict(features, cost_sensitivity=lam) for lam in lambdas]
    return routes, lambdas, features


def _lambda_axis(ax, values, axis="x"):
    """Log (or symlog from 0) scale when the lambdas span decades.

    The ticks are 0 (when in range), the decades, and 2 and 5 times them where
    there is room: a tick closer than a tenth of the axis to one already kept
    is dropped, so that labels such as "0" and "0.001" never overlap.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    values = np.asarray(values, dtype=np.float64)
    positive = values[values > 0]
    if positive.size < 2 or positive.max() / positive.min() < 20:
        return
    set_scale = ax.set_xscale if axis == "x" else ax.set_yscale
    if (values <= 0).any():
        set_scale("symlog", linthresh=positive.min(), linscale=1.0)
    else:
        set_scale("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    low, high = values.min(), values.max()
    decades = 10.0 ** np.arange(
        np.floor(np.log10(positive.min())), np.ceil(np.log10(high)) + 1
    )
    candidates = [[0.0] if low <= 0 else [], decades, 2 * decades, 5 * decades]
    transform = target.get_transform().transform
    span = transform(np.array([low, high]))
    width = float(span[1] - span[0]) or 1.0
    kept = []
    for group in candidates:
        for tick in group:
            if not low <= tick <= high:
                continue
            position = float(transform(np.array([tick]))[0])
            if all(abs(position - other) >= 0.1 * width for _, other in kept):
                kept.append((tick, position))
    target.set_major_locator(FixedLocator(sorted(tick for tick, _ in kept)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_locator(NullLocator())


def _model_colors(n_models):
    """One distinct colour per model: a qualitative colormap up to 20 models."""
    from matplotlib import colormaps

    if n_models <= 10:
        return [colormaps["tab10"](i) for i in range(n_models)]
    if n_models <= 20:
        # tab20 pairs a dark and a light shade; dark ones first keeps
        # neighbours apart.
        order = [*range(0, 20, 2), *range(1, 20, 2)][:n_models]
        return [colormaps["tab20"](i) for i in order]
    return [colormaps["turbo"](x) for x in np.linspace(0.05, 0.95, n_models)]


# Routers drawn on one axes get a marker, size, fill and line style each: two
# routers that deploy the same policy draw the same points, and the later,
# smaller marker leaves the earlier one visible around it.
_CURVE_STYLES = [
    {"marker": "o", "linestyle": "-", "markersize": 9},
    {"marker": "^", "linestyle": "--", "markersize": 8, "markerfacecolor": "none"},
    {"marker": "D", "linestyle": "-.", "markersize": 6},
    {"marker": "v", "linestyle": ":", "markersize": 7, "markerfacecolor": "none"},
    {"marker": "P", "linestyle": "-", "markersize": 5},
    {"marker": "s", "linestyle": "--", "markersize": 7, "markerfacecolor": "none"},
    {"marker": "X", "linestyle": "-.", "markersize": 4},
    {"marker": "h", "linestyle": ":", "markersize": 8, "markerfacecolor": "none"},
]
# The curves' lines, counted to give each new curve its own style.
_CURVE_GID = "skroute-curve"
# Artists a RoutingCurveDisplay draws once per axes, however many curves.
_SHARED_GIDS = ("skroute-models", "skroute-oracle", "skroute-hull")


def _shared_artist(ax, gid):
    return next((a for a in [*ax.lines, *ax.collections] if a.get_gid() == gid), None)


def _gid(handle):
    return handle.get_gid() if hasattr(handle, "get_gid") else None


def _outside_legend(ax, fontsize=8):
    """One legend entry per label, outside the axes, where it covers nothing."""
    seen = {}
    for handle, label in zip(*ax.get_legend_handles_labels()):
        seen.setdefault(label, handle)
    # The curves first, then what they share (models, hull, oracle).
    order = sorted(seen, key=lambda label: _gid(seen[label]) in _SHARED_GIDS)
    seen = {label: seen[label] for label in order}
    return ax.legend(
        seen.values(),
        seen.keys(),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=fontsize,
        frameon=False,
    )


def _label_offsets(x, y, left, x_span, y_span, step=9.0):
    """Vertical offsets (points) of point labels, so that near labels part.

    Greedy: each label, from the top down, takes the smallest offset at which
    it is not within about a line's height of a label already placed on the
    same side and near it along x.
    """
    x = (np.asarray(x) - np.min(x)) / (x_span or 1.0)
    y = (np.asarray(y) - np.min(y)) / (y_span or 1.0)
    # About 300 points of axes height: one point is 1/300 of the y span.
    height = 1.0 / 300.0
    placed, offsets = [], np.zeros(x.size)
    for i in np.argsort(-y):
        for k in range(12):
            shift = -step * ((k + 1) // 2) * (1 if k % 2 else -1)
            level = y[i] + shift * height
            if all(
                side != left[i]
                or abs(x[i] - px) > 0.15
                or abs(level - plevel) > step * height
                for px, plevel, side in placed
            ):
                break
        offsets[i] = shift
        placed.append((x[i], level, left[i]))
    return offsets


class RoutingCurveDisplay:
    """Cost-quality curve of a router, beside the single models and the oracle.

    Each point is a policy's mean cost and mean quality: one per cost
    sensitivity of an :class:`~skroute.IntervalCostRouter`, or one for a
    router fitted at a single ``lambda``. The single models are drawn as
    points, the per-query best model (the oracle) as a star, and the upper
    hull of the router's and the models' points as a dotted line: any point on
    it is reached by mixing two policies. Off-policy curves carry confidence
    intervals on both axes.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; the
    constructor takes numbers computed elsewhere.

    Parameters
    ----------
    costs, qualities : array-like of shape (n_points,)
        The router's mean cost and mean quality, one per cost sensitivity.
    cost_sensitivities : array-like of shape (n_points,), default=None
        The ``lambda`` of each point.
    cost_intervals, quality_intervals : array-like of shape (n_points, 2), \
default=None
        Confidence intervals of off-policy estimates.
    model_costs, model_qualities : array-like of shape (n_models,), default=None
        Mean cost and quality of routing every query to one model.
    model_names : list of str, default=None
    model_cost_intervals, model_quality_intervals : array-like of shape \
(n_models, 2), default=None
    oracle : (float, float), default=None
        Mean cost and quality of the per-query best model (full feedback only).
    name : str, default=None
        Label of the router's curve.
    quality_range : (float, float), default=None
        The values one query's quality can take, such as ``(0, 1)`` for 0/1
        quality: intervals are cut to it and the y-axis stays within it.
        :meth:`from_estimator` and :meth:`from_predictions` take it from the
        rewards given.

    Attributes
    ----------
    line_ : matplotlib Line2D or ErrorbarContainer
        The router's curve.
    models_ : matplotlib PathCollection or None
    hull_ : matplotlib Line2D or None
    oracle_ : matplotlib PathCollection or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    RoutingPathDisplay : Each model's share of traffic across ``lambda``.
    skroute.metrics.cost_quality_curve : The upper hull as numbers.

    Examples
    --------
    >>> from skroute.plotting import RoutingCurveDisplay
    >>> display = RoutingCurveDisplay(
    ...     costs=[0.2, 0.5, 0.9], qualities=[0.55, 0.7, 0.74],
    ...     model_costs=[0.1, 1.0], model_qualities=[0.5, 0.75],
    ...     model_names=["small", "large"], name="router").plot()
    >>> display.ax_.get_xlabel()
    'mean cost per query'
    """

    def __init__(
        self,
        *,
        costs,
        qualities,
        cost_sensitivities=None,
        cost_intervals=None,
        quality_intervals=None,
        model_costs=None,
        model_qualities=None,
        model_names=None,
        model_cost_intervals=None,
        model_quality_intervals=None,
        oracle=None,
        name=None,
        quality_range=None,
    ):
        self.costs = np.asarray(costs, dtype=np.float64).ravel()
        self.qualities = np.asarray(qualities, dtype=np.float64).ravel()
        if self.costs.shape != self.qualities.shape or self.costs.size == 0:
            raise ValueError(
                "costs and qualities must hold one value per point, the same "
                f"number of each; got {self.costs.size} and {self.qualities.size}."
            )
        self.cost_sensitivities = (
            None
            if cost_sensitivities is None
            else np.asarray(cost_sensitivities, dtype=np.float64).ravel()
        )
        self.cost_intervals = cost_intervals
        self.quality_intervals = quality_intervals
        self.model_costs = model_costs
        self.model_qualities = model_qualities
        self.model_names = model_names
        self.model_cost_intervals = model_cost_intervals
        self.model_quality_intervals = model_quality_intervals
        self.oracle = oracle
        self.name = name
        self.quality_range = None if quality_range is None else _range(quality_range)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        reward,
        cost,
        y=None,
        propensity=None,
        cost_sensitivities=None,
        n_points=_DEFAULT_POINTS,
        method="dr",
        random_state=0,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Curve of a fitted router (or a Pipeline ending in one) on data.

        With full feedback, ``reward`` and ``cost`` are matrices of every
        model's quality and cost on each row of ``X`` and the curve is exact.
        With logs, pass the logged model as ``y`` (and its ``propensity``
        when logged): ``reward`` and ``cost`` are then the logged quality and
        cost, the points are off-policy estimates (``method``), and they come
        with 95% intervals.

        Parameters
        ----------
        estimator : fitted router or Pipeline
            An :class:`~skroute.IntervalCostRouter` gives a curve across its
            range of ``lambda``; another router gives one point.
        X : array-like of shape (n_samples, n_features)
        reward, cost : array-like of shape (n_samples, n_classes) or (n_samples,)
            Full-feedback matrices (columns in ``classes_`` order), or logged
            arrays with ``y``.
        y : array-like of shape (n_samples,), default=None
            The logged model, for an off-policy curve.
        propensity : array-like of shape (n_samples,), default=None
            Logging probability of ``y``; estimated when None.
        cost_sensitivities : array-like, default=None
            The lambdas of an interval router's curve; ``n_points`` spread over
            its grid when None.
        n_points : int, default=25
        method : {"dm", "ipw", "snipw", "dr", "sndr"}, default="dr"
            Off-policy estimator, with ``y``.
        random_state : int, default=0
            Seed of the off-policy estimate's cross-fitting.
        name : str, default=None
            Label of the curve; the router's class name when None.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        RoutingCurveDisplay

        Examples
        --------
        >>> from skroute import DecoupledRouter
        >>> from skroute.datasets import make_routing_problem, simulate_logging
        >>> from skroute.plotting import RoutingCurveDisplay
        >>> problem = make_routing_problem(n_samples=600, random_state=0)
        >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
        ...                         models=problem.models, random_state=0)
        >>> router = DecoupledRouter(cost_sensitivity=0.1).fit(
        ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost)
        >>> display = RoutingCurveDisplay.from_estimator(
        ...     router, problem.X, reward=problem.expected_reward, cost=problem.cost)
        >>> display.costs.shape
        (1,)
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        _, final = _split_pipeline(estimator)
        routes, lambdas, features = _predictions(
            estimator, X, cost_sensitivities, n_points
        )
        display = cls._from_routes(
            routes,
            reward=reward,
            cost=cost,
            y=y,
            propensity=propensity,
            X=features,
            classes=final.classes_,
            cost_sensitivities=lambdas,
            method=method,
            random_state=random_state,
            name=type(final).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_predictions(
        cls,
        y_preds,
        *,
        reward,
        cost,
        y=None,
        propensity=None,
        X=None,
        classes=None,
        cost_sensitivities=None,
        method="dr",
        random_state=0,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Curve of routes already computed, one array of routes per point.

        Parameters
        ----------
        y_preds : array-like of shape (n_samples,), or list of them
            The model chosen for each row, once per point of the curve (for
            instance per ``lambda`` of routers fitted one per ``lambda``).
        reward, cost : array-like
            As in :meth:`from_estimator`.
        y, propensity : array-like of shape (n_samples,), default=None
            The logged model and its propensity, for an off-policy curve.
        X : array-like of shape (n_samples, n_features), default=None
            Features of the off-policy estimate's outcome and propensity
            models.
        classes : array-like of shape (n_classes,), default=None
            The models, in the column order of full-feedback ``reward``;
            integer codes ``0..n_classes-1`` when None.
        cost_sensitivities : array-like of shape (n_points,), default=None
            The ``lambda`` of each entry of ``y_preds``, for the record.
        method, random_state, name, ax, **kwargs
            As in :meth:`from_estimator`.

        Returns
        -------
        RoutingCurveDisplay

        Examples
        --------
        >>> from skroute.plotting import RoutingCurveDisplay
        >>> reward = [[0.9, 0.2], [0.4, 0.8], [0.7, 0.6]]
        >>> cost = [[1.0, 0.1], [1.0, 0.1], [1.0, 0.1]]
        >>> display = RoutingCurveDisplay.from_predictions(
        ...     [[0, 1, 0], [0, 1, 1]], reward=reward, cost=cost, name="router")
        >>> display.qualities.round(3).tolist()
        [0.8, 0.767]
        """
        _check_matplotlib(f"{cls.__name__}.from_predictions")
        routes = [np.asarray(r) for r in y_preds]
        if routes and routes[0].ndim == 0:
            routes = [np.asarray(y_preds)]
        if classes is None:
            width = np.shape(reward)[1] if np.ndim(reward) == 2 else None
            if width is None:
                labels = np.concatenate([np.asarray(y)] + routes)
                classes = np.unique(labels)
            else:
                classes = np.arange(width)
        display = cls._from_routes(
            routes,
            reward=reward,
            cost=cost,
            y=y,
            propensity=propensity,
            X=X,
            classes=np.asarray(classes),
            cost_sensitivities=cost_sensitivities,
            method=method,
            random_state=random_state,
            name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def _from_routes(
        cls,
        routes,
        *,
        reward,
        cost,
        y,
        propensity,
        X,
        classes,
        cost_sensitivities,
        method,
        random_state,
        name,
    ):
        names = [str(c) for c in classes]
        if y is None:
            return cls._full_feedback(
                routes, reward, cost, classes, names, cost_sensitivities, name
            )
        n_rows = np.shape(y)[0]
        constant = [
            np.full(n_rows, c, dtype=np.asarray(classes).dtype) for c in classes
        ]
        qualities, costs = cost_quality_values(
            routes + constant,
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            X=X,
            classes=classes,
            method=method,
            random_state=random_state,
            warn=False,
        )
        if cost_sensitivities is not None and len(cost_sensitivities) == len(routes):
            points = [f"the routes at λ = {lam:g}" for lam in cost_sensitivities]
        else:
            points = [f"routes {j + 1}" for j in range(len(routes))]
        _warn_weak_points(qualities, points + [f"model {n} alone" for n in names])

        def points(values):
            estimates = np.array([v.estimate for v in values])
            intervals = np.array([v.confidence_interval for v in values])
            return estimates, intervals

        q, q_int = points(qualities)
        c, c_int = points(costs)
        k = len(routes)
        return cls(
            costs=c[:k],
            qualities=q[:k],
            cost_sensitivities=cost_sensitivities,
            cost_intervals=c_int[:k],
            quality_intervals=q_int[:k],
            model_costs=c[k:],
            model_qualities=q[k:],
            model_names=names,
            model_cost_intervals=c_int[k:],
            model_quality_intervals=q_int[k:],
            name=name,
            quality_range=_reward_range(reward),
        )

    @classmethod
    def _full_feedback(
        cls, routes, reward, cost, classes, names, cost_sensitivities, name
    ):
        summaries = [
            routing_summary(reward, r, cost=cost, classes=classes) for r in routes
        ]
        reward = np.asarray(reward, dtype=np.float64)
        cost = np.asarray(cost, dtype=np.float64)
        # The oracle: each query's best model, the cheapest among ties.
        best = reward >= reward.max(axis=1, keepdims=True) - 1e-12
        choice = np.argmin(np.where(best, cost, np.inf), axis=1)
        rows = np.arange(reward.shape[0])
        return cls(
            costs=[s["cost"] for s in summaries],
            qualities=[s["quality"] for s in summaries],
            cost_sensitivities=cost_sensitivities,
            model_costs=cost.mean(axis=0),
            model_qualities=reward.mean(axis=0),
            model_names=names,
            oracle=(float(cost[rows, choice].mean()), float(reward.max(axis=1).mean())),
            name=name,
            quality_range=_reward_range(reward),
        )

    def plot(
        self,
        ax=None,
        *,
        name=None,
        show_models=True,
        show_hull=True,
        show_oracle=True,
        annotate_models=True,
        cost_label="mean cost per query",
        quality_label="mean quality",
        **kwargs,
    ):
        """Draw the curve, and the models, hull and oracle, on ``ax``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure's axes when None.
        name : str, default=None
            Label of the curve; the display's ``name`` when None.
        show_models, show_hull, show_oracle : bool, default=True
            Draw the single models, the upper hull, the oracle (when known).
        annotate_models : bool, default=True
            Write each model's name beside its point.
        cost_label, quality_label : str
            Axis labels; name the unit of cost here (for instance
            ``"mean cost per query (USD per 1k queries)"``).
        **kwargs
            Passed to the curve's ``Axes.plot`` (or ``Axes.errorbar``).

        Returns
        -------
        RoutingCurveDisplay
            ``self``, with ``ax_``, ``figure_`` and the drawn artists set.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        # Wider than matplotlib's default: the legend sits right of the axes.
        ax = _new_axes(ax, figsize=(8.0, 4.8))
        name = self.name if name is None else name
        drawn = sum(line.get_gid() == _CURVE_GID for line in ax.lines)
        style = {"label": name} | _CURVE_STYLES[drawn % len(_CURVE_STYLES)] | kwargs
        if self.quality_intervals is not None:
            self.line_ = ax.errorbar(
                self.costs,
                self.qualities,
                xerr=_error_bars(self.costs, self.cost_intervals),
                yerr=_error_bars(self.qualities, self._clipped(self.quality_intervals)),
                capsize=2,
                **style,
            )
            # The data line only: errorbar would give its caps the gid too.
            self.line_.lines[0].set_gid(_CURVE_GID)
        else:
            (self.line_,) = ax.plot(self.costs, self.qualities, **style)
            self.line_.set_gid(_CURVE_GID)
        self.models_ = self.hull_ = self.oracle_ = None
        has_models = self.model_costs is not None and self.model_qualities is not None
        if show_models and has_models:
            # Several curves on one axes share their single models.
            self.models_ = _shared_artist(ax, "skroute-models")
            if self.models_ is None:
                self._plot_models(ax, annotate_models)
        if show_hull:
            self.hull_ = self._plot_hull(ax, has_models)
        if show_oracle and self.oracle is not None:
            self.oracle_ = _shared_artist(ax, "skroute-oracle")
            if self.oracle_ is None:
                self.oracle_ = ax.scatter(
                    [self.oracle[0]],
                    [self.oracle[1]],
                    marker="*",
                    s=140,
                    color="gold",
                    edgecolor="0.2",
                    zorder=3,
                    label="oracle (best model per query)",
                    gid="skroute-oracle",
                )
        ax.set(xlabel=cost_label, ylabel=quality_label)
        self._bound_quality_axis(ax)
        _outside_legend(ax)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _clipped(self, intervals):
        """Intervals cut to the range quality can take (an estimate's can't)."""
        if intervals is None or self.quality_range is None:
            return intervals
        return np.clip(np.asarray(intervals, dtype=np.float64), *self.quality_range)

    def _bound_quality_axis(self, ax):
        if self.quality_range is None:
            return
        low, high = self.quality_range
        if high <= low:
            return
        bottom, top = ax.get_ylim()
        ax.set_ylim(max(bottom, low), min(top, high))

    def _plot_hull(self, ax, has_models):
        """The upper hull of every curve and model on ``ax``: one line."""
        points_c, points_q = [self.costs], [self.qualities]
        if has_models:
            points_c.append(np.asarray(self.model_costs, dtype=np.float64))
            points_q.append(np.asarray(self.model_qualities, dtype=np.float64))
        previous = _shared_artist(ax, "skroute-hull")
        if previous is not None:
            # The hull of the union is the hull of the old hull's vertices and
            # the new points.
            points_c.append(np.asarray(previous.get_xdata(), dtype=np.float64))
            points_q.append(np.asarray(previous.get_ydata(), dtype=np.float64))
            previous.remove()
        hull = cost_quality_curve(np.concatenate(points_c), np.concatenate(points_q))
        (line,) = ax.plot(
            hull.hull_costs,
            hull.hull_qualities,
            linestyle=":",
            color="0.45",
            label="upper hull",
            gid="skroute-hull",
        )
        return line

    def _plot_models(self, ax, annotate):
        model_costs = np.asarray(self.model_costs, dtype=np.float64)
        model_qualities = np.asarray(self.model_qualities, dtype=np.float64)
        if self.model_quality_intervals is not None:
            ax.errorbar(
                model_costs,
                model_qualities,
                xerr=_error_bars(model_costs, self.model_cost_intervals),
                yerr=_error_bars(
                    model_qualities, self._clipped(self.model_quality_intervals)
                ),
                fmt="none",
                ecolor="0.6",
                capsize=2,
            )
        self.models_ = ax.scatter(
            model_costs,
            model_qualities,
            marker="s",
            s=22,
            color="0.35",
            zorder=3,
            label="single models",
            gid="skroute-models",
        )
        if annotate and self.model_names is not None:
            # Names of the costlier half go left of their point, so that the
            # right edge does not cut them; names of near points part
            # vertically.
            middle = (model_costs.min() + model_costs.max()) / 2
            left = (model_costs > middle) & (model_costs.size > 1)
            offsets = _label_offsets(
                model_costs,
                model_qualities,
                left,
                np.ptp(np.append(model_costs, self.costs)),
                np.ptp(np.append(model_qualities, self.qualities)),
            )
            for label, x, y, to_left, dy in zip(
                self.model_names, model_costs, model_qualities, left, offsets
            ):
                ax.annotate(
                    label,
                    (x, y),
                    xytext=(-4 if to_left else 4, dy),
                    textcoords="offset points",
                    ha="right" if to_left else "left",
                    va="center",
                    fontsize=7,
                    color="0.3",
                )


def _warn_weak_points(values, labels):
    """One warning naming every point whose estimate rests on few rows."""
    weak = [
        label
        for value, label in zip(values, labels)
        if value.diagnostics.get("effective_sample_size", np.inf)
        < MIN_EFFECTIVE_SAMPLE_SIZE
    ]
    if weak:
        warn_at_caller(
            f"The off-policy estimates of {', '.join(weak)} rest on an effective "
            f"sample size below {MIN_EFFECTIVE_SAMPLE_SIZE} rows: the logs say "
            "little about those policies, and their points and intervals are "
            "unreliable.",
            UnreliableEstimateWarning,
        )


def _range(values):
    low, high = (float(v) for v in np.asarray(values, dtype=np.float64).ravel())
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(
            f"quality_range must be (low, high), finite with low <= high; got "
            f"{values!r}."
        )
    return low, high


def _reward_range(reward):
    """The range of the rewards given, or None when they are not all finite."""
    reward = np.asarray(reward, dtype=np.float64)
    if reward.size == 0 or not np.isfinite(reward).all():
        return None
    return float(reward.min()), float(reward.max())


def _error_bars(values, intervals):
    """Asymmetric error bars ``(2, n)`` from intervals ``(n, 2)``; None if absent."""
    if intervals is None:
        return None
    intervals = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    return np.clip(
        np.vstack([values - intervals[:, 0], intervals[:, 1] - values]), 0, None
    )


class RoutingPathDisplay:
    """Each model's share of traffic across the cost sensitivities of a router.

    A stacked area per model: at each ``lambda`` of an
    :class:`~skroute.IntervalCostRouter`'s range, the share of queries it
    sends to that model. Reading it left to right shows which models the
    router gives up as cost weighs more.

    Parameters
    ----------
    cost_sensitivities : array-like of shape (n_points,)
    shares : array-like of shape (n_points, n_classes)
        Share of queries routed to each model at each ``lambda``.
    classes : array-like of shape (n_classes,)
    name : str, default=None
        Title of the plot.

    Attributes
    ----------
    areas_ : list of matplotlib PolyCollection
        One per model that takes a share of the queries at some ``lambda``;
        a model routed no query anywhere is left out of the plot and legend.
    shown_classes_ : ndarray
        The models drawn, in ``classes`` order.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    RoutingCurveDisplay : The cost-quality curve of the same router.
    skroute.IntervalCostRouter.routing_path : The switch points of each query.

    Examples
    --------
    >>> from skroute.plotting import RoutingPathDisplay
    >>> display = RoutingPathDisplay(
    ...     cost_sensitivities=[0.0, 0.1, 0.2],
    ...     shares=[[0.8, 0.2], [0.5, 0.5], [0.1, 0.9]],
    ...     classes=["large", "small"]).plot()
    >>> len(display.areas_)
    2
    """

    def __init__(self, *, cost_sensitivities, shares, classes, name=None):
        self.cost_sensitivities = np.asarray(cost_sensitivities, dtype=np.float64)
        self.shares = np.asarray(shares, dtype=np.float64)
        self.classes = np.asarray(classes)
        expected = (self.cost_sensitivities.size, self.classes.size)
        if self.cost_sensitivities.ndim != 1 or self.shares.shape != expected:
            raise ValueError(
                "shares must have one row per cost sensitivity and one column per "
                f"class, shape {expected}; got {self.shares.shape}."
            )
        self.name = name

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        cost_sensitivities=None,
        n_points=50,
        name=None,
        ax=None,
        **kwargs,
    ):
        """Shares of traffic of a fitted interval router on the queries ``X``.

        Parameters
        ----------
        estimator : fitted IntervalCostRouter, or a Pipeline ending in one
        X : array-like of shape (n_samples, n_features)
        cost_sensitivities : array-like, default=None
            Where to measure the shares; ``n_points`` spread over the
            router's grid when None.
        n_points : int, default=50
        name : str, default=None
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        RoutingPathDisplay

        Examples
        --------
        >>> import numpy as np
        >>> from skroute import IntervalCostRouter
        >>> from skroute.datasets import make_routing_problem, simulate_logging
        >>> from skroute.plotting import RoutingPathDisplay
        >>> problem = make_routing_problem(n_samples=400, random_state=0)
        >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
        ...                         models=problem.models, random_state=0)
        >>> router = IntervalCostRouter(cost_range=(0.0, 0.5), max_epochs=5,
        ...                             random_state=0).fit(
        ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost,
        ...     propensity=logs.propensity)
        >>> display = RoutingPathDisplay.from_estimator(router, problem.X,
        ...                                             n_points=10)
        >>> bool(np.allclose(display.shares.sum(axis=1), 1.0))
        True
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        _, final = _split_pipeline(estimator)
        check_is_fitted(final)
        if not hasattr(final, "cost_grid_"):
            raise TypeError(
                "RoutingPathDisplay needs an IntervalCostRouter, which routes over "
                f"a range of lambdas; got {type(final).__name__}."
            )
        routes, lambdas, _ = _predictions(estimator, X, cost_sensitivities, n_points)
        classes = final.classes_
        shares = np.array([[np.mean(r == c) for c in classes] for r in routes])
        display = cls(
            cost_sensitivities=lambdas,
            shares=shares,
            classes=classes,
            name=name,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, name=None, legend=True, **kwargs):
        """Draw the stacked shares on ``ax``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        name : str, default=None
            Title; the display's ``name`` when None.
        legend : bool, default=True
            Draw a legend, outside the axes on the right.
        **kwargs
            Passed to ``Axes.stackplot``. Each model has its own colour from a
            qualitative colormap (``tab10``, or ``tab20`` beyond ten models).

        Returns
        -------
        RoutingPathDisplay
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        ax = _new_axes(ax)
        # Colours follow the models' order in classes, so a model keeps its
        # colour whichever others are left out.
        colors = _model_colors(self.classes.size)
        shown = np.flatnonzero(self.shares.max(axis=0) > 0)
        self.shown_classes_ = self.classes[shown]
        self.areas_ = ax.stackplot(
            self.cost_sensitivities,
            self.shares[:, shown].T,
            labels=[str(c) for c in self.shown_classes_],
            colors=[colors[i] for i in shown],
            **kwargs,
        )
        _lambda_axis(ax, self.cost_sensitivities)
        ax.set(
            xlabel="cost sensitivity λ",
            ylabel="share of queries",
            ylim=(0, 1),
            xlim=(self.cost_sensitivities[0], self.cost_sensitivities[-1]),
        )
        title = self.name if name is None else name
        if title:
            ax.set_title(title)
        if legend:
            # Listed top to bottom, as the areas are stacked.
            handles, labels = ax.get_legend_handles_labels()
            ax.legend(
                handles[::-1],
                labels[::-1],
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=8,
                frameon=False,
            )
        self.ax_, self.figure_ = ax, ax.figure
        return self
