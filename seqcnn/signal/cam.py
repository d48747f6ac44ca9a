"""Class activation maps over time (Zhou et al. 2016, "Learning Deep Features for
Discriminative Localization"), as used for time series by Wang, Yan & Oates 2017.

For a network that ends in global average pooling and one linear layer, the logit of class k is
``Σ_c w_{k,c} · mean_t A_c(t) + b_k``, so ``CAM_k(t) = Σ_c w_{k,c} · A_c(t)`` says how much each
time step contributes. Every seqcnn signal network keeps the series length through its
convolutions ("same" padding), so the map is aligned with the input step for step (a map of
another length would be linearly resampled to the input length). The map is scaled to [0, 1]
(a constant map becomes zeros). For the InceptionTime ensemble the members' raw maps are
averaged before scaling.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["class_activation_map", "plot_cam"]


def _series_array(series) -> np.ndarray:
    a = np.asarray(series, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValueError(f"series must be (L,) or (C, L) with L >= 1, got shape {np.shape(series)}")
    return a


def _raw_cam(net: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    members = getattr(net, "members", None)
    if members is not None:
        return torch.stack([_raw_cam(m, x, target) for m in members]).mean(0)
    if not hasattr(net, "feature_maps") or not isinstance(getattr(net, "head", None), nn.Linear):
        raise TypeError("class_activation_map needs a network with feature_maps() and a linear head "
                        "after global average pooling (FCN, ResNet1D, InceptionNet, InceptionTime)")
    maps = net.feature_maps(x)[0]  # (F, L')
    w = net.head.weight[target]  # (F,)
    return (w[:, None] * maps).sum(0)  # (L',)


def class_activation_map(model_or_estimator, series, target=None) -> np.ndarray:
    """Class activation map of one series.

    Parameters
    ----------
    model_or_estimator : a fitted :class:`SignalCNNClassifier` or a signal network
        (:class:`FCN`, :class:`ResNet1D`, :class:`InceptionNet`, :class:`InceptionTime`).
    series : array (L,) or (C, L)
        One series. With an estimator it goes through the estimator's own preprocessing
        (validation, missing values, normalisation); with a bare network it is used as is.
    target : class label (estimator) or class index (network), or None for the predicted class.

    Returns
    -------
    ndarray (L,) of float64 in [0, 1].
    """
    est = model_or_estimator
    if hasattr(est, "module_") or hasattr(est, "classes_"):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(est, "module_")
        a = _series_array(series)
        values, mask = est._prepare_inputs([a])
        net = est.module_
        length = int(mask[0].sum()) if mask is not None else values.shape[2]
        x = torch.as_tensor(values[:, :, :length])
        if target is not None:
            matches = [i for i, c in enumerate(est.classes_) if c == target]
            if not matches:
                raise ValueError(f"target={target!r} is not one of the classes {list(est.classes_)}")
            target = matches[0]
    elif isinstance(est, nn.Module):
        net = est
        a = _series_array(series)
        if not np.isfinite(a).all():
            raise ValueError("series contains NaN or inf")
        x = torch.as_tensor(a, dtype=torch.float32)[None]
        length = a.shape[1]
    else:
        raise TypeError(f"model_or_estimator must be a SignalCNNClassifier or an nn.Module, got "
                        f"{type(est).__name__}")
    was_training = net.training
    net.eval()
    try:
        device = next(net.parameters()).device
        x = x.to(device)
        with torch.no_grad():
            if target is None:
                target = int(net(x).argmax(1)[0])
            n_classes = net.num_classes
            if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)) \
                    or not 0 <= int(target) < n_classes:
                raise ValueError(f"target must be a class index in [0, {n_classes}), got {target!r}")
            cam = _raw_cam(net, x, int(target))
    finally:
        net.train(was_training)
    if cam.shape[0] != length:
        cam = F.interpolate(cam[None, None], size=length, mode="linear", align_corners=True)[0, 0]
    cam = cam.double().cpu().numpy()
    lo, hi = cam.min(), cam.max()
    if not np.isfinite(cam).all() or hi - lo <= 1e-12:
        return np.zeros(length)
    return (cam - lo) / (hi - lo)


def plot_cam(series, cam, path, *, title=None, cmap="jet"):
    """Draw the series (each channel a line) coloured point by point by ``cam`` (values in
    [0, 1], length L) and save a PNG to ``path``. Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    a = _series_array(series)
    cam = np.asarray(cam, dtype=np.float64).reshape(-1)
    if cam.shape[0] != a.shape[1]:
        raise ValueError(f"cam has length {cam.shape[0]} but the series has length {a.shape[1]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(a.shape[1], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(8, 3 + 0.3 * (a.shape[0] - 1)))
    norm = plt.Normalize(0.0, 1.0)
    lc = None
    for row in a:
        if a.shape[1] == 1:
            ax.scatter(t, row, c=cam, cmap=cmap, norm=norm, s=30)
            continue
        pts = np.stack([t, row], axis=1)[:, None, :]
        segs = np.concatenate([pts[:-1], pts[1:]], axis=1)
        lc = LineCollection(segs, cmap=cmap, norm=norm, linewidths=2)
        lc.set_array((cam[:-1] + cam[1:]) / 2)
        ax.add_collection(lc)
        ax.scatter(t, row, c=cam, cmap=cmap, norm=norm, s=6)
    finite = a[np.isfinite(a)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    ax.set_xlim(-0.5, a.shape[1] - 0.5)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("time step")
    ax.set_ylabel("value")
    ax.set_title(title or "class activation map")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="CAM")
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
