"""Image readers and image-array validation (Pillow is imported only when an image is decoded).

* :func:`read_image_folder` — one sub-folder per class, decoded with Pillow.
* :func:`read_mnist_idx` — LeCun's IDX files (``train-images-idx3-ubyte[.gz]`` + labels).
* :func:`read_mnist_csv` — one digit per line: 784 pixel values (0-255, row-major 28×28) then
  the label, as in ``../shared/data/images/mnist_5k.csv.gz``.
* :func:`as_image_array` — NumPy arrays ``(N, H, W, C)`` or ``(N, C, H, W)`` (or ``(N, H, W)``)
  to float32 ``(N, C, H, W)``, detecting the layout and rejecting anything else with a
  ``ValueError`` that names ``X``. A 2-D ``(N, D)`` array is refused unless ``image_size`` says
  how a row is laid out (it is never guessed to be ``N`` images of 1×1×D).

Problems in files are :class:`~seqcnn.data.errors.DataError` ``"FILE[:LINE]: ..."``.
"""
from __future__ import annotations

import gzip
import os
import struct
import sys
from pathlib import Path

import numpy as np

from .decode import decode_bytes, split_lines
from .errors import DataError

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
        if path.is_dir():
            raise DataError("is a folder, expected an image file", path)
        raise FileNotFoundError(f"image file not found: {path}")
    errors = (OSError, ValueError, SyntaxError, EOFError, struct.error, Image.DecompressionBombError)
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
    except errors as exc:
        raise DataError(f"cannot decode the image ({exc})", path) from None
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
        what = "is a file" if root.exists() else "does not exist"
        raise DataError(f"{what}; path= must be a folder with one sub-folder of images per class", root)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError("has no class sub-folders (expected path/<class>/<image>)", root)
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
                raise DataError(
                    f"images differ in size: {first[0]} is {first[1]} (C, H, W) but this one is {arr.shape}; "
                    f"pass size=(H, W) to resize them", f)
            images.append(arr)
            labels.append(cls)
    if not images:
        raise DataError(f"contains no images with extensions {exts}", root)
    return np.stack(images), labels


