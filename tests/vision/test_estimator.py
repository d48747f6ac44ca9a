"""ImageCNNClassifier: the scikit-learn contract, the input pipeline, metrics, save/load."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from vision import ImageCNNClassifier
from vision.estimator import top_k_accuracy

ROOT = Path(__file__).resolve().parents[2]


def tiny(**kw):
    """Tiny, fast settings (aeon's _get_test_params habit)."""
    params = dict(arch="resnet20", model_kwargs={"width": 0.25}, max_epochs=1, batch_size=32, augment=False,
                  lr=0.05, verbose=0, random_state=0, device="cpu", validation_fraction=0.0)
    params.update(kw)
    return ImageCNNClassifier(**params)


# Checks a CNN on flattened 2-d toy data cannot pass, with the reason.
EXPECTED_FAILED = {
    "check_classifiers_train": "one epoch of a 4-8-16-channel ResNet-20 on the check's 1×2-pixel 'images' "
                               "does not reach the 0.83 training accuracy the check demands (the estimator "
                               "is meant for images; the other accuracy-free checks all pass)",
}


# the checks feed 2-d toy data of any width: image_shape="row" says each row is a 1×1×D strip
@parametrize_with_checks([tiny(image_shape="row")], expected_failed_checks=lambda est: EXPECTED_FAILED)
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    return tiny(max_epochs=4, augment=True, crop_padding=1, model_kwargs={"width": 0.5},
                validation_fraction=0.1).fit(X[:300], labels[:300])


def test_fit_on_8x8_digits_learns_and_keeps_string_labels(fitted, digits):
    X, y = digits
    labels = fitted.classes_[np.argsort(["eight", "five", "four", "nine", "one", "seven", "six", "three",
                                        "two", "zero"])]  # classes_ is sorted
    pred = fitted.predict(X[300:])
    assert set(pred) <= set(fitted.classes_)
    truth = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y[300:]]
    assert np.mean(pred == truth) > 0.3  # 3 tiny epochs; chance is 0.1
    assert fitted.input_shape_ == (1, 8, 8) and fitted.n_features_in_ == 64
    assert len(fitted.history_) == 4 and "val_loss" in fitted.history_[0]
    assert labels is not None


def test_top_k_score_is_monotone_and_top1_equals_score(fitted, digits):
    X, y = digits
    truth = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y[300:]]
    top1 = fitted.top_k_score(X[300:], truth, k=1)
    top5 = fitted.top_k_score(X[300:], truth, k=5)
    assert top1 == pytest.approx(fitted.score(X[300:], truth))
    assert top5 >= top1
    assert fitted.top_k_score(X[300:], truth, k=10) == 1.0


def test_top_k_accuracy_helper():
    scores = np.array([[0.1, 0.5, 0.4], [0.8, 0.1, 0.1]])
    assert top_k_accuracy([2, 0], scores, k=1) == 0.5
    assert top_k_accuracy([2, 0], scores, k=2) == 1.0
    assert top_k_accuracy(["c", "a"], scores, k=1, classes=["a", "b", "c"]) == 0.5
    with pytest.raises(ValueError, match="k must be"):
        top_k_accuracy([0], scores[:1], k=0)


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        tiny().predict(np.zeros((2, 1, 8, 8)))


def test_predict_rejects_images_of_another_shape(fitted):
    with pytest.raises(ValueError, match=r"X has images of shape .* fitted on \(1, 8, 8\)"):
        fitted.predict(np.zeros((2, 1, 9, 9)))
    with pytest.raises(ValueError, match="X has 5 features, but ImageCNNClassifier is expecting 64"):
        fitted.predict(np.zeros((2, 5)))


def test_normalisation_statistics_come_from_the_training_set(fitted, digits):
    X, _ = digits
    assert fitted.mean_[0] == pytest.approx(X[:300].mean(), rel=1e-3)  # fit used X[:300] incl. validation part
    assert torch.allclose(fitted.module_.mean.cpu(), torch.tensor(fitted.mean_))


def test_nhwc_rgb_arrays_and_zca_option():
    rng = np.random.default_rng(0)
    X = rng.random((40, 6, 6, 3)).astype(np.float32)
    y = np.repeat([0, 1], 20)
    X[y == 1, :3, :3, 0] += 2.0
    est = tiny(zca=True, zca_epsilon=0.1, max_epochs=2).fit(X, y)
    assert est.input_shape_ == (3, 6, 6)
    assert est.module_.zca_matrix.shape == (108, 108)
    assert est.predict_proba(X).shape == (40, 2)
    assert est.features(X).shape == (40, est.module_.num_features)


def test_clone_and_params_round_trip():
    est = tiny(model_kwargs={"width": 0.5})
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert "module_" not in c.__dict__


