"""SignalCNNClassifier: input forms, save/load, edge cases, masking, class weights, CAM."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from seqcnn.signal import SignalCNNClassifier, class_activation_map, plot_cam

from .conftest import sine_square

TINY = dict(max_epochs=2, batch_size=8, n_filters=4, verbose=0, random_state=0)


def tiny(**kw):
    return SignalCNNClassifier(**{**TINY, **kw})


@pytest.fixture(scope="module")
def data():
    return sine_square(n_per_class=12, length=32, seed=3)


def test_sine_vs_square_with_noise_is_learnt_above_95_percent():
    X, y = sine_square(n_per_class=30, length=40, noise=0.3, seed=0)
    Xt, yt = sine_square(n_per_class=50, length=40, noise=0.3, seed=1)
    clf = SignalCNNClassifier("fcn", n_filters=8, max_epochs=10, batch_size=8, verbose=0, random_state=0)
    clf.fit(X, y)
    assert clf.score(Xt, yt) > 0.95


def test_two_d_input_is_treated_as_one_channel(data):
    X, y = data
    clf = tiny().fit(X, y)
    assert clf.n_channels_ == 1 and clf.module_.in_channels == 1
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X[:, None, :]))


def test_multivariate_and_ragged_list_input_fit_and_predict(data):
    X, y = data
    multi = np.stack([X, X[:, ::-1]], axis=1)  # (N, 2, L)
    clf = tiny(arch="resnet").fit(multi, y)
    assert clf.predict(multi).shape == (len(y),)
    ragged = [x[:, : 10 + i % 7] for i, x in enumerate(multi)]
    clf2 = tiny().fit(ragged, y)
    assert set(clf2.predict(ragged)) <= set(y)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(X)  # one channel, fitted on two


def test_labels_come_back_as_given(data):
    X, y = data
    labels = np.where(y == "sine", 10, 20)
    clf = tiny().fit(X, labels)
    assert clf.predict(X).dtype.kind == "i" and set(clf.predict(X)) <= {10, 20}


PREDICT_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from seqcnn.signal import SignalCNNClassifier
    X = np.load(sys.argv[1], allow_pickle=False)
    print(json.dumps([SignalCNNClassifier.load(p).predict_proba(X).tolist() for p in sys.argv[2:]]))
""")


def test_predictions_identical_before_save_after_load_in_a_subprocess_and_on_repeat(tmp_path, data):
    X, y = data
    settings = {"fcn": dict(arch="fcn", normalize="series"),
                "ens": dict(arch="inceptiontime", normalize="dataset", n_members=2, depth=3, n_filters=2,
                            max_epochs=1)}
    before, paths = [], []
    for name, kw in settings.items():
        clf = tiny(**kw).fit(X * 3.0 + 5.0, y)
        proba = clf.predict_proba(X)
        np.testing.assert_array_equal(proba, clf.predict_proba(X))  # repeated calls
        clf.save(tmp_path / name)
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["config.json", "model.safetensors"]
        loaded = SignalCNNClassifier.load(tmp_path / name)
        np.testing.assert_array_equal(loaded.predict_proba(X), proba)
        assert list(loaded.classes_) == list(clf.classes_)
        if kw["normalize"] == "dataset":  # the statistics travel with the model
            assert loaded.norm_mean_ == clf.norm_mean_ and loaded.norm_std_ == clf.norm_std_
        before.append(proba)
        paths.append(str(tmp_path / name))
    np.save(tmp_path / "X.npy", X)
    script = tmp_path / "predict.py"
    script.write_text(PREDICT_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "X.npy"), *paths],
                         capture_output=True, text=True, check=True, env=env)
    for got, want in zip(json.loads(out.stdout), before):
        np.testing.assert_allclose(np.array(got), want, rtol=0, atol=1e-12)


def test_inceptiontime_trains_five_members_each_on_its_own(data):
    X, y = data
    clf = tiny(arch="inceptiontime", depth=3, n_filters=2, max_epochs=1).fit(X, y)
    assert len(clf.module_.members) == 5
    assert sorted({row["member"] for row in clf.history_}) == [1, 2, 3, 4, 5]
    assert len(clf.best_epoch_) == 5
    w = [m.head.weight.detach().clone() for m in clf.module_.members]
    assert not all(np.allclose(w[0].numpy(), wi.numpy()) for wi in w[1:])


def test_length_one_and_constant_series_predict_without_nan(data):
    X, y = data
    ragged = [x[: 20 + i % 13] for i, x in enumerate(X)]  # a ragged-trained model takes any length
    for normalize in ("series", "dataset", None):
        clf = tiny(normalize=normalize).fit(ragged, y)
        proba = clf.predict_proba([np.array([3.0]), np.full(32, 7.0), np.zeros(5)])
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(1), 1.0)
    clf = tiny().fit(np.ones((6, 1)) * np.arange(6)[:, None], ["a", "b"] * 3)  # length-1 training set
    assert np.isfinite(clf.predict_proba(np.ones((2, 1)))).all()


