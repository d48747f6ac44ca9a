"""Kernel SVM and string kernels: the lecture seed's primal/dual example, the explicit feature
map of the degree-2 polynomial kernel, string kernels against brute-force p-gram counting."""
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics.pairwise import polynomial_kernel
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from baselines import KernelSVM, StringKernel, string_kernel
from baselines.string_kernel import char_pgrams, sparse_gram

# seed 000_ec4809ad15801d7b.txt, "Forma primală" / "Forma duală"
SEED_X = np.array([[4, 0, 2, 5, 3, 0, 1],
                   [0, 0, 1, 3, 4, 0, 2],
                   [2, 1, 0, 0, 1, 2, 5],
                   [1, 3, 0, 1, 0, 1, 2]], dtype=float)
SEED_L = np.array([1, 1, -1, -1])
SEED_Y = np.array([[1, 0, 2, 4, 2, 0, 2],
                   [1, 2, 0, 1, 2, 2, 1],
                   [3, 1, 0, 0, 4, 1, 1]], dtype=float)
SEED_KX = np.array([[55, 31, 16, 11], [31, 30, 14, 7], [16, 14, 35, 17], [11, 7, 17, 16]])
SEED_KY = np.array([[36, 26, 14, 9], [16, 13, 15, 12], [25, 18, 18, 9]])


def test_seed_linear_gram_matrices_match_the_printed_tables():
    np.testing.assert_array_equal(SEED_X @ SEED_X.T, SEED_KX)
    np.testing.assert_array_equal(SEED_Y @ SEED_X.T, SEED_KY)


def test_dual_form_with_precomputed_gram_equals_primal_linear_svm():
    dual = KernelSVM(kernel="precomputed", C=10.0).fit(SEED_KX.astype(float), SEED_L)
    primal = KernelSVM(kernel="linear", C=10.0, scale=False).fit(SEED_X, SEED_L)
    np.testing.assert_array_equal(dual.predict(SEED_KY.astype(float)), primal.predict(SEED_Y))
    np.testing.assert_allclose(dual.decision_function(SEED_KY.astype(float)), primal.decision_function(SEED_Y),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(dual.predict(SEED_KX.astype(float)), SEED_L)


def phi(X):
    """The seed's explicit map R² → R³: (x1², √2·x1·x2, x2²)."""
    return np.column_stack([X[:, 0] ** 2, np.sqrt(2) * X[:, 0] * X[:, 1], X[:, 1] ** 2])


def test_seed_feature_map_equals_degree_two_polynomial_kernel():
    rng = np.random.default_rng(0)
    X, Z = rng.normal(size=(20, 2)), rng.normal(size=(7, 2))
    np.testing.assert_allclose(phi(X) @ phi(Z).T, (X @ Z.T) ** 2, rtol=1e-12)
    np.testing.assert_allclose(phi(X) @ phi(Z).T, polynomial_kernel(X, Z, degree=2, gamma=1.0, coef0=0.0), rtol=1e-12)


def test_poly_kernel_svm_equals_linear_svm_on_the_explicit_feature_map():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 > 1.0).astype(int)  # separable in φ-space, not in input space
    poly = KernelSVM(kernel="poly", degree=2, gamma=1.0, coef0=0.0, C=5.0, scale=False).fit(X, y)
    lin = KernelSVM(kernel="linear", C=5.0, scale=False).fit(phi(X), y)
    np.testing.assert_allclose(poly.decision_function(X), lin.decision_function(phi(X)), atol=1e-3)
    np.testing.assert_array_equal(poly.predict(X), lin.predict(phi(X)))


def brute_kernel(x, y, kind, lo, hi):
    a, b = Counter(char_pgrams(x, lo, hi)), Counter(char_pgrams(y, lo, hi))
    if kind == "spectrum":
        return sum(a[g] * b[g] for g in a)
    if kind == "presence":
        return sum(1 for g in a if g in b)
    return sum(min(a[g], b[g]) for g in a)


ALPHABET = st.text(alphabet="ab é\u0085", max_size=9)


@pytest.mark.parametrize("kind", ["spectrum", "presence", "intersection"])
@settings(max_examples=25, deadline=None)
@given(train=st.lists(ALPHABET, min_size=1, max_size=5).filter(lambda t: any(len(s) >= 2 for s in t)),
       test=st.lists(ALPHABET, min_size=1, max_size=4), lo=st.integers(1, 2), width=st.integers(0, 3))
def test_string_kernel_equals_brute_force_pgram_counting(kind, train, test, lo, width):
    hi = lo + width
    if not any(len(s) >= lo for s in train):
        return
    K = StringKernel(p_range=(lo, hi), kind=kind, normalize=False).fit(train).transform(test)
    expected = np.array([[brute_kernel(t, s, kind, lo, hi) for s in train] for t in test], dtype=float)
    np.testing.assert_array_equal(K, expected)


@pytest.mark.parametrize("kind", ["spectrum", "presence", "intersection"])
def test_normalised_string_kernel_is_symmetric_psd_with_unit_diagonal(kind):
    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(list("abcd e"), size=rng.integers(1, 30))) for _ in range(40)]
    K = string_kernel(texts, p_range=(1, 4), kind=kind)
    np.testing.assert_allclose(np.diag(K), 1.0, rtol=1e-12)
    np.testing.assert_allclose(K, K.T, atol=1e-12)
    assert np.linalg.eigvalsh(K).min() >= -1e-8


