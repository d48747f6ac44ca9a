"""Distances that k-NN needs beyond scikit-learn's: dynamic time warping on raw series and
Levenshtein (edit) distance on raw strings.

DTW (Sakoe & Chiba 1978): the cost of aligning time steps ``i`` and ``j`` is the squared Euclidean
distance between the two ``C``-dimensional points, the warping path is monotone with steps
(1, 0), (0, 1), (1, 1), and the distance is the square root of the cheapest cumulative cost (the
tslearn convention; aeon/sktime report the cost without the root — a monotone transform, so the
neighbours are the same). The optional Sakoe-Chiba band keeps ``|i - j| <= r`` with ``r`` an int
(time steps) or a float in (0, 1] (a fraction of the longer series); for series of different
lengths the band is widened to ``|L_a - L_b|`` so that a path always exists (a documented
deviation from a fixed band).

The implementation is vectorised over many pairs at once: the dynamic programme runs along
anti-diagonals (cells ``i + j = k`` depend only on diagonals ``k - 1`` and ``k - 2``), so one step
updates every pair and every cell of a diagonal together; ragged lengths are handled with
padding masked to ``inf``. The tests check it against a plain double-loop reference.

Levenshtein distances come from ``rapidfuzz`` (``process.cdist``, multi-threaded, C++).
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from seqcnn.data.checks import check_series, check_strings

__all__ = ["dtw_distance", "pairwise_dtw", "pairwise_levenshtein"]


def _check_window(window):
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, numbers.Real):
        raise TypeError(f"window must be None, an int >= 0 or a float in (0, 1], got {window!r}")
    if isinstance(window, numbers.Integral):
        if window < 0:
            raise ValueError(f"window must be >= 0 time steps, got {window}")
        return int(window)
    if not 0.0 < float(window) <= 1.0:
        raise ValueError(f"window given as a float must be a fraction in (0, 1], got {window}")
    return float(window)


def _pad(series: list[np.ndarray], dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """List of (C, L_i) → padded tensor (N, C, L_max) and lengths (N,)."""
    lengths = np.array([s.shape[1] for s in series], dtype=np.int64)
    n, c, lmax = len(series), series[0].shape[0], int(lengths.max())
    out = np.zeros((n, c, lmax), dtype=np.float64)
    for k, s in enumerate(series):
        out[k, :, : s.shape[1]] = s
    return torch.as_tensor(out, dtype=dtype, device=device), torch.as_tensor(lengths, device=device)


def _dtw_pairs(A: torch.Tensor, la: torch.Tensor, B: torch.Tensor, lb: torch.Tensor, window) -> torch.Tensor:
    """DTW for P aligned pairs: A (P, C, La), B (P, C, Lb), lengths la, lb (P,) → (P,).

    Anti-diagonal sweep. Buffers hold one diagonal indexed by the row ``i`` with one leading
    ``inf`` column (buffer index ``i + 1``), so the three predecessors are plain slices; the
    reference series is time-reversed so that the cells of a diagonal read a contiguous slice.
    """
    P, C, La = A.shape
    Lb = B.shape[2]
    dev, dt = A.device, A.dtype
    ragged = bool((la != La).any() or (lb != Lb).any())
    uniform_r = None
    if window is None:
        radius = None
    else:
        longest = torch.maximum(la, lb)
        r = torch.full_like(la, window) if isinstance(window, int) else torch.ceil(window * longest.to(torch.float64)).to(la.dtype)
        radius = torch.maximum(r, (la - lb).abs())[:, None]  # (P, 1)
        if not ragged:
            uniform_r = int(radius[0, 0]) if P else 0
    Bf = B.flip(2)  # Bf[..., t] = B[..., Lb - 1 - t]
    if C == 1:
        A, Bf = A[:, 0], Bf[:, 0]
    end_diag = (la + lb - 2).cpu().numpy()
    result = torch.full((P,), float("inf"), dtype=dt, device=dev)
    bufs = [torch.full((P, La + 1), float("inf"), dtype=dt, device=dev) for _ in range(3)]
    ii = torch.arange(La, device=dev)
    for k in range(La + Lb - 1):
        lo, hi = max(0, k - Lb + 1), min(k, La - 1)
        if uniform_r is not None:  # equal lengths: the band is a range of rows
            lo, hi = max(lo, -((uniform_r - k) // 2)), min(hi, (k + uniform_r) // 2)
        cur, prev1, prev2 = bufs[k % 3], bufs[(k - 1) % 3], bufs[(k - 2) % 3]
        cur[:, lo] = float("inf")
        if hi + 2 <= La:
            cur[:, hi + 2] = float("inf")
        if lo > hi:
            continue
        s = slice(Lb - 1 - k + lo, Lb - k + hi)
        if C == 1:
            cost = (A[:, lo:hi + 1] - Bf[:, s]).pow_(2)
        else:
            cost = (A[:, :, lo:hi + 1] - Bf[:, :, s]).pow_(2).sum(1)
        if ragged or (radius is not None and uniform_r is None):
            i = ii[lo:hi + 1]
            j = k - i
            valid = (i[None, :] < la[:, None]) & (j[None, :] < lb[:, None])
            if radius is not None:
                valid &= (i - j).abs()[None, :] <= radius
            cost.masked_fill_(~valid, float("inf"))
        if k == 0:
            cur[:, 1:2] = cost
        else:
            best = torch.minimum(prev2[:, lo:hi + 1], prev1[:, lo:hi + 1])  # (i-1, j-1), (i-1, j)
            torch.minimum(best, prev1[:, lo + 1:hi + 2], out=best)  # (i, j-1)
            cur[:, lo + 1:hi + 2] = cost.add_(best)
        done = np.nonzero(end_diag == k)[0]
        if done.size:
            d = torch.as_tensor(done, device=dev)
            result[d] = cur[d, la[d]]
    return result.sqrt_()


def _dtw_block(Q, lq, R, lr, window) -> torch.Tensor:
    """All pairs between a query block (nq, C, Lq) and a reference block (nr, C, Lr) → (nq, nr)."""
    nq, nr = Q.shape[0], R.shape[0]
    qi = torch.arange(nq, device=Q.device).repeat_interleave(nr)
    ri = torch.arange(nr, device=Q.device).repeat(nq)
    # trim padding to the longest series actually present in this block
    A = Q[qi][:, :, : int(lq.max())]
    B = R[ri][:, :, : int(lr.max())]
    return _dtw_pairs(A, lq[qi], B, lr[ri], window).reshape(nq, nr)


def dtw_bytes_per_pair(n_channels: int, len_q: int, len_r: int, itemsize: int = 8) -> int:
    """Rough working memory of one pair in :func:`_dtw_block` (used to size chunks)."""
    return itemsize * (n_channels * (len_q + len_r) + n_channels * len_q + 8 * len_q) + 64


def pairwise_dtw(X, Y=None, *, window=None, device="cpu", working_memory: float = 256) -> np.ndarray:
    """DTW distance matrix between raw series ``X`` (N) and ``Y`` (M, default ``X``) → (N, M).

    ``X``/``Y``: an array (N, L) or (N, C, L), or a list of (L_i,) or (C, L_i) arrays.
    ``working_memory`` (MB) bounds the size of each block of pairs.
    """
    from seqcnn.engine.device import resolve_device

    window = _check_window(window)
    dev = resolve_device(device)
    xs = check_series(X, "X")
    ys = xs if Y is None else check_series(Y, "Y")
    if ys[0].shape[0] != xs[0].shape[0]:
        raise ValueError(f"X has {xs[0].shape[0]} channels but Y has {ys[0].shape[0]}")
    dt = torch.float64 if dev.type == "cpu" else torch.float32
    Xp, lx = _pad(xs, dt, dev)
    Yp, ly = _pad(ys, dt, dev)
    per_pair = dtw_bytes_per_pair(Xp.shape[1], Xp.shape[2], Yp.shape[2])
    max_pairs = max(1, int(working_memory * 2**20) // per_pair)
    cols = min(len(ys), max_pairs)
    rows = max(1, max_pairs // cols)
    out = np.empty((len(xs), len(ys)))
    for r0 in range(0, len(xs), rows):
        for c0 in range(0, len(ys), cols):
            blk = _dtw_block(Xp[r0:r0 + rows], lx[r0:r0 + rows], Yp[c0:c0 + cols], ly[c0:c0 + cols], window)
            out[r0:r0 + rows, c0:c0 + cols] = blk.cpu().numpy()
    return out


def dtw_distance(a, b, *, window=None) -> float:
    """DTW distance between two series of shape (L,) or (C, L) (lengths may differ)."""
    return float(pairwise_dtw([np.asarray(a, dtype=float)], [np.asarray(b, dtype=float)], window=window)[0, 0])


def pairwise_levenshtein(X, Y=None, *, workers: int = 1) -> np.ndarray:
    """Levenshtein (unit-cost insert/delete/substitute) distances between strings → int32 (N, M)."""
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cdist

    xs = check_strings(X, "X")
    ys = xs if Y is None else check_strings(Y, "Y")
    return cdist(xs, ys, scorer=Levenshtein.distance, dtype=np.int32, workers=workers)


def _window_radius(window, la: int, lb: int):
    """Band radius used for one pair (documented rule), for references in the tests."""
    if window is None:
        return None
    r = window if isinstance(window, int) else math.ceil(window * max(la, lb))
    return max(r, abs(la - lb))
