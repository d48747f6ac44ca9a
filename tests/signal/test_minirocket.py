"""MiniRocket and MiniRocketClassifier: the paper's rules, features against a plain NumPy
re-computation, determinism, ragged and multivariate input, save/load, bad input."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

import seqcnn
from seqcnn.signal import MiniRocket, MiniRocketClassifier
from seqcnn.signal.minirocket import fit_dilations, kernel_weights, ridge_loo

from .conftest import sine_square

SMALL = dict(num_features=840, random_state=0)


def naive_feature(m: MiniRocket, series: np.ndarray, index: int, tol: float = 1e-4):
    """Feature ``index`` of one (C, L) series, straight from the paper's definition, as bounds
    (low, high): steps whose output is within ``tol`` of the bias may go either way in float32
    (a bias drawn from a series equals some of its outputs exactly)."""
    w = kernel_weights()
    start = 0
    for j, (d, f) in enumerate(zip(m.dilations_, m.features_per_dilation_)):
        if index < start + 84 * f:
            k, i = divmod(index - start, int(f))
            break
        start += 84 * int(f)
    d = int(d)
    c, length = series.shape
    out = np.zeros(length)
    for ch in np.flatnonzero(m.channel_mask_[j, k]):
        for t in range(length):
            for tap in range(9):
                s = t + (tap - 4) * d
                if 0 <= s < length:
                    out[t] += w[k, tap] * series[ch, s]
    if (j + k) % 2 == 1 and length - 8 * d >= 1:  # the "valid steps only" half of the chequerboard
        out = out[4 * d: length - 4 * d]
    b = float(m.biases_[index])
    return float(np.mean(out > b + tol)), float(np.mean(out > b - tol))


def assert_within(value, bounds):
    low, high = bounds
    assert low - 1e-6 <= value <= high + 1e-6, (value, bounds)


def test_the_84_kernels_have_six_minus_ones_and_three_twos():
    w = kernel_weights()
    assert w.shape == (84, 9)
    assert len({tuple(r) for r in w}) == 84
    assert ((w == 2).sum(1) == 3).all() and ((w == -1).sum(1) == 6).all()
    np.testing.assert_array_equal(w.sum(1), 0)


def test_dilations_follow_the_papers_rule():
    d, f = fit_dilations(176, 10_000, 32)
    np.testing.assert_array_equal(d, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 19, 21])
    np.testing.assert_array_equal(f, [27, 19, 8, 12, 8, 4, 4, 8, 4, 4, 3, 3, 3, 3, 3, 3, 3])
    assert 84 * f.sum() == 9996 and d.max() <= (176 - 1) / 8
    d, f = fit_dilations(5, 840, 32)  # shorter than a kernel: dilation 1 only
    np.testing.assert_array_equal(d, [1])
    assert f.tolist() == [10]


def test_features_equal_the_definition_computed_by_hand():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 40)).cumsum(1)
    m = MiniRocket(**SMALL).fit(X)
    F = m.transform(X)
    assert F.shape == (6, 840) and F.dtype == np.float32
    assert m.n_features_out_ == 840 and ((F >= 0) & (F <= 1)).all()
    # both halves of the chequerboard, the first and the last dilation
    for index in (0, 1, 10, 11, 100, 419, 420, 839):
        for n in (0, 4):
            assert_within(F[n, index], naive_feature(m, X[n][None], index))


def test_default_size_is_9996_features():
    X, _ = sine_square(n_per_class=3, length=30)
    assert MiniRocket(random_state=0).fit(X).transform(X).shape == (6, 9996)


def test_same_random_state_gives_identical_features_any_batch_size():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 2, 33))
    a = MiniRocket(**SMALL).fit(X)
    b = MiniRocket(**SMALL, batch_size=1).fit(X)
    np.testing.assert_array_equal(a.biases_, b.biases_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.transform(X[5:7]), a.transform(X)[5:7])
    c = MiniRocket(num_features=840, random_state=1).fit(X)
    assert not np.array_equal(a.biases_, c.biases_)


def test_multivariate_combinations_sum_a_random_channel_subset():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 4, 30))
    m = MiniRocket(**SMALL).fit(X)
    per = m.channel_mask_.sum(-1)
    assert m.channel_mask_.shape == (len(m.dilations_), 84, 4)
    assert per.min() >= 1 and per.max() <= 4 and per.max() > 1
    F = m.transform(X)
    for index in (3, 200, 421, 700):
        assert_within(F[2, index], naive_feature(m, X[2], index))
    with pytest.raises(ValueError, match="3 channel"):
        m.transform(X[:, :3])


def test_ragged_series_use_their_own_valid_steps():
    rng = np.random.default_rng(3)
    X = [rng.standard_normal((2, n)) for n in (30, 17, 44, 9, 5)]
    m = MiniRocket(**SMALL).fit(X)
    assert m.series_length_ is None and m.reference_length_ == 44
    F = m.transform(X)
    alone = np.concatenate([m.transform([x]) for x in X])
    np.testing.assert_array_equal(F, alone)
    for n in (1, 3, 4):
        for index in (0, 1, 500, 839):
            assert_within(F[n, index], naive_feature(m, X[n], index))
    # a model fitted on ragged series accepts any length, including NaN-padded arrays
    padded = np.full((2, 2, 44), np.nan)
    padded[0, :, :17], padded[1] = X[1], X[2]
    np.testing.assert_array_equal(m.transform(padded), F[[1, 2]])


def test_series_shorter_than_a_kernel_are_accepted():
    X, y = sine_square(n_per_class=6, length=4, seed=0)
    clf = MiniRocketClassifier(**SMALL).fit(X, y)
    assert clf.transformer_.dilations_.tolist() == [1]
    assert clf.predict(X).shape == (12,)
    assert MiniRocket(**SMALL).fit([np.ones(1), np.arange(3.0)]).transform([np.ones(2)]).shape == (1, 840)


def test_equal_length_model_refuses_another_length_naming_both():
    X, y = sine_square(n_per_class=5, length=30)
    clf = MiniRocketClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"X\[0\] has length 20 but the model was fitted on series of length 30"):
        clf.predict(X[:, :20])


def test_classifier_learns_shape_classes_and_returns_labels_as_given():
    X, y = sine_square(n_per_class=20, length=60, seed=0)
    Xt, yt = sine_square(n_per_class=40, length=60, seed=1)
    clf = MiniRocketClassifier(random_state=0).fit(X, y)
    assert clf.classifier_ == "ridge" and clf.alpha_ in np.logspace(-3, 3, 10)
    assert clf.score(Xt, yt) >= 0.95
    assert set(clf.predict(Xt)) == {"sine", "square"}
    proba = clf.predict_proba(Xt)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(Xt))
    assert clf.decision_function(Xt).shape == (80,)
    ints = MiniRocketClassifier(**SMALL).fit(X, np.where(y == "sine", 7, -3))
    assert ints.predict(X[:3]).dtype.kind == "i" and set(ints.classes_) == {7, -3}


@pytest.mark.parametrize("n_classes", [2, 5])
def test_ridge_loo_is_sklearns_ridge_classifier_cv(n_classes):
    """The leave-one-out ridge on the Gram matrix gives RidgeClassifierCV's alpha, weights and
    intercept (F > N, standardised features, several informative columns)."""
    from sklearn.linear_model import RidgeClassifierCV

    rng = np.random.default_rng(n_classes)
    y = np.arange(60) % n_classes
    X = rng.standard_normal((60, 300)) + 0.8 * np.eye(n_classes)[y] @ rng.standard_normal((n_classes, 300))
    z = (X - X.mean(0)) / X.std(0)
    alphas = np.logspace(-3, 3, 10)
    coef, intercept, alpha = ridge_loo(z, y, n_classes, alphas)
    ref = RidgeClassifierCV(alphas=alphas).fit(z, y)
    assert alpha == ref.alpha_
    np.testing.assert_allclose(coef, np.asarray(ref.coef_).reshape(coef.shape), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(intercept, np.asarray(ref.intercept_).reshape(-1), atol=1e-9)
    other = ridge_loo(z, y, n_classes, [1e6])  # a single penalty is taken as given
    assert other[2] == 1e6


def test_multiclass_and_logistic_regression_for_large_training_sets():
    X, y = sine_square(n_per_class=10, length=40, seed=0)
    y3 = np.array(["a", "b", "c", "d"])[np.arange(len(y)) % 2 + 2 * (y == "sine")]
    ridge = MiniRocketClassifier(**SMALL).fit(X, y3)
    assert ridge.decision_function(X).shape == (20, 4) and ridge.coef_.shape == (4, 840)
    logistic = MiniRocketClassifier(**SMALL, max_ridge_samples=10).fit(X, y)
    assert logistic.classifier_ == "logistic" and logistic.alpha_ is None
    assert logistic.score(X, y) >= 0.9
    np.testing.assert_allclose(logistic.predict_proba(X).sum(1), 1.0)


def test_save_load_identical_in_a_fresh_process(tmp_path):
    X, y = sine_square(n_per_class=8, length=36, seed=0)
    # ragged and 3 channels, to carry the length state and the channel choices too
    X = [np.stack([x, -x ** 2, np.cumsum(x)])[:, : 30 + i % 7] for i, x in enumerate(X)]
    clf = MiniRocketClassifier(**SMALL).fit(X, y)
    assert clf.transformer_.channel_mask_.sum(-1).max() > 1
    path = tmp_path / "mr"
    clf.save(path)
    assert (path / "model.safetensors").is_file() and (path / "config.json").is_file()
    np.save(tmp_path / "X.npy", np.stack([np.pad(x, ((0, 0), (0, 36 - x.shape[1])), constant_values=np.nan)
                                          for x in X]))
    code = textwrap.dedent(f"""
        import json, numpy as np
        from seqcnn.signal import MiniRocketClassifier
        m = MiniRocketClassifier.load({str(path)!r})
        X = np.load({str(tmp_path / 'X.npy')!r})
        print(json.dumps({{"p": m.predict_proba(X).tolist(), "y": m.predict(X).tolist()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    np.testing.assert_array_equal(np.asarray(got["p"]), clf.predict_proba(X))
    assert got["y"] == clf.predict(X).tolist()
    loaded = MiniRocketClassifier.load(path)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.transformer_.channel_mask_, clf.transformer_.channel_mask_)
    with pytest.raises((FileExistsError, ValueError)):
        clf.save(path)
    clf.save(path, overwrite=True)


def test_load_refuses_an_artifact_of_another_model(tmp_path):
    from seqcnn.engine.checkpoint import save_artifact

    save_artifact(tmp_path / "other", {"w": torch.zeros(1)}, {"format": "something else"})
    with pytest.raises(ValueError, match="not a MiniRocketClassifier artifact"):
        MiniRocketClassifier.load(tmp_path / "other")


@pytest.mark.parametrize("X, y, fragment", [
    (np.array([[1.0, np.nan, 2.0, 3.0]] * 4), [0, 1, 0, 1], "NaN inside the series"),
    (np.zeros((0, 10)), [], "empty"),
    (np.zeros((4, 10)), [1, 1, 1, 1], "only one class"),
    (np.zeros((4, 10)), [0, 1, 0], "inconsistent numbers of samples"),
    (np.array([[1.0, np.inf, 2.0]] * 4), [0, 1, 0, 1], "inf"),
    ([np.ones(5), np.ones((2, 5))], [0, 1], "channel"),
])
def test_bad_input_raises_value_error(X, y, fragment):
    with pytest.raises(ValueError, match=fragment):
        MiniRocketClassifier(**SMALL).fit(X, y)


def test_missing_values_can_be_interpolated():
    X, y = sine_square(n_per_class=5, length=30)
    X[2, 7] = np.nan
    clf = MiniRocketClassifier(**SMALL, missing="interpolate").fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()


@pytest.mark.parametrize("param, value, exc", [
    ("num_features", 83, ValueError), ("num_features", 1000.0, TypeError),
    ("max_dilations_per_kernel", 0, ValueError), ("batch_size", 0, ValueError),
    ("n_jobs", 0, ValueError), ("missing", "drop", ValueError), ("device", "tpu", ValueError),
    ("alphas", [-1.0], ValueError), ("max_ridge_samples", 0, ValueError),
])
def test_bad_parameters_are_named(param, value, exc):
    X, y = sine_square(n_per_class=3, length=20)
    with pytest.raises(exc, match=param):
        MiniRocketClassifier(**{**SMALL, param: value}).fit(X, y)


def test_predict_and_transform_before_fit_raise_not_fitted():
    X, _ = sine_square(n_per_class=2, length=20)
    with pytest.raises(NotFittedError):
        MiniRocketClassifier().predict(X)
    with pytest.raises(NotFittedError):
        MiniRocket().transform(X)


def test_exported_from_seqcnn_and_registered_for_compare():
    from seqcnn.compare.models import get_model

    assert seqcnn.MiniRocketClassifier is MiniRocketClassifier
    est = get_model("minirocket").build("signal", seed=5)
    assert isinstance(est, MiniRocketClassifier) and est.random_state == 5


def test_n_jobs_threads_are_restored_and_give_the_same_features():
    X, _ = sine_square(n_per_class=10, length=40)
    before = torch.get_num_threads()
    one = MiniRocket(**SMALL, n_jobs=1, batch_size=3).fit(X).transform(X)
    two = MiniRocket(**SMALL, n_jobs=2, batch_size=3).fit(X).transform(X)
    assert torch.get_num_threads() == before
    np.testing.assert_array_equal(one, two)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_features_equal_the_cpu_ones():
    X, _ = sine_square(n_per_class=10, length=50)
    cpu = MiniRocket(**SMALL, device="cpu").fit(X).transform(X)
    gpu = MiniRocket(**SMALL, device="cuda").fit(X).transform(X)
    assert np.abs(cpu - gpu).max() <= 1 / 50 + 1e-6  # a tie with a bias may flip one step
