"""From prompt text to features: the first step of a routing Pipeline.

:class:`PromptEmbedder` embeds prompts with a sentence-transformers model (the
optional extra ``pip install "scikit-route[text]"``, imported only when a model is
loaded); :func:`make_tfidf_embedder` builds TF-IDF and SVD features with
scikit-learn alone; :func:`last_block` keeps the question of a few-shot prompt.
"""

from skroute.text._embedder import PromptEmbedder
from skroute.text._prompts import last_block
from skroute.text._tfidf import make_tfidf_embedder

__all__ = ["PromptEmbedder", "last_block", "make_tfidf_embedder"]
