"""The default outcome model: standardised ridge with a leave-one-out penalty."""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from skroute._kernels import PREDICT_BLOCK as _PREDICT_BLOCK
from skroute.utils._docs import DocLinkMixin

# Penalties tried on standardised features: from nearly unpenalised to nearly
# constant predictions at the row counts of routing logs.
DEFAULT_ALPHAS = tuple(10.0**k for k in range(-2, 6))
_MIN_ROWS = 3
_SCALINGS = {"auto", "standard", "isotropic"}
# Folds of the cross-validated choice of the logistic map of 0/1 targets.
_PLATT_FOLDS = 5


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _platt_maps(score, target, weights, C=1e4):
    """Slopes and intercepts of ``sigmoid(a * score + b)`` fitted to 0/1 targets.

    One weighted logistic regression on one feature per row of ``weights``
    (shape ``(n_maps, n_samples)``; a row's zero weights leave those samples
    out), with the penalty ``a ** 2 / (2 * C)`` on the slope alone
    (scikit-learn's ``LogisticRegression(C=C)``), by damped Newton steps. The
    maps are independent and step together: two parameters need no
    general-purpose solver, and the few maps of an arm's calibration (its
    cross-validation folds and the final map) cost one pass of array
    operations per step instead of one each. Returns an array of shape
    ``(n_maps, 2)``.
    """
    score = np.asarray(score, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    total = weights.sum(axis=1)
    # Terms divided by each map's total weight, so that tolerances are per row.
    weights = weights / total[:, None]
    penalty = 1.0 / (C * total)
    rate = np.clip(weights @ target, 1e-6, 1 - 1e-6)
    params = np.column_stack([np.zeros(rate.size), np.log(rate / (1 - rate))])

    def objective(params):
        z = params[:, :1] * score + params[:, 1:]
        loss = np.einsum("mn,mn->m", weights, np.logaddexp(0.0, z) - target * z)
        return loss + 0.5 * penalty * params[:, 0] ** 2

    value = objective(params)
    active = np.ones(rate.size, dtype=bool)
    for _ in range(100):
        p = _sigmoid(params[:, :1] * score + params[:, 1:])
        residual = weights * (p - target)
        gradient = np.column_stack(
            [residual @ score + penalty * params[:, 0], residual.sum(axis=1)]
        )
        curvature = weights * p * (1.0 - p)
        hessian = np.empty((rate.size, 2, 2))
        hessian[:, 0, 0] = curvature @ score**2 + penalty
        hessian[:, 0, 1] = hessian[:, 1, 0] = curvature @ score
        hessian[:, 1, 1] = curvature.sum(axis=1)
        hessian += 1e-12 * np.eye(2)
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        decrease = np.einsum("mk,mk->m", gradient, step)
        # A map stops at its optimum: no descent left, or no step that
        # decreases its objective (Armijo's rule, by backtracking).
        active &= decrease >= 1e-14
        size = np.where(active, 1.0, 0.0)
        searching = active.copy()
        candidate, new_value = params.copy(), value.copy()
        while searching.any():
            trial = params - size[:, None] * step
            trial_value = objective(trial)
            accept = searching & (trial_value <= value - 1e-4 * size * decrease)
            candidate[accept], new_value[accept] = trial[accept], trial_value[accept]
            searching &= ~accept
            size[searching] *= 0.5
            exhausted = searching & (size < 1e-10)
            active &= ~exhausted
            searching &= ~exhausted
        if not active.any():
            break
        params, value = candidate, new_value
    return params


def _platt_cv(score, target, weight, n_folds=_PLATT_FOLDS):
    """Cross-validated squared error (summed, weighted) of the Platt map, and
    the map fitted on every row.

    The folds interleave the rows (row ``i`` in fold ``i % n_folds``): the
    scores are leave-one-out predictions already, so no row's own target
    enters the map it is judged by. The folds' maps and the final one are
    fitted together. The error is infinite where a fold's fitting rows hold
    one class (the map would be a constant).
    """
    fold = np.arange(score.size) % n_folds
    kept = fold[None, :] != np.arange(n_folds)[:, None]
    if any(np.ptp(target[rows]) == 0 for rows in kept):
        return np.inf, None
    maps = _platt_maps(score, target, np.vstack([kept * weight, weight]))
    error = 0.0
    for k in range(n_folds):
        held = ~kept[k]
        slope, intercept = maps[k]
        mapped = _sigmoid(slope * score[held] + intercept)
        error += weight[held] @ (mapped - target[held]) ** 2
    return error, (float(maps[-1, 0]), float(maps[-1, 1]))


def _scaled_problem(X, Y, weight, mean, scale, target_mean):
    """The scaled, weighted features ``A`` and targets ``B`` of the ridge, and
    the root weights: ``A = sqrt(w) (X - mean) / scale`` (computed in place
    in the one float64 copy of ``X``), ``B = sqrt(w) (Y - target_mean)``."""
    root = np.sqrt(weight)[:, None]
    A = X.astype(np.float64)
    A -= mean
    A /= scale
    A *= root
    return A, (Y - target_mean) * root, root


def _leave_one_out_path(X, Y, weight, mean, scale, target_mean, alphas):
    """Ridge on ``(X - mean) / scale`` for every penalty, with exact leave-one-out.

    Returns, per target, the smallest weighted leave-one-out squared error,
    its penalty, the leave-one-out predictions at that penalty, and the
    coefficients on the raw features.
    """
    n_samples, n_targets = Y.shape
    total = weight.sum()
    A, B, root = _scaled_problem(X, Y, weight, mean, scale, target_mean)
    # One eigendecomposition of the smaller Gram matrix gives every penalty's
    # fit and leverages: P = A V (primal) or U sqrt(s) (dual) satisfies
    # fit = P diag(1 / (s + alpha)) P' B and h_ii = sum_j P_ij^2 / (s_j + alpha).
    primal = n_samples >= X.shape[1]
    s, vectors = np.linalg.eigh(A.T @ A if primal else A @ A.T)
    keep = s > 1e-10 * max(s.max(), 1e-300)
    s, vectors = s[keep], vectors[:, keep]
    P = A @ vectors if primal else vectors * np.sqrt(s)
    if primal:
        # The primal coefficients need only V and P'B: A is freed here.
        del A
    PB = P.T @ B
    # Every penalty's fit in one product, then every penalty's leverages
    # from P squared in P's own buffer: no second array of P's size.
    shrinks = 1.0 / (s[:, None] + alphas[None, :])
    fits = P @ (shrinks[:, :, None] * PB[:, None, :]).reshape(
        s.size, alphas.size * n_targets
    )
    leverages = np.square(P, out=P) @ shrinks + (weight / total)[:, None]
    del P
    best = np.full(n_targets, np.inf)
    chosen = np.full(n_targets, alphas[-1])
    loo_best = np.zeros((n_samples, n_targets))
    for k, alpha in enumerate(alphas):
        fitted = fits[:, k * n_targets : (k + 1) * n_targets]
        leverage = leverages[:, k]
        with np.errstate(divide="ignore", invalid="ignore"):
            residual = (B - fitted) / np.maximum(1.0 - leverage, 1e-12)[:, None]
        # Back from the weighted scale: residual / sqrt(w) squared, times w.
        error = (residual**2).sum(axis=0) / total
        better = error < best
        best[better] = error[better]
        chosen[better] = alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = Y - np.where(root > 0, residual / root, 0.0)
        loo_best[:, better] = loo[:, better]
    shrink = 1.0 / (s[:, None] + chosen[None, :])
    if primal:
        coef = vectors @ (shrink * PB)
    else:
        coef = A.T @ (vectors @ (shrink * (vectors.T @ B)))
    return best, chosen, loo_best, coef / scale[:, None]


class RidgeOutcomeModel(DocLinkMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with its penalty (and, optionally, scaling) by leave-one-out.

    The centred features are scaled one of two ways: ``"standard"`` divides
    each feature by its own (weighted) standard deviation, so that features
    on different scales are penalised alike; ``"isotropic"`` divides every
    feature by one number, the root mean variance, which keeps the geometry
    of features that share a scale (query embeddings, where standardising
    lends the weak directions as much weight as the strong ones); ``"auto"``
    tries both and keeps, per target, the one with the smaller leave-one-out
    error, at twice the cost. For every penalty in ``alphas`` the exact
    leave-one-out residuals come from one eigendecomposition per scaling, and
    each target keeps the penalty with the smallest leave-one-out squared
    error. Predictions are clipped to the range of the training targets. For
    a 0/1 target, a logistic (Platt) map of the leave-one-out predictions is
    used instead when it lowers their squared error: a calibrated
    probability rather than a linear one.

    Several targets (e.g. quality and cost) share the decompositions, each
    with its own penalty, calibration and (with ``"auto"``) scaling.

    The default is ``"standard"``: on the robustness suite's dev cells,
    ``DecoupledRouter``'s mean true regret was the same with either
    (``benchmarks/dev_ridge_scaling.py``), and a fit with ``"auto"`` takes
    about 1.7 times as long.

    Parameters
    ----------
    alphas : tuple of float, default=(0.01, 0.1, ..., 1e5)
        Candidate penalties, on the scaled features.
    scaling : {"standard", "isotropic", "auto"}, default="standard"
        The feature scaling; ``"auto"`` tries both and chooses per target.
    calibrate : bool, default=True
        Allow the logistic map for 0/1 targets.

    Attributes
    ----------
    alpha_ : ndarray of shape (n_targets,)
        Chosen penalty of each target.
    scaling_ : ndarray of str of shape (n_targets,)
        Chosen scaling of each target: ``"standard"`` or ``"isotropic"``.
    calibrated_ : ndarray of bool of shape (n_targets,)
        Whether each target's predictions go through the logistic map.
    loo_error_ : ndarray of shape (n_targets,)
        Weighted mean leave-one-out squared error of the retained predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.causal import RidgeOutcomeModel
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)) * [1, 10, 100, 1e3, 1e4]
    >>> y = (X[:, 0] + X[:, 3] / 1e3 + rng.normal(size=200) > 0).astype(float)
    >>> model = RidgeOutcomeModel().fit(X, y)
    >>> bool(((model.predict(X) >= 0) & (model.predict(X) <= 1)).all())
    True
    """

    def __init__(self, alphas=DEFAULT_ALPHAS, scaling="standard", calibrate=True):
        self.alphas = alphas
        self.scaling = scaling
        self.calibrate = calibrate

    def fit(self, X, y, sample_weight=None):
        X, Y, weight, scalings = self._prepare(X, y, sample_weight)
        n_samples, n_targets = Y.shape
        total = weight.sum()
        if np.count_nonzero(weight) < _MIN_ROWS:
            return self
        alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        if self.scaling != "auto":
            scalings = {self.scaling: scalings[self.scaling]}
        best = np.full(n_targets, np.inf)
        loo_best = np.zeros((n_samples, n_targets))
        for name, scale in scalings.items():
            error, alpha, loo, coef = _leave_one_out_path(
                X, Y, weight, self.mean_, scale, self.target_mean_, alphas
            )
            better = error < best
            best[better] = error[better]
            self.alpha_[better] = alpha[better]
            self.scaling_[better] = name
            loo_best[:, better] = loo[:, better]
            self.coef_[:, better] = coef[:, better]
        self.loo_error_ = best
        if self.calibrate:
            # The leave-one-out intercept, the mean of the other rows' targets,
            # moves against each row's own target: a map of the predictions
            # could read the target off that shift (with a strong penalty,
            # perfectly). The map is fitted on the predictions with the
            # intercept of every row instead, which tell nothing of the row.
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(weight < total, weight / (total - weight), 0.0)
            scores = loo_best + share[:, None] * (Y - self.target_mean_)
            self._calibrate(Y, scores, weight, total)
        return self

    def _prepare(self, X, y, sample_weight):
        """Validate the data and set the statistics every fit starts from.

        Sets the targets' range and mean, the features' mean and the fitted
        attributes at their values for too few rows (the mean prediction).
        Returns ``(X, Y, weight, scalings)``, ``scalings`` mapping each
        scaling's name to its divisor of the centred features.
        """
        # float32 stays float32 here: the one float64 array of X's size is the
        # standardised copy made per scaling.
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=[np.float64, np.float32],
        )
        alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        if alphas.size == 0 or not (alphas > 0).all():
            raise ValueError(f"alphas must be positive numbers; got {self.alphas!r}.")
        if self.scaling not in _SCALINGS:
            raise ValueError(
                f"scaling must be one of {sorted(_SCALINGS)}; got {self.scaling!r}."
            )
        self._one_target = y.ndim == 1
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        n_samples, n_targets = Y.shape
        weight = (
            np.ones(n_samples)
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        total = weight.sum()
        counted = Y[weight > 0] if (weight > 0).any() else Y
        self.low_, self.high_ = counted.min(axis=0), counted.max(axis=0)
        self.mean_ = np.zeros(X.shape[1])
        for start in range(0, n_samples, _PREDICT_BLOCK):
            rows = slice(start, start + _PREDICT_BLOCK)
            self.mean_ += weight[rows] @ np.asarray(X[rows], dtype=np.float64)
        self.mean_ /= total
        variance = np.zeros(X.shape[1])
        for start in range(0, n_samples, _PREDICT_BLOCK):
            rows = slice(start, start + _PREDICT_BLOCK)
            centred = np.asarray(X[rows], dtype=np.float64) - self.mean_
            variance += weight[rows] @ np.square(centred)
        spread = np.sqrt(variance / total)
        per_feature = np.where(spread > 1e-12 * (1 + np.abs(self.mean_)), spread, 1.0)
        # One scale for every feature: the root mean variance, which keeps the
        # features' own geometry (embeddings) and puts the penalties on the
        # scale of the standardised ones.
        isotropic = np.full(X.shape[1], max(np.sqrt(np.mean(spread**2)), 1e-300))
        self.target_mean_ = weight @ Y / total
        self.alpha_ = np.full(n_targets, alphas[-1])
        self.scaling_ = np.full(n_targets, "standard", dtype=object)
        self.calibrated_ = np.zeros(n_targets, dtype=bool)
        self.platt_ = np.zeros((n_targets, 2))
        self.loo_error_ = np.zeros(n_targets)
        self.coef_ = np.zeros((X.shape[1], n_targets))
        return X, Y, weight, {"standard": per_feature, "isotropic": isotropic}

    def _calibrate(self, Y, loo, weight, total):
        counted = weight > 0
        Y, loo, weight = Y[counted], loo[counted], weight[counted]
        for k in range(Y.shape[1]):
            target = Y[:, k]
            if not np.isin(target, (0.0, 1.0)).all() or np.ptp(target) == 0:
                continue
            clipped = np.clip(loo[:, k], 0.0, 1.0)
            linear_error = weight @ (clipped - target) ** 2 / total
            # The map is judged on rows it was not fitted on: fitted and judged
            # on the same rows, two parameters found patterns in the noise of a
            # few dozen nearly constant scores, and won where they lost on new
            # queries.
            error, platt = _platt_cv(loo[:, k], target, weight)
            error /= total
            if error < linear_error:
                self.calibrated_[k] = True
                self.platt_[k] = platt
                self.loo_error_[k] = error
            else:
                self.loo_error_[k] = linear_error

    def predict(self, X):
        check_is_fitted(self)
        # float32 stays float32 here; each block of rows is computed in
        # float64, so that no float64 copy of the whole of X is made.
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        prediction = np.empty((X.shape[0], self.coef_.shape[1]))
        for start in range(0, X.shape[0], _PREDICT_BLOCK):
            block = np.asarray(X[start : start + _PREDICT_BLOCK], dtype=np.float64)
            raw = (block - self.mean_) @ self.coef_ + self.target_mean_
            mapped = _sigmoid(self.platt_[:, 0] * raw + self.platt_[:, 1])
            rows = np.where(self.calibrated_, mapped, raw)
            prediction[start : start + block.shape[0]] = np.clip(
                rows, self.low_, self.high_
            )
        return prediction[:, 0] if self._one_target else prediction


def refit_at_tuning(tuned, X, y, sample_weight=None):
    """A :class:`RidgeOutcomeModel` fitted on ``(X, y)`` at the choices of ``tuned``.

    Each target keeps the penalty, scaling and logistic map that ``tuned``
    (a fitted model) chose by leave-one-out; only the coefficients, the
    features' mean and scale and the targets' mean and range are fitted
    on the new rows. That is one Cholesky factorisation per penalty instead
    of the eigendecomposition of the penalty path, which is what makes it
    the fit of each cross-fitting fold once an arm's choices are made on
    all of its rows (see :func:`~skroute.causal.cross_fit_outcomes`).
    ``loo_error_`` is NaN: no leave-one-out error is computed.
    """
    model = clone(tuned)
    X, Y, weight, scalings = model._prepare(X, y, sample_weight)
    n_targets = Y.shape[1]
    if tuned.coef_.shape[1] != n_targets:
        raise ValueError(
            f"the tuned model has {tuned.coef_.shape[1]} targets; y has {n_targets}."
        )
    if np.count_nonzero(weight) < _MIN_ROWS:
        # The mean prediction, as a fit on so few rows gives.
        return model
    model.alpha_ = tuned.alpha_.copy()
    model.scaling_ = tuned.scaling_.copy()
    model.calibrated_ = tuned.calibrated_.copy()
    model.platt_ = tuned.platt_.copy()
    model.loo_error_ = np.full(n_targets, np.nan)
    by_scaling = {}
    for k in range(n_targets):
        by_scaling.setdefault(model.scaling_[k], []).append(k)
    for name, targets in by_scaling.items():
        model.coef_[:, targets] = _ridge_solutions(
            X,
            Y[:, targets],
            weight,
            model.mean_,
            scalings[name],
            model.target_mean_[targets],
            model.alpha_[targets],
        )
    return model


def _ridge_solutions(X, Y, weight, mean, scale, target_mean, alphas):
    """Ridge coefficients on the raw features, each target at its own penalty.

    The solutions of :func:`_leave_one_out_path` at those penalties, by one
    Cholesky factorisation per distinct penalty of the smaller of the Gram
    and kernel matrices of the scaled, weighted features.
    """
    A, B, _ = _scaled_problem(X, Y, weight, mean, scale, target_mean)
    primal = A.shape[0] >= A.shape[1]
    gram = A.T @ A if primal else A @ A.T
    right = A.T @ B if primal else B
    diagonal = np.diag(gram).copy()
    solution = np.empty_like(right)
    for alpha in np.unique(alphas):
        targets = alphas == alpha
        np.fill_diagonal(gram, diagonal + alpha)
        try:
            factor = cho_factor(gram, lower=True, check_finite=False)
            solution[:, targets] = cho_solve(
                factor, right[:, targets], check_finite=False
            )
        except LinAlgError:
            # Positive definite in exact arithmetic; where rounding says
            # otherwise (weights spanning many orders), the eigendecomposition.
            np.fill_diagonal(gram, diagonal)
            s, vectors = np.linalg.eigh(gram)
            s = np.maximum(s, 0.0)
            solution[:, targets] = vectors @ (
                (vectors.T @ right[:, targets]) / (s + alpha)[:, None]
            )
    coef = solution if primal else A.T @ solution
    return coef / scale[:, None]


def ridge_arrays(model):
    """The fitted arrays of a :class:`RidgeOutcomeModel`, by their export names.

    The names are those of the exported routers (``skroute.serving``), which
    predict from these arrays with numpy alone.
    """
    return {
        "mean": model.mean_,
        "coef": model.coef_,
        "target_mean": model.target_mean_,
        "platt": model.platt_,
        "calibrated": model.calibrated_,
        "low": model.low_,
        "high": model.high_,
    }
