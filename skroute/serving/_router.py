"""The router read from a router file: routes with numpy alone."""

from pathlib import Path

import numpy as np

from skroute._kernels import (
    RIDGE_ARRAYS,
    row_uniforms,
    softmax,
    stacked_arm_predictions,
)
from skroute.serving._file import not_a_router_file, read_router_file
from skroute.serving._schema import check_router_file
from skroute.serving._steps import apply_steps


class ExportedRouter:
    """A router read from a router file: ``predict`` and ``predict_proba``.

    Made by :func:`load_exported` (or :func:`skroute.persistence.load_router`,
    which also embeds prompts for a file whose Pipeline starts with a
    :class:`~skroute.text.PromptEmbedder`). It holds the router's arrays and
    the linear steps of its Pipeline, and routes with numpy alone.

    Parameters
    ----------
    meta : dict
        The file's metadata, checked.
    arrays : dict of str to ndarray
        The file's arrays, checked.
    embed : callable, default=None
        For a file whose Pipeline starts with a prompt embedder: the function
        that embeds a list of prompts.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int or None
        The number of input features (None when the input is prompt text).
    feature_names_in_ : ndarray of shape (n_features,) or None
        The names of the features the router was fitted on, when it was fitted
        on named columns: ``predict`` then selects and orders a DataFrame's
        columns by them.
    router : str
        The class of the router that was saved.
    cost_sensitivity : float
        The ``lambda`` the router was fitted at (the default of ``predict``).
    cost_range : tuple of float or None
        The range of ``lambda`` an interval router serves (None otherwise).
    cost_scale : float
        The factor its training costs were multiplied by (1 when none was
        recorded); ``lambda`` is in those units.
    cost_unit : str or None
        What its costs were, in words, when recorded.
    steps : list of str
        The kinds of the Pipeline steps before the router.

    See Also
    --------
    skroute.persistence.load_router : read a router file into this class.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skroute import DecoupledRouter
    >>> from skroute.persistence import load_router, save_router
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> pipeline = make_pipeline(StandardScaler(), DecoupledRouter()).fit(
    ...     X, ["small", "large"] * 30, decoupledrouter__reward=rng.uniform(size=60))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "router.npz"
    >>> save_router(pipeline, path)
    >>> served = load_router(path)
    >>> served.steps, served.classes_.tolist()
    (['standard_scaler'], ['large', 'small'])
    >>> bool((served.predict(X) == pipeline.predict(X)).all())
    True
    """

    def __init__(self, meta, arrays, *, embed=None):
        self._meta = meta
        self._arrays = arrays
        self.classes_ = arrays["classes"]
        self.router = meta["router"]
        self.cost_sensitivity = float(meta.get("cost_sensitivity", 0.0))
        self.cost_range = tuple(meta["range"]) if "range" in meta else None
        self.cost_scale = float(meta.get("cost_scale") or 1.0)
        self.cost_unit = meta.get("cost_unit")
        steps = meta.get("steps", [])
        self.steps = [step["kind"] for step in steps]
        self._text = bool(steps) and steps[0]["kind"] == "prompt_embedder"
        self._embed = embed
        numeric = steps[1:] if self._text else steps
        first = 1 if self._text else 0
        self._steps = [
            (step, _step_arrays(arrays, first + k)) for k, step in enumerate(numeric)
        ]
        self.n_features_in_ = (
            None if self._text else int(meta.get("n_features_in") or meta["n_features"])
        )
        self.feature_names_in_ = arrays.get("feature_names")

    def set_embedder(self, embed):
        """Use ``embed`` (a function of a list of prompts) for the prompt step.

        Returns
        -------
        self : ExportedRouter
        """
        self._embed = embed
        return self

    @property
    def embedder_settings(self):
        """The prompt embedder's settings, for a file that starts with one."""
        return dict(self._meta["steps"][0]) if self._text else None

    def __repr__(self):
        inputs = "prompts" if self._text else f"{self.n_features_in_} features"
        return f"ExportedRouter({self.router}, {self.classes_.size} models, {inputs})"

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
                log_sharpness = self._arrays[f"member/{m}/log_sharpness"]
                sharpness = float(np.exp(np.ravel(log_sharpness)[0]))
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
        if self.cost_range is None:
            if (values != self.cost_sensitivity).any():
                raise ValueError(
                    f"this {self.router} was fitted at cost_sensitivity="
                    f"{self.cost_sensitivity:g} and routes at it alone; refit it "
                    "at another lambda, or fit an IntervalCostRouter to choose "
                    "lambda when routing."
                )
            return values
        low, high = self.cost_range
        if ((values < low) | (values > high)).any():
            if self._meta.get("out_of_range") == "clip":
                return np.clip(values, low, high)
            raise ValueError(
                f"cost_sensitivity lies outside the router's range [{low:g}, {high:g}]."
            )
        return values

    def _features(self, X):
        """The router's features of the caller's ``X``: checked, then the steps."""
        if self._text:
            if self._embed is None:
                settings = self.embedder_settings
                raise ValueError(
                    "this router starts with a PromptEmbedder (model "
                    f"{settings.get('model') or 'all-MiniLM-L6-v2'}): load it with "
                    "skroute.persistence.load_router, which embeds the prompts, "
                    "or pass it an embed function."
                )
            X = np.asarray(self._embed(X))
        else:
            X = self._named_columns(X)
        if X.dtype != np.float32:
            X = X.astype(np.float64)
        else:
            X = X.copy()
        expected = self.n_features_in_
        if expected is not None and (X.ndim != 2 or X.shape[1] != expected):
            raise ValueError(
                f"X must have shape (n_samples, {expected}); got {X.shape}."
            )
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity.")
        return apply_steps(self._steps, self._arrays, X)

    def _named_columns(self, X):
        """The columns of a table ``X`` by the fitted feature names, in order."""
        columns = getattr(X, "columns", None)
        if columns is None or self.feature_names_in_ is None:
            return np.asarray(X)
        labels = {str(c): c for c in columns}
        given = list(labels)
        names = self.feature_names_in_.tolist()
        missing = [n for n in names if n not in labels]
        extra = [c for c in given if c not in set(names)]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"lacks {_listed(missing)}")
            if extra:
                parts.append(f"has {_listed(extra)}, which it was not fitted on")
            raise ValueError(
                f"X's columns differ from the features the router was fitted on: "
                f"it {' and '.join(parts)}."
            )
        return np.asarray(X[[labels[n] for n in names]])

    def _scores(self, X, cost_sensitivity):
        kind = self._meta["policy"]
        if kind == "mlp":
            # The members' mean, summed in their order (as np.mean over a
            # stack would, without holding every member's scores at once).
            features = self._standardised(X)
            n_members = int(self._meta["n_members"])
            total = self._mlp("member/0/layers/", features)
            for m in range(1, n_members):
                total = total + self._mlp(f"member/{m}/layers/", features)
            return (total / n_members).astype(np.float64)
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
            return _one_hot(chosen, self.classes_.size)
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
        X = self._features(X)
        scores = _finite(self._scores(X, cost_sensitivity), "scores")
        return self.classes_[np.argmax(scores, axis=1)]

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
        X = self._features(X)
        scores = _finite(self._scores(X, cost_sensitivity), "scores")
        proba = self._meta["proba"]
        if proba == "one_hot":
            return _one_hot(np.argmax(scores, axis=1), self.classes_.size)
        with np.errstate(over="ignore", invalid="ignore"):
            proba = softmax(scores * float(self._meta["proba_factor"]))
        return _finite(proba, "routing probabilities")