def read_mnist_idx(images_path, labels_path=None):
    """Read MNIST IDX files (optionally gzipped) → ``(X, y)``: X uint8 ``(N, 1, 28, 28)``,
    y int64 ``(N,)`` (``None`` without ``labels_path``)."""

    def _read(p, want_dims):
        if Path(p).is_dir():
            raise DataError("is a folder, expected an IDX file", p)
        try:
            with _open(p) as fh:
                header = fh.read(4)
                if len(header) < 4 or header[0] != 0 or header[1] != 0:
                    raise DataError(f"is not an IDX file (bad magic number {header!r})", p)
                if header[2] != 0x08:
                    raise DataError(f"only unsigned byte IDX data is supported (type 0x{header[2]:02x})", p)
                ndim = header[3]
                if ndim != want_dims:
                    raise DataError(f"expected a {want_dims}-d IDX array, the header says {ndim}-d", p)
                raw = fh.read(4 * ndim)
                if len(raw) != 4 * ndim:
                    raise DataError("the IDX header is cut short", p)
                dims = struct.unpack(">" + "I" * ndim, raw)
                data = np.frombuffer(fh.read(), dtype=np.uint8)
        except (OSError, EOFError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise DataError(f"cannot read the IDX file ({exc})", p) from None
        if data.size != int(np.prod(dims, dtype=np.int64)):
            raise DataError(f"the header announces {dims} = {int(np.prod(dims, dtype=np.int64))} values but the "
                            f"file has {data.size}", p)
        return data.reshape(dims)

    X = _read(images_path, 3)[:, None, :, :]
    if labels_path is None:
        return X, None
    y = _read(labels_path, 1).astype(np.int64)
    if len(y) != len(X):
        raise DataError(f"has {len(X)} images but {labels_path} has {len(y)} labels", images_path)
    return X, y


def read_mnist_csv(path, *, height=28, width=28):
    """Read the ``mnist_5k.csv.gz`` layout (optionally gzipped): per line ``height·width`` pixel
    values (0-255, row-major) then the label → ``(X uint8 (N, 1, H, W), y int64 (N,))``. Blank
    lines are skipped; a bad line is a :class:`DataError` ``FILE:LINE: ...`` (a row of only
    ``height·width`` fields is named as a missing label)."""
    p = Path(os.fspath(path))
    if p.is_dir():
        raise DataError("is a folder, expected a CSV file", p)
    try:
        with _open(p) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataError(f"cannot read the file ({exc})", p) from None
    n_pix = height * width
    rows = []
    for lineno, line in enumerate(split_lines(decode_bytes(raw, path=p)), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.split(",")
        if len(parts) == n_pix:
            raise DataError(f"{n_pix} fields: the pixels are there but the label (the last field) is missing",
                            p, lineno)
        if len(parts) != n_pix + 1:
            raise DataError(f"expected {n_pix} pixels and a label ({n_pix + 1} fields), got {len(parts)}", p, lineno)
        try:
            row = [int(v) for v in parts]
        except ValueError:
            bad = next(v for v in parts if not v.strip().lstrip("+-").isdigit())
            raise DataError(f"non-integer field {bad.strip()!r:.40}", p, lineno) from None
        if min(row[:n_pix]) < 0 or max(row[:n_pix]) > 255:
            raise DataError("pixel values must lie in 0..255", p, lineno)
        if not -2**63 <= row[-1] < 2**63:
            raise DataError(f"label {row[-1]} is out of range", p, lineno)
        rows.append(row)
    if not rows:
        raise DataError("holds no data lines", p)
    data = np.asarray(rows, dtype=np.int64)
    return data[:, :n_pix].astype(np.uint8).reshape(-1, 1, height, width), data[:, n_pix]


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


def as_image_array(X, *, channels: int | None = None, name: str = "X", image_size=None) -> np.ndarray:
    """Validate images and return float32 ``(N, C, H, W)``.

    Accepts ``(N, H, W)`` (grayscale), ``(N, C, H, W)`` or ``(N, H, W, C)`` with C in 1/3/4;
    the layout is detected from where a channel-sized axis is (``channels``, the number seen
    in fit, breaks ties). A 2-D ``(N, D)`` array (rows of flattened values) is refused unless
    ``image_size`` — ``(C, H, W)`` or ``(H, W)`` with ``C·H·W = D`` — says how a row is laid out.
    Raises ``TypeError``/``ValueError`` naming ``X`` for anything else (wrong rank, no channel
    axis, non-numeric or non-finite values, empty)."""
    torch = sys.modules.get("torch")  # a tensor implies torch is imported; never import it here
    if torch is not None and isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be an array of images; read folders with read_image_folder(path)")
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be converted to an array of images: {exc}") from exc
    arr = _numeric(arr, name)
    explicit = arr.ndim == 2
    if explicit:
        arr = _rows_as_images(arr, image_size, name)  # (N, C, H, W) as the caller laid it out
    elif arr.ndim == 3:
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


def _rows_as_images(arr: np.ndarray, image_size, name: str) -> np.ndarray:
    """(N, D) rows → (N, C, H, W) with an explicit ``image_size``; never guessed."""
    if image_size is None:
        raise ValueError(
            f"{name} must be a 3-d (N, H, W) or 4-d (N, C, H, W) / (N, H, W, C) array of images, got 2-d with "
            f"shape {arr.shape}: rows of flattened values are not read as images without their layout; pass "
            f"image_size=(C, H, W) or (H, W) (C·H·W = {arr.shape[1]}), or reshape to (N, C, H, W)")
    try:
        size = tuple(int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (C, H, W) or (H, W), got {image_size!r}") from None
    if len(size) == 2:
        size = (1, *size)
    if len(size) != 3 or min(size) < 1 or int(np.prod(size)) != arr.shape[1]:
        raise ValueError(f"image_size={image_size!r} does not match {name}'s {arr.shape[1]} values per row "
                         f"(shape {arr.shape})")
    return arr.reshape(arr.shape[0], *size)
