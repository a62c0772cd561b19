"""The linear preprocessing steps of a Pipeline, applied from a router file.

Each function takes the step's settings (a dict from the file's metadata),
its arrays and the features, and returns the step's output computed with the
same operations, in the same order and dtype, as scikit-learn's
``transform``, so that a served Pipeline gives the fitted Pipeline's routes.
"""

import numpy as np


def _centred_and_scaled(centre):
    """A scaler that subtracts the array ``centre`` and divides by ``scale``,
    each where the file holds it (StandardScaler's ``mean``, RobustScaler's
    ``center``)."""

    def apply(step, arrays, X):
        if centre in arrays:
            X -= arrays[centre]
        if "scale" in arrays:
            X /= arrays["scale"]
        return X

    return apply


def _max_abs_scaler(step, arrays, X):
    X /= arrays["scale"]
    if step.get("clip"):
        np.clip(X, -1.0, 1.0, out=X)
    return X


def _min_max_scaler(step, arrays, X):
    X *= arrays["scale"]
    X += arrays["min"]
    if step["clip"]:
        low, high = step["feature_range"]
        np.clip(X, low, high, out=X)
    return X


def _normalizer(step, arrays, X):
    norm = step["norm"]
    if norm == "l1":
        norms = np.sum(np.abs(X), axis=1)
    elif norm == "l2":
        norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    else:
        norms = np.max(np.abs(X), axis=1)
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    X /= norms[:, None]
    return X


def _pca(step, arrays, X):
    components = arrays["components"]
    out = X @ components.T
    out -= arrays["mean"].reshape(1, -1) @ components.T
    if "variance" in arrays:
        scale = np.sqrt(arrays["variance"])
        scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
        out /= scale
    return out


def _truncated_svd(step, arrays, X):
    return X @ arrays["components"].T


STEPS = {
    "standard_scaler": _centred_and_scaled("mean"),
    "robust_scaler": _centred_and_scaled("center"),
    "max_abs_scaler": _max_abs_scaler,
    "min_max_scaler": _min_max_scaler,
    "normalizer": _normalizer,
    "pca": _pca,
    "truncated_svd": _truncated_svd,
}


def apply_steps(steps, arrays, X):
    """``X`` through the numeric ``steps`` (a list of (settings, arrays))."""
    for step, step_arrays in steps:
        X = STEPS[step["kind"]](step, step_arrays, X)
    return X
