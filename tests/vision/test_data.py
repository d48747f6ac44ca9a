"""Image readers, array validation and the batch transforms (normalisation, crop, flip, ZCA)."""
import gzip
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vision.readers import as_image_array, read_image_folder, read_mnist_csv, read_mnist_idx
from vision.transforms import channel_stats, fit_zca, normalize, random_crop, random_hflip, zca_whiten


def _write_folder(root, sizes=((8, 6),) * 4, mode="RGB"):
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(sizes):
        cls = "cat" if i % 2 else "dog"
        (root / cls).mkdir(exist_ok=True)
        shape = (h, w, 3) if mode == "RGB" else (h, w)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode).save(root / cls / f"{i}.png")
    (root / "dog" / "notes.txt").write_text("not an image")


def test_read_image_folder_returns_nchw_uint8_and_class_names(tmp_path):
    _write_folder(tmp_path)
    X, y = read_image_folder(tmp_path)
    assert X.shape == (4, 3, 8, 6) and X.dtype == np.uint8
    assert y == ["cat", "cat", "dog", "dog"]
    Xg, _ = read_image_folder(tmp_path, mode="L")
    assert Xg.shape == (4, 1, 8, 6)


def test_read_image_folder_pixels_round_trip(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    Image.fromarray(img).save(tmp_path / "a" / "x.png")
    Image.fromarray(img[::-1].copy()).save(tmp_path / "b" / "y.png")
    X, y = read_image_folder(tmp_path)
    np.testing.assert_array_equal(X[0], img.transpose(2, 0, 1))


def test_read_image_folder_mixed_sizes_need_size(tmp_path):
    _write_folder(tmp_path, sizes=[(8, 6), (8, 6), (9, 6), (8, 6)])
    with pytest.raises(ValueError, match="differ in size.*size="):
        read_image_folder(tmp_path)
    X, _ = read_image_folder(tmp_path, size=(5, 7))
    assert X.shape == (4, 3, 5, 7)


def test_read_image_folder_rejects_non_folders(tmp_path):
    with pytest.raises(ValueError, match="path="):
        read_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class sub-folders"):
        read_image_folder(tmp_path)


def _idx(path, arr):
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_read_mnist_idx_gz(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    _idx(tmp_path / "img.gz", imgs)
    _idx(tmp_path / "lab", labels)
    X, y = read_mnist_idx(tmp_path / "img.gz", tmp_path / "lab")
    assert X.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(X[:, 0], imgs)
    np.testing.assert_array_equal(y, labels)


def test_read_mnist_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x56\x78rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_mnist_idx(tmp_path / "bad")
    _idx(tmp_path / "img", np.zeros((2, 3, 3)))
    _idx(tmp_path / "lab", np.zeros(3))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        read_mnist_idx(tmp_path / "img", tmp_path / "lab")


def test_read_mnist_csv_layout(tmp_path):
    rows = [list(range(784)) for _ in range(3)]
    rows = [[v % 256 for v in r] + [lab] for r, lab in zip(rows, (7, 0, 9))]
    path = tmp_path / "m.csv.gz"
    with gzip.open(path, "wt") as fh:
        for r in rows:
            fh.write(",".join(map(str, r)) + "\n")
    X, y = read_mnist_csv(path)
    assert X.shape == (3, 1, 28, 28) and X.dtype == np.uint8
    assert X[0, 0, 0, 5] == 5 and X[0, 0, 1, 0] == 28
    np.testing.assert_array_equal(y, [7, 0, 9])
    (tmp_path / "short.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match=r"short\.csv:1:"):  # FILE:LINE: (seqcnn.data.DataError)
        read_mnist_csv(tmp_path / "short.csv")


def test_as_image_array_detects_nhwc_and_nchw():
    nhwc = np.random.default_rng(0).random((2, 8, 6, 3))
    out = as_image_array(nhwc)
    assert out.shape == (2, 3, 8, 6) and out.dtype == np.float32
    np.testing.assert_allclose(out, nhwc.transpose(0, 3, 1, 2), rtol=1e-6)
    assert as_image_array(out).shape == (2, 3, 8, 6)
    assert as_image_array(np.zeros((2, 5, 5))).shape == (2, 1, 5, 5)
    # ambiguous (N, 3, 5, 3): channels known from fit decide
    amb = np.zeros((2, 3, 5, 3))
    assert as_image_array(amb).shape == (2, 3, 5, 3)
    assert as_image_array(np.zeros((2, 1, 5, 3)), channels=3).shape == (2, 3, 1, 5)


@pytest.mark.parametrize("bad, msg", [
    (np.zeros((2, 8, 8, 5)), r"X has shape \(2, 8, 8, 5\)"),
    (np.zeros((4, 4)), "X must be a 3-d"),
    (np.zeros((2, 2, 2, 2, 2)), "X must be a 3-d"),
    (np.zeros((0, 3, 4, 4)), "X holds no images"),
    (np.array([[["a"]]]), "X must hold numbers"),
    (np.full((1, 1, 2, 2), np.nan), "X contains NaN"),
])
def test_as_image_array_rejects_wrong_shapes_naming_x(bad, msg):
    with pytest.raises(ValueError, match=msg):
        as_image_array(bad)


def test_as_image_array_rejects_paths_with_type_error():
    with pytest.raises(TypeError, match="read_image_folder"):
        as_image_array("some/folder")


def test_channel_stats_and_normalize():
    rng = np.random.default_rng(0)
    X = rng.normal([[[[1.0]], [[5.0]]]], [[[[2.0]], [[0.5]]]], size=(400, 2, 4, 4)).astype(np.float32)
    mean, std = channel_stats(X, chunk=64)
    np.testing.assert_allclose(mean, X.mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(std, X.std(axis=(0, 2, 3)), rtol=1e-4)
    z = normalize(torch.from_numpy(X), mean, std)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(pad=st.integers(1, 4), h=st.integers(1, 9), w=st.integers(1, 9), seed=st.integers(0, 1000))
def test_random_crop_matches_a_padded_window(pad, h, w, seed):
    x = torch.randn(3, 2, h, w)
    g = torch.Generator().manual_seed(seed)
    out = random_crop(x, pad, generator=g)
    assert out.shape == x.shape
    g = torch.Generator().manual_seed(seed)
    dy = torch.randint(0, 2 * pad + 1, (3,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (3,), generator=g)
    xp = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    for i in range(3):
        assert torch.equal(out[i], xp[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w])


def test_random_hflip_flips_some_images_exactly():
    x = torch.randn(64, 1, 3, 5)
    out = random_hflip(x, generator=torch.Generator().manual_seed(0))
    flipped = [torch.equal(o, xi.flip(-1)) for o, xi in zip(out, x)]
    kept = [torch.equal(o, xi) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54
    assert torch.equal(random_hflip(x, p=0.0), x)


def test_zca_whitened_covariance_is_identity():
    rng = np.random.default_rng(0)
    n, d = 3000, 2 * 3 * 3
    mix = rng.normal(size=(d, d))
    X = (rng.normal(size=(n, d)) @ mix + 3.0).reshape(n, 2, 3, 3).astype(np.float32)  # correlated
    mean, W = fit_zca(X, eps=1e-6)
    Z = zca_whiten(torch.from_numpy(X), mean, W).reshape(n, d).double()
    cov = torch.cov(Z.T)
    assert torch.allclose(cov, torch.eye(d, dtype=torch.float64), atol=2e-2)
    assert torch.allclose(W, W.T, atol=1e-5)  # ZCA (not PCA) whitening: symmetric
    assert zca_whiten(torch.from_numpy(X[:4]), mean, W).shape == (4, 2, 3, 3)
