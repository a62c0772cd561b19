"""Serving exported routers with numpy alone: no torch, skorch or scikit-learn.

``router.export(path)`` writes a ``.npz`` file of plain arrays (weights of the
policy network and of the outcome models) and JSON metadata; no pickle, so
loading it runs no code from the file. :func:`load_exported` reads it into an
:class:`ExportedRouter`, whose ``predict`` gives the same routes as the
router's.

Examples
--------
>>> import numpy as np
>>> from skroute.routers import DecoupledRouter
>>> from skroute.serving import load_exported
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 3))
>>> y = np.array(["small", "large"] * 20)
>>> router = DecoupledRouter().fit(X, y, reward=rng.uniform(size=40))
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
>>> router.export(path)
>>> served = load_exported(path)
>>> bool((served.predict(X) == router.predict(X)).all())
True
"""

import json
from pathlib import Path

import numpy as np

from skroute._kernels import (
    RIDGE_ARRAYS,
    row_uniforms,
    softmax,
    stacked_arm_predictions,
)

EXPORT_FORMAT = 1


class ExportedRouter:
    """A router read from :meth:`export`: ``predict`` and ``predict_proba``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    router : str
        The class of the router that was exported.
    cost_sensitivity : float
        The default ``lambda`` of ``predict``.
    """

    def __init__(self, meta, arrays):
        self._meta = meta
        self._arrays = arrays
        self.classes_ = arrays["classes"]
        self.n_features_in_ = int(meta["n_features"])
        self.router = meta["router"]
        self.cost_sensitivity = float(meta.get("cost_sensitivity", 0.0))

    def __repr__(self):
        return (
            f"ExportedRouter({self.router}, {self.classes_.size} models, "
            f"{self.n_features_in_} features)"
        )

    # --- reading the pieces -------------------------------------------------

    def _arm_models(self, roles, X):
        """Predictions of the arm models of each role, one pass over ``X``."""
        arms = []
        for role in roles:
            for t in range(self.classes_.size):
                prefix = f"{role}/{t}/"
                if prefix + "value" in self._arrays:
                    arms.append({"value": self._arrays[prefix + "value"]})
                else:
                    arms.append({k: self._arrays[prefix + k] for k in RIDGE_ARRAYS})
        both = stacked_arm_predictions(arms, X)
        return np.hsplit(both, len(roles))

    def _mlp(self, prefix, hidden):
        """Linear layers with ReLU between them (after each one, in a trunk)."""
        n_layers = int(self._meta[prefix + "n_layers"])
        trunk = prefix.endswith("trunk/")
        for k in range(n_layers):
            weight = self._arrays[f"{prefix}{k}/weight"]
            bias = self._arrays[f"{prefix}{k}/bias"]
            hidden = hidden @ weight.T + bias
            if trunk or k < n_layers - 1:
                hidden = np.maximum(hidden, 0.0)
        return hidden

    def _standardised(self, X):
        return (X.astype(np.float32) - self._arrays["shift"]) / self._arrays["scale"]

    def _lines(self, X):
        kind = self._meta["policy"]
        n = X.shape[0]
        if kind == "constant_lines":
            return (
                np.broadcast_to(self._arrays["quality"], (n, self.classes_.size)),
                np.broadcast_to(self._arrays["cost"], (n, self.classes_.size)),
            )
        if self._meta.get("has_cost"):
            quality, cost = self._arm_models(("reward", "cost"), X)
        else:
            (quality,) = self._arm_models(("reward",), X)
            cost = np.zeros_like(quality)
        if kind == "corrected_lines":
            features = self._standardised(X)
            total, weights = 0.0, 0.0
            for m in range(int(self._meta["n_members"])):
                hidden = self._mlp(f"member/{m}/trunk/", features)
                head = hidden @ self._arrays[f"member/{m}/quality/weight"].T
                head = head + self._arrays[f"member/{m}/quality/bias"]
                sharpness = float(np.exp(self._arrays[f"member/{m}/log_sharpness"]))
                total = total + sharpness * head.astype(np.float64)
                weights += sharpness
            quality = quality + self._meta["training_scale"] * total / weights
        return quality, cost

    def _cost_sensitivity(self, cost_sensitivity, X):
        n = X.shape[0]
        if cost_sensitivity is None:
            mixture = self._meta.get("budget_mixture")
            if mixture is not None:
                at_high = row_uniforms(X) < mixture["high_probability"]
                return np.where(at_high, mixture["high"], mixture["low"])
            cost_sensitivity = self.cost_sensitivity
        values = np.asarray(cost_sensitivity, dtype=np.float64)
        values = np.full(n, float(values)) if values.ndim == 0 else values
        if values.shape != (n,) or not np.isfinite(values).all():
            raise ValueError(
                "cost_sensitivity must be a finite number or one per row of X."
            )
        low, high = self._meta.get("range", (0.0, np.inf))
        if ((values < low) | (values > high)).any():
            if self._meta.get("out_of_range") == "clip":
                return np.clip(values, low, high)
            raise ValueError(
                f"cost_sensitivity lies outside the router's range [{low:g}, {high:g}]."
            )
        return values

    def _check_X(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features_in_}); got {X.shape}."
            )
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity.")
        return X

    def _scores(self, X, cost_sensitivity):
        kind = self._meta["policy"]
        if kind == "mlp":
            features = self._standardised(X)
            scores = np.mean(
                [
                    self._mlp(f"member/{m}/layers/", features)
                    for m in range(int(self._meta["n_members"]))
                ],
                axis=0,
            )
            return scores.astype(np.float64)
        if kind == "constant":
            return np.broadcast_to(
                self._arrays["values"], (X.shape[0], self.classes_.size)
            ).copy()
        if kind == "hash":
            bits = np.ascontiguousarray(X, dtype=np.float64).view(np.uint64)
            with np.errstate(over="ignore"):
                h = (bits * self._arrays["hash_multipliers"]).sum(
                    axis=1, dtype=np.uint64
                )
                h ^= h >> np.uint64(33)
                h *= np.uint64(0xFF51AFD7ED558CCD)
                h ^= h >> np.uint64(33)
            chosen = (h % np.uint64(self.classes_.size)).astype(np.intp)
            return np.eye(self.classes_.size)[chosen]
        quality, cost = self._lines(X)
        values = self._cost_sensitivity(cost_sensitivity, X)
        return quality - values[:, None] * cost

    # --- the public methods -------------------------------------------------

    def predict(self, X, cost_sensitivity=None):
        """The model to route each query to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None
            For routers that take one at prediction (the interval router);
            the exported default otherwise.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._check_X(X)
        return self.classes_[np.argmax(self._scores(X, cost_sensitivity), axis=1)]

    def predict_proba(self, X, cost_sensitivity=None):
        """Routing probabilities, as the router's ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        cost_sensitivity : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        X = self._check_X(X)
        scores = self._scores(X, cost_sensitivity)
        proba = self._meta["proba"]
        if proba == "one_hot":
            return np.eye(self.classes_.size)[np.argmax(scores, axis=1)]
        return softmax(scores * float(self._meta["proba_factor"]))


