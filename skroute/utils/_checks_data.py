"""Checks of the arrays that off-policy estimates, metrics and data sets read.

The estimators in :mod:`skroute.ope`, :mod:`skroute.metrics` and the loaders
in :mod:`skroute.datasets` keep their formulas; what they refuse, and how they
say so, is written here.
"""

import numbers
from pathlib import Path

import numpy as np

from skroute.utils._validation import _rows, check_finite, check_numeric


def check_choice(value, name, choices):
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if value in choices:
        return value
    if len(choices) == 2:
        expected = f"{choices[0]!r} or {choices[1]!r}"
    else:
        expected = f"one of {tuple(choices)}"
    raise ValueError(f"{name} must be {expected}; got {value!r}.")


def check_policy(policy, n_samples, n_classes, name="policy"):
    """Check a policy: routing probabilities, or one chosen model code per row.

    Returns
    -------
    ndarray
        Float64 probabilities of shape (n_samples, n_classes), or integer codes
        of shape (n_samples,).
    """
    policy = np.asarray(policy)
    if policy.ndim == 2:
        if policy.shape != (n_samples, n_classes):
            raise ValueError(
                f"{name} probabilities must have shape ({n_samples}, {n_classes}); "
                f"got {policy.shape}."
            )
        proba = policy.astype(np.float64)
        if not np.isfinite(proba).all() or (proba < 0).any() or (proba > 1).any():
            raise ValueError(f"{name} probabilities must be finite and in [0, 1].")
        sums = proba.sum(axis=1)
        bad = np.abs(sums - 1.0) > 1e-6
        if bad.any():
            raise ValueError(
                f"{name} probabilities must sum to 1 in every row; row "
                f"{np.flatnonzero(bad)[0]} sums to {sums[bad][0]:.6g}. Normalise them "
                "or pass the chosen model per row."
            )
        return proba
    if policy.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape ({n_samples},) or ({n_samples}, {n_classes}); "
            f"got {policy.shape}: pass one chosen model per row, or one row of "
            "routing probabilities per query."
        )
    if not np.issubdtype(policy.dtype, np.integer):
        raise TypeError(
            f"{name} must hold integer model codes in [0, {n_classes}); got dtype "
            f"{policy.dtype}. Map labels to codes first."
        )
    if ((policy < 0) | (policy >= n_classes)).any():
        raise ValueError(f"{name} codes must be in [0, {n_classes}).")
    return policy


def check_logged_actions(action):
    """Return ``action`` as a non-empty 1-D array of integer model codes."""
    action = np.asarray(action)
    if action.ndim != 1 or not np.issubdtype(action.dtype, np.integer):
        raise TypeError("action must be a 1-D array of integer model codes.")
    if action.shape[0] == 0:
        raise ValueError("no logged rows: action is empty.")
    return action


def check_action_codes(action, n_classes):
    """Raise a ValueError unless every code of ``action`` names one of the models."""
    if action.min() < 0 or action.max() >= n_classes:
        raise ValueError(f"action codes must be in [0, {n_classes}).")


def check_observed_outcome(outcome, n_samples):
    """Return the observed outcome of each logged row, finite, as float64."""
    outcome = check_numeric(outcome, "outcome")
    if outcome.shape != (n_samples,):
        raise ValueError(
            f"outcome has shape {outcome.shape} but action has {n_samples} rows; pass "
            "one observed outcome per logged row."
        )
    if not np.isfinite(outcome).all():
        raise ValueError("outcome contains NaN or infinity; drop those rows.")
    return outcome


def check_outcome_estimates(outcome_estimates, n_samples):
    """Return an outcome model's (n_samples, n_classes) predictions, finite."""
    estimates = check_numeric(outcome_estimates, "outcome_estimates")
    if estimates.ndim != 2 or estimates.shape[0] != n_samples:
        raise ValueError(
            f"outcome_estimates must have shape ({n_samples}, n_classes); got "
            f"{estimates.shape}."
        )
    if not np.isfinite(estimates).all():
        raise ValueError(
            "outcome_estimates contains NaN or infinity; refit the outcome model "
            "or drop those rows."
        )
    return estimates


