"""String kernels on character p-grams (spectrum, presence, intersection) as a transformer.

Spectrum kernel (Leslie, Eskin & Noble 2002): k(x, y) = Σ_g cnt_x(g)·cnt_y(g) over every character
p-gram g with p in ``p_range`` (the blended spectrum: the sum of the p-spectrum kernels). The
presence kernel uses presence bits instead of counts, and the intersection kernel Σ_g
min(cnt_x(g), cnt_y(g)) (as in Ionescu, Popescu & Cahill's string kernels for text). Normalised,
k(x, y)/√(k(x, x)·k(y, y)).

Everything is a product of sparse matrices, never a Python loop over pairs:
- spectrum: K = C_x · C_yᵀ on the p-gram count matrices;
- presence: the same on the binarised matrices;
- intersection: min(a, b) = Σ_{t≥1} [a ≥ t]·[b ≥ t], so each count c of p-gram g becomes c
  presence bits in columns (g, 1), …, (g, c) and K = E_x · E_yᵀ on those "level" matrices.
The product is split by column: p-grams present in many documents (the unigrams, the frequent
bigrams) go through a dense BLAS product, the long tail through a sparse one, in row blocks.
The self-kernels k(x, x) are computed from each string's own p-grams (grams never seen in training
count for the norm, as they must). p-grams are every substring of length p, taken verbatim (no
lower-casing or whitespace folding, unlike scikit-learn's ``analyzer="char"``). An empty string
(or one shorter than the smallest p) has no p-grams: its normalised row is all zeros.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from seqcnn.data.checks import check_strings

__all__ = ["StringKernel", "char_pgrams", "string_kernel"]

KINDS = ("spectrum", "presence", "intersection")


def char_pgrams(text: str, p_min: int, p_max: int, lowercase: bool = False) -> list[str]:
    """Every substring of ``text`` of length p_min..p_max (the analyzer used by StringKernel)."""
    if lowercase:
        text = text.lower()
    n = len(text)
    return [text[i:i + p] for p in range(p_min, p_max + 1) for i in range(n - p + 1)]


def _check_p_range(p_range):
    try:
        lo, hi = p_range
    except (TypeError, ValueError) as exc:
        raise ValueError(f"p_range must be a pair (p_min, p_max), got {p_range!r}") from exc
    if isinstance(lo, bool) or isinstance(hi, bool) or not (isinstance(lo, (int, np.integer)) and isinstance(hi, (int, np.integer))):
        raise ValueError(f"p_range must hold two integers, got {p_range!r}")
    if not 1 <= lo <= hi:
        raise ValueError(f"p_range must satisfy 1 <= p_min <= p_max, got {p_range!r}")
    return int(lo), int(hi)


def _alphabet(texts) -> np.ndarray:
    """Sorted code points of every character in ``texts`` (uint32)."""
    cps = _code_points("".join(texts))
    return np.unique(cps)


def _code_points(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def pgram_counts(texts, p_min: int, p_max: int, alphabet: np.ndarray, vocabulary: np.ndarray | None = None):
    """Count matrix (n, V) of the character p-grams of ``texts``, vectorised in NumPy.

    Characters are numbered 1..A by their rank in ``alphabet`` (0 = unknown) and a p-gram is the
    integer Σ id_i·(A+1)^i, unique across p because every digit is ≥ 1. With ``vocabulary`` (sorted
    codes from training) the columns follow it and unseen p-grams are dropped; otherwise the
    vocabulary is the sorted set of codes present. Returns (csr int64 counts, codes).
    """
    base = len(alphabet) + 1
    if p_max * np.log2(base) >= 62:  # codes would overflow int64: count with Python strings
        return _pgram_counts_slow(texts, p_min, p_max, vocabulary)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    cps = _code_points("".join(texts))
    pos = np.searchsorted(alphabet, cps)
    pos_c = np.minimum(pos, len(alphabet) - 1)
    known = alphabet[pos_c] == cps if len(alphabet) else np.zeros(cps.shape, bool)
    ids = np.where(known, pos_c + 1, 0).astype(np.int64)
    T = ids.size
    doc = np.repeat(np.arange(len(texts)), lengths)
    end = np.repeat(np.cumsum(lengths), lengths)  # end (exclusive) of each position's document
    docs, cols = [], []
    code = np.zeros(T, dtype=np.int64)
    bad = np.zeros(T, dtype=bool)
    for p in range(1, p_max + 1):
        n_start = T - p + 1
        if n_start <= 0:
            break
        code = code[:n_start] * base + ids[p - 1:]  # code of the gram starting at s, length p
        bad = bad[:n_start] | (ids[p - 1:] == 0)
        if p < p_min:
            continue
        ok = (np.arange(n_start) + p <= end[:n_start]) & ~bad
        docs.append(doc[:n_start][ok])
        cols.append(code[ok])
    if docs:
        d, c = np.concatenate(docs), np.concatenate(cols)
    else:
        d, c = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if vocabulary is None:
        vocabulary, j = np.unique(c, return_inverse=True)
    else:
        j = np.searchsorted(vocabulary, c)
        found = j < len(vocabulary)
        found[found] = vocabulary[j[found]] == c[found]
        d, j = d[found], j[found]
    C = sp.csr_matrix((np.ones(d.size, dtype=np.int64), (d, j)), shape=(len(texts), len(vocabulary)))
    C.sum_duplicates()
    return C, vocabulary


def _pgram_counts_slow(texts, p_min, p_max, vocabulary):
    """Fallback for huge alphabets: dictionary counting, vocabulary = sorted p-gram strings."""
    from collections import Counter

    rows = [Counter(char_pgrams(t, p_min, p_max)) for t in texts]
    if vocabulary is None:
        vocabulary = np.array(sorted(set().union(*rows)), dtype=object)
    index = {g: k for k, g in enumerate(vocabulary)}
    r, c, v = [], [], []
    for i, cnt in enumerate(rows):
        for g, n in cnt.items():
            k = index.get(g)
            if k is not None:
                r.append(i), c.append(k), v.append(n)
    C = sp.csr_matrix((np.array(v, dtype=np.int64), (np.array(r, dtype=np.int64), np.array(c, dtype=np.int64))),
                      shape=(len(texts), len(vocabulary)))
    return C, vocabulary


def _levels(C: sp.csr_matrix, n_levels: int | None = None) -> sp.csr_matrix:
    """Counts → presence bits per (gram, level): column g + t·V for t < count (the min trick)."""
    C = sp.csr_matrix(C)
    V = C.shape[1]
    counts = C.data.astype(np.int64)
    if n_levels is None:
        n_levels = int(counts.max()) if counts.size else 1
    counts = np.minimum(counts, n_levels)  # levels above the training maximum multiply zeros
    rows = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    t = np.arange(total) - starts
    r = np.repeat(rows, counts)
    c = np.repeat(C.indices.astype(np.int64), counts) + t * V
    E = sp.csr_matrix((np.ones(total, dtype=np.float64), (r, c)), shape=(C.shape[0], V * n_levels))
    E.sum_duplicates()
    return E


def _self_kernel(C: sp.csr_matrix, kind: str) -> np.ndarray:
    if kind == "spectrum":
        return np.asarray(C.multiply(C).sum(1), dtype=np.float64).ravel()
    if kind == "presence":
        return np.diff(C.indptr).astype(np.float64)
    return np.asarray(C.sum(1), dtype=np.float64).ravel()


def sparse_gram(A: sp.csr_matrix, B: sp.csr_matrix | None = None, *, dense_ratio: float = 1024.0,
                block_rows: int = 2048, dtype=np.float64) -> np.ndarray:
    """A·Bᵀ for non-negative sparse A (n_a, V) and B (n_b, V) → dense (n_a, n_b).

    ``B=None`` means B = A: only the blocks on and above the diagonal are computed, then mirrored.
    Columns present in many rows of both go through a dense float32 matmul (exact for integer
    counts below 2**24), the rest through scipy's sparse product, ``block_rows`` rows at a time.
    A column is dense when df_A·df_B·dense_ratio > n_a·n_b (cost model: a sparse multiply-add
    costs ~dense_ratio times a BLAS one).
    """
    symmetric = B is None
    A = sp.csr_matrix(A)
    B = A if symmetric else sp.csr_matrix(B)
    n_a, n_b = A.shape[0], B.shape[0]
    df_a = np.bincount(A.indices, minlength=A.shape[1]).astype(np.float64)
    df_b = df_a if symmetric else np.bincount(B.indices, minlength=B.shape[1]).astype(np.float64)
    dense_cols = np.nonzero(df_a * df_b * dense_ratio > float(n_a) * float(n_b))[0]
    K = np.zeros((n_a, n_b), dtype=dtype)
    starts = range(0, n_a, block_rows)

    def col0(r0):  # first column computed for a row block
        return r0 if symmetric else 0

    if dense_cols.size:
        Ad = torch.from_numpy(A[:, dense_cols].toarray().astype(np.float32))
        Bd = Ad if symmetric else torch.from_numpy(B[:, dense_cols].toarray().astype(np.float32))
        for r0 in starts:
            c0 = col0(r0)
            K[r0:r0 + block_rows, c0:] = (Ad[r0:r0 + block_rows] @ Bd[c0:].T).numpy()
        del Ad, Bd
        keep = np.ones(A.shape[1], dtype=bool)
        keep[dense_cols] = False
        A = A[:, keep]
        B = A if symmetric else B[:, keep]
    BT = B.T.tocsc()
    for r0 in starts:
        c0 = col0(r0)
        P = (A[r0:r0 + block_rows] @ BT[:, c0:]).tocoo()
        K[r0 + P.row, c0 + P.col] += P.data.astype(dtype)
    if symmetric:  # fill the blocks below the diagonal from their mirror images
        for r0 in starts:
            K[r0:r0 + block_rows, :r0] = K[:r0, r0:r0 + block_rows].T
    return K


class StringKernel(TransformerMixin, BaseEstimator):
    """Gram matrix of a character p-gram string kernel against the training strings.

    ``fit(X)`` stores the training strings' p-gram features; ``transform(Y)`` returns
    K(Y, X_train) of shape (len(Y), len(X_train)), so that
    ``Pipeline([("k", StringKernel()), ("svm", SVC(kernel="precomputed"))])`` works on raw strings.

    Parameters
    ----------
    p_range : (int, int), default=(1, 5)
        Lengths of the character p-grams (inclusive).
    kind : {"spectrum", "presence", "intersection"}, default="spectrum"
    normalize : bool, default=True
        Divide by √(k(x, x)·k(y, y)) (diagonal of ones; an empty string gives a zero row).
    lowercase : bool, default=False
    """

    def __init__(self, p_range=(1, 5), kind="spectrum", normalize=True, lowercase=False):
        self.p_range = p_range
        self.kind = kind
        self.normalize = normalize
        self.lowercase = lowercase

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags

    def _check_params(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        return _check_p_range(self.p_range)

    def _prep(self, texts):
        return [t.lower() for t in texts] if self.lowercase else texts

    def _features(self, C):
        if self.kind == "spectrum":
            return C.astype(np.float64)
        if self.kind == "presence":
            B = C.astype(np.float64)
            B.data[:] = 1.0
            return B
        return _levels(C, self.n_levels_)

    def fit(self, X, y=None):
        """Learn the training p-grams. ``X``: list of strings."""
        lo, hi = self._check_params()
        X = self._prep(check_strings(X, "X"))
        alphabet = _alphabet(X)
        C, codes = pgram_counts(X, lo, hi, alphabet)
        if C.shape[1] == 0:
            raise ValueError(f"X has no character p-grams of length {lo}..{hi}: "
                             "every string is empty or shorter than p_min")
        self.alphabet_ = alphabet
        self.codes_ = codes
        self.n_levels_ = int(C.data.max()) if self.kind == "intersection" else 1
        self.train_features_ = self._features(C)
        self.train_self_kernel_ = _self_kernel(C, self.kind).copy()
        self.n_train_ = len(X)
        return self

    def transform(self, X):
        """K(X, X_train): (len(X), n_train) float64."""
        check_is_fitted(self, "train_features_")
        lo, hi = _check_p_range(self.p_range)
        X = self._prep(check_strings(X, "X"))
        Cm, _ = pgram_counts(X, lo, hi, self.alphabet_, vocabulary=self.codes_)
        K = sparse_gram(self._features(Cm), self.train_features_)
        if self.normalize:
            C_own, _ = pgram_counts(X, lo, hi, _alphabet(X))  # every p-gram counts for the norm
            K = self._normalize(K, _self_kernel(C_own, self.kind), self.train_self_kernel_)
        return K

    def fit_transform(self, X, y=None):
        """Fit on X and return the symmetric training Gram matrix K(X, X) (half the work)."""
        self.fit(X)
        K = sparse_gram(self.train_features_)
        if self.normalize:
            K = self._normalize(K, self.train_self_kernel_, self.train_self_kernel_)
        return K

    @staticmethod
    def _normalize(K, dx, dy):
        sx, sy = np.sqrt(dx), np.sqrt(dy)
        sx[sx == 0] = np.inf  # empty strings: zero rows
        sy[sy == 0] = np.inf
        K /= sx[:, None]
        K /= sy[None, :]
        return K


def string_kernel(X, Y=None, *, p_range=(1, 5), kind="spectrum", normalize=True, lowercase=False) -> np.ndarray:
    """Gram matrix K(X, Y) (Y defaults to X) of a character p-gram string kernel."""
    sk = StringKernel(p_range=p_range, kind=kind, normalize=normalize, lowercase=lowercase)
    Yl = X if Y is None else Y
    return sk.fit(Yl).transform(X)