def load_exported(path, *, embed=None):
    """Read a router file (written by ``router.export`` or ``save_router``).

    A router file holds arrays and JSON only, so reading it runs nothing from
    the file; every member, header, key and dtype is checked before use, and
    the sizes against the file's own size before anything is read.

    Parameters
    ----------
    path : str or Path
        The router file.
    embed : callable, default=None
        For a file whose Pipeline starts with a prompt embedder: the function
        that embeds a list of prompts (:func:`skroute.persistence.load_router`
        passes the embedder the file names).

    Returns
    -------
    ExportedRouter

    Raises
    ------
    RouterFileError
        (a ValueError) For a file that is not a skroute router file, whatever
        is wrong with it, or one of a newer format than this version reads.

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
    meta, arrays = read_router_file(path)
    check_router_file(meta, arrays, path)
    router = ExportedRouter(meta, arrays, embed=embed)
    _probe(router, path)
    return router


def _probe(router, path):
    """Route one row of zeros: a file whose arrays passed the schema but still
    cannot be computed with is not a router file."""
    width = router.n_features_in_
    if router._text:
        width = router.embedder_settings["dimension"]
    try:
        with np.errstate(all="ignore"):
            router._scores(
                apply_steps(router._steps, router._arrays, np.zeros((1, width))),
                None,
            )
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise not_a_router_file(path, f"its arrays do not compute: {reason}") from None


def _finite(values, what):
    """``values``, or a ValueError naming the rows where they are not finite."""
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"the router's {what} are not finite for {rows.size} rows (first: "
            f"{rows[:5].tolist()}): its weights overflow on these queries."
        )
    return values


def _one_hot(index, n_classes):
    """Rows of zeros with a one at ``index`` (without an n_classes-square matrix)."""
    proba = np.zeros((index.size, n_classes))
    proba[np.arange(index.size), index] = 1.0
    return proba


def _step_arrays(arrays, k):
    prefix = f"step/{k}/"
    return {
        key[len(prefix) :]: value
        for key, value in arrays.items()
        if key.startswith(prefix)
    }


def _listed(names, limit=5):
    shown = ", ".join(repr(n) for n in names[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")