def test_normalisation_uses_pgrams_never_seen_in_training():
    sk = StringKernel(p_range=(1, 2), kind="spectrum").fit(["abc"])
    k = sk.transform(["abz"])[0, 0]
    raw = brute_kernel("abz", "abc", "spectrum", 1, 2)
    norm = np.sqrt(brute_kernel("abz", "abz", "spectrum", 1, 2) * brute_kernel("abc", "abc", "spectrum", 1, 2))
    assert k == pytest.approx(raw / norm)
    assert sk.transform(["zzz"])[0, 0] == 0.0


def test_empty_string_gives_zero_row_and_all_empty_corpus_raises():
    sk = StringKernel(p_range=(1, 3)).fit(["abc", "abd"])
    np.testing.assert_array_equal(sk.transform([""]), [[0.0, 0.0]])
    with pytest.raises(ValueError, match="X"):
        StringKernel().fit(["", ""])
    with pytest.raises(ValueError, match="kind"):
        StringKernel(kind="gappy").fit(["abc"])
    with pytest.raises(ValueError, match="p_range"):
        StringKernel(p_range=(3, 1)).fit(["abc"])
    with pytest.raises(TypeError, match="X"):
        StringKernel().fit([1, 2])


def test_sparse_gram_dense_and_sparse_paths_agree():
    import scipy.sparse as sp

    A = sp.random(50, 300, density=0.2, random_state=1, format="csr")
    A.data = np.round(A.data * 5) + 1
    B = sp.random(30, 300, density=0.3, random_state=2, format="csr")
    B.data = np.round(B.data * 5) + 1
    expected = (A @ B.T).toarray()
    for ratio in (0.0, 1.0, 1e9):  # all sparse, mixed, all dense
        np.testing.assert_allclose(sparse_gram(A, B, dense_ratio=ratio, block_rows=7), expected)
        np.testing.assert_allclose(sparse_gram(A, dense_ratio=ratio, block_rows=7), (A @ A.T).toarray())


def test_string_kernel_composes_with_precomputed_svc_in_a_pipeline():
    texts = ["good film", "great film", "nice film", "bad film", "awful film", "poor film"] * 3
    y = [1, 1, 1, 0, 0, 0] * 3
    pipe = make_pipeline(StringKernel(p_range=(2, 4)), SVC(kernel="precomputed")).fit(texts, y)
    assert (pipe.predict(["great nice", "awful poor"]) == [1, 0]).all()
    ours = KernelSVM(kernel="spectrum", p_range=(2, 4)).fit(texts, y)
    np.testing.assert_allclose(ours.decision_function(texts), pipe.decision_function(texts), atol=1e-8)


def test_large_training_set_warns_and_switches_to_nystroem_unless_exact():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(UserWarning, match="Nystr"):
        approx = KernelSVM(kernel="rbf", max_exact_samples=50, n_components=30, random_state=0).fit(X, y)
    assert approx.approximate_ and approx.score(X, y) > 0.8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = KernelSVM(kernel="rbf", max_exact_samples=50, exact=True).fit(X, y)
    assert not exact.approximate_
    texts = ["good film", "bad film", "great film", "awful film"] * 15
    labels = [1, 0, 1, 0] * 15
    with pytest.warns(UserWarning, match="Nystr"):
        s = KernelSVM(kernel="intersection", p_range=(1, 3), max_exact_samples=20, n_components=10,
                      random_state=0).fit(texts, labels)
    assert s.score(texts, labels) == 1.0 and s.n_support_vectors_ <= 10


def test_accuracy_comes_from_predict_and_decision_function_ranks():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=60) > 0, "yes", "no")
    m = KernelSVM(kernel="rbf").fit(X, y)
    d = m.decision_function(X)
    assert d.shape == (60,)
    np.testing.assert_array_equal(m.predict(X), np.where(d > 0, m.classes_[1], m.classes_[0]))
    assert m.score(X, y) == (m.predict(X) == y).mean()
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    assert KernelSVM(kernel="linear").fit(X, y3).decision_function(X).shape == (60, 3)


def test_kernel_svm_bad_input():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="kernel"):
        KernelSVM(kernel="laplace").fit(X, [0, 1] * 5)
    with pytest.raises(ValueError, match=r"1 class \(0\)"):  # the label as given, not np.int64(0)
        KernelSVM().fit(X, [0] * 10)
    with pytest.raises(ValueError, match="inconsistent"):
        KernelSVM().fit(X, [0, 1] * 4)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KernelSVM().fit(bad, [0, 1] * 5)
    with pytest.raises(ValueError, match="square"):
        KernelSVM(kernel="precomputed").fit(X, [0, 1] * 5)


@pytest.mark.parametrize("kind", ["spectrum", "intersection"])
def test_huge_alphabets_fall_back_to_string_pgrams_with_the_same_kernel(kind):
    # 7,000 distinct characters: (A+1)^5 no longer fits an int64 code, so p-grams are counted as strings
    chars = [chr(0x4E00 + i) for i in range(7000)]
    train = ["".join(chars[i * 1000:(i + 1) * 1000]) + "ab" * (i + 1) for i in range(7)]
    test = [train[0][:40], "abab", "zz"]
    sk = StringKernel(p_range=(1, 5), kind=kind, normalize=False).fit(train)
    assert isinstance(sk.codes_[0], str)
    expected = [[brute_kernel(t, s, kind, 1, 5) for s in train] for t in test]
    np.testing.assert_array_equal(sk.transform(test), expected)
