"""Baseline routers: decoupled predict-then-optimise, best single model, random."""

import numpy as np
import pytest
from sklearn.base import clone

from skroute import DecoupledRouter

LAMBDA = 0.05


def test_zero_weight_rows_are_ignored_by_logged_fits(routing_logs):
    problem, logs, _, test = routing_logs
    weight = np.ones(len(logs.X))
    corrupted = logs.reward.copy()
    # Rows of the cheapest model claim a reward of 10 but carry no weight.
    rows = logs.action == problem.models[0]
    weight[rows[:].nonzero()[0][::2]] = 0.0
    corrupted[weight == 0] = 10.0
    router = DecoupledRouter(cost_sensitivity=LAMBDA)
    weighted = clone(router).fit(
        logs.X, logs.action, reward=corrupted, cost=logs.cost, sample_weight=weight
    )
    keep = weight > 0
    dropped = clone(router).fit(
        logs.X[keep], logs.action[keep], reward=logs.reward[keep], cost=logs.cost[keep]
    )
    np.testing.assert_allclose(
        weighted.decision_function(problem.X[test]),
        dropped.decision_function(problem.X[test]),
        atol=1e-8,
    )


def test_a_model_with_only_zero_weight_rows_counts_as_never_logged(routing_logs):
    problem, logs, _, _ = routing_logs
    weight = np.where(logs.action == problem.models[0], 0.0, 1.0)
    with pytest.raises(ValueError, match="only with sample_weight 0"):
        DecoupledRouter().fit(
            logs.X, logs.action, reward=logs.reward, sample_weight=weight
        )
