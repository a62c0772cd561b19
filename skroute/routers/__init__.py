"""Public routers: the causal router and the baselines it is compared with."""

from skroute.routers._base import CostScaleWarning
from skroute.routers._baselines import (
    BestSingleModelRouter,
    DecoupledRouter,
    RandomRouter,
)
from skroute.routers._budget import BudgetRouter
from skroute.routers._causal import CausalRouterClassifier
from skroute.routers._interval import IntervalCostRouter, RoutingPath
from skroute.routers._selection import PolicyFallbackWarning

__all__ = [
    "BestSingleModelRouter",
    "BudgetRouter",
    "CausalRouterClassifier",
    "CostScaleWarning",
    "DecoupledRouter",
    "IntervalCostRouter",
    "PolicyFallbackWarning",
    "RandomRouter",
    "RoutingPath",
]
