"""Pictures of what a CNN learned (matplotlib, Agg backend; nothing is shown on screen).

* :func:`plot_filters` — the first convolution layer's filters as an image grid (Zeiler &
  Fergus 2014 show AlexNet's; colour when the layer sees 3 channels).
* :func:`plot_activations` — the feature maps one layer produces for one image.
* :func:`class_activation_map` — where the network looks for a class: CAM (Zhou et al. 2016,
  "Learning deep features for discriminative localization") for models whose head is global
  average pooling (+ linear), Grad-CAM (Selvaraju et al. 2017) for any other model. Returns an
  ``(H, W)`` array in [0, 1] at the input's resolution and can write an overlay PNG.

Every function takes a zoo model (``vision.create_model(...)``) or a fitted
``ImageCNNClassifier`` (whose saved normalisation is then applied to the raw image first).
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["plot_filters", "plot_activations", "class_activation_map"]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _resolve(model):
    """→ (network, preprocess callable, classes or None, estimator or None)."""
    from vision.estimator import ImageCNNClassifier, ImagePipeline

    if isinstance(model, ImageCNNClassifier):
        model._check_fitted()
        pipe = model.module_
        return pipe.net, pipe.preprocess, model.classes_, model
    if isinstance(model, ImagePipeline):
        return model.net, model.preprocess, None, None
    if isinstance(model, nn.Module):
        return model, (lambda x: x), None, None
    raise TypeError(f"model must be a zoo nn.Module or a fitted ImageCNNClassifier, got {type(model).__name__}")


def _image_tensor(image, net, est) -> torch.Tensor:
    """One image (C, H, W) / (H, W, C) / (H, W) or (1, C, H, W) → float tensor (1, C, H, W)."""
    from vision.readers import as_image_array

    if torch.is_tensor(image):
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.ndim in (2, 3):
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[0] != 1:
        raise ValueError(f"image must be one image (C, H, W), (H, W, C) or (H, W), got shape {np.shape(image)}")
    channels = getattr(net, "in_channels", None)
    if est is not None:
        channels = est.input_shape_[0]
    out = as_image_array(arr, channels=channels, name="image")
    return torch.from_numpy(out)


def _mosaic(tiles: np.ndarray, pad: int = 1) -> np.ndarray:
    """(K, h, w[, 3]) → one grid image with ``pad`` pixels of background between tiles."""
    k, h, w = tiles.shape[:3]
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    shape = (rows * (h + pad) + pad, cols * (w + pad) + pad) + tiles.shape[3:]
    grid = np.ones(shape, dtype=np.float32)
    for i in range(k):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = tiles[i]
    return grid


def _scale01(a: np.ndarray, axis=None) -> np.ndarray:
    lo = a.min(axis=axis, keepdims=axis is not None)
    hi = a.max(axis=axis, keepdims=axis is not None)
    return np.where(hi > lo, (a - lo) / np.where(hi > lo, hi - lo, 1), 0.0).astype(np.float32)


def _save(fig, path):
    if path is None:
        return
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def plot_filters(model, path=None, *, max_filters: int = 64, title: str | None = None) -> np.ndarray:
    """Draw the first conv layer's filters as a grid; returns the grid as an array
    ``(rows, cols)`` (grayscale: mean over input channels) or ``(rows, cols, 3)`` (RGB filters),
    each filter scaled to [0, 1]. Writes a PNG when ``path`` is given."""
    net, _, _, _ = _resolve(model)
    conv = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError(f"{type(net).__name__} has no Conv2d layer to draw")
    w = conv.weight.detach().float().cpu().numpy()[:max_filters]  # (K, C_in/groups, kh, kw)
    if w.shape[1] == 3:
        tiles = _scale01(w.transpose(0, 2, 3, 1), axis=(1, 2, 3))  # (K, kh, kw, 3)
    else:
        tiles = _scale01(w.mean(axis=1), axis=(1, 2))  # (K, kh, kw)
    grid = _mosaic(tiles)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid, cmap=None if grid.ndim == 3 else "gray", interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title or f"first-layer filters: {w.shape[0]} of {tuple(conv.weight.shape)}")
    _save(fig, path)
    plt.close(fig)
    return grid


def plot_activations(model, image, layer, path=None, *, max_maps: int = 64) -> np.ndarray:
    """Feature maps of ``layer`` (a name from ``net.named_modules()``, e.g. ``"layer1"`` or
    ``"features.0"``, or the module itself) for one ``image``; returns them as ``(C, h, w)``
    and writes a grid PNG when ``path`` is given."""
    net, prep, _, est = _resolve(model)
    modules = dict(net.named_modules())
    if isinstance(layer, str):
        if layer not in modules:
            names = [n for n in modules if n][:12]
            raise ValueError(f"layer={layer!r} is not a module of {type(net).__name__} (e.g. {names})")
        target = modules[layer]
    elif isinstance(layer, nn.Module):
        target = layer
    else:
        raise TypeError(f"layer must be a module name or an nn.Module, got {type(layer).__name__}")
    x = _image_tensor(image, net, est)
    captured = {}

    def hook(_m, _inp, out):
        captured["out"] = out[0] if isinstance(out, (tuple, list)) else out

    handle = target.register_forward_hook(hook)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(prep(x))
    finally:
        handle.remove()
        net.train(was_training)
    out = captured.get("out")
    if out is None or out.dim() != 4:
        raise ValueError(f"layer={layer!r} did not produce feature maps (N, C, H, W)")
    maps = out[0].detach().float().cpu().numpy()  # (C, h, w)
    if path is not None:
        plt = _plt()
        grid = _mosaic(_scale01(maps[:max_maps], axis=(1, 2)))
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.imshow(grid, cmap="viridis", interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{layer if isinstance(layer, str) else type(layer).__name__}: {maps.shape[0]} maps {maps.shape[1]}×{maps.shape[2]}")
        _save(fig, path)
        plt.close(fig)
    return maps


def class_activation_map(model, image, target=None, path=None, *, method: str = "auto") -> np.ndarray:
    """Class activation map of ``image`` for class ``target`` (default: the predicted class;
    a label of ``classes_`` for a fitted estimator, a column index for a bare network).

    ``method="auto"``: CAM when the network's head is global average pooling (ResNets,
    GoogLeNet, NiN), Grad-CAM otherwise (AlexNet, VGG, LeNet); ``"cam"`` / ``"gradcam"`` force
    one. Returns an ``(H, W)`` float array in [0, 1] (bilinear upsampling of the last feature
    maps to the input size); with ``path`` writes the image with the map overlaid (PNG).
    """
    if method not in ("auto", "cam", "gradcam"):
        raise ValueError(f"method must be 'auto', 'cam' or 'gradcam', got {method!r}")
    net, prep, classes, est = _resolve(model)
    x = _image_tensor(image, net, est)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            logits = net(prep(x))
        if target is None:
            idx = int(logits.argmax(1))
        elif classes is not None:
            matches = np.flatnonzero(classes == np.asarray(target, dtype=classes.dtype))
            if len(matches) == 0:
                raise ValueError(f"target={target!r} is not one of the classes {list(classes)}")
            idx = int(matches[0])
        else:
            if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < logits.shape[1]:
                raise ValueError(f"target must be a class index in [0, {logits.shape[1]}), got {target!r}")
            idx = int(target)
        fc = net.classifier_layer() if hasattr(net, "classifier_layer") else getattr(net, "fc", None)
        use_cam = method == "cam" or (method == "auto" and getattr(net, "gap_head", False))
        if use_cam:
            if not getattr(net, "gap_head", False):
                raise ValueError(f"method='cam' needs a global-average-pooling head; {type(net).__name__} has none")
            with torch.no_grad():
                feats = net.forward_features(prep(x))[0]  # (K, h, w)
                if fc is None:  # NiN: one map per class
                    cam = feats[idx]
                else:
                    cam = torch.einsum("k,khw->hw", fc.weight[idx].float(), feats.float())
        else:
            inp = prep(x)
            with torch.enable_grad():
                feats = net.forward_features(inp)
                feats.retain_grad()
                score = net.forward_head(feats)[0, idx]
                grads = torch.autograd.grad(score, feats)[0][0]  # (K, h, w)
            alpha = grads.mean(dim=(1, 2))  # (K,)
            cam = F.relu(torch.einsum("k,khw->hw", alpha, feats[0].detach()))
    finally:
        net.train(was_training)
    h, w = x.shape[-2:]
    cam = F.interpolate(cam[None, None].float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    out = _scale01(cam.cpu().numpy())
    if path is not None:
        plt = _plt()
        img = x[0].numpy()
        img = _scale01(img.transpose(1, 2, 0) if img.shape[0] == 3 else img.mean(0))
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.imshow(img, cmap=None if img.ndim == 3 else "gray", interpolation="nearest")
        ax.imshow(out, cmap="jet", alpha=0.5, interpolation="bilinear")
        ax.set_axis_off()
        label = classes[idx] if classes is not None else idx
        ax.set_title(f"{'CAM' if use_cam else 'Grad-CAM'} for class {label}")
        _save(fig, path)
        plt.close(fig)
    return out
