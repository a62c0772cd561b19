"""The TF-IDF embedder: the text extra's fallback that needs no model."""

import pickle

import numpy as np
import pandas as pd
import pytest
from helpers import fit_router_pipeline, topic_prompts

from skroute.text import make_tfidf_embedder


def test_tfidf_embedder_features():
    prompts, _ = topic_prompts(20, seed=0)
    for embedder in (
        make_tfidf_embedder(n_components=8, random_state=0),
        make_tfidf_embedder(n_components=8, hashing=True, random_state=0),
    ):
        X = embedder.fit_transform(prompts)
        assert X.shape == (40, 8) and X.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
        restored = pickle.loads(pickle.dumps(embedder))
        np.testing.assert_allclose(restored.transform(prompts), X, rtol=1e-5)


def test_tfidf_takes_a_one_column_frame_like_prompt_embedder():
    prompts = ["What is 2 + 2?", "Sort this list.", "Capital of Peru?"]
    embedder = make_tfidf_embedder(n_components=2, random_state=0)
    expected = embedder.fit_transform(prompts)
    frame = pd.DataFrame({"query": prompts})
    np.testing.assert_allclose(embedder.fit_transform(frame), expected, rtol=1e-5)


def test_tfidf_last_block_drops_the_examples():
    prompts = ["Q: add 1 and 1\n\nQ: sort a list", "Q: add 2 and 2\n\nQ: sort a list"]
    embedder = make_tfidf_embedder(n_components=2, truncate="last_block")
    assert embedder.named_steps["terms"].truncate == "last_block"
    X = embedder.fit(prompts + ["other words here"]).transform(prompts)
    np.testing.assert_allclose(X[0], X[1], rtol=1e-5)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"truncate": "tail"}, "apply to PromptEmbedder only"),
        ({"n_components": 0}, "n_components must be an integer >= 1"),
    ],
)
def test_tfidf_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        make_tfidf_embedder(**params)


def test_tfidf_pipeline_routes_prompts_by_topic():
    prompts, topic = topic_prompts(60, seed=0)
    pipeline = fit_router_pipeline(
        make_tfidf_embedder(n_components=16, random_state=0), prompts, topic
    )
    new_prompts, new_topic = topic_prompts(20, seed=1)
    routes = pipeline.predict(new_prompts)
    expected = np.where(new_topic == 0, "math-model", "code-model")
    assert (routes == expected).mean() >= 0.9


@pytest.mark.parametrize("hashing", [False, True])
def test_tfidf_names_its_features_and_follows_set_output(hashing):
    prompts = ["What is 2 + 2?", "Sort this list.", "Capital of Peru?", "Add 3 and 4."]
    embedder = make_tfidf_embedder(n_components=2, hashing=hashing, random_state=0)
    expected = embedder.fit_transform(prompts)
    assert embedder.get_feature_names_out().tolist() == [
        "truncatedsvd0",
        "truncatedsvd1",
    ]
    terms = embedder.named_steps["terms"].get_feature_names_out()
    assert terms.size == embedder.named_steps["terms"].transform(prompts).shape[1]
    frame = (
        make_tfidf_embedder(n_components=2, hashing=hashing, random_state=0)
        .set_output(transform="pandas")
        .fit_transform(prompts)
    )
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["truncatedsvd0", "truncatedsvd1"]
    np.testing.assert_allclose(frame.to_numpy(), expected, rtol=1e-5)
