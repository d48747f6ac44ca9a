"""PPV pooling — the "proportion of positive values" of MiniRocket (Dempster et al. 2021).

For a convolution output row ``c`` of one series and a bias ``b``, PPV is the share of the row's
steps ``t`` in ``[lo, hi)`` where ``c[t] > b``. MiniRocket pools every (dilation, kernel) output
against f biases, so PPV is where its time goes: ``f · L`` comparisons per output row, about
10,000 · L per series.

:class:`PPVPool` pools the kernels ``first, first + 2, ...`` of a convolution output (K, B, W)
(the chequerboard's "same padding" or "valid steps only" half) against their biases (K, F) into
``out[k, s, j]`` (a (K, B, F) view into the feature matrix). Two implementations of one
operation:

* **Fused CPU loop** (numba, a dependency of seqcnn): one pass over each row per 4 biases,
  counting in registers — about 0.05 ns per comparison on one core of this project's CPU,
  against 0.25–0.3 ns for the torch version below. The loop is compiled on first use (a second
  or two, then cached on disk beside the module, or in numba's user cache when that folder is
  read-only) and releases the GIL, so ``n_jobs`` worker threads run it in parallel.
* **torch** (any device; CUDA, or the CPU when numba cannot be imported): one broadcast
  comparison ``c[:, :, None, :] > b[:, None, :, None]`` into a reused float buffer of at most
  ``budget`` elements, then a sum over time.

Both compare the same float32 convolution outputs, so they count the same steps; the scaling by
``1 / (hi − lo)`` may differ in the last bit (``tests/signal/test_ppv.py`` checks both against a
numpy reference).
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["PPVPool", "ppv_reference", "fused_available"]

_FUSED = None  # the compiled loop, or False when numba cannot be imported


def _fused_kernel():
    """The numba loop (:mod:`seqcnn.signal._ppv_loop`), imported lazily: importing seqcnn never
    imports numba."""
    global _FUSED
    if _FUSED is None:
        try:
            from ._ppv_loop import ppv_loop
        except ImportError:  # pragma: no cover - numba is a dependency; kept for broken installs
            _FUSED = False
        else:
            _FUSED = ppv_loop
    return _FUSED


def fused_available() -> bool:
    """True when the fused CPU loop (numba) can be used."""
    return bool(_fused_kernel())


def ppv_reference(conv: np.ndarray, biases: np.ndarray, first: int, lo, hi) -> np.ndarray:
    """The definition, in numpy: (K, B, F) with rows of the other half left at NaN."""
    n_kernels, n_series, _ = conv.shape
    out = np.full((n_kernels, n_series, biases.shape[1]), np.nan, dtype=np.float64)
    for k in range(first, n_kernels, 2):
        for s in range(n_series):
            row = conv[k, s, lo[s]:hi[s]]
            out[k, s] = (row[None, :] > biases[k][:, None]).mean(axis=1)
    return out


def _check_call(conv, biases, first, lo, hi, out):
    """``ValueError``/``TypeError`` naming what is wrong (a few comparisons on (B,) arrays, cheap
    beside the pooling); returns ``lo``/``hi`` as int64 arrays."""
    if not all(isinstance(t, torch.Tensor) for t in (conv, biases, out)):
        raise TypeError("conv, biases and out must be torch tensors")
    if conv.dim() != 3 or conv.dtype != torch.float32:
        raise ValueError(f"conv must be a (K, B, W) float32 tensor, got {tuple(conv.shape)} {conv.dtype}")
    k, bsz, width = conv.shape
    if biases.dim() != 2 or biases.shape[0] != k or biases.dtype != torch.float32:
        raise ValueError(f"biases must be a ({k}, F) float32 tensor, got {tuple(biases.shape)} {biases.dtype}")
    if tuple(out.shape) != (k, bsz, biases.shape[1]) or out.dtype != torch.float32:
        raise ValueError(f"out must be a ({k}, {bsz}, {biases.shape[1]}) float32 tensor, got {tuple(out.shape)} "
                         f"{out.dtype}")
    if first not in (0, 1):
        raise ValueError(f"first must be 0 or 1, got {first!r}")
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    if lo.shape != (bsz,) or hi.shape != (bsz,) or not (np.issubdtype(lo.dtype, np.integer)
                                                         and np.issubdtype(hi.dtype, np.integer)):
        raise ValueError(f"lo and hi must be ({bsz},) integer arrays, got {lo.shape} {lo.dtype} and "
                         f"{hi.shape} {hi.dtype}")
    if bsz and not ((lo >= 0).all() and (hi <= width).all() and (hi > lo).all()):
        raise ValueError(f"every window [lo, hi) must satisfy 0 <= lo < hi <= W = {width}")
    return lo.astype(np.int64, copy=False), hi.astype(np.int64, copy=False)


class PPVPool:
    """PPV pooling of a convolution output into a feature view, on ``device``.

    ``pool(conv, biases, first, lo, hi, out)``: ``conv`` (K, B, W) float32 on ``device``,
    ``biases`` (K, F), ``first`` ∈ {0, 1} (pool kernels ``first, first + 2, ...``), ``lo``/``hi``
    (B,) integer arrays (the steps ``[lo[s], hi[s])`` of series ``s``, ``0 <= lo < hi <= W``), ``out``
    a (K, B, F) float32 tensor (any strides; rows of the other half are not touched). Anything
    else raises ``TypeError``/``ValueError`` naming the argument; no series (B = 0) pools nothing.

    ``fused``: None uses the numba loop on the CPU when it imports, the torch version elsewhere;
    False forces torch (the CUDA path, also testable on the CPU). ``budget``: elements of the
    torch version's comparison buffer (kept small on the CPU so that it stays in cache).
    """

    def __init__(self, device, budget: int, fused=None):
        self.device = torch.device(device)
        self.budget = int(budget)
        on_cpu = self.device.type == "cpu"
        if fused and not (on_cpu and _fused_kernel()):
            raise ValueError("the fused PPV loop needs the CPU and numba")
        self.fused = _fused_kernel() if (on_cpu and fused is not False) else None
        self._buffer = self._sums = None

    def __call__(self, conv, biases, first: int, lo: np.ndarray, hi: np.ndarray, out: torch.Tensor) -> None:
        lo, hi = _check_call(conv, biases, first, lo, hi, out)
        if conv.shape[1] == 0:  # no series
            return
        if self.fused:
            self.fused(conv.numpy(), biases.numpy(), int(first), lo, hi, out.numpy())
        else:
            self._torch(conv[first::2], biases[first::2], lo, hi, out[first::2])

    def _torch(self, c, b, lo, hi, out) -> None:
        """c (k, B, W), b (k, F), out (k, B, F): comparisons into the buffer, sums over time."""
        k, bsz, width = c.shape
        f = b.shape[1]
        if (lo == lo[0]).all() and (hi == hi[0]).all():  # one window for every series: a slice
            c = c[:, :, int(lo[0]):int(hi[0])]
            scale = None
            inv = 1.0 / int(hi[0] - lo[0])
        else:  # a window per series: steps outside it never count
            steps = torch.arange(width, device=c.device)
            lo_t = torch.from_numpy(lo).to(c.device)
            hi_t = torch.from_numpy(hi).to(c.device)
            keep = (steps[None, :] >= lo_t[:, None]) & (steps[None, :] < hi_t[:, None])
            c = c.masked_fill(~keep[None], -math.inf)
            scale = (1.0 / (hi_t - lo_t).float())[None, :, None]
        t = c.shape[2]
        sub = max(1, min(bsz, self.budget // max(1, k * f * t)))
        if self._buffer is None or self._buffer.numel() < sub * k * f * t:
            self._buffer = torch.empty(max(sub * k * f * t, self.budget if sub < bsz else 0), device=c.device)
        if self._sums is None or self._sums.numel() < sub * k * f:
            self._sums = torch.empty(sub * k * f, device=c.device)
        bb = b[:, None, :, None]
        for s0 in range(0, bsz, sub):
            s1 = min(bsz, s0 + sub)
            buf = self._buffer[: k * (s1 - s0) * f * t].view(k, s1 - s0, f, t)
            torch.gt(c[:, s0:s1, None, :], bb, out=buf)
            part = torch.sum(buf, -1, out=self._sums[: k * (s1 - s0) * f].view(k, s1 - s0, f))
            part.mul_(inv if scale is None else scale[:, s0:s1])
            out[:, s0:s1] = part  # the strided write into the features, once
