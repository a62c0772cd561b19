"""Routing probabilities and per-row draws, as training and serving compute them."""

import hashlib

import numpy as np


def softmax(scores):
    """Row-wise softmax of a score matrix, shifted by each row's maximum.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_classes)

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Each row sums to one.
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def row_uniforms(X):
    """One number in ``[0, 1)`` per row, a hash of the row's float64 bytes.

    The same query draws the same number wherever and in whatever batch it is
    routed, so a fitted router and its export draw alike.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    rows = np.ascontiguousarray(X, dtype=np.float64)
    values = np.empty(rows.shape[0])
    for i, row in enumerate(rows):
        digest = hashlib.blake2b(row.tobytes(), digest_size=8).digest()
        values[i] = int.from_bytes(digest, "little") / 2.0**64
    return values
