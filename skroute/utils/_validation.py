"""Validation of logged routing data: one place for every check and message."""

import contextlib
import numbers
import re

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

ROUTING_HINT = (
    "Inside a Pipeline, GridSearchCV or cross_validate, enable metadata routing "
    "with sklearn.set_config(enable_metadata_routing=True) so that reward, cost "
    "and propensity reach the router."
)


def _rows(mask, limit=10):
    """Format the first offending row indices of a boolean mask."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f", ... ({rows.size} rows)" if rows.size > limit else ""
    return f"[{shown}{more}]"


def _as_float_array(values, name):
    """Convert ``values`` to a float64 array or raise a TypeError naming it.

    Complex numbers, dates, durations and strings are refused rather than
    cast (numpy would drop an imaginary part, or read "0.1" as a number).
    """
    try:
        raw = np.asarray(values)
    except ValueError as exc:
        raise ValueError(
            f"{name} is ragged: its rows hold different numbers of values; pass "
            "one number per row, or a rectangular array."
        ) from exc
    if raw.dtype.kind == "O":
        try:
            raw = np.asarray(values, dtype=np.float64)
        except ValueError as exc:
            if "inhomogeneous" in str(exc) or "sequence" in str(exc):
                raise ValueError(
                    f"{name} is ragged: its rows hold different numbers of values; "
                    "pass one number per row, or a rectangular array."
                ) from exc
            raise TypeError(
                f"{name} must be numeric; got values of type object. Convert "
                f"{name} to numbers first."
            ) from exc
        except TypeError as exc:
            raise TypeError(
                f"{name} must be numeric; got values of type object. Convert "
                f"{name} to numbers first."
            ) from exc
    kinds = {"c": "complex numbers", "M": "dates", "m": "durations"}
    if raw.dtype.kind in kinds or raw.dtype.kind in "USV":
        what = kinds.get(raw.dtype.kind, f"values of type {raw.dtype}")
        raise TypeError(
            f"{name} must be numeric (real numbers); got {what}. Convert {name} "
            "to numbers first."
        )
    return raw.astype(np.float64, copy=False)


def _exact(value):
    """A number as written, to its last significant digit (1.0000001, not 1)."""
    return np.format_float_positional(float(value), trim="-")


def check_finite(array, name):
    """Raise a ValueError naming ``name`` and the rows holding NaN or infinity."""
    bad = ~np.isfinite(array)
    if bad.any():
        if bad.ndim > 1:
            bad = bad.any(axis=tuple(range(1, bad.ndim)))
        raise ValueError(
            f"{name} contains NaN or infinity at rows {_rows(bad)}; "
            f"drop or impute those rows before fitting."
        )


def check_numeric(values, name):
    """Return ``values`` as a float64 array, or raise a TypeError naming ``name``."""
    return _as_float_array(values, name)


# Largest |reward| or |cost| accepted: far beyond any real quality or price, it
# leaves float64 room for the squares and weighted sums of the nuisance models.
MAX_OUTCOME_MAGNITUDE = 1e100

# Features are fed to float32 torch modules and squared by the nuisance models:
# beyond float32's range they overflow.
MAX_FEATURE_MAGNITUDE = float(np.finfo(np.float32).max)


def check_feature_range(X, name="X"):
    """Raise a ValueError if ``X`` holds values beyond float32's range."""
    if X.size == 0:
        return
    # Two reductions instead of max(abs(X)): no temporary copy of X.
    largest = float(max(np.max(X), -np.min(X)))
    if largest > MAX_FEATURE_MAGNITUDE:
        raise ValueError(
            f"{name} holds values up to {largest:.3g} in magnitude, beyond "
            f"{MAX_FEATURE_MAGNITUDE:.3g}, float32's range, in which the policy "
            f"networks compute and past which the models overflow; rescale {name}, "
            "e.g. with StandardScaler."
        )


# Rewordings of scikit-learn's array-check messages that do not say which
# argument they are about; the original message is kept after the colon.
_ARRAY_ERRORS = (
    ("could not convert", "{name} must hold numbers"),
    ("argument must be", "{name} must hold numbers"),
    ("Found array with 0 sample(s)", "{name} has no rows"),
    ("Found array with 0 feature(s)", "{name} has no features"),
    ("Expected 2D array", "{name} must be a 2-D array (n_samples, n_features)"),
    ("Found array with dim", "{name} must be a 2-D array (n_samples, n_features)"),
    ("Complex data not supported", "{name} must hold real numbers"),
    (
        "inconsistent numbers of samples",
        "{name} and y must have one row per logged query",
    ),
)