def load_exported(path):
    """Read a router written by ``router.export(path)``.

    The file holds arrays and JSON only (read with ``allow_pickle=False``), so
    loading it runs nothing from the file.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file written by ``router.export``.

    Returns
    -------
    ExportedRouter

    Raises
    ------
    ValueError
        For a file that is not a router exported by skroute, or one exported
        in a newer format than this version reads.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.serving import load_exported
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> router = DecoupledRouter(cost_sensitivity=0.05).fit(
    ...     logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...     propensity=logs.propensity)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> router.export(folder / "router.npz")
    >>> served = load_exported(folder / "router.npz")
    >>> served.classes_.tolist() == router.classes_.tolist()
    True
    >>> bool((served.predict(logs.X) == router.predict(logs.X)).all())
    True
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a router exported by skroute ({exc}).") from None
    if "meta" not in arrays or "classes" not in arrays:
        raise ValueError(f"{path}: not a router exported by skroute (no metadata).")
    meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    if meta.get("format", 0) > EXPORT_FORMAT:
        raise ValueError(
            f"{path}: exported in format {meta['format']} by skroute "
            f"{meta.get('skroute_version')}; this version reads format "
            f"{EXPORT_FORMAT}. Load it with that version or a later one."
        )
    return ExportedRouter(meta, arrays)
