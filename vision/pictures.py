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
import warnings

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


def _class_index(target, classes, n_outputs: int) -> int:
    """``target`` → column index. With ``classes`` (a fitted estimator) the label is matched
    exactly: equal values first, else (one side a string) equal spellings, so ``"42"`` finds
    the class ``42`` but never ``4``; an unknown or ambiguous label is a ``ValueError`` listing
    the known ones. Without ``classes`` it must be an index in ``[0, n_outputs)``."""
    if classes is not None:
        known = [c.item() if hasattr(c, "item") else c for c in np.asarray(classes).tolist()]
        value = target.item() if hasattr(target, "item") else target
        hits = [i for i, c in enumerate(known) if type(c) is type(value) and c == value]
        if not hits and not isinstance(value, bool):
            hits = [i for i, c in enumerate(known) if (isinstance(value, str) or isinstance(c, str))
                    and str(c) == str(value)]
        if len(hits) != 1:
            shown = ", ".join(repr(c) for c in known[:50]) + (", ..." if len(known) > 50 else "")
            what = "matches several classes" if hits else "is not one of the classes"
            raise ValueError(f"target={target!r} {what}; the model knows {len(known)}: {shown}")
        return hits[0]
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < n_outputs:
        raise ValueError(f"target must be a class index in [0, {n_outputs}) for a bare network, got {target!r}")
    return int(target)


def _find_layer(net, layer):
    modules = dict(net.named_modules())
    if isinstance(layer, str):
        if layer not in modules or not layer:
            names = [n for n in modules if n][:12]
            raise ValueError(f"layer={layer!r} is not a module of {type(net).__name__} (e.g. {names})")
        return layer, modules[layer]
    if isinstance(layer, nn.Module):
        name = next((n for n, m in modules.items() if m is layer and n), None)
        if name is None:
            raise ValueError(f"layer {type(layer).__name__} is not a module of {type(net).__name__}")
        return name, layer
    raise TypeError(f"layer must be None, a module name or an nn.Module, got {type(layer).__name__}")


def _map_sizes(net, inp) -> list:
    """``[(name, (h, w))]`` of every sub-module that outputs 4-D feature maps, in the order they
    ran on ``inp``."""
    seen, handles = [], []
    for name, module in net.named_modules():
        if not name:
            continue

        def hook(_m, _i, out, name=name):
            out = out[0] if isinstance(out, (tuple, list)) else out
            if torch.is_tensor(out) and out.dim() == 4:
                seen.append((name, (int(out.shape[-2]), int(out.shape[-1]))))
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            net(inp)
    finally:
        for h in handles:
            h.remove()
    return seen


def _gradcam_at(net, inp, module, idx) -> torch.Tensor:
    """Grad-CAM ``(h, w)`` of class ``idx`` on the feature maps ``module`` outputs."""
    captured = {}

    def hook(_m, _i, out):
        t = out[0] if isinstance(out, (tuple, list)) else out
        captured["maps"] = t
        if isinstance(out, (tuple, list)):
            return out
        return t.clone()  # later in-place ops (ReLU(inplace=True)) must not touch the captured maps

    handle = module.register_forward_hook(hook)
    try:
        with torch.enable_grad():
            logits = net(inp)
            maps = captured.get("maps")
            if maps is None or maps.dim() != 4:
                raise ValueError(f"layer {type(module).__name__} did not produce feature maps (N, C, H, W)")
            grads = torch.autograd.grad(logits[0, idx], maps)[0][0]  # (K, h, w)
    finally:
        handle.remove()
    alpha = grads.mean(dim=(1, 2))
    return F.relu(torch.einsum("k,khw->hw", alpha, maps[0].detach()))


