"""Regret and utility of a routing policy under full feedback."""

import numpy as np

from skroute.ope import policy_matrix
from skroute.utils import (
    check_cost_sensitivity,
    check_full_feedback_outcomes,
    encode_policy,
)


def _utility_matrix(reward, cost, cost_sensitivity):
    reward, cost = check_full_feedback_outcomes(reward, cost)
    cost_sensitivity = check_cost_sensitivity(cost_sensitivity)
    if cost is None:
        return reward
    with np.errstate(over="ignore", invalid="ignore"):
        utility = reward - cost_sensitivity * cost
    if not np.isfinite(utility).all():
        raise ValueError(
            f"reward - cost_sensitivity * cost overflows float64 (cost_sensitivity="
            f"{cost_sensitivity:g}, largest |cost| {np.max(np.abs(cost)):.3g}); "
            "rescale cost or lower cost_sensitivity."
        )
    return utility


def _prepared(reward, y_pred, cost, cost_sensitivity, classes):
    """Utility matrix and policy matrix of a full-feedback evaluation."""
    u = _utility_matrix(reward, cost, cost_sensitivity)
    classes = np.arange(u.shape[1]) if classes is None else np.asarray(classes)
    if classes.shape != (u.shape[1],):
        raise ValueError(
            f"classes must name the {u.shape[1]} columns of reward, one model each; "
            f"got {classes.size} labels. Pass reward with one column per model in "
            "classes, in classes order."
        )
    codes = encode_policy(y_pred, classes)
    return u, policy_matrix(codes, u.shape[0], classes.size, name="y_pred")


def utility(reward, y_pred, *, cost=None, cost_sensitivity=0.0, classes=None):
    """Mean utility ``quality - lambda * cost`` of a policy under full feedback.

    Parameters
    ----------
    reward : array-like of shape (n_samples, n_models)
        Quality of every model on every query (columns in ``classes`` order).
    y_pred : array-like of shape (n_samples,) or (n_samples, n_models)
        Chosen model per query, or routing probabilities.
    cost : array-like of shape (n_samples, n_models), default=None
    cost_sensitivity : float, default=0.0
    classes : array-like of shape (n_models,), default=None
        Labels of the columns; ``0 .. n_models-1`` when None.

    Returns
    -------
    float

    Examples
    --------
    >>> from skroute.metrics import utility
    >>> utility([[1.0, 0.0], [0.0, 1.0]], [0, 0])
    0.5
    """
    u, policy = _prepared(reward, y_pred, cost, cost_sensitivity, classes)
    return float((policy * u).sum(axis=1).mean())


def regret(reward, y_pred, *, cost=None, cost_sensitivity=0.0, classes=None):
    """Mean regret ``max_t u(t) - u(chosen)`` of a policy under full feedback.

    Parameters
    ----------
    reward, y_pred, cost, cost_sensitivity, classes
        As in :func:`utility`.

    Returns
    -------
    float
        Non-negative; 0 for the oracle.

    Examples
    --------
    >>> from skroute.metrics import regret
    >>> regret([[1.0, 0.0], [0.0, 1.0]], [0, 0])
    0.5
    """
    u, policy = _prepared(reward, y_pred, cost, cost_sensitivity, classes)
    return float((u.max(axis=1) - (policy * u).sum(axis=1)).mean())


def routing_summary(reward, y_pred, *, cost=None, cost_sensitivity=0.0, classes=None):
    """Where a policy routes and what it gets, under full feedback.

    Parameters
    ----------
    reward, y_pred, cost, cost_sensitivity, classes
        As in :func:`utility`.

    Returns
    -------
    dict
        ``share`` (fraction of queries per model, in ``classes`` order),
        ``quality`` and ``cost`` (means; ``cost`` is NaN when no cost is
        given), ``utility``, ``regret``, and
        ``oracle_agreement``: the share of queries sent to a model whose
        utility is the best for that query.

    Examples
    --------
    >>> from skroute.metrics import routing_summary
    >>> summary = routing_summary([[1.0, 0.0], [0.0, 1.0]], [0, 0],
    ...                           cost=[[1.0, 0.1], [1.0, 0.1]])
    >>> summary["share"].tolist(), summary["cost"], summary["oracle_agreement"]
    ([1.0, 0.0], 1.0, 0.5)
    """
    u, policy = _prepared(reward, y_pred, cost, cost_sensitivity, classes)
    reward = np.asarray(reward, dtype=np.float64)
    best = u >= u.max(axis=1, keepdims=True) - 1e-12
    return {
        "share": policy.mean(axis=0),
        "quality": float((policy * reward).sum(axis=1).mean()),
        "cost": (
            float("nan")
            if cost is None
            else float((policy * np.asarray(cost, dtype=np.float64)).sum(axis=1).mean())
        ),
        "utility": float((policy * u).sum(axis=1).mean()),
        "regret": float((u.max(axis=1) - (policy * u).sum(axis=1)).mean()),
        "oracle_agreement": float((policy * best).sum(axis=1).mean()),
    }
