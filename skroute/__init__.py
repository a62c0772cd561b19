"""skroute: learn LLM routing policies from observational logs."""

from skroute.routers import (
    BestSingleModelRouter,
    CausalRouterClassifier,
    DecoupledRouter,
    RandomRouter,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BestSingleModelRouter",
    "CausalRouterClassifier",
    "DecoupledRouter",
    "RandomRouter",
    "__version__",
]
