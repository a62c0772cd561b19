"""Public routers: the causal router and the baselines it is compared with."""

from skroute.routers._baselines import (
    BestSingleModelRouter,
    DecoupledRouter,
    RandomRouter,
)
from skroute.routers._causal import CausalRouterClassifier

__all__ = [
    "BestSingleModelRouter",
    "CausalRouterClassifier",
    "DecoupledRouter",
    "RandomRouter",
]
