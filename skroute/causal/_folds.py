"""Cross-fitting folds shared by every nuisance model."""

import numbers
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold


def make_folds(action, cv, random_state):
    """Split rows into cross-fitting folds, stratified by the logged model.

    Parameters
    ----------
    action : ndarray of shape (n_samples,)
        Integer code of the logged model of each row.
    cv : int, cross-validation splitter or list of (train, test) index arrays
        Number of folds (>= 2), or an object with a ``split(X, y)`` method.
    random_state : int
        Seed of the shuffled stratified split.

    Returns
    -------
    list of (train, test) index arrays

    Examples
    --------
    Every row is in exactly one test fold, and each fold holds the same share
    of every logged model:

    >>> import numpy as np
    >>> from skroute.causal import make_folds
    >>> action = np.array([0, 0, 0, 1, 1, 1])
    >>> folds = make_folds(action, cv=3, random_state=0)
    >>> sorted(np.concatenate([test for _, test in folds]).tolist())
    [0, 1, 2, 3, 4, 5]
    >>> [np.bincount(action[test], minlength=2).tolist() for _, test in folds]
    [[1, 1], [1, 1], [1, 1]]
    """
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(
                f"cv must be at least 2 so that each row's nuisance estimates come "
                f"from models that never saw it; got cv={cv}."
            )
        splitter = StratifiedKFold(
            n_splits=int(cv), shuffle=True, random_state=random_state
        )
    elif hasattr(cv, "split"):
        splitter = cv
    elif is_split_list(cv):
        splitter = None
    else:
        raise TypeError(
            "cv must be an int >= 2, a cross-validation splitter or a list of "
            f"(train, test) index arrays; got {cv!r}."
        )
    if splitter is None:
        folds = _checked_split_list(cv, action.shape[0])
    else:
        with warnings.catch_warnings():
            # Models logged fewer times than there are folds are expected: their
            # arm models fall back to simpler estimates on the folds that lack
            # them.
            warnings.filterwarnings("ignore", message="The least populated class")
            folds = list(splitter.split(np.zeros((action.shape[0], 1)), action))
    if len(folds) < 2:
        raise ValueError(f"cv must produce at least 2 folds; got {len(folds)}.")
    tested = np.concatenate([test for _, test in folds])
    if tested.size != action.shape[0] or np.unique(tested).size != tested.size:
        raise ValueError(
            "cv must put every row in exactly one test fold (as KFold does), so "
            "that each row gets one cross-fitted estimate; "
            f"{'the list of splits' if splitter is None else type(splitter).__name__}"
            " does not."
        )
    for index, (train, test) in enumerate(folds):
        shared = np.intersect1d(train, test).size
        if shared:
            raise ValueError(
                f"cv: fold {index} trains on {shared} of the rows it predicts, so "
                "nothing would be cross-fitted; pass a splitter whose training "
                "rows exclude its test rows (as KFold's do)."
            )
    return folds


def is_split_list(cv):
    """Whether ``cv`` is a list (or tuple) of ``(train, test)`` pairs."""
    return (
        isinstance(cv, (list, tuple))
        and len(cv) > 0
        and all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in cv)
    )


def _checked_split_list(cv, n_samples):
    """The pairs of a list of splits as integer arrays within ``range(n_samples)``."""
    folds = []
    for index, (train, test) in enumerate(cv):
        pair = []
        for part, name in ((train, "train"), (test, "test")):
            part = np.asarray(part)
            if part.dtype == bool and part.shape == (n_samples,):
                part = np.flatnonzero(part)
            if part.ndim != 1 or (part.size and part.dtype.kind not in "iu"):
                raise ValueError(
                    f"cv: the {name} rows of split {index} must be a 1-D array of "
                    "integer row indices (or a boolean mask of every row)."
                )
            if part.size and (part.min() < 0 or part.max() >= n_samples):
                raise ValueError(
                    f"cv: split {index} names {name} rows outside 0..{n_samples - 1}"
                    f"; the splits must index the {n_samples} rows passed to fit."
                )
            pair.append(part.astype(np.intp))
        folds.append(tuple(pair))
    return folds
