"""Generated routing problems, a logging simulator and loaders of routing tables."""

from skroute.datasets._costs import costs_from_token_prices, load_model_prices
from skroute.datasets._loaders import load_logs, load_long_table, load_wide_table
from skroute.datasets._logging import simulate_logging
from skroute.datasets._synthetic import make_routing_problem

__all__ = [
    "costs_from_token_prices",
    "load_logs",
    "load_model_prices",
    "load_long_table",
    "load_wide_table",
    "make_routing_problem",
    "simulate_logging",
]