@pytest.mark.parametrize("arch", ["fcn", "resnet", "inception"])
def test_ragged_prediction_is_unchanged_when_batched_with_a_longer_series(data, arch):
    X, y = data
    clf = tiny(arch=arch, depth=3 if arch == "inception" else None, n_filters=2 if arch == "inception" else 4)
    clf.fit([x[: 12 + i] for i, x in enumerate(X)], y)
    short = X[0][:9]
    alone = clf.predict_proba([short])
    batched = clf.predict_proba([short, np.tile(X[1], 5)])
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-6)


def test_missing_values_raise_by_default_and_can_be_interpolated(data):
    X, y = data
    Xn = X.copy()
    Xn[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"X\[3\].*NaN"):
        tiny().fit(Xn, y)
    clf = tiny(missing="interpolate").fit(Xn, y)
    assert np.isfinite(clf.predict_proba(Xn)).all()


@pytest.mark.parametrize("X, y, exc, fragment", [
    (np.array([[1.0, np.inf, 2.0]] * 4), [0, 1, 0, 1], ValueError, "inf"),
    (np.zeros((0, 5)), [], ValueError, "empty"),
    (np.zeros((4, 1, 3, 2)), [0, 1, 0, 1], ValueError, "dimension"),
    (np.zeros((4, 5)), [0, 1, 0], ValueError, "inconsistent"),
    (np.random.default_rng(0).normal(size=(4, 5)), [1, 1, 1, 1], ValueError, "one class"),
])
def test_bad_input_raises_value_error(X, y, exc, fragment):
    with pytest.raises(exc, match=fragment):
        tiny().fit(X, y)


@pytest.mark.parametrize("param, value", [("arch", "lstm"), ("normalize", "minmax"), ("missing", "drop"),
                                          ("max_epochs", 0)])
def test_bad_parameters_raise_value_error_naming_them(data, param, value):
    X, y = data
    with pytest.raises(ValueError, match=param):
        tiny(**{param: value}).fit(X, y)


def test_predict_before_fit_raises_not_fitted(data):
    with pytest.raises(NotFittedError):
        tiny().predict(data[0])


@pytest.mark.parametrize("class_weight", ["balanced", {"sine": 1.0, "square": 3.0}])
def test_class_weight_balanced_or_dict_is_accepted(data, class_weight):
    X, y = data
    keep = np.r_[np.flatnonzero(y == "sine")[:4], np.flatnonzero(y == "square")]
    clf = tiny(class_weight=class_weight).fit(X[keep], y[keep])
    assert clf.predict(X).shape == (len(y),)


def test_features_gives_pre_logit_features(data):
    X, y = data
    clf = tiny().fit(X, y)
    assert clf.features(X).shape == (len(X), clf.module_.num_features)


def test_class_activation_map_has_length_l_in_unit_range_and_plot_is_written(tmp_path, data):
    X, y = data
    clf = tiny(arch="resnet").fit(X, y)
    cam = class_activation_map(clf, X[0])
    assert cam.shape == (X.shape[1],) and cam.min() >= 0.0 and cam.max() <= 1.0
    cam_sq = class_activation_map(clf, X[0], target="square")
    assert cam_sq.shape == (X.shape[1],)
    with pytest.raises(ValueError, match="target"):
        class_activation_map(clf, X[0], target="triangle")
    short = class_activation_map(clf.module_, X[0][:7])  # a bare network, any length
    assert short.shape == (7,)
    png = plot_cam(X[0], cam, tmp_path / "cam.png")
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"


def test_class_activation_map_equals_the_weighted_sum_of_feature_maps(data):
    import torch

    X, y = data
    clf = tiny().fit(X, y)
    net = clf.module_
    x = torch.as_tensor(clf._prepare_inputs(X[:1])[0])
    with torch.no_grad():
        maps = net.feature_maps(x)[0]
        raw = (net.head.weight[1][:, None] * maps).sum(0).numpy()
    expected = (raw - raw.min()) / (raw.max() - raw.min())
    np.testing.assert_allclose(class_activation_map(clf, X[0], target=clf.classes_[1]), expected, atol=1e-6)


@pytest.mark.gpu
def test_cuda_fit_predicts_like_the_cpu_copy_after_load(tmp_path, data):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y = data
    clf = tiny(device="cuda").fit(X, y)
    proba = clf.predict_proba(X)
    clf.save(tmp_path / "m")
    cpu = SignalCNNClassifier.load(tmp_path / "m").set_params(device="cpu")
    np.testing.assert_allclose(cpu.predict_proba(X), proba, atol=1e-4)
    assert class_activation_map(clf, X[0]).shape == (X.shape[1],)