def test_invalid_params_raise_naming_them():
    X = np.zeros((8, 1, 4, 4))
    y = np.repeat([0, 1], 4)
    with pytest.raises(ValueError, match="crop_padding"):
        tiny(crop_padding=-1).fit(X, y)
    with pytest.raises(ValueError, match="amp"):
        tiny(amp="int8").fit(X, y)
    with pytest.raises(ValueError, match="name='nope'"):
        tiny(arch="nope").fit(X, y)


def test_save_then_load_in_a_subprocess_gives_identical_predictions(fitted, digits, tmp_path):
    X, _ = digits
    art = tmp_path / "model"
    fitted.save(art)
    text = (art / "config.json").read_text()
    config = json.loads(text)
    assert config["params"]["arch"] == "resnet20"
    for key in ('"input_shape"', '"mean"', '"std"', '"model_kwargs"', '"width"'):
        assert key in text  # normalisation statistics, architecture and its switches are saved
    np.save(tmp_path / "X.npy", X[300:340])
    code = (
        "import sys, numpy as np, torch; torch.set_num_threads(1)\n"
        "from vision import ImageCNNClassifier\n"
        f"est = ImageCNNClassifier.load({str(art)!r})\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, est.predict_proba(X))\n"
        f"np.save({str(tmp_path / 'l.npy')!r}, est.predict(X))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT), env=env, timeout=300)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), fitted.predict_proba(X[300:340]))
    np.testing.assert_array_equal(np.load(tmp_path / "l.npy", allow_pickle=False), fitted.predict(X[300:340]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fast_path_trains_and_predicts():
    rng = np.random.default_rng(0)
    X = rng.random((64, 3, 16, 16)).astype(np.float32)
    y = np.repeat([0, 1], 32)
    X[y == 1, 0, :4, :4] += 2.0
    est = tiny(device="cuda", amp="auto", channels_last="auto", max_epochs=2).fit(X, y)
    assert est._trainer_kwargs()["amp"] == "bf16" and est._trainer_kwargs()["channels_last"] is True
    assert est.predict_proba(X).shape == (64, 2)


def test_auto_fast_path_is_off_on_the_cpu():
    kw = tiny(device="cpu", amp="auto", channels_last="auto")._trainer_kwargs()
    assert kw["amp"] is None and kw["channels_last"] is False
    assert kw["optimizer_kwargs"] == {"weight_decay": 5e-4, "momentum": 0.9}


# ---------------------------------------------------------------- image ranks and shapes
def test_a_2d_array_of_non_square_rows_is_refused_naming_the_image_layouts():
    X, y = np.random.default_rng(0).normal(size=(20, 50)), np.arange(20) % 2
    with pytest.raises(ValueError) as err:
        tiny().fit(X, y)
    msg = str(err.value)
    assert "(20, 50)" in msg and "(N, C, H, W)" in msg and "(N, H, W)" in msg and "image_shape" in msg
    assert tiny(image_shape="row").fit(X, y).input_shape_ == (1, 1, 50)
    assert tiny(image_shape=(5, 10)).fit(X, y).input_shape_ == (1, 5, 10)
    with pytest.raises(ValueError, match="does not match"):
        tiny(image_shape=(7, 7)).fit(X, y)
    with pytest.raises(ValueError, match="image_shape must be"):
        tiny(image_shape="square").fit(X, y)


def test_square_rows_are_still_read_as_grayscale_images():
    X, y = np.random.default_rng(0).normal(size=(20, 64)), np.arange(20) % 2
    assert tiny().fit(X, y).input_shape_ == (1, 8, 8)


@pytest.mark.parametrize("shape, words", [
    ((3, 3, 8, 8), ["(3, 3, 8, 8)", "(1, 8, 8)", "channel"]),
    ((3, 8, 8, 3), ["(3, 8, 8, 3)", "(1, 8, 8)", "channel"]),
    ((3, 1, 16, 16), ["(1, 16, 16)", "(1, 8, 8)"]),
    ((3, 16, 16), ["(1, 16, 16)", "(1, 8, 8)"]),
    ((3, 50), ["50 features", "64"]),
    ((50,), ["1-d", "reshape"]),
])
def test_predict_on_images_unlike_the_training_ones_names_both_shapes(shape, words):
    rng = np.random.default_rng(0)
    est = tiny().fit(rng.normal(size=(20, 1, 8, 8)).astype(np.float32), np.arange(20) % 2)
    with pytest.raises(ValueError) as err:
        est.predict(rng.normal(size=shape).astype(np.float32))
    for w in words:
        assert w.lower() in str(err.value).lower(), (w, str(err.value))