@contextlib.contextmanager
def naming_array_errors(name="X", others=()):
    """Re-raise scikit-learn's array-check errors with the argument's name.

    Values that are not numbers raise a TypeError; other errors keep their type
    and their message, prefixed by what is wrong with ``name``. Messages that
    already name ``name`` or one of ``others`` are left as they are.
    """
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for phrase, problem in _ARRAY_ERRORS:
            if phrase in message:
                problem = problem.format(name=name)
                if problem.endswith("must hold numbers"):
                    raise TypeError(
                        f"{problem} (query features); {message}. Encode {name} "
                        "as numbers first."
                    ) from exc
                raise type(exc)(f"{problem}: {message}") from exc
        names = "|".join(re.escape(n) for n in (name, *others))
        if re.search(rf"\b({names})\b", message) is None:
            raise type(exc)(f"{name}: {message}") from exc
        raise


def check_y_labels(y):
    """Refuse missing model labels in ``y`` before anything else reads it."""
    try:
        labels = np.asarray(y)
    except ValueError:
        return
    if labels.ndim == 1:
        missing = _missing_labels(labels)
        if missing.any():
            raise ValueError(
                f"y holds missing model labels (None, NaN or '') at rows "
                f"{_rows(missing)}; drop those rows or fill in the model that "
                "answered."
            )


