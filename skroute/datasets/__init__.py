"""Generated routing problems and a logging simulator (the package's own data)."""

from skroute.datasets._loaders import load_logs, load_long_table, load_wide_table
from skroute.datasets._logging import simulate_logging
from skroute.datasets._synthetic import make_routing_problem

__all__ = [
    "load_logs",
    "load_long_table",
    "load_wide_table",
    "make_routing_problem",
    "simulate_logging",
]
