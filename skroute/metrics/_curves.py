"""Cost-quality curves of routers, their upper hull and summary numbers."""

from dataclasses import dataclass

import numpy as np

from skroute.utils import check_curve_points, check_finite_values, check_instance


@dataclass(frozen=True)
class CostQualityCurve:
    """Routers' (mean cost, mean quality) points and their upper convex hull.

    Built by :func:`cost_quality_curve`, which computes the hull; the
    constructor stores the four arrays as given and checks nothing. Each
    parameter is kept as the attribute of the same name.

    Parameters
    ----------
    costs, qualities : ndarray of shape (n_points,)
        The points, in the order given.
    hull_costs, hull_qualities : ndarray of shape (n_vertices,)
        Vertices of the upper convex hull that are worth their cost: from the
        cheapest point, increasing in both cost and quality. Any quality on the
        hull is reachable by mixing the two routers at the ends of its segment.

    See Also
    --------
    cost_quality_curve : The curve of a set of points.

    Examples
    --------
    >>> from skroute.metrics import cost_quality_curve
    >>> curve = cost_quality_curve([1, 2, 3, 4], [0.5, 0.6, 0.9, 0.8])
    >>> curve.costs.tolist(), curve.hull_costs.tolist()
    ([1.0, 2.0, 3.0, 4.0], [1.0, 3.0])

    Between two vertices the hull is linear; below the cheapest point no
    quality is reachable:

    >>> curve.quality_at([0.5, 2.0, 3.5]).round(3).tolist()
    [-inf, 0.7, 0.9]
    """

    costs: np.ndarray
    qualities: np.ndarray
    hull_costs: np.ndarray
    hull_qualities: np.ndarray

    def quality_at(self, cost):
        """Best quality reachable at a mean cost (-inf below the cheapest point)."""
        cost = np.asarray(cost, dtype=np.float64)
        quality = np.interp(cost, self.hull_costs, self.hull_qualities)
        return np.where(cost < self.hull_costs[0], -np.inf, quality)


def _check_curve(curve):
    check_instance(curve, "curve", CostQualityCurve, "cost_quality_curve")


