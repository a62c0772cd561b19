"""Shared base of every router: validation of logs, fit/score contract, predictions."""

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from skroute.causal._nested import cross_fit_on_rows
from skroute.metrics import policy_value
from skroute.routers._export import router_payload, write_router_file
from skroute.utils import (
    check_action_counts,
    check_cv_folds,
    check_feature_range,
    check_logged_outcomes,
    encode_actions,
    naming_array_errors,
    persisted_state,
    restored_state,
)
from skroute.utils._docs import DocLinkMixin
from skroute.utils._validation import check_time_arrays, check_y_labels
from skroute.utils._warnings import warn_at_caller

_LOGGED_ARRAYS = {"reward": True, "cost": True, "propensity": True}

# Cross-fitting folds: a number of folds, or a splitter whose test folds
# partition the rows.
CV_CONSTRAINT = [
    Interval(numbers.Integral, 2, None, closed="left"),
    HasMethods(["split"]),
    # (train, test) index pairs over the rows passed to fit, as GridSearchCV takes.
    list,
]

# Rows per block of predict and score: one block's decision scores (every
# candidate's, and for IntervalCostRouter every grid point's) are the only
# temporaries as wide as the candidates, so that predict allocates little
# beyond its output whatever the number of models.
ROUTE_BLOCK = 16_384

# Router parameters that evaluation on logs passes on to its nuisance models.
_NUISANCE_PARAMS = (
    "propensity_model",
    "reward_model",
    "cost_model",
    "cv",
    "n_jobs",
    "random_state",
)


@dataclass
class LoggedData:
    """Validated logs: features, integer actions and per-sample arrays."""

    X: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    cost: np.ndarray | None
    propensity: np.ndarray | None
    sample_weight: np.ndarray

    @property
    def full_feedback(self):
        return self.reward.ndim == 2


class CostScaleWarning(UserWarning):
    """The cost sensitivity makes cost, or quality, negligible in the utility.

    Emitted by a router's ``fit`` when ``lambda`` times the spread (standard
    deviation) of the costs passed to ``fit`` is below 1% of the spread of
    quality (routes will hardly depend on cost), or above 100 times it (routes
    will all go to the cheapest model). The message gives the ``lambda`` that
    weighs both spreads alike. A warning, not an error: the fit goes on.

    Examples
    --------
    Make the warning an error, to stop a fit whose ``lambda`` is off the
    scale of the costs:

    >>> import warnings
    >>> from skroute import DecoupledRouter
    >>> from skroute.datasets import make_routing_problem, simulate_logging
    >>> from skroute.routers import CostScaleWarning
    >>> problem = make_routing_problem(n_samples=300, random_state=0)
    >>> logs = simulate_logging(problem.X, problem.reward, problem.cost,
    ...                         models=problem.models, random_state=0)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CostScaleWarning)
    ...     try:
    ...         DecoupledRouter(cost_sensitivity=1e-6).fit(
    ...             logs.X, logs.action, reward=logs.reward, cost=logs.cost,
    ...             propensity=logs.propensity)
    ...     except CostScaleWarning as warning:
    ...         print(str(warning).split(":")[0])
    cost_sensitivity=1e-06 makes cost negligible

    ``warnings.simplefilter("ignore", CostScaleWarning)`` silences it instead.
    """


def check_finite_scores(scores, first_row=0):
    """Raise a ValueError naming the rows whose scores are not all finite.

    ``scores`` has a row per query (any trailing shape); its rows are the
    caller's rows from ``first_row`` on.
    """
    bad = ~np.isfinite(scores.reshape(scores.shape[0], -1)).all(axis=1)
    if bad.any():
        rows = (np.flatnonzero(bad)[:10] + first_row).tolist()
        raise ValueError(
            f"the candidate models' scores are not finite for rows {rows} "
            "of X: their features lie far outside the range the router was fitted "
            "on, or cost_sensitivity times the predicted cost overflows. Rescale X "
            "as in training, or lower cost_sensitivity."
        )


