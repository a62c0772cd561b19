"""Pseudo-outcomes of a subset of the logged rows, cross-fitted on that subset alone.

A policy fold's network trains on targets whose nuisance models never saw
the rows the fold is judged on: the targets of its training rows are
cross-fitted again, on those rows only (nested cross-fitting).
"""

import numbers

import numpy as np

from skroute.causal._folds import is_split_list
from skroute.causal._pseudo_outcomes import cross_fit_pseudo_outcomes


class _RowsOf:
    """Rows ``rows`` of ``X``, indexed as an array of their own without a copy.

    Cross-fitting reads its features only as ``X[index]`` with index arrays
    (or masks) over its rows, and ``X.shape``: this maps those onto ``X``
    itself, so that a subset's rows are never copied out as a whole (two
    thirds of ``X`` per policy fold).
    """

    def __init__(self, X, rows):
        self.X = X
        self.rows = np.asarray(rows)
        self.shape = (self.rows.size, *X.shape[1:])

    def __getitem__(self, index):
        return self.X[self.rows[index]]


def _subset(values, rows):
    return None if values is None else values[rows]


def cross_fit_on_rows(logs, rows=None, *, warn_overlap=True, **settings):
    """Cross-fitted pseudo-outcomes of ``rows`` of ``logs`` (all rows when None).

    Parameters
    ----------
    logs : object
        Validated logs, with the arrays ``X``, ``action``, ``reward``,
        ``cost``, ``propensity`` and ``sample_weight`` (one row per query).
    rows : ndarray of int, default=None
        The rows to cross-fit on; their features are read from ``logs.X``
        without a copy.
    warn_overlap : bool, default=True
    **settings
        The nuisance settings of :func:`cross_fit_pseudo_outcomes`
        (``n_classes``, ``method``, ``cv``, ...).

    Returns
    -------
    PseudoOutcomes
    """
    X = logs.X if rows is None else _RowsOf(logs.X, rows)
    if rows is None:
        rows = slice(None)
    return cross_fit_pseudo_outcomes(
        X,
        logs.action[rows],
        logs.reward[rows],
        _subset(logs.cost, rows),
        _subset(logs.propensity, rows),
        sample_weight=logs.sample_weight[rows],
        warn_overlap=warn_overlap,
        **settings,
    )


def nested_pseudo_outcomes(logs, rows, *, cv, max_folds, **settings):
    """Pseudo-outcomes of ``rows``, cross-fitted on those rows alone.

    ``cv`` is the caller's cross-fitting: a number of folds (capped at
    ``max_folds`` and at the rows of the rarest logged model, so that every
    training fold logs every model), a splitter, or a list of splits of all
    rows (then the subset is split into as many folds). Returns None where
    the pseudo-outcomes of every row must serve instead: in full-feedback
    mode (the targets are the truth), where the rows are too few to split
    again, and where they log one model only (no propensity model fits).

    Parameters
    ----------
    logs : object
        As in :func:`cross_fit_on_rows`.
    rows : ndarray of int
    cv : int, splitter or list of (train, test)
    max_folds : int
    **settings
        The other nuisance settings of :func:`cross_fit_pseudo_outcomes`.

    Returns
    -------
    PseudoOutcomes or None
    """
    counts = np.bincount(logs.action[rows])
    smallest = int(counts[counts > 0].min())
    if is_split_list(cv):
        cv = len(cv)
    if isinstance(cv, numbers.Integral):
        cv = min(cv, max_folds, smallest)
    too_few = isinstance(cv, numbers.Integral) and cv < 2
    one_model = (counts > 0).sum() < 2
    if logs.reward.ndim == 2 or too_few or one_model:
        return None
    return cross_fit_on_rows(logs, rows, cv=cv, warn_overlap=False, **settings)