def cost_quality_curve(costs, qualities):
    """Upper convex hull of (mean cost, mean quality) points of routers.

    Parameters
    ----------
    costs, qualities : array-like of shape (n_points,)
        One point per router (or per cost sensitivity of one router); from
        full feedback (:func:`utility` with ``reward=cost``) or estimated off
        policy (:func:`policy_value`).

    Returns
    -------
    CostQualityCurve

    Examples
    --------
    >>> from skroute.metrics import cost_quality_curve
    >>> curve = cost_quality_curve([1, 2, 3, 4], [0.5, 0.6, 0.9, 0.8])
    >>> curve.hull_costs.tolist(), curve.hull_qualities.tolist()
    ([1.0, 3.0], [0.5, 0.9])
    """
    costs, qualities = check_curve_points(costs, qualities)
    # Sort by cost, best quality first among equal costs; keep the upper hull
    # (monotone chain), then drop the part past the best quality.
    order = np.lexsort((-qualities, costs))
    hull = []
    for point in zip(costs[order], qualities[order]):
        if hull and point[0] == hull[-1][0]:
            continue
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (point[1] - y1) - (y2 - y1) * (point[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(point)
    hull = np.array(hull)
    best = int(np.argmax(hull[:, 1]))
    hull = hull[: best + 1]
    return CostQualityCurve(costs, qualities, hull[:, 0], hull[:, 1])


def normalised_area(curve, *, cheapest, oracle_quality, max_cost=None):
    """Area under the hull, normalised from the cheapest model (0) to the oracle (1).

    The hull, joined to the cheapest model's point and extended flat past its
    last vertex, is averaged over costs from the cheapest model's mean cost to
    ``max_cost`` (the RouterBench AIQ family), then rescaled so that always
    routing to the cheapest model scores 0 and the oracle's quality scores 1.

    Parameters
    ----------
    curve : CostQualityCurve
        The routers' curve, from :func:`cost_quality_curve`.
    cheapest : (float, float)
        Mean cost and mean quality of the cheapest model.
    oracle_quality : float
        Mean quality of the per-query best model.
    max_cost : float, default=None
        Right end of the cost range; the curve's largest cost when None (use
        the most expensive model's mean cost to compare routers).

    Returns
    -------
    float

    Examples
    --------
    The hull rises from quality 0.5 at cost 1 to 0.9 at cost 3, then stays
    flat to cost 4: its mean quality over ``[1, 4]`` is ``2.3 / 3 = 0.767``,
    0.533 of the way from the cheapest model's 0.5 to the oracle's 1.0.

    >>> from skroute.metrics import cost_quality_curve, normalised_area
    >>> curve = cost_quality_curve([1, 2, 3, 4], [0.5, 0.6, 0.9, 0.8])
    >>> area = normalised_area(curve, cheapest=(1, 0.5), oracle_quality=1.0,
    ...                        max_cost=4)
    >>> round(area, 3)
    0.533
    """
    _check_curve(curve)
    cheapest = check_finite_values(cheapest, "cheapest")
    if cheapest.shape != (2,):
        raise ValueError(
            f"cheapest must be the (mean cost, mean quality) of the cheapest model; "
            f"got {cheapest.tolist()!r}."
        )
    low_cost, low_quality = cheapest
    oracle_quality = float(check_finite_values(oracle_quality, "oracle_quality"))
    if max_cost is not None:
        max_cost = float(check_finite_values(max_cost, "max_cost"))
    if oracle_quality <= low_quality:
        raise ValueError("oracle_quality must exceed the cheapest model's quality.")
    joined = cost_quality_curve(
        np.append(curve.hull_costs, low_cost),
        np.append(curve.hull_qualities, low_quality),
    )
    high = joined.hull_costs.max() if max_cost is None else float(max_cost)
    if high <= low_cost:
        raise ValueError("max_cost must exceed the cheapest model's mean cost.")
    # The hull is piecewise linear: the trapezoid rule on its vertices (and the
    # ends of the range) is exact.
    inner = joined.hull_costs[
        (joined.hull_costs > low_cost) & (joined.hull_costs < high)
    ]
    points = np.concatenate([[low_cost], inner, [high]])
    quality = np.interp(points, joined.hull_costs, joined.hull_qualities)
    area = np.trapezoid(quality, points) / (high - low_cost)
    return float((area - low_quality) / (oracle_quality - low_quality))


def quality_gap_recovered(curve, cost, *, weak_quality, strong_quality):
    """Share of the weak-to-strong quality gap the hull recovers at a mean cost.

    ``(quality_at(cost) - weak) / (strong - weak)``, the RouteLLM PGR family:
    0 means no better than the weak (cheap) model, 1 as good as the strong one.

    Parameters
    ----------
    curve : CostQualityCurve
        The routers' curve, from :func:`cost_quality_curve`.
    cost : float or array-like
        The mean cost (or costs) at which to read the hull.
    weak_quality, strong_quality : float
        Mean quality of the weak and of the strong model; ``strong_quality``
        must exceed ``weak_quality``.

    Returns
    -------
    float or ndarray
        A float for a single ``cost``, else an array of the shape of ``cost``;
        -inf below the cheapest point of the curve.

    Examples
    --------
    >>> from skroute.metrics import cost_quality_curve, quality_gap_recovered
    >>> curve = cost_quality_curve([1, 2, 3, 4], [0.5, 0.6, 0.9, 0.8])
    >>> round(quality_gap_recovered(curve, 2.0, weak_quality=0.5,
    ...                             strong_quality=0.9), 3)
    0.5
    >>> quality_gap_recovered(curve, [1, 3], weak_quality=0.5,
    ...                       strong_quality=0.9).round(3).tolist()
    [0.0, 1.0]
    """
    _check_curve(curve)
    cost = check_finite_values(cost, "cost")
    weak_quality = float(check_finite_values(weak_quality, "weak_quality"))
    strong_quality = float(check_finite_values(strong_quality, "strong_quality"))
    if strong_quality <= weak_quality:
        raise ValueError("strong_quality must exceed weak_quality.")
    recovered = (curve.quality_at(cost) - weak_quality) / (
        strong_quality - weak_quality
    )
    return float(recovered) if np.ndim(recovered) == 0 else recovered


def cost_to_reach(curve, quality):
    """Smallest mean cost at which the hull reaches a quality (inf if never).

    Parameters
    ----------
    curve : CostQualityCurve
        The routers' curve, from :func:`cost_quality_curve`.
    quality : float
        The mean quality to reach.

    Returns
    -------
    float
        The cheapest point's cost for a quality at or below its own.

    Examples
    --------
    >>> from skroute.metrics import cost_quality_curve, cost_to_reach
    >>> curve = cost_quality_curve([1, 2, 3, 4], [0.5, 0.6, 0.9, 0.8])
    >>> round(cost_to_reach(curve, 0.8), 3), cost_to_reach(curve, 0.95)
    (2.5, inf)
    """
    _check_curve(curve)
    quality = float(check_finite_values(quality, "quality"))
    costs, qualities = curve.hull_costs, curve.hull_qualities
    if quality <= qualities[0]:
        return float(costs[0])
    if quality > qualities[-1]:
        return float("inf")
    return float(np.interp(quality, qualities, costs))
