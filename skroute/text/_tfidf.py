"""A prompt-to-features Pipeline with scikit-learn alone: TF-IDF, then SVD."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import (
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.utils.validation import check_is_fitted

from skroute.text._prompts import truncate_texts

_HASHED_TERMS = 2**18


def make_tfidf_embedder(
    n_components=256,
    *,
    truncate=None,
    hashing=False,
    ngram_range=(1, 2),
    min_df=1,
    random_state=None,
):
    """Dense prompt features without sentence-transformers: TF-IDF, SVD, unit norm.

    Returns a scikit-learn Pipeline to put where :class:`PromptEmbedder` would
    go, e.g. ``make_pipeline(make_tfidf_embedder(), CausalRouterClassifier())``.
    Unlike the embedding model, it learns its vocabulary and projection in
    ``fit``, from the training prompts alone.

    Parameters
    ----------
    n_components : int, default=256
        Dimension of the features (``TruncatedSVD``, latent semantic analysis);
        below the number of training prompts and of distinct terms.
    truncate : None, "last_block" or callable, default=None
        Text-level truncation applied first: ``"last_block"`` keeps the
        question of a few-shot prompt (:func:`last_block`); a callable maps
        each prompt to a string. TF-IDF reads whole texts, so the word-piece
        policies of :class:`PromptEmbedder` (``"head"``, ``"tail"``) do not
        apply.
    hashing : bool, default=False
        Hash terms into 2**18 columns (``HashingVectorizer``) instead of
        learning a vocabulary: nothing grows with the vocabulary of very large
        logs, at the price of a few collisions between terms. The SVD then
        holds about ``2**18 * (n_components + 10)`` floats while it is fitted.
    ngram_range : tuple of int, default=(1, 2)
        Word n-grams counted.
    min_df : int or float, default=1
        Terms in fewer training prompts (or a smaller share) are dropped;
        ignored when ``hashing=True``.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized SVD.

    Returns
    -------
    Pipeline
        Prompts in, float32 unit-norm features of shape
        ``(n_samples, n_components)`` out.

    See Also
    --------
    PromptEmbedder : sentence embeddings from a pretrained model.

    Examples
    --------
    >>> from skroute.text import make_tfidf_embedder
    >>> prompts = ["What is the capital of France?", "What is 2 + 2?",
    ...            "Write a function that reverses a list.",
    ...            "Write a function that sorts a list."]
    >>> embedder = make_tfidf_embedder(n_components=2, random_state=0)
    >>> embedder.fit_transform(prompts).shape
    (4, 2)
    >>> list(embedder.named_steps)
    ['terms', 'svd', 'normalize']
    >>> embedder.get_feature_names_out().tolist()
    ['truncatedsvd0', 'truncatedsvd1']
    """
    if not (isinstance(n_components, Integral) and n_components >= 1):
        raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}.")
    if not (truncate is None or truncate == "last_block" or callable(truncate)):
        raise ValueError(
            f"truncate must be None, 'last_block' or a callable; got {truncate!r}. "
            "'head' and 'tail' count the word pieces of an embedding model and "
            "apply to PromptEmbedder only."
        )
    terms = TermWeights(
        truncate=truncate, hashing=hashing, ngram_range=ngram_range, min_df=min_df
    )
    return Pipeline(
        [
            ("terms", terms),
            (
                "svd",
                TruncatedSVD(n_components=n_components, random_state=random_state),
            ),
            ("normalize", Normalizer()),
        ]
    )


class TermWeights(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Prompts to sparse TF-IDF weights: the first step of :func:`make_tfidf_embedder`.

    Checks the prompts (a list, an array or Series, or one column of a
    DataFrame, as :class:`PromptEmbedder` takes), truncates them, and weighs
    their word n-grams by TF-IDF, from a learned vocabulary or hashed into
    2**18 columns.

    Parameters
    ----------
    truncate, hashing, ngram_range, min_df
        As in :func:`make_tfidf_embedder`.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer or Pipeline
        The fitted term weighting.

    Examples
    --------
    >>> from skroute.text._tfidf import TermWeights
    >>> terms = TermWeights().fit(["a short prompt", "another prompt"])
    >>> terms.get_feature_names_out()[:3].tolist()
    ['another', 'another prompt', 'prompt']
    """

    def __init__(self, truncate=None, hashing=False, ngram_range=(1, 2), min_df=1):
        self.truncate = truncate
        self.hashing = hashing
        self.ngram_range = ngram_range
        self.min_df = min_df

    def _texts(self, X):
        return truncate_texts(X, truncate=self.truncate)

    def fit(self, X, y=None):
        """Learn the vocabulary (or the IDF weights of hashed terms) of ``X``."""
        if self.hashing:
            hashed = HashingVectorizer(
                n_features=_HASHED_TERMS,
                ngram_range=self.ngram_range,
                alternate_sign=False,
                norm=None,
                dtype=np.float32,
            )
            vectorizer = Pipeline(
                [("hashing", hashed), ("idf", TfidfTransformer(sublinear_tf=True))]
            )
        else:
            vectorizer = TfidfVectorizer(
                ngram_range=self.ngram_range,
                min_df=self.min_df,
                sublinear_tf=True,
                dtype=np.float32,
            )
        self.vectorizer_ = vectorizer.fit(self._texts(X))
        return self

    def transform(self, X):
        """Sparse TF-IDF weights of the prompts ``X``."""
        check_is_fitted(self)
        return self.vectorizer_.transform(self._texts(X))

    def get_feature_names_out(self, input_features=None):
        """The terms (``hash<i>`` for hashed ones), in column order."""
        check_is_fitted(self)
        if self.hashing:
            return np.array([f"hash{i}" for i in range(_HASHED_TERMS)], dtype=object)
        return self.vectorizer_.get_feature_names_out()

    def set_output(self, *, transform=None):
        """Accept a Pipeline's ``set_output``; term weights stay sparse.

        A DataFrame of every term would be dense; the embedder's later steps
        (SVD and normalisation) give the output in the container asked for.
        """
        return self
