"""Propensity of the logging policy: given, or estimated by a cross-fitted model."""

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import has_fit_parameter


def default_propensity_model():
    """The default propensity model: multinomial logistic regression."""
    return LogisticRegression(C=1.0, max_iter=300)


def _fit_predict_rows(
    model, X, train, test, action, weight_train, n_classes, start=None
):
    """One fold's propensities; X is sliced here, in the job, not by the caller."""
    return _fit_predict_fold(
        model,
        X[train],
        action[train],
        weight_train,
        X[test],
        action[test],
        n_classes,
        start,
    )


def _warm_start(model, start, action_train):
    """Start ``model``'s solver from the coefficients of a fit on other folds.

    Only for the default logistic regression, and only where the fold logs the
    same models as ``start``: the objective is strictly convex, so the solver
    reaches the same optimum from any start, in fewer iterations from a near one.
    """
    if start is None or not np.array_equal(np.unique(action_train), start["classes"]):
        return model
    model.set_params(warm_start=True)
    model.coef_ = start["coef"].copy()
    model.intercept_ = start["intercept"].copy()
    return model


def _fit_predict_fold(
    model,
    X_train,
    action_train,
    weight_train,
    X_test,
    action_test,
    n_classes,
    start=None,
    keep=False,
):
    model = _warm_start(clone(model), start, action_train)
    fit_params = {}
    if weight_train is not None and has_fit_parameter(model, "sample_weight"):
        fit_params["sample_weight"] = weight_train
    model.fit(X_train, action_train, **fit_params)
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"propensity_model must implement predict_proba; "
            f"{type(model).__name__} does not."
        )
    proba = model.predict_proba(X_test)
    # Map the fold model's classes onto the codes of all candidate models; a model
    # absent from a training fold gets probability 0 (clipped later).
    full = np.zeros((X_test.shape[0], n_classes))
    full[:, np.asarray(model.classes_, dtype=np.intp)] = proba
    values = full[np.arange(X_test.shape[0]), action_test]
    if keep:
        return values, {
            "classes": np.asarray(model.classes_),
            "coef": model.coef_,
            "intercept": model.intercept_,
        }
    return values


def estimate_propensity(
    X,
    action,
    folds,
    *,
    n_classes,
    propensity_model=None,
    sample_weight=None,
    n_jobs=None,
):
    """Cross-fitted estimate of ``e(t_i | x_i)``, the logging probability of each row.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    action : ndarray of shape (n_samples,)
        Integer code of the logged model.
    folds : list of (train, test) index arrays
    n_classes : int
    propensity_model : classifier with ``predict_proba``, default=None
        Defaults to multinomial ``LogisticRegression``; its folds after the
        first start from the first fold's coefficients (warm start), which
        reaches the same optimum in about half the iterations.
    sample_weight : ndarray of shape (n_samples,), default=None
        Passed to the classifier's ``fit`` when it accepts them.
    n_jobs : int, default=None
        Folds fitted in parallel through joblib.

    Returns
    -------
    ndarray of shape (n_samples,)
        Unclipped estimated propensity of each logged action.

    Examples
    --------
    A logging policy that picks model 1 with probability ``sigmoid(2 x)``:

    >>> import numpy as np
    >>> from skroute.causal import estimate_propensity, make_folds
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1))
    >>> proba_1 = 1 / (1 + np.exp(-2 * X[:, 0]))
    >>> action = (rng.uniform(size=400) < proba_1).astype(int)
    >>> folds = make_folds(action, cv=3, random_state=0)
    >>> propensity = estimate_propensity(X, action, folds, n_classes=2)
    >>> propensity.shape
    (400,)

    The estimates are close to the true probabilities of the logged models:

    >>> true = np.where(action == 1, proba_1, 1 - proba_1)
    >>> round(float(np.abs(propensity - true).mean()), 2)
    0.02
    """
    model = default_propensity_model() if propensity_model is None else propensity_model

    def weight(train):
        return None if sample_weight is None else sample_weight[train]

    results, start = [], None
    if propensity_model is None and len(folds) > 1:
        # The training folds share most of their rows: the default model of
        # the other folds starts from the first fold's fit (see _warm_start).
        train, test = folds[0]
        first, start = _fit_predict_fold(
            model,
            X[train],
            action[train],
            weight(train),
            X[test],
            action[test],
            n_classes,
            keep=True,
        )
        results.append(first)
    results += Parallel(n_jobs=n_jobs)(
        delayed(_fit_predict_rows)(
            model, X, train, test, action, weight(train), n_classes, start
        )
        for train, test in folds[len(results) :]
    )
    propensity = np.empty(X.shape[0])
    for (_, test), values in zip(folds, results):
        propensity[test] = values
    return propensity