def check_row_weights(sample_weight, n_samples):
    """Return finite, non-negative row weights with a positive sum (ones if None)."""
    weight = (
        np.ones(n_samples)
        if sample_weight is None
        else check_numeric(sample_weight, "sample_weight")
    )
    if (
        weight.shape != (n_samples,)
        or not np.isfinite(weight).all()
        or (weight < 0).any()
        or not weight.sum() > 0
    ):
        raise ValueError(
            "sample_weight must be finite and non-negative, one per row, with a "
            "positive sum."
        )
    return weight


def check_weight_inputs(policy, action, propensity):
    """Check the routing probabilities, actions and propensities of weights."""
    policy = check_numeric(policy, "policy")
    action = np.asarray(action)
    propensity = check_numeric(propensity, "propensity")
    rows = (policy.shape[0],) if policy.ndim == 2 else None
    if rows is None or action.shape != rows or propensity.shape != rows:
        raise ValueError(
            "policy must have shape (n_samples, n_classes), and action and "
            f"propensity shape (n_samples,); got {policy.shape}, {action.shape} and "
            f"{propensity.shape}."
        )
    if action.size == 0:
        raise ValueError("no logged rows: action is empty.")
    return policy, action, propensity


def check_table_path(path, readers, *, trusted):
    """Return ``(Path, reader)`` for a table file, or raise naming the file.

    ``readers`` maps suffixes to pandas reader names; a pickled table runs code
    as it loads and is refused unless ``trusted``.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path of a table file; got {path!r}.")
    path = Path(path)
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ValueError(
            f"{path}: unknown table format {path.suffix!r}; use one of "
            f"{sorted(readers)}."
        )
    if reader == "read_pickle" and not trusted:
        raise ValueError(
            f"{path}: a pickled table can run code from the file as it loads, so "
            "it is read only in Python with trusted=True, for files you trust "
            "(the command line never reads pickles); save the table as CSV or "
            "parquet."
        )
    return path, reader


def check_unique_columns(names, path):
    """Raise a ValueError naming the columns that appear twice in a header."""
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise ValueError(
            f"{path}: the columns {repeated} appear more than once in the header "
            f"{list(names)}; give every column its own name."
        )


def check_column_names(value, name):
    """A list of column names; a lone string is refused, not split in letters."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"{name} must be a list of column names; got {value!r} (for one "
            f"column, pass [{value!r}])."
        )
    return [str(v) for v in value]


def check_has_column(columns, column, path, what):
    """Raise a ValueError if the table of ``path`` lacks ``column``."""
    if column not in columns:
        raise ValueError(
            f"{path}: missing {what} column {column!r}; the columns are "
            f"{list(columns)}."
        )


def check_column_values(bad, column, path, problem, fix):
    """Raise a ValueError naming the rows of ``column`` where ``bad`` is True."""
    if bad.any():
        raise ValueError(
            f"{path}: column {column!r} holds {problem} at rows {_rows(bad)}{fix}"
        )


def check_full_feedback_rows(duplicated, path):
    """Raise a ValueError if (query, model) pairs of a long table repeat."""
    if duplicated.any():
        raise ValueError(
            f"{path}: (query, model) pairs appear twice at rows {_rows(duplicated)}; "
            "each model must have one result per query."
        )


