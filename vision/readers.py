"""Image data readers and array validation.

* :func:`read_image_folder` — one sub-folder per class, decoded with Pillow.
* :func:`read_mnist_idx` — LeCun's IDX files (``train-images-idx3-ubyte[.gz]`` + labels).
* :func:`read_mnist_csv` — one digit per line: 784 pixel values (0-255, row-major 28×28) then
  the label, as in ``../shared/data/images/mnist_5k.csv.gz``.
* :func:`as_image_array` — NumPy arrays ``(N, H, W, C)`` or ``(N, C, H, W)`` (or ``(N, H, W)``)
  to float32 ``(N, C, H, W)``, detecting the layout and rejecting anything else with a
  ``ValueError`` that names ``X``.
"""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["read_image_folder", "read_mnist_idx", "read_mnist_csv", "as_image_array", "load_image",
           "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
_CHANNEL_COUNTS = (1, 3, 4)


def _open(path):
    path = os.fspath(path)
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def load_image(path, *, mode: str | None = "RGB", size=None) -> np.ndarray:
    """Decode one image with Pillow → uint8 ``(C, H, W)``. ``mode`` "RGB", "L" or None (keep);
    ``size`` ``(H, W)`` resizes with bilinear filtering."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            if mode is not None:
                im = im.convert(mode)
            elif im.mode not in ("L", "RGB", "RGBA"):
                im = im.convert("RGB")
            if size is not None:
                h, w = (size, size) if isinstance(size, int) else size
                im = im.resize((w, h), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.uint8)
    except OSError as exc:
        raise ValueError(f"cannot decode image {path}: {exc}") from exc
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return np.ascontiguousarray(arr.transpose(2, 0, 1))  # (C, H, W)


def read_image_folder(path, *, size=None, mode: str | None = "RGB", extensions=IMAGE_EXTENSIONS):
    """Read ``path/<class>/<image>`` files → ``(X, y)``.

    ``X`` is uint8 ``(N, C, H, W)``; ``y`` a list of class names (the sub-folder names), files
    in sorted order. All images must share one size unless ``size=(H, W)`` (or an int) is given;
    otherwise ``ValueError`` names the first file that differs.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"path={str(path)!r} is not a directory of class sub-folders")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"path={str(path)!r} has no class sub-folders (expected path/<class>/<image>)")
    exts = tuple(e.lower() for e in extensions)
    images, labels, first = [], [], None
    for cls in classes:
        for f in sorted((root / cls).iterdir()):
            if not f.is_file() or f.suffix.lower() not in exts:
                continue
            arr = load_image(f, mode=mode, size=size)
            if first is None:
                first = (f, arr.shape)
            elif arr.shape != first[1]:
                raise ValueError(
                    f"images in path={str(path)!r} differ in size: {first[0]} is {first[1]} (C, H, W) but "
                    f"{f} is {arr.shape}; pass size=(H, W) to resize them"
                )
            images.append(arr)
            labels.append(cls)
    if not images:
        raise ValueError(f"path={str(path)!r} contains no images with extensions {exts}")
    return np.stack(images), labels


def read_mnist_idx(images_path, labels_path=None):
    """Read MNIST IDX files (optionally gzipped) → ``(X, y)``: X uint8 ``(N, 1, 28, 28)``,
    y int64 ``(N,)`` (``None`` without ``labels_path``)."""

    def _read(p, want_dims):
        with _open(p) as fh:
            header = fh.read(4)
            if len(header) < 4 or header[0] != 0 or header[1] != 0:
                raise ValueError(f"{p} is not an IDX file (bad magic number {header!r})")
            if header[2] != 0x08:
                raise ValueError(f"{p}: only unsigned byte IDX data is supported (type 0x{header[2]:02x})")
            ndim = header[3]
            if ndim != want_dims:
                raise ValueError(f"{p}: expected a {want_dims}-d IDX array, the header says {ndim}-d")
            dims = struct.unpack(">" + "I" * ndim, fh.read(4 * ndim))
            data = np.frombuffer(fh.read(), dtype=np.uint8)
        if data.size != int(np.prod(dims)):
            raise ValueError(f"{p}: header announces {dims} = {int(np.prod(dims))} values but the file has {data.size}")
        return data.reshape(dims)

    X = _read(images_path, 3)[:, None, :, :]
    if labels_path is None:
        return X, None
    y = _read(labels_path, 1).astype(np.int64)
    if len(y) != len(X):
        raise ValueError(f"{images_path} has {len(X)} images but {labels_path} has {len(y)} labels")
    return X, y


