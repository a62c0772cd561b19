"""skroute: learn LLM routing policies from observational logs.

The routers import torch; they load on first access so that ``skroute.ope``,
``skroute.metrics``, ``skroute.causal`` and ``skroute.datasets`` import without
it.
"""

__version__ = "0.1.0.dev0"

_ROUTERS = (
    "BestSingleModelRouter",
    "BudgetRouter",
    "CausalRouterClassifier",
    "DecoupledRouter",
    "IntervalCostRouter",
    "RandomRouter",
)

__all__ = [*_ROUTERS, "__version__", "load_exported"]


def __getattr__(name):
    if name in _ROUTERS:
        from skroute import routers

        return getattr(routers, name)
    if name == "load_exported":
        from skroute.serving import load_exported

        return load_exported
    raise AttributeError(f"module 'skroute' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
