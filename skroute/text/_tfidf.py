"""A prompt-to-features Pipeline with scikit-learn alone: TF-IDF, then SVD."""

from numbers import Integral

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import (
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer

from skroute.text._prompts import truncate_texts


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
    ['texts', 'tfidf', 'svd', 'normalize']
    """
    if not (isinstance(n_components, Integral) and n_components >= 1):
        raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}.")
    if not (truncate is None or truncate == "last_block" or callable(truncate)):
        raise ValueError(
            f"truncate must be None, 'last_block' or a callable; got {truncate!r}. "
            "'head' and 'tail' count the word pieces of an embedding model and "
            "apply to PromptEmbedder only."
        )
    # The first step checks the prompts (a list, an array or Series, or one
    # column of a DataFrame, as PromptEmbedder takes) and truncates them.
    steps = [
        (
            "texts",
            FunctionTransformer(truncate_texts, kw_args={"truncate": truncate}),
        )
    ]
    if hashing:
        steps += [
            (
                "hashing",
                HashingVectorizer(
                    n_features=2**18,
                    ngram_range=ngram_range,
                    alternate_sign=False,
                    norm=None,
                    dtype=np.float32,
                ),
            ),
            ("idf", TfidfTransformer(sublinear_tf=True)),
        ]
    else:
        steps.append(
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=ngram_range,
                    min_df=min_df,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            )
        )
    steps += [
        ("svd", TruncatedSVD(n_components=n_components, random_state=random_state)),
        ("normalize", Normalizer()),
    ]
    return Pipeline(steps)
