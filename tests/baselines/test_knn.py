"""k-NN: parity with scikit-learn's brute force, ties, edit distance and DTW against plain
dynamic programmes, bounded memory, bad input."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import KNeighborsClassifier

from baselines import KNNClassifier, dtw_distance, pairwise_dtw, pairwise_levenshtein
from baselines.distances import _window_radius


def sk_knn(k, metric, weights="uniform"):
    return KNeighborsClassifier(n_neighbors=k, metric=metric, weights=weights, algorithm="brute")


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_neighbours_and_predictions_equal_sklearn_brute_without_ties(metric, weights):
    rng = np.random.default_rng(0)
    X, Q = rng.normal(size=(300, 8)), rng.normal(size=(70, 8))
    y = rng.choice(np.array(["cat", "dog", "eel"], dtype=object), size=300)
    ours = KNNClassifier(6, metric=metric, weights=weights, device="cpu", working_memory=0.05).fit(X, y)
    ref = sk_knn(6, metric, weights).fit(X, y)
    d1, i1 = ours.kneighbors(Q)
    d2, i2 = ref.kneighbors(Q)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, atol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(Q), ref.predict_proba(Q), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Q), ref.predict(Q))


@pytest.mark.parametrize("metric", ["euclidean", "hamming", "cosine"])
def test_forced_ties_same_distances_as_sklearn_and_smallest_index_kept(metric):
    """Integer data make many exact ties. scikit-learn returns the same k distances but picks
    among points tied at the k-th distance by heap/argpartition order, not by index (checked
    here), so we pin: identical distances, identical neighbour sets where the k-th distance is
    not tied, and the (distance, index) rule where it is — independent of the chunk size."""
    rng = np.random.default_rng(3)
    X, Q = rng.integers(0, 3, (200, 4)).astype(float), rng.integers(0, 3, (60, 4)).astype(float)
    y = rng.integers(0, 3, 200)
    k = 7
    ours = KNNClassifier(k, metric=metric, device="cpu").fit(X, y)
    d1, i1 = ours.kneighbors(Q)
    d2, i2 = sk_knn(k, metric).fit(X, y).kneighbors(Q)
    np.testing.assert_allclose(d1, d2, atol=1e-12)
    if metric == "cosine":  # parallel vectors tie only up to rounding: distances are the contract
        return
    D = pairwise_distances(Q, X, metric=metric)
    lex = np.lexsort((np.broadcast_to(np.arange(200), D.shape), np.round(D, 12)), axis=1)[:, :k]
    np.testing.assert_array_equal(i1, lex)
    kth = np.sort(D, 1)[:, k - 1:k]
    untied = ((np.abs(D - kth) < 1e-12).sum(1) == 1) | (np.sort(D, 1)[:, k] > kth[:, 0] + 1e-12)
    for row in np.nonzero(untied)[0]:
        assert set(i1[row]) == set(i2[row])
    small = KNNClassifier(k, metric=metric, device="cpu", working_memory=0.002).fit(X, y)
    np.testing.assert_array_equal(small.kneighbors(Q)[1], i1)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_tied_vote_goes_to_smallest_class_index_like_sklearn(weights):
    rng = np.random.default_rng(5)
    X, Q = rng.normal(size=(40, 3)), rng.normal(size=(300, 3))
    y = rng.choice(np.array([10, 20, 30]), size=40)
    ours = KNNClassifier(2, weights=weights, device="cpu").fit(X, y)
    ref = sk_knn(2, "euclidean", weights).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Q), ref.predict(Q))
    if weights == "uniform":
        proba = ours.predict_proba(Q)
        tied = np.isclose(proba.max(1), 0.5)
        assert tied.any()
        first = y[ours.kneighbors(Q)[1]]
        np.testing.assert_array_equal(ours.predict(Q)[tied], np.minimum(first[tied, 0], first[tied, 1]))


def test_query_on_a_training_point_with_distance_weights_like_sklearn():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, (50, 2)).astype(float)
    y = rng.integers(0, 2, 50)
    ours = KNNClassifier(5, weights="distance", device="cpu").fit(X, y)
    ref = sk_knn(5, "euclidean", "distance").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_sparse_input_gives_the_same_neighbours_as_dense(metric):
    rng = np.random.default_rng(2)
    X = sp.random(120, 40, density=0.2, random_state=3, format="csr")
    Q = sp.random(30, 40, density=0.2, random_state=4, format="csr")
    y = rng.integers(0, 2, 120)
    a = KNNClassifier(4, metric=metric, device="cpu", working_memory=0.01).fit(X, y).kneighbors(Q)
    b = KNNClassifier(4, metric=metric, device="cpu").fit(X.toarray(), y).kneighbors(Q.toarray())
    np.testing.assert_allclose(a[0], b[0], atol=1e-10)


def levenshtein_dp(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abcé ", max_size=8), min_size=1, max_size=4),
       st.lists(st.text(alphabet="abcé ", max_size=8), min_size=1, max_size=4))
def test_levenshtein_equals_dynamic_programming_reference(xs, ys):
    D = pairwise_levenshtein(xs, ys)
    np.testing.assert_array_equal(D, [[levenshtein_dp(a, b) for b in ys] for a in xs])


def test_levenshtein_knn_on_raw_strings():
    train = ["kitten", "sitting", "mitten", "bitten", "sittin", "fitting"]
    y = ["k", "s", "k", "k", "s", "s"]
    m = KNNClassifier(1, metric="levenshtein", device="cpu").fit(train, y)
    assert list(m.predict(["kitte", "sittng"])) == ["k", "s"]
    d, i = m.kneighbors(["kitten"], n_neighbors=3)
    np.testing.assert_array_equal(d[0], [0, 1, 1])  # kitten; mitten and bitten tie: smallest index first
    np.testing.assert_array_equal(i[0], [0, 2, 3])


def dtw_dp(a, b, window=None):
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    la, lb = a.shape[1], b.shape[1]
    r = _window_radius(window, la, lb)
    D = np.full((la + 1, lb + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, la + 1):
        for j in range(1, lb + 1):
            if r is not None and abs(i - j) > r:
                continue
            D[i, j] = ((a[:, i - 1] - b[:, j - 1]) ** 2).sum() + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return np.sqrt(D[la, lb])


@pytest.mark.parametrize("window", [None, 0, 2, 0.25, 1.0])
@pytest.mark.parametrize("channels", [1, 3])
def test_dtw_equals_dynamic_programming_reference_ragged_and_multivariate(window, channels):
    rng = np.random.default_rng(channels)
    X = [rng.normal(size=(channels, rng.integers(1, 12))) for _ in range(6)]
    Y = [rng.normal(size=(channels, rng.integers(1, 12))) for _ in range(5)]
    if channels == 1:
        X = [x[0] for x in X]  # (L,) univariate series are accepted too
    D = pairwise_dtw(X, Y, window=window, working_memory=0.001)
    np.testing.assert_allclose(D, [[dtw_dp(a, b, window) for b in Y] for a in X], rtol=1e-12)


@pytest.mark.parametrize("window", [None, 1, 3])
def test_dtw_equal_length_band_and_zero_on_identical_series(window):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, 2, 10))
    D = pairwise_dtw(X, window=window)
    np.testing.assert_allclose(D, [[dtw_dp(a, b, window) for b in X] for a in X], rtol=1e-12)
    np.testing.assert_array_equal(np.diag(D), 0.0)
    assert dtw_distance(X[0], X[0]) == 0.0


def test_dtw_knn_on_ragged_series_finds_the_time_warped_twin():
    t = np.linspace(0, 1, 40)
    train = [np.sin(2 * np.pi * t), np.sign(np.sin(2 * np.pi * t)), np.sin(2 * np.pi * t[:25] * 1.6)]
    y = ["sine", "square", "sine"]
    m = KNNClassifier(1, metric="dtw", device="cpu").fit(train, y)
    query = [np.sin(2 * np.pi * np.linspace(0, 1, 55)), np.sign(np.sin(2 * np.pi * np.linspace(0, 1, 30)))]
    assert list(m.predict(query)) == ["sine", "square"]
    with pytest.raises(ValueError, match="channels"):
        m.predict([np.zeros((2, 10))])


def _status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _peak_increase_mb(n_ref, n_query, working_memory=64):
    """Peak resident memory added by one predict (Linux: VmHWM reset via /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        _status_kb("VmHWM")
    except OSError:
        pytest.skip("needs Linux /proc/self/clear_refs to reset the peak RSS")
    rng = np.random.default_rng(0)
    X = rng.random((n_ref, 16), dtype=np.float32)
    Q = rng.random((n_query, 16), dtype=np.float32)
    m = KNNClassifier(5, device="cpu", working_memory=working_memory).fit(X, rng.integers(0, 5, n_ref))
    m.predict(Q[:10])  # warm-up: torch's allocator and thread pools
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _status_kb("VmRSS")
    pred = m.predict(Q)
    assert pred.shape == (n_query,)
    return (_status_kb("VmHWM") - before) / 1024


def test_memory_stays_bounded_under_working_memory():
    # the full distance matrix would be 20,000 × 5,000 float32 = 400 MB (measured ≈ 380 MB with
    # working_memory=4000); under working_memory=64 a block is ≤ 64 MB
    assert _peak_increase_mb(20_000, 5_000) < 100


def test_no_distance_block_exceeds_the_budget(monkeypatch):
    import baselines.knn as knn_mod

    seen = []
    original = knn_mod._block_topk

    def spy(D, k, offset):
        seen.append(D.numel() * D.element_size())
        return original(D, k, offset)

    monkeypatch.setattr(knn_mod, "_block_topk", spy)
    rng = np.random.default_rng(0)
    X, Q = rng.random((5_000, 8), dtype=np.float32), rng.random((3_000, 8), dtype=np.float32)
    KNNClassifier(3, device="cpu", working_memory=1).fit(X, rng.integers(0, 2, 5_000)).predict(Q)
    assert len(seen) > 1 and max(seen) <= 2**20


@pytest.mark.slow
def test_memory_stays_bounded_for_20000_by_20000_queries():
    # the full distance matrix would be 20,000 × 20,000 float32 = 1.6 GB
    assert _peak_increase_mb(20_000, 20_000) < 200


def test_knn_bad_input():
    X = np.random.default_rng(0).normal(size=(4, 2))
    with pytest.raises(ValueError, match="n_neighbors"):
        KNNClassifier(5, device="cpu").fit(X, [0, 1, 0, 1])
    m = KNNClassifier(3, device="cpu").fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="n_neighbors"):
        m.kneighbors(X, n_neighbors=9)
    with pytest.raises(ValueError, match="metric"):
        KNNClassifier(metric="manhattan").fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="weights"):
        KNNClassifier(1, weights="gaussian").fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        KNNClassifier(1).fit(X, [0, 1, 0])
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KNNClassifier(1).fit(bad, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="NaN"):
        KNNClassifier(1, metric="dtw").fit([np.array([1.0, np.nan])], [0])
    with pytest.raises(TypeError, match="X"):
        KNNClassifier(1, metric="levenshtein").fit([1, 2], [0, 1])
    with pytest.raises(ValueError, match="window"):
        KNNClassifier(1, metric="dtw", window=-1).fit([np.zeros(3)], [0])
    one_class = KNNClassifier(1, device="cpu").fit(X, ["only"] * 4)  # documented: allowed, like sklearn
    assert list(one_class.predict(X)) == ["only"] * 4


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_neighbours_equal_cpu():
    rng = np.random.default_rng(0)
    X, Q = rng.normal(size=(500, 16)), rng.normal(size=(100, 16))
    y = rng.integers(0, 3, 500)
    a = KNNClassifier(5, device="cuda").fit(X, y).kneighbors(Q)
    b = KNNClassifier(5, device="cpu").fit(X, y).kneighbors(Q)
    np.testing.assert_array_equal(a[1], b[1])
