"""The off-policy value of a router's routes: policy_value."""

import numpy as np
import pytest
from helpers import fit_kwargs

from skroute.metrics import (
    policy_value,
)

LAMBDA = 0.05  # the cost sensitivity of ``fitted_decoupled``


@pytest.mark.parametrize("method", ["ipw", "snipw", "dr", "sndr"])
def test_policy_value_tracks_the_truth(routing_logs, fitted_decoupled, method):
    problem, logs, train, _ = routing_logs
    chosen = fitted_decoupled.predict(logs.X)
    estimate = policy_value(
        chosen,
        logs.action,
        X=logs.X,
        cost_sensitivity=LAMBDA,
        method=method,
        classes=problem.models,
        **fit_kwargs(logs),
    )
    truth = policy_value(
        chosen,
        logs.action,
        reward=problem.reward[train],
        cost=problem.cost[train],
        cost_sensitivity=LAMBDA,
        classes=problem.models,
    )
    assert truth.method == "full_feedback"
    assert abs(estimate.estimate - truth.estimate) < 4 * estimate.standard_error


def test_policy_value_estimates_propensity_when_missing(routing_logs):
    problem, logs, train, _ = routing_logs
    chosen = np.full(len(logs.X), problem.models[-1])
    estimate = policy_value(
        chosen, logs.action, reward=logs.reward, X=logs.X, classes=problem.models
    )
    truth = problem.reward[train][:, -1].mean()
    assert abs(estimate.estimate - truth) < 4 * estimate.standard_error


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y_pred": ["nope"] * 4}, "y_pred holds a model that is not among classes"),
        ({"y": ["a", "b", "z", "a"]}, "not in classes"),
        ({"propensity": [0.5, 0.0, 0.5, 0.5]}, "propensity must be in (0, 1]"),
        ({"reward": [1.0, 0.0]}, "reward has 2 rows but X has 4"),
        ({"X": None, "propensity": None}, "needs X to fit its nuisance models"),
        ({"y_pred": np.full((4, 2), 0.3)}, "must sum to 1"),
    ],
)
def test_policy_value_bad_input(kwargs, message):
    arguments = {
        "y_pred": ["a", "b", "a", "b"],
        "y": ["a", "b", "b", "a"],
        "reward": [1.0, 0.0, 1.0, 0.0],
        "propensity": [0.5, 0.5, 0.5, 0.5],
        "X": np.zeros((4, 2)),
        "classes": ["a", "b"],
        "method": "ipw",
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError) as info:
        policy_value(arguments.pop("y_pred"), arguments.pop("y"), **arguments)
    assert message in str(info.value)
