"""Generated routing problems and a logging simulator (the package's own data)."""

from skroute.datasets._logging import simulate_logging
from skroute.datasets._synthetic import make_routing_problem

__all__ = ["make_routing_problem", "simulate_logging"]
