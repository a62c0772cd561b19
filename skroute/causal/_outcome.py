"""Outcome models: one regressor (or binary classifier) per candidate model."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, clone, is_classifier
from sklearn.linear_model import Ridge
from sklearn.utils.validation import has_fit_parameter, validate_data

from skroute._kernels import stacked_arm_predictions
from skroute.causal._ridge import RidgeOutcomeModel, refit_at_tuning, ridge_arrays
from skroute.utils._warnings import warn_at_caller


def default_outcome_model():
    """The default outcome model: standardised ridge, penalty by leave-one-out.

    It suits features on any scale, chooses its penalty per model column from
    the logs, and calibrates 0/1 outcomes (see :class:`RidgeOutcomeModel`).
    """
    return RidgeOutcomeModel()


class _ConstantOutcome(RegressorMixin, BaseEstimator):
    """Predicts one value; used when an arm has too few rows or a constant target."""

    def __init__(self, value=0.0):
        self.value = value

    def predict(self, X):
        return np.full(X.shape[0], float(self.value))


def _fit_arm(model, X, target, sample_weight, fallback):
    """Fit a clone of ``model`` on the rows of one arm."""
    if target.shape[0] == 0 or sample_weight.sum() <= 0:
        return _ConstantOutcome(fallback)
    if target.shape[0] < 2 or np.ptp(target) == 0:
        return _ConstantOutcome(np.average(target, weights=sample_weight))
    estimator = clone(model)
    fit_params = {}
    # Weights are frequencies (weight 2 = a duplicated row), as in scikit-learn.
    if has_fit_parameter(estimator, "sample_weight"):
        fit_params["sample_weight"] = sample_weight
    elif not np.all(sample_weight == 1):
        warn_at_caller(
            f"{type(estimator).__name__} does not accept sample_weight; its "
            "outcome model is fitted without the weights.",
            UserWarning,
        )
    if is_classifier(estimator):
        if not np.isin(target, (0.0, 1.0)).all():
            raise ValueError(
                f"the outcome model {type(estimator).__name__} is a classifier, but "
                "its target is not binary 0/1; use a regressor for continuous "
                "quality or cost."
            )
        target = target.astype(np.intp)
    estimator.fit(X, target, **fit_params)
    return estimator


def _predict_arm(model, X):
    if is_classifier(model):
        positive = list(model.classes_).index(1)
        return model.predict_proba(X)[:, positive]
    return np.asarray(model.predict(X), dtype=np.float64).reshape(-1)


def fit_arm_models(
    X, action, target, *, n_classes, model=None, sample_weight=None, n_jobs=None
):
    """Fit one outcome model per candidate model on the rows where it was logged.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    target : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Observed outcome (quality or cost) of the logged model; with a
        full-feedback matrix, every arm is fitted on all rows of its column.
    n_classes : int
    model : estimator, default=None
        Regressor, or classifier with ``predict_proba`` for 0/1 outcomes.
        Defaults to :class:`RidgeOutcomeModel`.
    sample_weight : ndarray of shape (n_samples,), default=None
    n_jobs : int, default=None
        Arms fitted in parallel through joblib.

    Returns
    -------
    list of fitted models, one per class

    Examples
    --------
    Model 0 is fitted on its rows; model 1, whose logged outcome never varies,
    predicts that constant; model 2, never logged, predicts the mean outcome
    of all rows:

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skroute.causal import fit_arm_models, predict_arm_models
    >>> X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    >>> action = np.array([0, 0, 0, 1, 1, 1])
    >>> target = np.array([0.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    >>> models = fit_arm_models(
    ...     X, action, target, n_classes=3, model=LinearRegression()
    ... )
    >>> len(models)
    3
    >>> predict_arm_models(models, np.array([[0.0], [3.0]])).round(3).tolist()
    [[0.0, 1.0, 1.0], [3.0, 1.0, 1.0]]
    """
    model = default_outcome_model() if model is None else model
    weight = np.ones(target.shape[0]) if sample_weight is None else sample_weight
    if target.ndim == 2:
        return Parallel(n_jobs=n_jobs)(
            delayed(_fit_arm)(model, X, target[:, t], weight, target[:, t].mean())
            for t in range(n_classes)
        )
    fallback = float(np.average(target, weights=weight))
    return Parallel(n_jobs=n_jobs)(
        delayed(_fit_arm)(
            model, X[action == t], target[action == t], weight[action == t], fallback
        )
        for t in range(n_classes)
    )


def _split_targets(model):
    """One one-target :class:`RidgeOutcomeModel` per target of a fitted one.

    Each part predicts as a fit on its target alone would: the targets of a
    ridge share only the decomposition of the features.
    """
    parts = []
    for k in range(model.coef_.shape[1]):
        part = clone(model)
        part.__dict__.update(
            {
                name: value
                for name, value in vars(model).items()
                if name.endswith("_") and not name.startswith("_")
            }
        )
        for name in (
            "low_",
            "high_",
            "target_mean_",
            "alpha_",
            "scaling_",
            "loo_error_",
        ):
            setattr(part, name, getattr(model, name)[k : k + 1])
        part.calibrated_ = model.calibrated_[k : k + 1]
        part.platt_ = model.platt_[k : k + 1]
        part.coef_ = model.coef_[:, k : k + 1].copy()
        part._one_target = True
        parts.append(part)
    return parts


def _fit_arm_jointly(X, targets, weight, fallbacks):
    """Default outcome models of several targets of one arm, one decomposition.

    Degenerate targets (too few rows, a constant) make the arm fall back to
    separate fits, so that the models are always those of :func:`_fit_arm`.
    """
    model = default_outcome_model()
    if (
        targets.shape[0] < 2
        or weight.sum() <= 0
        or (np.ptp(targets, axis=0) == 0).any()
    ):
        return [
            _fit_arm(model, X, target, weight, fallback)
            for target, fallback in zip(targets.T, fallbacks)
        ]
    return _split_targets(model.fit(X, targets, sample_weight=weight))


def fit_joint_arm_models(X, action, targets, *, n_classes, sample_weight, n_jobs=None):
    """:func:`fit_arm_models` with the default model, for several logged targets.

    The targets of each arm (quality and cost) share one decomposition of its
    rows, which halves the cost of two separate calls and gives the same
    models. Returns one list of models per target.
    """
    stacked = np.column_stack(targets)
    fallbacks = np.average(stacked, axis=0, weights=sample_weight)
    per_arm = Parallel(n_jobs=n_jobs)(
        delayed(_fit_arm_jointly)(
            X[action == t], stacked[action == t], sample_weight[action == t], fallbacks
        )
        for t in range(n_classes)
    )
    return [[models[k] for models in per_arm] for k in range(len(targets))]


def predict_arm_models(models, X):
    """Stack the predictions of per-arm outcome models into an (n, T) matrix.

    A classifier's prediction is its probability of the outcome 1.

    Parameters
    ----------
    models : list of fitted estimators, one per class
        Per-arm outcome models, as returned by :func:`fit_arm_models`.
    X : ndarray of shape (n_samples, n_features)
        Rows to predict.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Column ``t`` holds the predictions of ``models[t]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skroute.causal import fit_arm_models, predict_arm_models
    >>> X = np.array([[0.0], [1.0], [2.0], [0.0], [1.0], [2.0]])
    >>> action = np.array([0, 0, 0, 1, 1, 1])
    >>> target = np.array([0.0, 1.0, 2.0, 2.0, 4.0, 6.0])
    >>> models = fit_arm_models(
    ...     X, action, target, n_classes=2, model=LinearRegression()
    ... )
    >>> predict_arm_models(models, np.array([[0.5], [3.0]])).round(3).tolist()
    [[0.5, 3.0], [3.0, 8.0]]
    """
    stacked = _stackable_arms(models, X)
    if stacked is not None:
        return stacked_arm_predictions(*stacked)
    return np.column_stack([_predict_arm(m, X) for m in models])


def _stackable_arms(models, X):
    """``(arms, X)`` when every model is a constant or a one-target ridge.

    Those predict in one pass over ``X`` for all arms, ``X`` validated once
    as the ridge models' own ``predict`` would; None otherwise.
    """
    arms, ridge = [], None
    for model in models:
        if type(model) is _ConstantOutcome:
            arms.append({"value": model.value})
        elif type(model) is RidgeOutcomeModel and getattr(model, "_one_target", False):
            arms.append(ridge_arrays(model))
            ridge = model if ridge is None else ridge
        else:
            return None
    if ridge is None:
        return None
    X = validate_data(ridge, X, reset=False, dtype=[np.float64, np.float32])
    return arms, X


def _target_arms(model):
    """The arrays of each target of a fitted ridge, as one-target arms.

    Those are what ``skroute._kernels.stacked_arm_predictions`` reads, so
    that the arms of a fold predict in one pass over its rows.
    """
    if type(model) is _ConstantOutcome:
        return [{"value": model.value}]
    arrays = ridge_arrays(model)
    return [
        {
            "mean": arrays["mean"],
            "coef": arrays["coef"][:, k],
            "target_mean": arrays["target_mean"][k],
            "platt": arrays["platt"][k],
            "calibrated": arrays["calibrated"][k],
            "low": arrays["low"][k],
            "high": arrays["high"][k],
        }
        for k in range(arrays["coef"].shape[1])
    ]


def _stackable(model):
    return type(model) in (RidgeOutcomeModel, _ConstantOutcome)


def _fit_arm_rows(model, X, rows, target, weight, fallback, test, tuned=None):
    """Fit one arm's model on ``X[rows]``, for the predictions of ``X[test]``.

    Returns the model's arrays when it predicts by :func:`_target_arms` (the
    caller then predicts every arm of the fold in one pass), or else its
    predictions of ``X[test]``, so that no fitted model outlives its job.
    A ``tuned`` ridge (see :func:`_tune_arm`) is refitted at its choices.
    """
    if tuned is not None and target.shape[0] >= 2 and weight.sum() > 0:
        return _target_arms(refit_at_tuning(tuned, X[rows], target, weight))
    fitted = _fit_arm(model, X[rows], target, weight, fallback)
    if _stackable(fitted):
        return _target_arms(fitted)
    return _predict_arm(fitted, X[test])


def _fit_joint_rows(model, X, rows, targets, weight, fallbacks, test, tuned=None):
    """Fit one multi-output regressor on several targets of one arm.

    Returns arrays or predictions, as :func:`_fit_arm_rows` does.
    """
    if targets.shape[0] == 0 or weight.sum() <= 0:
        return [{"value": float(value)} for value in fallbacks]
    if tuned is not None:
        return _target_arms(refit_at_tuning(tuned, X[rows], targets, weight))
    estimator = clone(model)
    estimator.fit(X[rows], targets, sample_weight=weight)
    if _stackable(estimator):
        return _target_arms(estimator)
    prediction = np.asarray(estimator.predict(X[test]), dtype=np.float64)
    return prediction.reshape(-1, len(fallbacks))


def _tune_arm(model, X, rows, targets, weight):
    """One arm's ridge fitted on all of its rows: the choices its folds refit at.

    None where the arm's rows cannot tune a ridge (fewer than two, no
    weight, a constant target): its folds then fit as they would alone.
    """
    if (
        targets.shape[0] < 2
        or weight.sum() <= 0
        or (np.ptp(targets, axis=0) == 0).any()
    ):
        return None
    return clone(model).fit(X[rows], targets, sample_weight=weight)


def _model_groups(models):
    """``(model, joint, target index sets)`` of each model the targets share."""
    groups = []
    for group in _shared_model_groups(models):
        model = models[group[0]]
        model = default_outcome_model() if model is None else model
        joint = _fits_jointly(model, len(group))
        groups.append((model, joint, [group] if joint else [[i] for i in group]))
    return groups


def _tune_outcome_models(
    X, action, targets, groups, *, n_classes, sample_weight, n_jobs
):
    """The ridge outcome models of each arm, fitted on all of the arm's rows.

    A :class:`RidgeOutcomeModel` (the default outcome model) chooses its
    penalty and logistic map by leave-one-out. In cross-fitting
    (:func:`cross_fit_outcomes`) it makes those choices once per arm, on
    every row of the arm, and each fold refits only its coefficients at
    them: one Cholesky factorisation per fold instead of the
    eigendecomposition of the whole penalty path. Like a hyperparameter
    search before cross-fitting, the choices see every row; the
    coefficients that predict a row never do.

    Parameters
    ----------
    X, action, targets, n_classes, sample_weight, n_jobs
        As in :func:`cross_fit_outcomes`.
    groups : list
        The targets' models, as :func:`_model_groups` gives them.

    Returns
    -------
    dict
        ``(target indices, arm)`` to the fitted model. Other models than
        :class:`RidgeOutcomeModel`, and arms that cannot tune one (fewer
        than two rows, no weight, a constant target), are absent: their
        folds fit as they would alone.
    """
    keys, jobs = [], []
    for model, _, member_sets in groups:
        if type(model) is not RidgeOutcomeModel:
            continue
        for t in range(n_classes):
            rows = np.flatnonzero(action == t)
            for members in member_sets:
                stacked = np.column_stack([targets[i] for i in members])
                keys.append((tuple(members), t))
                jobs.append(
                    delayed(_tune_arm)(
                        model, X, rows, stacked[rows], sample_weight[rows]
                    )
                )
    fitted = Parallel(n_jobs=n_jobs)(jobs)
    return {key: model for key, model in zip(keys, fitted) if model is not None}


def _shared_model_groups(models):
    """Indices of targets grouped by the model they share (None: the default)."""
    groups = {}
    for index, model in enumerate(models):
        groups.setdefault(None if model is None else id(model), []).append(index)
    return list(groups.values())


def _fits_jointly(model, n_targets):
    # Ridge solves several targets with one factorisation and gives each the
    # same coefficients as a separate fit; other multi-output models (trees)
    # would share structure between targets, so they are fitted separately.
    return n_targets > 1 and type(model) in (Ridge, RidgeOutcomeModel)


def cross_fit_outcomes(
    X,
    action,
    targets,
    folds,
    *,
    n_classes,
    models,
    sample_weight,
    n_jobs=None,
    tuned=None,
):
    """Cross-fitted outcome estimates ``mu_hat(x_i, t)`` for several targets.

    Each row's estimate comes from arm models fitted on the other folds.
    Targets that share a ridge model (both None, the default, or the same
    instance) are fitted together as one multi-output ridge per fold and arm,
    which gives the same estimates at half the cost. A
    :class:`RidgeOutcomeModel` chooses its penalty and logistic map once per
    arm, on all of the arm's rows, and each fold refits its coefficients at
    those choices: like a hyperparameter search before cross-fitting, the
    choices see every row, and the coefficients that predict a row never do.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    action : ndarray of shape (n_samples,)
    targets : list of ndarray of shape (n_samples,)
        Observed outcomes (e.g. quality and cost), estimated in one parallel pass.
    folds : list of (train, test) index arrays
    n_classes : int
    models : list of estimators or None, one per target
    sample_weight : ndarray of shape (n_samples,)
    n_jobs : int, default=None
        Number of fits run in parallel through joblib.
    tuned : dict, default=None
        The tuned ridges to refit at, by ``(target indices, arm)``: those of
        a cross-fitting of a superset of these rows
        (``PseudoOutcomes.tuned_outcomes``); None tunes them on these
        rows.

    Returns
    -------
    list of ndarray of shape (n_samples, n_classes), one per target

    Examples
    --------
    Quality grows with the feature at a rate that depends on the model, and
    each model has a fixed cost; linear outcome models recover both on rows
    they were not fitted on:

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skroute.causal import cross_fit_outcomes, make_folds
    >>> X = np.arange(1.0, 13.0).reshape(-1, 1)
    >>> action = np.tile([0, 1], 6)
    >>> quality = X[:, 0] * (action + 1)
    >>> cost = 1.0 + 10.0 * action
    >>> folds = make_folds(action, cv=3, random_state=0)
    >>> quality_hat, cost_hat = cross_fit_outcomes(
    ...     X, action, [quality, cost], folds, n_classes=2,
    ...     models=[LinearRegression(), LinearRegression()],
    ...     sample_weight=np.ones(12),
    ... )
    >>> quality_hat[:3].round(3).tolist()
    [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]
    >>> cost_hat[:3].round(3).tolist()
    [[1.0, 11.0], [1.0, 11.0], [1.0, 11.0]]
    """
    estimates, _ = cross_fit_tuned_outcomes(
        X,
        action,
        targets,
        folds,
        n_classes=n_classes,
        models=models,
        sample_weight=sample_weight,
        n_jobs=n_jobs,
        tuned=tuned,
    )
    return estimates


def cross_fit_tuned_outcomes(
    X, action, targets, folds, *, n_classes, models, sample_weight, n_jobs, tuned
):
    """:func:`cross_fit_outcomes`, and the tuned ridges its folds refit at.

    Returns ``(estimates, tuned)``: the tuned ridges are those given, or
    those tuned on these rows (None given), for a cross-fitting of a subset.
    """
    groups = _model_groups(models)
    if tuned is None:
        tuned = _tune_outcome_models(
            X,
            action,
            targets,
            groups,
            n_classes=n_classes,
            sample_weight=sample_weight,
            n_jobs=n_jobs,
        )
    tasks = []
    for model, joint, member_sets in groups:
        for fold_index, (train, test) in enumerate(folds):
            for t in range(n_classes):
                rows = train[action[train] == t]
                for members in member_sets:
                    stacked = np.column_stack([targets[i] for i in members])
                    fallbacks = np.average(
                        stacked[train], axis=0, weights=sample_weight[train]
                    )
                    # X is sliced inside the job: a task list holding
                    # X[rows] and X[test] for every fold and arm would hold
                    # about n_classes copies of X before the first job ran.
                    if joint:
                        job = delayed(_fit_joint_rows)(
                            model,
                            X,
                            rows,
                            stacked[rows],
                            sample_weight[rows],
                            fallbacks,
                            test,
                            tuned.get((tuple(members), t)),
                        )
                    else:
                        job = delayed(_fit_arm_rows)(
                            model,
                            X,
                            rows,
                            stacked[rows, 0],
                            sample_weight[rows],
                            float(fallbacks[0]),
                            test,
                            tuned.get((tuple(members), t)),
                        )
                    tasks.append(((members, fold_index, t), job))
    results = Parallel(n_jobs=n_jobs)(job for _, job in tasks)
    estimates = [np.empty((X.shape[0], n_classes)) for _ in targets]
    # Ridge arms come back as arrays: each fold's arms then predict together,
    # in one pass over the fold's rows instead of one pass per arm.
    pending = [[] for _ in folds]
    for ((members, fold_index, t), _), result in zip(tasks, results):
        if isinstance(result, list):
            pending[fold_index].extend(
                ((target_index, t), arm) for target_index, arm in zip(members, result)
            )
            continue
        test = folds[fold_index][1]
        prediction = np.asarray(result).reshape(len(test), -1)
        for column, target_index in enumerate(members):
            estimates[target_index][test, t] = prediction[:, column]
    for (_, test), arms in zip(folds, pending):
        if not arms:
            continue
        prediction = stacked_arm_predictions([arm for _, arm in arms], X[test])
        for column, ((target_index, t), _) in enumerate(arms):
            estimates[target_index][test, t] = prediction[:, column]
    return estimates, tuned
