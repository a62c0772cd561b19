"""The preprocessing steps of a Pipeline as data: settings and arrays.

Each step kind that a router file holds is written here from its fitted
scikit-learn (or skroute) estimator, and applied by :mod:`skroute.serving`
with the same operations as its ``transform``. A step of another kind is
refused: a router file holds no code.
"""

import os

import numpy as np
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import check_is_fitted

from skroute.text import PromptEmbedder


def _standard_scaler(step):
    arrays = {}
    if step.mean_ is not None and step.with_mean:
        arrays["mean"] = step.mean_
    if step.scale_ is not None:
        arrays["scale"] = step.scale_
    return {}, arrays


def _robust_scaler(step):
    arrays = {}
    if step.center_ is not None and step.with_centering:
        arrays["center"] = step.center_
    if step.scale_ is not None and step.with_scaling:
        arrays["scale"] = step.scale_
    return {}, arrays


def _max_abs_scaler(step):
    return {"clip": bool(getattr(step, "clip", False))}, {"scale": step.scale_}


def _min_max_scaler(step):
    settings = {
        "clip": bool(step.clip),
        "feature_range": [float(v) for v in step.feature_range],
    }
    return settings, {"scale": step.scale_, "min": step.min_}


def _normalizer(step):
    return {"norm": step.norm}, {}


def _pca(step):
    arrays = {"mean": step.mean_, "components": step.components_}
    if step.whiten:
        arrays["variance"] = step.explained_variance_
    return {}, arrays


def _truncated_svd(step):
    return {}, {"components": step.components_}


def _prompt_embedder(step):
    if callable(step.truncate):
        raise ValueError(
            f"PromptEmbedder(truncate={step.truncate!r}) cannot be written as "
            "data: a router file holds no code. Use truncate='head', 'tail' or "
            "'last_block'."
        )
    model = None if step.model is None else os.fspath(step.model)
    settings = {
        "model": model,
        "batch_size": int(step.batch_size),
        "normalize": bool(step.normalize),
        "truncate": step.truncate,
        "max_seq_length": step.max_seq_length,
        "dimension": int(step.embedding_dimension_),
    }
    return settings, {}


# Exact types: a subclass may transform otherwise.
_KINDS = {
    StandardScaler: ("standard_scaler", _standard_scaler),
    RobustScaler: ("robust_scaler", _robust_scaler),
    MaxAbsScaler: ("max_abs_scaler", _max_abs_scaler),
    MinMaxScaler: ("min_max_scaler", _min_max_scaler),
    Normalizer: ("normalizer", _normalizer),
    PCA: ("pca", _pca),
    TruncatedSVD: ("truncated_svd", _truncated_svd),
    PromptEmbedder: ("prompt_embedder", _prompt_embedder),
}
STORABLE = ", ".join(cls.__name__ for cls in _KINDS)


def step_data(name, step):
    """The settings (with ``kind``) and arrays of one fitted Pipeline step."""
    entry = _KINDS.get(type(step))
    if entry is None:
        raise ValueError(
            f"the Pipeline step {name!r} ({type(step).__name__}) cannot be written "
            f"as data; a router file holds these steps: {STORABLE}. Apply that "
            "step before the Pipeline, or pickle the Pipeline for trusted use "
            "only."
        )
    check_is_fitted(step)
    kind, write = entry
    settings, arrays = write(step)
    if getattr(step, "sparse_output_", False):
        raise ValueError(f"the Pipeline step {name!r} outputs sparse matrices.")
    return {"kind": kind, **settings}, {
        key: np.asarray(value) for key, value in arrays.items()
    }