def _unit(cam: np.ndarray) -> tuple[np.ndarray, bool]:
    """Scale to [0, 1]; a map whose range is rounding noise (or all zero) → zeros, flat=True."""
    lo, hi = float(cam.min()), float(cam.max())
    scale = max(abs(lo), abs(hi))
    if not np.isfinite(scale) or scale == 0 or hi - lo <= 1e-5 * scale:
        return np.zeros_like(cam, dtype=np.float32), True
    return ((cam - lo) / (hi - lo)).astype(np.float32), False


def _trunk_or_fallback(net, inp, x, method: str, chosen, use_cam: bool):
    """``(name, chosen, use_cam)`` when no ``layer=`` was given: the trunk's output
    (``"forward_features"``), or, when its maps are under 2×2, the last layer whose maps are at
    least 2×2 (Grad-CAM, with a warning). ``chosen`` is ``None`` or ``(name, module)``."""
    with torch.no_grad():
        size = tuple(int(v) for v in net.forward_features(inp).shape[-2:])
    if min(size) >= 2:
        return "forward_features", chosen, use_cam
    if method == "cam":
        raise ValueError(f"{type(net).__name__}'s last feature maps are {size[0]}×{size[1]}: too small "
                         "for CAM to localise anything; use method='gradcam' (it picks a larger layer)")
    usable = [(n, hw) for n, hw in _map_sizes(net, inp) if min(hw) >= 2]
    if not usable:
        raise ValueError(f"{type(net).__name__} has no layer with feature maps of at least 2×2 for this "
                         f"{tuple(x.shape[-2:])} image: a class activation map cannot localise anything")
    name, size = usable[-1]
    warnings.warn(f"{type(net).__name__}'s last feature maps are too small to localise (below 2×2); "
                  f"Grad-CAM uses layer {name!r} ({size[0]}×{size[1]} maps) instead", UserWarning,
                  stacklevel=3)  # the caller of class_activation_map
    return name, (name, dict(net.named_modules())[name]), False


def _raw_map(net, inp, idx: int, use_cam: bool, chosen, fc) -> torch.Tensor:
    """The ``(h, w)`` map before upsampling: CAM (the head's weights of class ``idx`` on the
    trunk's maps; NiN: the class's own map), Grad-CAM on the trunk's output (``chosen`` None),
    or Grad-CAM on the chosen layer."""
    if use_cam:
        with torch.no_grad():
            feats = net.forward_features(inp)[0]  # (K, h, w)
            if fc is None:  # NiN: one map per class
                return feats[idx]
            return torch.einsum("k,khw->hw", fc.weight[idx].float(), feats.float())
    if chosen is None:
        with torch.enable_grad():
            feats = net.forward_features(inp)
            score = net.forward_head(feats)[0, idx]
            grads = torch.autograd.grad(score, feats)[0][0]  # (K, h, w)
        alpha = grads.mean(dim=(1, 2))  # (K,)
        return F.relu(torch.einsum("k,khw->hw", alpha, feats[0].detach()))
    return _gradcam_at(net, inp, chosen[1], idx)


def _draw_cam(x: torch.Tensor, unit: np.ndarray, flat: bool, info: dict, path) -> None:
    """Write the image with the map overlaid (none when ``flat``), titled with the method,
    class and layer (drawn literally: a ``$`` in a label is escaped)."""
    plt = _plt()
    img = x[0].numpy()
    img = _scale01(img.transpose(1, 2, 0) if img.shape[0] == 3 else img.mean(0))
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(img, cmap=None if img.ndim == 3 else "gray", interpolation="nearest")
    if not flat:
        ax.imshow(np.asarray(unit), cmap="jet", alpha=0.5, interpolation="bilinear")
    ax.set_axis_off()
    note = " (flat: no evidence)" if flat else ""
    h, w = info["feature_size"]
    title = f"{info['method']} for class {info['label']}, layer {info['layer']} ({h}×{w}){note}"
    ax.set_title(title.replace("$", r"\$"))
    _save(fig, path)
    plt.close(fig)


