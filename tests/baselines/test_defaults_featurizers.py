"""default_baselines per modality on raw input, model_size, and the featurisers."""
import numpy as np
import pytest
from sklearn.base import clone

from baselines import ImageFeaturizer, SeriesFeaturizer, default_baselines, model_size

TEXTS = ["a good and moving film", "great acting , good story", "a moving , great film",
         "a bad and boring film", "awful acting , bad story", "a boring , awful film"] * 2
TEXT_Y = ["pos", "pos", "pos", "neg", "neg", "neg"] * 2


def _signals():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 24)
    X = np.stack([np.sin(2 * np.pi * (1 + c) * t) + 0.1 * rng.normal(size=24) for c in [0, 1] * 6])
    return X, np.array([0, 1] * 6)


def test_every_default_baseline_fits_raw_input_and_reports_its_size():
    Xs, ys = _signals()
    ragged = [x[: 18 + i % 6] for i, x in enumerate(Xs)]
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(12, 6, 6, 3)).astype(np.uint8)
    imgs[ys == 1] //= 4
    cases = {"text": (TEXTS, TEXT_Y), "signal": (Xs, ys), "image": (imgs, ys)}
    expected = {"text": {"mnb", "mnb-bi", "nbsvm", "knn-cosine", "knn-levenshtein", "svm-linear", "svm-string"},
                "signal": {"gnb", "knn-euclidean", "knn-dtw", "svm-rbf"}, "image": {"gnb", "knn-euclidean", "svm-rbf"}}
    for modality, (X, y) in cases.items():
        models = default_baselines(modality)
        assert expected[modality] <= set(models)
        for name, model in models.items():
            if "knn" in name:
                model.set_params(**{k: 3 for k in model.get_params() if k.endswith("n_neighbors")})
            fitted = clone(model).fit(X, y)
            assert fitted.score(X, y) >= 0.5, (modality, name)
            size, unit = model_size(fitted, with_unit=True)
            assert size > 0 and unit in {"samples", "support_vectors", "landmarks", "coefficients"}
    for name, model in default_baselines("signal").items():  # ragged series too
        assert len(clone(model).fit(ragged, ys).predict(ragged)) == 12, name


def test_model_size_counts_samples_support_vectors_and_coefficients():
    Xs, ys = _signals()
    m = default_baselines("signal")
    assert model_size(clone(m["knn-euclidean"]).fit(Xs, ys)) == 12
    svm = clone(m["svm-rbf"]).fit(Xs, ys)
    assert model_size(svm, with_unit=True) == (svm[-1].n_support_vectors_, "support_vectors")
    gnb = clone(m["gnb"]).fit(Xs, ys)
    assert model_size(gnb) == 2 * 24 * 2 + 2
    with pytest.raises(TypeError, match="model_size"):
        model_size(SeriesFeaturizer().fit(Xs))


def test_unknown_modality_raises():
    with pytest.raises(ValueError, match="modality"):
        default_baselines("audio")


def test_series_featurizer_resamples_pads_and_znormalises_ragged_multivariate_input():
    rng = np.random.default_rng(0)
    ragged = [rng.normal(3.0, 2.0, size=(2, n)) for n in (5, 9, 7)]
    out = SeriesFeaturizer().fit_transform(ragged)
    assert out.shape == (3, 2 * 9)
    cube = SeriesFeaturizer(flatten=False).fit_transform(ragged)
    np.testing.assert_allclose(cube[1].mean(1), 0.0, atol=1e-12)  # the longest is not resampled
    np.testing.assert_allclose(cube[1].std(1), 1.0)
    padded = SeriesFeaturizer(method="pad", length=8, flatten=False).fit_transform(ragged)
    np.testing.assert_array_equal(padded[0, :, 5:], 0.0)
    assert padded.shape == (3, 2, 8)
    const = SeriesFeaturizer(flatten=False).fit_transform(np.ones((2, 6)))
    np.testing.assert_array_equal(const, 0.0)
    up = SeriesFeaturizer(length=9, znorm=False, flatten=False).fit_transform([np.array([0.0, 1.0, 2.0])])
    np.testing.assert_allclose(up[0, 0], np.linspace(0, 2, 9))


def test_series_featurizer_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        SeriesFeaturizer().fit(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(ValueError, match="channels"):
        SeriesFeaturizer().fit([np.zeros((2, 4)), np.zeros((3, 4))])
    with pytest.raises(ValueError, match="length"):
        SeriesFeaturizer(length=0).fit(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="method"):
        SeriesFeaturizer(method="warp").fit(np.zeros((2, 4)))


def test_image_featurizer_handles_both_layouts_and_scales_to_unit_range():
    rng = np.random.default_rng(0)
    nhwc = rng.integers(0, 256, size=(4, 5, 6, 3)).astype(np.uint8)
    nchw = nhwc.transpose(0, 3, 1, 2)
    a = ImageFeaturizer().fit_transform(nhwc)
    b = ImageFeaturizer().fit_transform(nchw)
    np.testing.assert_allclose(a, b)
    assert a.shape == (4, 90) and a.max() <= 1.0
    grey = ImageFeaturizer().fit_transform(rng.random((4, 5, 6)))
    assert grey.shape == (4, 30)
    pca = ImageFeaturizer(n_components=3, random_state=0).fit(nhwc)
    assert pca.transform(nhwc).shape == (4, 3)
    with pytest.raises(ValueError, match="NaN"):
        ImageFeaturizer().fit(np.full((2, 3, 3), np.nan))
    with pytest.raises(ValueError, match="features"):
        ImageFeaturizer().fit(nhwc).transform(nhwc[:, :4])
