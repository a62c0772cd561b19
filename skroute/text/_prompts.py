"""Prompt text: validation of text inputs and truncation of long prompts."""

import re

import numpy as np

# A blank line: two line breaks with nothing but spaces (or "\r") between them.
_BLANK_LINE = re.compile(r"\n\s*\n")


def _rows(indices, limit=10):
    shown = ", ".join(str(i) for i in indices[:limit])
    more = f", ... ({len(indices)} rows)" if len(indices) > limit else ""
    return f"[{shown}{more}]"


def last_block(text):
    """The last block of a prompt, after its last blank line.

    Few-shot prompts put their worked examples first and the question last,
    separated by blank lines: the last block is the question. A prompt without
    a blank line is returned whole. Surrounding whitespace is stripped, and
    trailing blank lines are ignored.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    Examples
    --------
    >>> from skroute.text import last_block
    >>> prompt = "Q: 1 + 1?\\nA: 2\\n\\nQ: 2 + 3?\\nA: 5\\n\\nQ: 4 + 4?\\nA:"
    >>> last_block(prompt)
    'Q: 4 + 4?\\nA:'
    >>> last_block("One paragraph only.")
    'One paragraph only.'
    """
    if not isinstance(text, str):
        raise TypeError(f"last_block takes a string; got {type(text).__name__}.")
    blocks = [block.strip() for block in _BLANK_LINE.split(text)]
    blocks = [block for block in blocks if block]
    return blocks[-1] if blocks else text


def check_texts(X, name="X"):
    """Return ``X`` as a list of strings, or raise an error that says how to fix it.

    Accepts a list, a 1-D array or Series of strings, or a 2-D array or
    DataFrame with exactly one column (as a ``ColumnTransformer`` passes it).
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a sequence of prompts, not a single string; wrap it "
            f"in a list: [prompt]."
        )
    if not hasattr(X, "__len__"):
        X = list(X)  # a generator or another iterable
    texts = np.asarray(X, dtype=object)
    if texts.ndim == 2 and texts.shape[1] == 1:
        texts = texts[:, 0]
    if texts.ndim != 1:
        raise ValueError(
            f"{name} must hold one prompt per row (a list, a 1-D array or a single "
            f"text column); got shape {texts.shape}. Select the text column, e.g. "
            f"X['query']."
        )
    not_text = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if not_text:
        kinds = sorted({type(texts[i]).__name__ for i in not_text})
        raise TypeError(
            f"{name} must hold strings; rows {_rows(not_text)} hold "
            f"{', '.join(kinds)}. Fill missing prompts (e.g. with '') or drop "
            f"those rows."
        )
    return [str(text) for text in texts]


def truncate_texts(X, truncate=None):
    """Apply a text-level truncation policy to every prompt of ``X``.

    Parameters
    ----------
    X : sequence of str
    truncate : None, "head", "tail", "last_block" or callable
        ``None`` leaves the texts as they are, and so do ``"head"`` and
        ``"tail"``, which act on word pieces inside the embedding model;
        ``"last_block"`` keeps the :func:`last_block` of each; a callable maps
        one string to another.

    Returns
    -------
    list of str
    """
    texts = check_texts(X)
    if truncate is None or truncate in ("head", "tail"):
        return texts
    if truncate == "last_block":
        return [last_block(text) for text in texts]
    shortened = [truncate(text) for text in texts]
    wrong = [i for i, text in enumerate(shortened) if not isinstance(text, str)]
    if wrong:
        raise TypeError(
            f"truncate must return a string for every prompt; it returned "
            f"{type(shortened[wrong[0]]).__name__} for rows {_rows(wrong)}."
        )
    return shortened