def class_activation_map(model, image, target=None, path=None, *, method: str = "auto", layer=None,
                         return_info: bool = False):
    """Class activation map of ``image`` for class ``target`` (default: the predicted class).

    ``target``: for a fitted estimator a label of ``classes_``, matched exactly (``42`` or
    ``"42"`` is the class 42, never the class ``4``; an unknown label is a ``ValueError``
    listing the known ones); for a bare network a column index.

    ``method="auto"``: CAM when the network's head is global average pooling (ResNets,
    GoogLeNet, NiN), Grad-CAM otherwise (AlexNet, VGG, LeNet); ``"cam"`` / ``"gradcam"`` force
    one. ``layer`` (a module name or module): Grad-CAM on that layer's feature maps instead of
    the trunk's output.

    Feature maps smaller than 2×2 cannot localise anything (LeNet-5's trunk ends at 1×1): then
    Grad-CAM runs on the LAST layer whose maps are at least 2×2 (LeNet-5: ``"features.5"``,
    S4's 5×5) and a ``UserWarning`` names it; an explicit ``layer`` or ``method="cam"`` with
    smaller maps, or a network with no such layer, is a ``ValueError``.

    Returns an ``(H, W)`` float32 array in [0, 1] (bilinear upsampling of the feature maps to
    the input size). A map without contrast (all zero, or a range that is rounding noise) is
    returned as zeros, never stretched to [0, 1]. ``return_info=True`` returns ``(map, info)``,
    ``info`` a dict: ``method`` (``"CAM"``/``"Grad-CAM"``), ``layer`` (the module whose maps were
    weighed; ``"forward_features"`` = the trunk's output), ``feature_size`` ``(h, w)`` before
    upsampling, ``target`` (class index), ``label`` (class label, or the index for a bare
    network) and ``flat`` (True: no contrast, no peak to report). With ``path`` writes the
    image with the map overlaid (PNG; the title names the method, class and layer).
    """
    if method not in ("auto", "cam", "gradcam"):
        raise ValueError(f"method must be 'auto', 'cam' or 'gradcam', got {method!r}")
    net, prep, classes, est = _resolve(model)
    x = _image_tensor(image, net, est)
    chosen = None if layer is None else _find_layer(net, layer)
    was_training = net.training
    net.eval()
    try:
        inp = prep(x)
        with torch.no_grad():
            logits = net(inp)
        idx = int(logits.argmax(1)) if target is None else _class_index(target, classes, int(logits.shape[1]))
        fc = net.classifier_layer() if hasattr(net, "classifier_layer") else getattr(net, "fc", None)
        gap = bool(getattr(net, "gap_head", False))
        if method == "cam" and not gap:
            raise ValueError(f"method='cam' needs a global-average-pooling head; {type(net).__name__} has none")
        if method == "cam" and chosen is not None:
            raise ValueError("layer= needs Grad-CAM (method='gradcam' or 'auto'); CAM uses the last feature maps")
        use_cam = chosen is None and (method == "cam" or (method == "auto" and gap))
        if chosen is None:
            name, chosen, use_cam = _trunk_or_fallback(net, inp, x, method, chosen, use_cam)
        else:
            name = chosen[0]
        cam = _raw_map(net, inp, idx, use_cam, chosen, fc)
        if layer is not None and min(cam.shape) < 2:
            raise ValueError(f"layer={name!r} has {cam.shape[0]}×{cam.shape[1]} feature maps: too small to "
                             "localise anything; pick a layer with maps of at least 2×2")
    finally:
        net.train(was_training)
    feature_size = (int(cam.shape[0]), int(cam.shape[1]))
    h, w = x.shape[-2:]
    cam = F.interpolate(cam[None, None].float(), size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    unit, flat = _unit(cam.detach().cpu().numpy())
    info = {"method": "CAM" if use_cam else "Grad-CAM", "layer": name, "feature_size": feature_size,
            "target": idx, "label": classes[idx] if classes is not None else idx, "flat": flat}
    if path is not None:
        _draw_cam(x, unit, flat, info, path)
    return (unit, info) if return_info else unit