def check_time_arrays(X, name="X"):
    """Refuse dates and durations, which array checks would cast to numbers."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or isinstance(dtypes, np.dtype):
        dtypes = [getattr(X, "dtype", None)]
    kinds = {d.kind for d in dtypes if isinstance(d, np.dtype)}
    if kinds & {"M", "m"}:
        raise TypeError(
            f"{name} must hold real numbers (query features); got dates or "
            "durations. Encode them as numbers first."
        )


def check_cv_folds(action, cv):
    """Check that ``cv`` can split these logs into stratified cross-fitting folds.

    Integer ``cv`` folds are stratified by logged model: at least one model
    needs ``cv`` logged rows. Splitters are checked when they split.
    """
    if isinstance(cv, (str, bytes)):
        raise TypeError(
            f"cv must be an int >= 2 or a cross-validation splitter; got {cv!r}."
        )
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        return
    largest = int(np.bincount(action).max()) if action.size else 0
    if largest < cv:
        raise ValueError(
            f"cv={cv} cross-fitting folds need at least {cv} logged rows of one "
            f"model, stratified by model; y has {action.size} rows and its most "
            f"logged model {largest}. Pass a smaller cv (at least 2) or more "
            "logged rows."
        )


def check_cost_sensitivity(
    cost_sensitivity,
    name="cost_sensitivity",
    *,
    n_samples=None,
    cost_range=None,
    hint="",
):
    """Check a cost sensitivity ``lambda``: one number, or one per row.

    Parameters
    ----------
    cost_sensitivity : float or array-like of shape (n_samples,)
        The price of one unit of cost in units of quality.
    name : str, default="cost_sensitivity"
        Name of the argument in error messages.
    n_samples : int, default=None
        When None, ``cost_sensitivity`` must be one real number and a float is
        returned. Otherwise a scalar or one value per row is accepted and a
        float64 array of shape ``(n_samples,)`` is returned.
    cost_range : (float, float), default=None
        Closed range every value must lie in; None for any value >= 0.
    hint : str, default=""
        What to do when a value lies outside ``cost_range`` (ends the message).

    Returns
    -------
    float or ndarray of shape (n_samples,)
    """
    if n_samples is None:
        value = _cost_sensitivity_scalar(cost_sensitivity, name)
        values = np.array([value])
    else:
        values = _cost_sensitivity_rows(cost_sensitivity, name, n_samples)
        if not np.isfinite(values).all():
            raise ValueError(f"{name} contains NaN or infinity.")
        if (values < 0).any():
            raise ValueError(f"{name} must be >= 0; got {values[values < 0][0]:g}.")
    if cost_range is not None:
        low, high = cost_range
        outside = (values < low) | (values > high)
        if outside.any():
            raise ValueError(
                f"{name}={_exact(values[outside][0])} lies outside the range "
                f"[{low:g}, {high:g}]{'; ' + hint if hint else '.'}"
            )
    return value if n_samples is None else values


def _cost_sensitivity_scalar(cost_sensitivity, name):
    if isinstance(cost_sensitivity, bool) or not isinstance(
        cost_sensitivity, numbers.Real
    ):
        raise TypeError(
            f"{name} must be a non-negative real number; got "
            f"{type(cost_sensitivity).__name__}."
        )
    value = float(cost_sensitivity)
    if not np.isfinite(value) or value < 0:
        raise ValueError(
            f"{name} must be a finite number >= 0 (the price of one unit of cost "
            f"in units of quality); got {cost_sensitivity}."
        )
    return value


def _cost_sensitivity_rows(cost_sensitivity, name, n_samples):
    if isinstance(cost_sensitivity, (str, bytes)) or cost_sensitivity is True:
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {cost_sensitivity!r}."
        )
    raw = np.asarray(cost_sensitivity)
    if raw.dtype.kind not in "iuf" and raw.dtype.kind != "O":
        raise TypeError(
            f"{name} must be a number or an array of real numbers; got "
            f"values of type {raw.dtype}."
        )
    try:
        values = np.asarray(cost_sensitivity, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers.") from exc
    if values.ndim == 0:
        return np.full(n_samples, float(values))
    if values.shape != (n_samples,):
        raise ValueError(
            f"{name} must be a scalar or one value per row, shape "
            f"({n_samples},); got shape {values.shape}."
        )
    return values


def check_propensity(
    propensity,
    n_samples=None,
    name="propensity",
    hint="",
):
    """Check logging propensities: finite, in (0, 1], one per logged row.

    Parameters
    ----------
    propensity : array-like of shape (n_samples,)
        Probability with which the logging policy chose each logged model.
    n_samples : int, default=None
        Number of logged rows; None accepts any 1-D array.
    name : str, default="propensity"
        Name of the argument in error messages.
    hint : str, default=""
        What to do about values outside (0, 1] (ends the message).

    Returns
    -------
    ndarray of shape (n_samples,), dtype=float64
    """
    propensity = _as_float_array(propensity, name)
    if propensity.ndim != 1 or (
        n_samples is not None and propensity.shape[0] != n_samples
    ):
        expected = "n_samples" if n_samples is None else n_samples
        raise ValueError(
            f"{name} must have shape ({expected},), one probability per "
            f"logged row; got shape {propensity.shape}."
        )
    check_finite(propensity, name)
    outside = (propensity <= 0) | (propensity > 1)
    if outside.any():
        first = propensity[outside][0]
        raise ValueError(
            f"{name} must be in (0, 1]; got {_exact(first)} at rows "
            f"{_rows(outside)}." + (f" {hint}" if hint else "")
        )
    return propensity


def check_number(
    value,
    name,
    *,
    low=None,
    high=None,
    closed="both",
    integer=False,
    allow_none=False,
    note="",
    type_error=TypeError,
):
    """Check one real number (or int) against a range, and return it.

    Parameters
    ----------
    value : object
        The argument to check.
    name : str
        Name of the argument in error messages.
    low, high : float, default=None
        Bounds of the accepted range; None for no bound. Values must be finite.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the range.
    integer : bool, default=False
        Accept ints only (not bools).
    allow_none : bool, default=False
        Accept and return None.
    note : str, default=""
        Why the range is what it is, appended to the range in messages.
    type_error : type, default=TypeError
        Exception raised for a value that is not a number (or not an int).

    Returns
    -------
    float, int or None
    """
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    text = _range_text(low, high, closed, integer)
    alternative = " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, kind):
        noun = "an int" if integer else "a number"
        what = text if high is None or low is None else f"{noun} {text}"
        raise type_error(f"{name} must be {what}{alternative}{note}; got {value!r}.")
    left_ok = low is None or (
        value >= low if closed in ("both", "left") else value > low
    )
    right_ok = high is None or (
        value <= high if closed in ("both", "right") else value < high
    )
    if not (left_ok and right_ok and (integer or np.isfinite(value))):
        raise ValueError(f"{name} must be {text}{alternative}{note}; got {value!r}.")
    return int(value) if integer else value


def _range_text(low, high, closed, integer):
    """``in (0, 1]``, ``a finite number > 0`` or ``an int >= 2``."""
    left = closed in ("both", "left")
    right = closed in ("both", "right")
    noun = "an int" if integer else "a finite number"
    if low is None and high is None:
        return noun
    if high is None:
        return f"{noun} {'>=' if left else '>'} {low:g}"
    if low is None:
        return f"{noun} {'<=' if right else '<'} {high:g}"
    return f"in {'[' if left else '('}{low:g}, {high:g}{']' if right else ')'}"


def encode_actions(y, classes=None):
    """Encode the logged actions ``y`` as integer codes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The model that answered each query (labels).
    classes : array-like of shape (n_classes,), default=None
        The candidate models. Defaults to the sorted distinct values of ``y``.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    codes : ndarray of shape (n_samples,), dtype=intp
    """
    y = column_or_1d(y, warn=True)
    missing = _missing_labels(y)
    if missing.any():
        raise ValueError(
            f"y holds missing model labels (None, NaN or '') at rows "
            f"{_rows(missing)}; drop those rows or fill in the model that answered."
        )
    try:
        check_classification_targets(y)
        if classes is None:
            classes, codes = np.unique(y, return_inverse=True)
            return classes, codes.astype(np.intp)
    except TypeError as exc:
        raise TypeError(
            "y mixes label types (e.g. strings and integers); use one type for "
            "every model label."
        ) from exc
    except ValueError as exc:
        if "Unknown label type" not in str(exc):
            raise
        raise ValueError(
            f"y must hold model labels (strings or integers), one per logged row; {exc}"
        ) from exc
    classes = np.asarray(classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(
            "classes must be a non-empty 1-D list of candidate models; got shape "
            f"{classes.shape}."
        )
    if np.unique(classes).size != classes.size:
        raise ValueError("classes must not contain duplicates.")
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    try:
        position = np.searchsorted(sorted_classes, y)
    except TypeError as exc:
        raise TypeError(
            "y and classes hold labels of incompatible types; use the same type "
            "(all strings or all integers) for both."
        ) from exc
    position = np.clip(position, 0, classes.size - 1)
    unknown = sorted_classes[position] != y
    if unknown.any():
        raise ValueError(
            f"y holds models that are not in classes: "
            f"{np.unique(y[unknown])[:10].tolist()}; add them to classes."
        )
    return classes, order[position].astype(np.intp)


def _missing_labels(y):
    """Mask of labels that stand for a missing model: None, NaN or ''."""
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind in "US":
        return y == y.dtype.type()
    if y.dtype.kind == "O":
        return np.array(
            [
                label is None
                or (isinstance(label, float) and label != label)
                or (isinstance(label, str) and label == "")
                for label in y
            ],
            dtype=bool,
        )
    return np.zeros(y.shape, dtype=bool)


def encode_policy(y_pred, classes):
    """Map chosen labels to column codes, or pass probabilities through.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,) or (n_samples, n_classes)
        Model chosen for each query (labels from ``classes``), or routing
        probabilities.
    classes : ndarray of shape (n_classes,)

    Returns
    -------
    ndarray of shape (n_samples,), dtype=intp, or (n_samples, n_classes)
    """
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2:
        return y_pred
    lookup = {label: index for index, label in enumerate(classes.tolist())}
    try:
        return np.array([lookup[label] for label in y_pred.tolist()], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(
            f"y_pred holds a model that is not among classes: {exc.args[0]!r}."
        ) from None
    except TypeError as exc:
        raise TypeError(
            f"y_pred must hold model labels or routing probabilities; {exc}."
        ) from None


def check_action_counts(codes, classes, *, full_feedback, sample_weight=None):
    """Check that the log can support one model per class.

    Each model needs at least two logged rows so that its outcome and propensity
    models can be cross-fitted; rows of weight 0 do not count. In full-feedback
    mode only the number of candidate models matters.
    """
    if classes.size < 2:
        raise ValueError(
            f"y holds 1 class: only one model ({classes.tolist()[0]!r}) is a "
            "candidate, so there is nothing to route. Log at least two models, or "
            "send every query to that one without a router."
        )
    if full_feedback:
        return
    counts = np.bincount(codes, minlength=classes.size)
    if sample_weight is not None:
        weighted = np.bincount(codes, weights=sample_weight, minlength=classes.size)
        counts = np.where(weighted > 0, counts, 0)
    if (counts == 0).any():
        raise ValueError(
            f"models {classes[counts == 0].tolist()} were never logged in y (or only "
            "with sample_weight 0); their "
            "outcomes cannot be estimated from these logs. Drop them from classes "
            "or pass full-feedback 2-D reward."
        )
    if (counts == 1).any():
        raise ValueError(
            f"models {classes[counts == 1].tolist()} were logged only once in y; "
            "each model needs at least 2 logged rows to cross-fit its outcome "
            "models. Drop those rows or collect more logs."
        )


def check_logged_outcomes(
    reward, cost, propensity, sample_weight, *, n_samples, n_classes
):
    """Validate the per-sample arrays that accompany logged actions.

    Parameters
    ----------
    reward : array-like of shape (n_samples,) or (n_samples, n_classes)
        Quality of the logged answer, or a full-feedback quality matrix whose
        columns follow ``classes_``.
    cost : array-like of the same shape as ``reward`` or None
        Cost of the logged answer (non-negative), or a full-feedback matrix.
    propensity : array-like of shape (n_samples,) or None
        Probability with which the logging policy chose the logged model.
    sample_weight : array-like of shape (n_samples,) or None
    n_samples, n_classes : int

    Returns
    -------
    reward, cost, propensity, sample_weight : ndarray or None
        ``float64`` arrays; ``sample_weight`` is filled with ones when None.
    """
    if reward is None:
        raise TypeError(
            "reward is required: pass reward=<quality of each logged answer>. "
            + ROUTING_HINT
        )
    reward = _check_outcome(reward, "reward", n_samples, n_classes)
    if cost is not None:
        cost = _check_outcome(cost, "cost", n_samples, n_classes)
        if cost.ndim != reward.ndim:
            raise ValueError(
                f"cost must have the same shape as reward; got cost {cost.shape} "
                f"and reward {reward.shape}. Pass both as logged (n_samples,) "
                "arrays or both as full-feedback (n_samples, n_classes) matrices."
            )
        if (cost < 0).any():
            raise ValueError(
                f"cost must be non-negative; got negative values at rows "
                f"{_rows((cost < 0).reshape(n_samples, -1).any(axis=1))}."
            )
    if propensity is not None:
        propensity = check_propensity(
            propensity,
            n_samples,
            hint="Pass the probability with which the logging policy chose the "
            "logged model, or omit propensity to estimate it.",
        )
    if sample_weight is not None:
        sample_weight = _as_float_array(sample_weight, "sample_weight")
    sample_weight = _check_sample_weight(
        sample_weight, np.empty((n_samples, 1)), ensure_non_negative=True
    )
    if not sample_weight.sum() > 0:
        raise ValueError(
            "sample_weight must have a positive sum; every row has weight 0."
        )
    positive = sample_weight[sample_weight > 0]
    low, high = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    if positive.min() < low or positive.max() > high:
        raise ValueError(
            f"sample_weight holds positive values from {positive.min():.3g} to "
            f"{positive.max():.3g}, outside [{low:.3g}, {high:.3g}], the float32 "
            "range in which the models compute; rescale sample_weight, e.g. divide "
            "it by its mean."
        )
    return reward, cost, propensity, sample_weight


def _check_outcome(values, name, n_samples, n_classes):
    array = _as_float_array(values, name)
    if array.ndim == 1:
        if array.shape[0] != n_samples:
            raise ValueError(
                f"{name} has {array.shape[0]} rows but X has {n_samples}; pass one "
                f"{name} value per logged row."
            )
    elif array.ndim == 2:
        if array.shape != (n_samples, n_classes):
            raise ValueError(
                f"full-feedback {name} must have shape (n_samples, n_classes) = "
                f"({n_samples}, {n_classes}), one column per model in classes_; "
                f"got {array.shape}."
            )
    else:
        raise ValueError(
            f"{name} must be 1-D (logged) or 2-D (full feedback); got "
            f"{array.ndim} dimensions."
        )
    check_finite(array, name)
    if array.size and np.max(np.abs(array)) > MAX_OUTCOME_MAGNITUDE:
        raise ValueError(
            f"{name} holds values up to {np.max(np.abs(array)):.3g} in magnitude, "
            f"beyond {MAX_OUTCOME_MAGNITUDE:g}, where the outcome models overflow; "
            f"rescale {name} (e.g. quality to [0, 1], cost per 1,000 queries)."
        )
    return array


def check_hidden_layer_sizes(hidden_layer_sizes):
    """Return ``hidden_layer_sizes`` as a tuple of positive ints, or raise."""
    try:
        sizes = tuple(hidden_layer_sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive ints, e.g. (128,) or "
            f"(256, 64), or () for a linear policy; got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)