def routes_by_block(scores_of, n_samples):
    """Best column of ``scores_of(rows)`` per row, for ``ROUTE_BLOCK`` rows at a time.

    ``scores_of`` takes a ``slice`` of the rows and returns their scores, of
    shape ``(rows, n_classes)``; only one block's scores exist at a time.
    """
    index = np.empty(n_samples, dtype=np.intp)
    for start in range(0, n_samples, ROUTE_BLOCK):
        rows = slice(start, min(start + ROUTE_BLOCK, n_samples))
        index[rows] = np.argmax(scores_of(rows), axis=1)
    return index


class BaseRouter(DocLinkMixin, ClassifierMixin, BaseEstimator):
    """Base class of routers: ``fit(X, y, *, reward, cost, propensity)``.

    ``y`` is the logged model of each row, so ``classes_`` are the candidate
    models. ``reward``, ``cost`` and ``propensity`` are requested by default for
    ``fit`` and ``score`` so that metadata routing carries them through
    Pipelines and model-selection tools. Subclasses implement ``_fit``, which
    sets ``deployed_`` (the policy object ``predict``, ``predict_proba``,
    ``decision_function`` and ``export`` go through), and
    ``_deployed_policy``, which makes it from the fitted attributes of a
    router saved before ``deployed_`` existed.
    """

    __metadata_request__fit = _LOGGED_ARRAYS
    __metadata_request__score = _LOGGED_ARRAYS

    def fit(self, X, y, *, reward=None, cost=None, propensity=None, sample_weight=None):
        """Fit the router on logged data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Query features (embeddings).
        y : array-like of shape (n_samples,)
            The model that answered each query (the logged action).
        reward : array-like of shape (n_samples,) or (n_samples, n_classes)
            Quality of the logged answer; a 2-D matrix (columns in ``classes_``
            order) is full feedback and trains on the true utilities.
        cost : array-like of the same shape as ``reward``, default=None
            Cost of the logged answer (non-negative). Without it,
            ``cost_sensitivity`` has no effect.
        propensity : array-like of shape (n_samples,), default=None
            Probability with which the logging policy chose the logged model;
            estimated from the logs when None.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._validate_params()
        # A failed or interrupted fit restores the previous state: a fitted router
        # stays as it was, an unfitted one stays unfitted.
        previous_state = dict(self.__dict__)
        try:
            self._check_fit_settings()
            logs, classes = self._validate_logs(
                X, y, reward, cost, propensity, sample_weight
            )
            check_action_counts(
                logs.action,
                classes,
                full_feedback=logs.full_feedback,
                sample_weight=logs.sample_weight,
            )
            self.classes_ = classes
            # What predict, score and export use: a cost_sensitivity set after
            # fit changes nothing until the next fit, as any parameter.
            self.cost_sensitivity_ = float(self.cost_sensitivity)
            self._warn_cost_scale(logs)
            self._fit(logs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise
        return self

    def _check_fit_settings(self):
        """Check settings that parameter constraints cannot express (before fitting)."""

    def _cost_sensitivities(self):
        """The lambdas this router will route at (for the cost-scale check)."""
        value = getattr(self, "cost_sensitivity", None)
        return () if value is None else (float(value),)

    def _warn_cost_scale(self, logs):
        """Warn when lambda makes cost negligible beside quality, or the reverse."""
        values = [v for v in self._cost_sensitivities() if v > 0]
        if logs.cost is None or not values:
            return
        quality = float(np.std(logs.reward))
        cost = float(np.std(logs.cost))
        if quality <= 0 or cost <= 0:
            return
        balance = quality / cost
        largest, smallest = max(values), min(values)
        advice = (
            f"lambda = {balance:.3g} weighs the spread of cost ({cost:.3g}) like "
            f"that of quality ({quality:.3g}); or express cost in larger units "
            "(e.g. per 1,000 queries: skroute --cost-scale 1000)."
        )
        if largest * cost < 0.01 * quality:
            warn_at_caller(
                f"cost_sensitivity={largest:g} makes cost negligible: lambda times "
                f"the spread of cost is {largest * cost / quality:.2%} of the spread "
                f"of quality, so routes will hardly change with cost. {advice}",
                CostScaleWarning,
            )
        elif smallest * cost > 100 * quality:
            warn_at_caller(
                f"cost_sensitivity={smallest:g} makes quality negligible: lambda "
                f"times the spread of cost is {smallest * cost / quality:.3g} times "
                "the spread of quality, so routes will go to the cheapest model. "
                f"{advice}",
                CostScaleWarning,
            )

    def _validate_logs(self, X, y, reward, cost, propensity, sample_weight, reset=True):
        check_y_labels(y)
        check_time_arrays(X)
        with naming_array_errors("X", others=("y",)):
            X, y = validate_data(
                self, X, y, dtype=[np.float64, np.float32], reset=reset, y_numeric=False
            )
        check_feature_range(X)
        classes = self.classes if reset else self.classes_
        classes, action = encode_actions(y, classes)
        reward, cost, propensity, sample_weight = check_logged_outcomes(
            reward,
            cost,
            propensity,
            sample_weight,
            n_samples=X.shape[0],
            n_classes=classes.size,
        )
        return LoggedData(X, action, reward, cost, propensity, sample_weight), classes

    def score(
        self, X, y, *, reward=None, cost=None, propensity=None, sample_weight=None
    ):
        """Estimated value of the deployed policy on logged data (higher is better).

        The value is the mean utility ``quality - cost_sensitivity * cost`` of
        the models that ``predict`` chooses, estimated by the doubly robust
        estimator (:func:`skroute.metrics.policy_value`). Its nuisance models
        use this router's settings and are cross-fitted on the data passed
        here, never on the rows they score; without a ``random_state`` the
        folds are seeded with 0, so repeated calls agree. With full-feedback
        2-D ``reward`` the value is exact.

        Parameters
        ----------
        X, y, reward, cost, propensity, sample_weight
            As in :meth:`fit`.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        X = self._check_X(X)
        return self._logged_value(
            # X is validated already: predicting on the array keeps the check
            # of its feature names from warning about the array itself.
            self.classes_[self._predict_index(X)],
            X,
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            sample_weight=sample_weight,
            cost_sensitivity=self.cost_sensitivity_,
        )

    def _logged_value(
        self, routes, X, y, *, reward, cost, propensity, sample_weight, cost_sensitivity
    ):
        """Doubly robust value of ``routes`` on the logs, with this router's
        nuisance settings (``X`` validated)."""
        nuisance = self._evaluation_settings()
        if getattr(self, "min_propensity", None) is not None:
            nuisance["min_propensity"] = self.min_propensity
        return policy_value(
            routes,
            y,
            reward=reward,
            cost=cost,
            propensity=propensity,
            # Without cost the router's lambda plays no part.
            cost_sensitivity=cost_sensitivity if cost is not None else 0.0,
            X=X,
            classes=self.classes_,
            method="dr",
            sample_weight=sample_weight,
            **nuisance,
        ).estimate

    def _evaluation_settings(self):
        """Nuisance settings for evaluating this router on logs.

        The router's own models and folds where it has them; folds seeded with
        0 when it has no ``random_state``, so that repeated evaluations agree.
        """
        settings = {
            name: getattr(self, name)
            for name in _NUISANCE_PARAMS
            if getattr(self, name, None) is not None
        }
        settings.setdefault("random_state", 0)
        return settings

    def _check_X(self, X):
        check_is_fitted(self)
        check_time_arrays(X)
        with naming_array_errors("X"):
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        check_feature_range(X)
        return X

    def _scores(self, X, first_row=0):
        """Decision scores of validated ``X``, checked to be finite.

        ``X`` may be a block of the caller's rows, from row ``first_row`` on:
        an error then names the rows of the caller's ``X``.
        """
        scores = self._decision_scores(X)
        check_finite_scores(scores, first_row)
        return scores

    def export(self, path):
        """Write the fitted router's router file: arrays and JSON, no code.

        The file (``.npz``) holds the deployed policy's weights and the
        outcome models as arrays, with JSON metadata (classes, feature names,
        the fitted ``lambda`` or its range): no pickle, so
        :func:`skroute.persistence.load_router` (or
        :func:`skroute.serving.load_exported`) reads it without running code
        from it, and without importing torch, skorch or scikit-learn. Its
        ``predict`` gives this router's routes. This is the same file as
        ``save_router(router, path)``, which also saves Pipelines. Routers
        with outcome models other than the default
        :class:`~skroute.causal.RidgeOutcomeModel`, and interval routers with
        other than ``"quality"`` heads, cannot be written as data (a
        ValueError says so); pickle them for trusted use instead.

        Parameters
        ----------
        path : str or Path
            Written atomically (a temporary file renamed over it).
        """
        write_router_file(path, *self._router_file())

    def _router_file(self):
        """The metadata and arrays of this router's router file."""
        return router_payload(self)

    def _export_arrays(self, meta):
        """Arrays of this router's export; adds to ``meta`` what serving reads."""
        return self.deployed_.to_arrays(meta, 1.0)

    def __getstate__(self):
        # Pickles record the skroute version and format that wrote them, so that
        # another version can load them or say why it cannot.
        return persisted_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(restored_state(self, state))
        if "classes_" in self.__dict__ and "cost_sensitivity_" not in self.__dict__:
            # Saved before routers recorded the lambda they were fitted at.
            self.cost_sensitivity_ = float(self.__dict__.get("cost_sensitivity", 0.0))
        if "classes_" in self.__dict__ and "deployed_" not in self.__dict__:
            # Saved before routers kept their deployed policy as an object.
            self.deployed_ = self._deployed_policy()

    def _deployed_policy(self):
        """The deployed policy of this router's fitted attributes."""
        raise NotImplementedError

    def decision_function(self, X):
        """Score of every candidate model for each query (higher is preferred).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two models
            With two candidate models, as in scikit-learn's binary classifiers,
            the score of ``classes_[1]`` minus that of ``classes_[0]``.
        """
        scores = self._scores(self._check_X(X))
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def _predict_index(self, X):
        return routes_by_block(
            lambda rows: self._scores(X[rows], first_row=rows.start), X.shape[0]
        )

    def predict(self, X):
        """The model to route each query to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        index = self._predict_index(self._check_X(X))
        return self.classes_[index]

    def predict_proba(self, X):
        """Routing probabilities of the policy, ``softmax(scores / temperature)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._policy_proba(self._scores(self._check_X(X)))

    def _decision_scores(self, X):
        return self.deployed_.scores(X, self.cost_sensitivity_)

    def _policy_proba(self, scores):
        # Only learned policies read a temperature.
        return self.deployed_.proba(scores, 1.0)


class NuisanceMixin:
    """Cross-fitted pseudo-outcomes with the router's nuisance settings.

    For routers with ``pseudo_outcome``, ``propensity_model``,
    ``reward_model``, ``cost_model``, ``cv``, ``min_propensity``, ``n_jobs``
    and ``memory`` parameters.
    """

    def _nuisance_settings(self, seed):
        """Keyword arguments of :func:`~skroute.causal.cross_fit_pseudo_outcomes`
        (but ``cv``) for this router, its folds seeded with ``seed``."""
        return {
            "n_classes": self.classes_.size,
            "method": self.pseudo_outcome,
            "cost_method": self.cost_pseudo_outcome,
            "propensity_model": self.propensity_model,
            "reward_model": self.reward_model,
            "cost_model": self.cost_model,
            "min_propensity": self.min_propensity,
            "n_jobs": self.n_jobs,
            "random_state": seed,
            "memory": self.memory,
            "model_names": self.classes_,
        }

    def _pseudo_outcomes(self, logs, seed):
        """Cross-fitted pseudo-outcomes of every logged row."""
        if not logs.full_feedback:
            check_cv_folds(logs.action, self.cv)
        return cross_fit_on_rows(logs, cv=self.cv, **self._nuisance_settings(seed))
