"""Predictions of per-arm outcome models from their fitted arrays."""

import numpy as np

# The fitted arrays of a one-target RidgeOutcomeModel, as its predict uses them.
RIDGE_ARRAYS = ("mean", "coef", "target_mean", "platt", "calibrated", "low", "high")

# Rows per block when outcome models predict: the float64 copy of a block
# stays in cache for the product that reads it (16 MB at 1,024 features; 8,192
# rows made predict 1.8 x slower there).
PREDICT_BLOCK = 2_048


def stacked_arm_predictions(arms, X):
    """Predictions of per-arm outcome models, all arms in one pass over ``X``.

    Each arm is ``{"value": v}`` (a constant) or the arrays of a one-target
    ridge model (``mean``, ``coef``, ``target_mean``, ``platt``,
    ``calibrated``, ``low``, ``high``). Since ``(x - mean) @ coef`` equals
    ``x @ coef - mean @ coef``, the arms' coefficients stack into one matrix
    and ``X`` is read once, a block of rows at a time in float64. Both
    :func:`skroute.causal.predict_arm_models` and the exported routers call
    this, so that their predictions are the same numbers.

    Parameters
    ----------
    arms : list of dict
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, len(arms))
    """
    n_arms = len(arms)
    weights = np.zeros((X.shape[1], n_arms))
    offsets = np.zeros(n_arms)
    platt = np.zeros((n_arms, 2))
    calibrated = np.zeros(n_arms, dtype=bool)
    low = np.full(n_arms, -np.inf)
    high = np.full(n_arms, np.inf)
    for k, arm in enumerate(arms):
        if "value" in arm:
            offsets[k] = float(np.ravel(arm["value"])[0])
            continue
        coef = np.asarray(arm["coef"], dtype=np.float64).reshape(-1)
        mean = np.asarray(arm["mean"], dtype=np.float64).reshape(-1)
        weights[:, k] = coef
        offsets[k] = float(np.ravel(arm["target_mean"])[0]) - float(mean @ coef)
        platt[k] = np.ravel(arm["platt"])[:2]
        calibrated[k] = bool(np.ravel(arm["calibrated"])[0])
        low[k] = float(np.ravel(arm["low"])[0])
        high[k] = float(np.ravel(arm["high"])[0])
    out = np.empty((X.shape[0], n_arms))
    for start in range(0, X.shape[0], PREDICT_BLOCK):
        block = np.asarray(X[start : start + PREDICT_BLOCK], dtype=np.float64)
        raw = block @ weights + offsets
        mapped = 0.5 * (1.0 + np.tanh(0.5 * (platt[:, 0] * raw + platt[:, 1])))
        out[start : start + block.shape[0]] = np.clip(
            np.where(calibrated, mapped, raw), low, high
        )
    return out