def read_mnist_csv(path, *, height=28, width=28):
    """Read the ``mnist_5k.csv.gz`` layout: per line ``height·width`` pixel values (0-255,
    row-major) then the label → ``(X uint8 (N, 1, H, W), y int64 (N,))``."""
    n_pix = height * width
    rows = []
    with _open(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.decode("ascii", errors="replace").strip()
            if not line:
                continue
            parts = line.split(",")
            if len(parts) != n_pix + 1:
                raise ValueError(f"{path}, line {lineno}: expected {n_pix} pixels and a label "
                                 f"({n_pix + 1} fields), got {len(parts)}")
            try:
                rows.append(np.array(parts, dtype=np.int64))
            except ValueError as exc:
                raise ValueError(f"{path}, line {lineno}: non-integer field ({exc})") from exc
    if not rows:
        raise ValueError(f"{path} holds no data lines")
    data = np.stack(rows)
    pix = data[:, :n_pix]
    if pix.min() < 0 or pix.max() > 255:
        raise ValueError(f"{path}: pixel values must lie in 0..255, got {pix.min()}..{pix.max()}")
    return pix.astype(np.uint8).reshape(-1, 1, height, width), data[:, n_pix]


def _numeric(arr: np.ndarray, name: str) -> np.ndarray:
    """Object arrays of numbers become float64; complex and non-numeric data are rejected."""
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except TypeError as exc:
            raise TypeError(f"{name} must hold numbers: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{name} must hold numbers: {exc}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}")
    return arr


def as_image_array(X, *, channels: int | None = None, name: str = "X") -> np.ndarray:
    """Validate images and return float32 ``(N, C, H, W)``.

    Accepts ``(N, H, W)`` (grayscale), ``(N, C, H, W)`` or ``(N, H, W, C)`` with C in 1/3/4;
    the layout is detected from where a channel-sized axis is (``channels``, the number seen
    in fit, breaks ties). Raises ``TypeError``/``ValueError`` naming ``X`` for anything else
    (wrong rank, no channel axis, non-numeric or non-finite values, empty)."""
    try:
        import torch

        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be an array of images; read folders with read_image_folder(path)")
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be converted to an array of images: {exc}") from exc
    arr = _numeric(arr, name)
    if arr.ndim == 3:
        arr = arr[:, None, :, :]
    elif arr.ndim == 4:
        first, last = arr.shape[1], arr.shape[3]
        first_ok, last_ok = first in _CHANNEL_COUNTS, last in _CHANNEL_COUNTS
        if channels is not None:
            first_ok, last_ok = first == channels, last == channels
        if first_ok and last_ok:
            pass  # ambiguous, e.g. (N, 3, 5, 3): channels-first, the torch convention
        elif last_ok:
            arr = arr.transpose(0, 3, 1, 2)
        elif not first_ok:
            want = f"{channels}" if channels is not None else "1, 3 or 4"
            raise ValueError(
                f"{name} has shape {arr.shape}: expected images (N, C, H, W) or (N, H, W, C) with C = {want} channels"
            )
    else:
        raise ValueError(
            f"{name} must be a 3-d (N, H, W) or 4-d (N, C, H, W) / (N, H, W, C) array of images, "
            f"got {arr.ndim}-d with shape {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} holds no images (shape {arr.shape})")
    if min(arr.shape[2:]) < 1:
        raise ValueError(f"{name} has empty images (shape {arr.shape})")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return out
