"""Streaming vector loader on generated word2vec-bin/text, GloVe (with/without header), .vec."""
import numpy as np
import pytest

from seqcnn.text import Vocabulary, build_embedding_matrix, load_vectors

WORDS = ["the", "movie", "café", "great", "a b"]  # "a b": GloVe 840B has words with spaces


def _table(dim=4, seed=0):
    rng = np.random.default_rng(seed)
    return {w: rng.normal(size=dim).astype(np.float32) for w in WORDS}


def write_w2v_bin(path, table, newline=True):
    table = {w: v for w, v in table.items() if " " not in w}  # binary words cannot hold spaces
    with open(path, "wb") as f:
        dim = len(next(iter(table.values())))
        f.write(f"{len(table)} {dim}\n".encode())
        for w, v in table.items():
            f.write(w.encode("utf-8") + b" " + np.asarray(v, dtype="<f4").tobytes() + (b"\n" if newline else b""))


def write_text(path, table, header=True):
    with open(path, "w", encoding="utf-8") as f:
        if header:
            f.write(f"{len(table)} {len(next(iter(table.values())))}\n")
        for w, v in table.items():
            f.write(w + " " + " ".join(f"{x:.6f}" for x in v) + " \n")


@pytest.mark.parametrize("newline", [True, False])
def test_word2vec_binary_keeps_only_vocabulary_words(tmp_path, newline):
    table = _table()
    write_w2v_bin(tmp_path / "v.bin", table, newline)
    kv = load_vectors(tmp_path / "v.bin", vocab=["movie", "café", "absent"])
    assert kv.words == ["movie", "café"]
    np.testing.assert_array_equal(kv["café"], table["café"])
    assert len(load_vectors(tmp_path / "v.bin")) == len(WORDS) - 1


@pytest.mark.parametrize("name, header, fmt", [("w2v.txt", True, None), ("glove.txt", False, None),
                                               ("glove_h.txt", True, "glove"), ("ft.vec", True, "fasttext")])
def test_text_formats(tmp_path, name, header, fmt):
    table = _table()
    write_text(tmp_path / name, table, header)
    kv = load_vectors(tmp_path / name, vocab=Vocabulary(["the", "a b", "great"]), format=fmt)
    assert set(kv.words) == {"the", "a b", "great"} and kv.dim == 4
    np.testing.assert_allclose(kv["a b"], table["a b"], atol=1e-6)


@pytest.mark.parametrize("content", [b"0 just a labelled sentence file\n1 another line\n",
                                     b"hello world\n", b"", b"a 1 2\nb 1\n"])
def test_non_embedding_file_raises_a_clear_error(tmp_path, content):
    (tmp_path / "x.txt").write_bytes(content)
    with pytest.raises(ValueError, match="not a word-embedding file"):
        load_vectors(tmp_path / "x.txt")


def test_truncated_binary_raises(tmp_path):
    write_w2v_bin(tmp_path / "v.bin", _table())
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-10])
    with pytest.raises(ValueError, match="truncated|ends inside"):
        load_vectors(tmp_path / "t.bin", vocab=["the"])
    with pytest.raises(ValueError, match="not a word-embedding file"):
        load_vectors(tmp_path / "v.bin", format="glove")


def test_unknown_words_get_matched_variance_and_pad_row_is_zero():
    rng = np.random.default_rng(0)
    table = {f"w{i}": rng.normal(0, 0.2, size=50).astype(np.float32) for i in range(200)}
    from seqcnn.text import KeyedVectors

    kv = KeyedVectors.from_dict(table)
    vocab = Vocabulary([f"w{i}" for i in range(100)] + [f"new{i}" for i in range(300)])
    mat, found, a = build_embedding_matrix(vocab, kv, rng=0)
    assert found == 100 and abs(a - np.sqrt(3) * 0.2) < 0.02
    assert np.all(mat[0] == 0)
    unknown = mat[102:]
    assert np.all(np.abs(unknown) <= a) and abs(unknown.std() - 0.2) < 0.02
    np.testing.assert_array_equal(mat[vocab.stoi["w5"]], table["w5"])
    assert build_embedding_matrix(vocab, kv, a=0.25, rng=0)[2] == 0.25


def test_a_cased_word_falls_back_to_its_lower_cased_row_and_the_exact_form_wins():
    from seqcnn.text import KeyedVectors

    table = {"what": np.full(4, 1.0, np.float32), "apple": np.full(4, 2.0, np.float32),
             "Apple": np.full(4, 3.0, np.float32)}
    kv = KeyedVectors.from_dict(table)
    vocab = Vocabulary(["What", "what", "Apple", "APPLE", "Zebra"])
    mat, found, _ = build_embedding_matrix(vocab, kv, rng=0)
    assert found == 4  # What, what, Apple, APPLE (apple's row); Zebra is unknown
    np.testing.assert_array_equal(mat[vocab.stoi["What"]], table["what"])
    np.testing.assert_array_equal(mat[vocab.stoi["Apple"]], table["Apple"])  # exact form first
    np.testing.assert_array_equal(mat[vocab.stoi["APPLE"]], table["apple"])
    assert not np.isin(mat[vocab.stoi["Zebra"]], (1.0, 2.0, 3.0)).all()
    mat, found, _ = build_embedding_matrix(vocab, kv, rng=0, case_fallback=False)
    assert found == 2