def test_no_validation_split_follows_the_papers_protocol(data):
    # validation_fraction=0: learning-rate plateau and best epoch on the *training* loss
    # (Wang et al. 2017 / Ismail Fawaz et al. 2019), not the last epoch.
    X, y = data
    clf = tiny(max_epochs=6, validation_fraction=0.0).fit(X, y)
    losses = [h["train_loss"] for h in clf.history_]
    assert clf.best_epoch_ == int(np.argmin(losses)) + 1
    assert all("val_loss" not in h for h in clf.history_)
    ens = tiny(arch="inceptiontime", n_members=2, max_epochs=3, validation_fraction=0.0).fit(X, y)
    assert len(ens.best_epoch_) == 2 and all(isinstance(b, int) for b in ens.best_epoch_)
    with_val = tiny(max_epochs=3, validation_fraction=0.25).fit(X, y)
    best = min(with_val.history_, key=lambda h: h["val_loss"])
    assert with_val.best_epoch_ == best["epoch"]


def test_equal_length_model_refuses_another_length_naming_both(data):
    X, y = data
    clf = tiny().fit(X, y)
    assert clf.series_length_ == 32
    with pytest.raises(ValueError, match=r"length 20 .*series of length 32"):
        clf.predict(X[:, :20])
    with pytest.raises(ValueError, match=r"X\[1\] has length 40"):
        clf.predict([X[0], np.tile(X[1], 2)[:40]])
    with pytest.raises(ValueError, match=r"2 channel\(s\) per series but the model was fitted on 1"):
        clf.predict(np.stack([X, X], axis=1))
    ragged = tiny().fit([x[: 20 + i % 5] for i, x in enumerate(X)], y)
    assert ragged.series_length_ is None
    assert ragged.predict(np.tile(X[:2], 3)).shape == (2,)


def _level_set(n, seed):
    """3 channels of noise; the class lives only in channel 1's level (+1.5 / -1.5)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 3, 24)) * 0.5
    X[:, 1, :] += np.where(y == 1, 1.5, -1.5)[:, None]
    return X, np.array(["low", "high"])[y]


def test_auto_normalisation_keeps_a_channel_level_that_series_znorm_destroys():
    X, y = _level_set(40, 0)
    Xt, yt = _level_set(60, 1)
    kw = dict(max_epochs=15, batch_size=8, n_filters=8, lr=1e-2, validation_fraction=0, verbose=0, random_state=0)
    auto = SignalCNNClassifier(**kw).fit(X, y)
    assert auto.normalize_ == "dataset" and len(auto.norm_mean_) == 3
    assert auto.score(Xt, yt) >= 0.95
    series = SignalCNNClassifier(normalize="series", **kw).fit(X, y)
    assert series.score(Xt, yt) <= 0.75  # z-normalising every channel removes the level: chance


def test_auto_normalisation_is_per_series_for_univariate_shape_classes():
    X, y = sine_square(n_per_class=20, length=40, seed=0)
    X = X * np.random.default_rng(0).uniform(0.2, 5.0, size=(len(X), 1))  # scales that carry no class
    Xt, yt = sine_square(n_per_class=30, length=40, seed=1)
    clf = SignalCNNClassifier(max_epochs=15, batch_size=8, n_filters=8, lr=1e-2, validation_fraction=0, verbose=0,
                              random_state=0).fit(X, y)
    assert clf.normalize_ == "series"
    assert clf.score(Xt * 3.0, yt) >= 0.9


def test_artifact_saved_with_explicit_normalize_loads_and_predicts_identically(tmp_path, data):
    """An artifact written before "auto" existed: explicit normalize in params, no normalize_ or
    series_length in its state. It keeps its normalisation and accepts any length as before."""
    from seqcnn.engine.checkpoint import load_artifact, save_artifact

    X, y = data
    clf = tiny(normalize="dataset").fit(X, y)
    clf.save(tmp_path / "new")
    tensors, config = load_artifact(tmp_path / "new")
    state = config["state"]["__dict__"]  # the base stores dicts as [key, value] pairs
    config["state"]["__dict__"] = [kv for kv in state if kv[0] not in ("normalize", "series_length")]
    assert len(config["state"]["__dict__"]) == len(state) - 2
    for key in ("format_version", "versions", "weights_sha256"):
        config.pop(key)
    save_artifact(tmp_path / "old", tensors, config)
    old = SignalCNNClassifier.load(tmp_path / "old")
    assert old.normalize == "dataset" and old.normalize_ == "dataset" and old.series_length_ is None
    np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
    assert old.predict(X[:, :20]).shape == (len(X),)