def load_array_file(path, what):
    """A ``.npy`` file of numbers, read without pickle and within its own size.

    The file is mapped before it is copied, so a header that claims more data
    than the file holds is an error, not an allocation.
    """
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        brief = " ".join(str(exc).split())[:160]
        raise ValueError(f"{path}: not a .npy array ({what}): {brief}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
        raise ValueError(f"{path}: not a .npy array of numbers ({what}).")
    return np.array(array)


def check_embeddings(embeddings, n_rows, path, source):
    """Return row-aligned, finite embeddings within float32's range, as float32."""
    array = check_numeric(embeddings, f"{path}: the embeddings")
    if not np.isfinite(array).all():
        raise ValueError(f"{path}: the embeddings contain NaN or infinity.")
    beyond = np.abs(array) > np.finfo(np.float32).max
    if beyond.any():
        raise ValueError(
            f"{path}: the embeddings hold values up to {np.abs(array).max():.3g}, "
            "beyond float32's range (3.4e+38) in which they are used; rescale them."
        )
    array = array.astype(np.float32)
    if array.ndim != 2 or array.shape[0] != n_rows:
        raise ValueError(
            f"{path}: the table has {n_rows} rows but the embeddings "
            f"({source if isinstance(source, (str, Path)) else 'array'}) have shape "
            f"{array.shape}; they must be row-aligned with the table."
        )
    return array


def check_embedding_columns(X, columns, path):
    """Raise a ValueError naming the first embedding column beyond float32."""
    beyond = np.abs(X) > np.finfo(np.float32).max
    if beyond.any():
        column = columns[int(np.flatnonzero(beyond.any(axis=0))[0])]
        raise ValueError(
            f"{path}: column {column!r} holds embedding values beyond float32's "
            f"range at rows {_rows(beyond.any(axis=1))}; rescale the embeddings."
        )


def check_full_feedback(X, reward, cost=None):
    """Check features and full-feedback (n_samples, n_models) reward and cost."""
    X = check_numeric(X, "X")
    reward = check_numeric(reward, "reward")
    if X.ndim != 2 or reward.ndim != 2 or reward.shape[0] != X.shape[0]:
        raise ValueError(
            "X must be (n_samples, n_features) and reward (n_samples, n_models) with "
            f"the same number of rows; got X {X.shape} and reward {reward.shape}."
        )
    check_finite(X, "X")
    check_finite(reward, "reward")
    return X, reward, _check_cost_like(cost, reward)


def check_model_names(models, n_models):
    """Return one name per column of reward (0, 1, ... when None)."""
    models = np.arange(n_models) if models is None else np.asarray(models)
    if models.shape != (n_models,):
        raise ValueError(
            f"models must name the {n_models} columns of reward; got {models.shape}."
        )
    return models


def check_prompts(prompts):
    """Return ``prompts`` as a 1-D object array of strings."""
    if isinstance(prompts, str):
        raise TypeError("prompts must be a sequence of strings, not one string.")
    prompts = np.asarray(prompts, dtype=object)
    if prompts.ndim != 1:
        raise ValueError(f"prompts must be 1-D; got shape {prompts.shape}.")
    not_text = [i for i, p in enumerate(prompts) if not isinstance(p, str)]
    if not_text:
        raise TypeError(
            f"prompts must be strings; rows {not_text[:10]} are not "
            f"(e.g. {prompts[not_text[0]]!r})."
        )
    return prompts


def check_price_entry(entry, model, path, keys):
    """Return a model's (input, output) token prices from a price file entry."""
    if isinstance(entry, dict):
        missing = [k for k in keys if k not in entry]
        if missing:
            raise ValueError(f"{path}: model {model!r} lacks {missing}.")
        pair = (entry[keys[0]], entry[keys[1]])
    elif isinstance(entry, list) and len(entry) == 2:
        pair = tuple(entry)
    else:
        raise ValueError(
            f"{path}: the prices of model {model!r} must be an object with "
            f"{keys[0]!r} and {keys[1]!r}, or a pair [input, output]; "
            f"got {entry!r}."
        )
    if not all(isinstance(p, numbers.Real) and np.isfinite(p) and p >= 0 for p in pair):
        raise ValueError(
            f"{path}: the prices of model {model!r} must be finite numbers "
            f">= 0; got {pair!r}."
        )
    return float(pair[0]), float(pair[1])


def check_instance(value, name, kind, source):
    """Raise a TypeError unless ``value`` is a ``kind``, made by ``source``."""
    if not isinstance(value, kind):
        raise TypeError(
            f"{name} must be a {kind.__name__}, the output of {source}; "
            f"got {type(value).__name__}."
        )


def check_finite_values(value, name):
    """``value`` as a float64 array, checked to be finite."""
    array = check_numeric(value, name)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; got {value!r}.")
    return array


def check_curve_points(costs, qualities):
    """Return the (mean cost, mean quality) points of routers, 1-D and finite."""
    costs = check_numeric(costs, "costs")
    qualities = check_numeric(qualities, "qualities")
    if costs.ndim != 1 or costs.shape != qualities.shape or costs.size == 0:
        raise ValueError(
            "costs and qualities must be 1-D arrays of the same, non-zero length; "
            f"got {costs.shape} and {qualities.shape}."
        )
    if not (np.isfinite(costs).all() and np.isfinite(qualities).all()):
        raise ValueError("costs and qualities must be finite.")
    return costs, qualities


def check_full_feedback_outcomes(reward, cost=None):
    """Return full-feedback (n_samples, n_models) reward and cost, finite."""
    reward = check_numeric(reward, "reward")
    if reward.ndim != 2:
        raise ValueError(
            f"reward must be a full-feedback (n_samples, n_models) matrix; got shape "
            f"{reward.shape}."
        )
    if reward.shape[0] == 0:
        raise ValueError("reward has no rows: there are no queries to evaluate.")
    check_finite(reward, "reward")
    return reward, _check_cost_like(cost, reward)


def _check_cost_like(cost, reward):
    """``cost`` (None stays None) as a finite array of ``reward``'s shape."""
    if cost is None:
        return None
    cost = check_numeric(cost, "cost")
    if cost.shape != reward.shape:
        raise ValueError(
            f"cost must have the shape of reward {reward.shape}; got {cost.shape}."
        )
    check_finite(cost, "cost")
    return cost


def check_pseudo_outcome_inputs(target, action, propensity, n_samples, n_classes):
    """Check the logged rows a pseudo-outcome formula reads.

    ``propensity`` must be > 0: it is the (clipped) estimate the formula divides
    by, and may come from a model rather than from the logs.
    """
    target = check_numeric(target, "target")
    action = np.asarray(action)
    if action.dtype.kind not in "iu":
        raise TypeError(
            "action must hold integer model codes (columns of outcome_estimates); "
            f"got dtype {action.dtype}."
        )
    propensity = check_numeric(propensity, "propensity")
    for name, array in (
        ("target", target),
        ("action", action),
        ("propensity", propensity),
    ):
        if array.shape != (n_samples,):
            raise ValueError(
                f"{name} must have shape ({n_samples},), one value per row of "
                f"outcome_estimates; got {array.shape}."
            )
    if n_samples and (action.min() < 0 or action.max() >= n_classes):
        outside = np.unique(action[(action < 0) | (action >= n_classes)])
        raise ValueError(
            f"action codes must lie in [0, {n_classes}); got {outside[:10].tolist()}."
        )
    if not (propensity > 0).all():
        raise ValueError("propensity must be > 0 (clip it first).")
    return target, action, propensity


def check_shrinkage(shrinkage, n_classes, method):
    """Return one shrinkage level >= 0 per arm (one value is broadcast)."""
    tau = np.asarray(shrinkage if shrinkage is not None else np.nan, dtype=float)
    tau = np.broadcast_to(tau, (n_classes,)) if tau.ndim == 0 else tau
    if tau.shape != (n_classes,) or not (tau >= 0).all():
        raise ValueError(
            f"method={method!r} needs shrinkage >= 0 (0 is the direct method, inf "
            f"is doubly robust), one value or one per arm; got {shrinkage!r}."
        )
    return tau
