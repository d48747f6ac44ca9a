"""Batch image transforms as tensor ops: they run on the training device on whole batches
``(N, C, H, W)`` (no per-image Python loop, no PIL).

* :func:`channel_stats` — per-channel mean/std of the training set (saved with the model).
* :func:`normalize` — ``(x − mean) / std``.
* :func:`random_crop` — zero-pad by ``padding`` then crop back at a random offset per image
  (the CIFAR recipe of He et al. 2016 §4.2: 4-pixel padding, 32×32 crops).
* :func:`random_hflip` — flip each image left-right with probability ``p``.
* :func:`fit_zca` / :func:`zca_whiten` — ZCA whitening (Bell & Sejnowski 1997; used on CIFAR
  by Krizhevsky 2009 and Goodfellow et al. 2013): ``W = U diag(1/√(λ + ε)) Uᵀ`` from the
  covariance of the flattened training images, so whitened data have covariance ≈ I while
  staying as close as possible to the originals (the seed's "data whitening": decorrelate,
  then rescale).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["channel_stats", "normalize", "random_crop", "random_hflip", "fit_zca", "zca_whiten"]


def channel_stats(X, *, chunk: int = 4096, eps: float = 1e-8):
    """Mean and std per channel of images ``(N, C, H, W)`` (NumPy or tensor), accumulated in
    float64 by chunks; returns two float32 tensors of shape ``(C,)`` (std floored at ``eps``)."""
    X = torch.as_tensor(X)
    c = X.shape[1]
    s = torch.zeros(c, dtype=torch.float64)
    ss = torch.zeros(c, dtype=torch.float64)
    n = 0
    for i in range(0, X.shape[0], chunk):
        b = X[i:i + chunk].to(torch.float64)
        s += b.sum(dim=(0, 2, 3))
        ss += (b * b).sum(dim=(0, 2, 3))
        n += b.shape[0] * b.shape[2] * b.shape[3]
    mean = s / n
    var = (ss / n - mean * mean).clamp_min(0)
    return mean.float(), var.sqrt().clamp_min(eps).float()


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``(x − mean) / std`` per channel; ``x`` ``(N, C, H, W)``, mean/std ``(C,)``."""
    return (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def random_crop(x: torch.Tensor, padding: int = 4, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero-pad each side by ``padding`` and cut an ``H×W`` window at a random offset per image
    (one gather for the whole batch)."""
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    xp = F.pad(x, (padding, padding, padding, padding))  # (N, C, H+2p, W+2p)
    dy = torch.randint(0, 2 * padding + 1, (n,), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n,), device=x.device, generator=generator)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    n_idx = torch.arange(n, device=x.device)[:, None, None, None]
    c_idx = torch.arange(c, device=x.device)[None, :, None, None]
    return xp[n_idx, c_idx, rows, cols]  # (N, C, H, W)


def random_hflip(x: torch.Tensor, p: float = 0.5, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    flip = torch.rand(x.shape[0], device=x.device, generator=generator) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def fit_zca(X, *, eps: float = 1e-2, chunk: int = 4096):
    """ZCA whitening fitted on images ``(N, C, H, W)`` (flattened to ``D = C·H·W``).

    Returns ``(mean (D,), W (D, D))`` as float32 tensors with ``W = U diag(1/√(λ+ε)) Uᵀ``.
    ``eps`` regularises the small eigenvalues (0.01-0.1 for natural images keeps noise from
    being amplified; a tiny eps gives covariance ≈ I exactly). D above 16,384 raises
    ``ValueError`` (W would not fit comfortably in memory)."""
    X = torch.as_tensor(X)
    n = X.shape[0]
    d = X[0].numel()
    if d > 16384:
        raise ValueError(f"zca: images of {d} values give a {d}×{d} whitening matrix; too large (max 16384)")
    if n < 2:
        raise ValueError("zca needs at least 2 training images")
    total = torch.zeros(d, dtype=torch.float64)
    for i in range(0, n, chunk):
        total += X[i:i + chunk].reshape(-1, d).to(torch.float64).sum(0)
    mean = total / n
    cov = torch.zeros(d, d, dtype=torch.float64)
    for i in range(0, n, chunk):
        b = X[i:i + chunk].reshape(-1, d).to(torch.float64) - mean
        cov += b.T @ b
    cov /= n - 1
    evals, evecs = torch.linalg.eigh(cov)
    evals = evals.clamp_min(0)
    W = (evecs * (1.0 / torch.sqrt(evals + eps))) @ evecs.T
    return mean.float(), W.float()


def zca_whiten(x: torch.Tensor, mean: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Apply a fitted ZCA transform to a batch ``(N, C, H, W)`` (shape preserved)."""
    n = x.shape[0]
    flat = x.reshape(n, -1) - mean.to(x.dtype)
    return (flat @ W.to(x.dtype)).reshape(x.shape)  # W is symmetric
