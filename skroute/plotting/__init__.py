"""Plots of routers, in scikit-learn's Display style (needs matplotlib).

:class:`RoutingCurveDisplay` draws routers' cost-quality curves beside the
single models and the oracle; :class:`RoutingPathDisplay` draws each model's
share of traffic across the cost sensitivities of an interval router. Each
has ``from_estimator`` and a ``plot(ax=...)`` method, and never changes
matplotlib's backend.
"""

from skroute.plotting._displays import RoutingCurveDisplay, RoutingPathDisplay

__all__ = ["RoutingCurveDisplay", "RoutingPathDisplay"]
