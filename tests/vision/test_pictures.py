"""Filters, activations and class activation maps (CAM for GAP heads, Grad-CAM otherwise)."""
import numpy as np
import pytest
import torch

import vision
from vision import ImageCNNClassifier, class_activation_map, plot_activations, plot_filters


def _corner_data(n=160, size=16, seed=0):
    """Class 1: a bright 4×4 square in the top-left corner; class 0: background only."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.3, (n, 1, size, size)).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1, 0, 1:5, 1:5] += 3.0
    return X, y


@pytest.fixture(scope="module")
def corner_model():
    X, y = _corner_data()
    est = ImageCNNClassifier("resnet20", model_kwargs={"width": 0.5}, max_epochs=4, batch_size=32, lr=0.05,
                             augment=False, verbose=0, random_state=0, device="cpu", validation_fraction=0.0)
    return est.fit(X, y)


def test_cam_peaks_where_the_object_was_planted(corner_model, tmp_path):
    X, y = _corner_data(n=20, seed=1)
    assert corner_model.score(X, y) > 0.9
    peaks = []
    for img in X[y == 1]:
        cam = class_activation_map(corner_model, img, target=1)
        assert cam.shape == (16, 16) and cam.min() >= 0.0 and cam.max() == pytest.approx(1.0)
        r, c = np.unravel_index(np.argmax(cam), cam.shape)
        peaks.append(r < 8 and c < 8)
    assert np.mean(peaks) >= 0.8  # the peak sits in the planted (top-left) quadrant
    out = tmp_path / "cam.png"
    class_activation_map(corner_model, X[y == 1][0], path=out)
    assert out.stat().st_size > 0 and out.read_bytes()[:4] == b"\x89PNG"


def test_gradcam_for_fc_head_models_returns_a_unit_map(tmp_path):
    torch.manual_seed(0)
    net = vision.create_model("lenet5", num_classes=3, in_channels=1)
    with pytest.warns(UserWarning, match="features.5"):  # LeNet-5's trunk ends at 1×1
        cam = class_activation_map(net, np.random.default_rng(0).random((1, 32, 32)), target=2,
                                   path=tmp_path / "g.png")
    assert cam.shape == (32, 32) and 0.0 <= cam.min() and cam.max() <= 1.0
    with pytest.raises(ValueError, match="global-average-pooling"):
        class_activation_map(net, np.zeros((1, 32, 32)), method="cam")
    with pytest.raises(ValueError, match="target"):
        class_activation_map(net, np.zeros((1, 32, 32)), target=7)


def test_cam_equals_weighted_feature_maps_for_gap_models():
    torch.manual_seed(0)
    net = vision.create_model("resnet20", num_classes=4, width=0.25).eval()
    img = torch.randn(3, 32, 32)
    cam = class_activation_map(net, img, target=2)
    with torch.no_grad():
        feats = net.forward_features(img[None])[0]
        raw = torch.einsum("k,khw->hw", net.fc.weight[2], feats)
    raw = torch.nn.functional.interpolate(raw[None, None], size=(32, 32), mode="bilinear", align_corners=False)[0, 0]
    raw = (raw - raw.min()) / (raw.max() - raw.min())
    np.testing.assert_allclose(cam, raw.numpy(), atol=1e-5)


def test_nin_cam_is_the_class_map():
    torch.manual_seed(0)
    net = vision.create_model("nin", num_classes=5, variant="cifar").eval()
    cam = class_activation_map(net, torch.randn(3, 32, 32), target=1)
    assert cam.shape == (32, 32)


def test_plot_filters_writes_a_grid(tmp_path):
    net = vision.create_model("alexnet", input_size=67, fc_width=8)
    grid = plot_filters(net, tmp_path / "f.png")
    assert grid.ndim == 3 and grid.shape[2] == 3  # RGB 11×11 filters
    assert grid.shape[0] == 8 * 12 + 1  # 64 filters → 8×8 tiles of 11 px + 1 px gaps
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    gray = plot_filters(vision.create_model("lenet5", num_classes=10, in_channels=1))
    assert gray.ndim == 2


def test_plot_activations_returns_the_layer_maps(corner_model, tmp_path):
    X, _ = _corner_data(n=2)
    maps = plot_activations(corner_model, X[1], "features.stage1", path=tmp_path / "a.png")
    assert maps.shape == (8, 16, 16)
    assert (tmp_path / "a.png").exists()
    with pytest.raises(ValueError, match="layer='nope'"):
        plot_activations(corner_model, X[1], "nope")


def test_pictures_reject_non_models():
    with pytest.raises(TypeError, match="model must be"):
        plot_filters("resnet20")


# ---------------------------------------------------------------- exact targets, honest maps
@pytest.fixture(scope="module")
def tiny_images():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 8, 8)).astype(np.float32)
    X[::2, 0, :3, :3] += 3.0
    return X, np.arange(24) % 2


@pytest.mark.parametrize("labels, target, expected", [
    (np.array(["4", "42"]), "42", 1),
    (np.array(["4", "42"]), 42, 1),
    (np.array(["4", "42"]), "4", 0),
    (np.array([4, 42]), "42", 1),
    (np.array([4, 42]), np.int64(4), 0),
    (np.array(["cat", "dog"]), "dog", 1),
])
def test_cam_target_is_matched_exactly(tiny_images, labels, target, expected):
    X, y = tiny_images
    est = ImageCNNClassifier("resnet20", model_kwargs={"width": 0.25}, max_epochs=1, batch_size=24, augment=False,
                             verbose=0, random_state=0, device="cpu", validation_fraction=0.0).fit(X, labels[y])
    _, info = class_activation_map(est, X[0], target=target, return_info=True)
    assert info["target"] == expected and info["label"] == labels[expected]
    for bad in ("5", 420, "4 ", "Dog"):
        with pytest.raises(ValueError, match="not one of the classes") as err:
            class_activation_map(est, X[0], target=bad)
        assert repr(labels[0].item()) in str(err.value) and repr(labels[1].item()) in str(err.value)


def test_lenet_gradcam_uses_the_last_layer_with_maps_of_at_least_2x2():
    torch.manual_seed(0)
    net = vision.create_model("lenet5", num_classes=3, in_channels=1)
    img = np.random.default_rng(1).random((1, 32, 32))
    with pytest.warns(UserWarning, match=r"'features.5' \(5×5 maps\)"):
        cam, info = class_activation_map(net, img, target=1, return_info=True)
    assert info["layer"] == "features.5" and info["feature_size"] == (5, 5) and info["method"] == "Grad-CAM"
    assert cam.shape == (32, 32)
    with pytest.raises(ValueError, match="1×1 feature maps: too small"):
        class_activation_map(net, img, target=1, layer="features.6")
    with pytest.raises(ValueError, match="not a module"):
        class_activation_map(net, img, layer="features.99")
    same, info2 = class_activation_map(net, img, target=1, layer="features.5", return_info=True)
    np.testing.assert_allclose(same, cam)  # the automatic choice is the explicit one
    assert info2["layer"] == "features.5"


def test_gradcam_on_a_named_layer_of_a_gap_model():
    torch.manual_seed(0)
    net = vision.create_model("resnet20", num_classes=4, width=0.25)
    cam, info = class_activation_map(net, torch.randn(3, 32, 32), target=0, layer="features.stage1", return_info=True)
    assert info["method"] == "Grad-CAM" and info["layer"] == "features.stage1" and info["feature_size"] == (32, 32)
    assert cam.shape == (32, 32)
    with pytest.raises(ValueError, match="layer= needs Grad-CAM"):
        class_activation_map(net, torch.randn(3, 32, 32), method="cam", layer="features.stage1")


def test_rounding_noise_is_not_stretched_into_a_map():
    from vision.pictures import _unit

    noise = np.full((6, 6), 0.37, dtype=np.float32) + np.float32(1e-8) * np.arange(36, dtype=np.float32).reshape(6, 6)
    unit, flat = _unit(noise)
    assert flat and not unit.any()
    unit, flat = _unit(np.zeros((4, 4), dtype=np.float32))
    assert flat and not unit.any()
    unit, flat = _unit(np.array([[0.0, 1.0], [2.0, 4.0]], dtype=np.float32))
    assert not flat and unit.max() == 1.0 and unit.min() == 0.0


def test_a_flat_map_reports_flat_and_no_peak():
    net = vision.create_model("resnet20", num_classes=2, width=0.25)
    with torch.no_grad():
        net.fc.weight.zero_()  # every class weighs the maps by 0: a CAM without any contrast
    cam, info = class_activation_map(net, torch.randn(3, 32, 32), target=1, return_info=True)
    assert info["flat"] and not cam.any()
