"""Evaluation of routing policies (numpy only)."""

from skroute.metrics._full_feedback import regret, utility

__all__ = ["regret", "utility"]
