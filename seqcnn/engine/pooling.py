"""The pooling catalogue: max, average, LP (L2), stochastic, fractional max, global average and
global max (both with masks), masked max-over-time for padded text, and k-max pooling.

Shapes: ``(N, C, L)`` for 1D, ``(N, C, H, W)`` for 2D. Masks are boolean, ``True`` = valid.

The networks use the masked global pools and max-over-time. The rest of the catalogue
(stochastic, fractional, LP, k-max, :func:`make_pool`) is kept as the lecture's reference
implementations, like :mod:`seqcnn.engine.im2col`: written for clarity, each checked against
torch's own operation where torch has one (``tests/engine/test_pooling.py``).

Sources and deviations:
- Stochastic pooling: Zeiler & Fergus 2013, "Stochastic Pooling for Regularization of Deep
  Convolutional Neural Networks". Training: one activation per window sampled with probability
  pᵢ = aᵢ / Σa; evaluation: Σ pᵢ aᵢ. The paper assumes non-negative (post-ReLU) input; here
  negative input raises ``ValueError`` by default (``negative="clamp"`` clamps at 0 instead).
  A window of zeros pools to 0. (The negativity check reads one boolean back from the device;
  ``negative="clamp"`` avoids that synchronisation on CUDA.)
- Fractional max pooling: Graham 2014, through ``nn.FractionalMaxPool2d`` (2D only; default
  ``output_ratio=1/√2``, Graham's α = √2).
- Max-over-time: Collobert et al. 2011 / Kim 2014; windows that are entirely padding never win and
  a row without a valid window pools to exactly 0 (a deviation from plain max pooling that makes
  a sentence score the same alone and inside a padded batch).
- k-max pooling: Kalchbrenner, Grefenstette & Blunsom 2014: the k largest values in their
  original order. When fewer than k (valid) values exist, the output is right-padded with zeros.
- Global pooling uses plain reductions (``mean``/``max``), never adaptive pooling, so
  ``torch.use_deterministic_algorithms(True)`` never trips on its backward (pytorch#59783).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .layers import _check_channels, _check_dims, _tuple

__all__ = [
    "POOL_KINDS",
    "make_pool",
    "StochasticPool1d",
    "StochasticPool2d",
    "stochastic_pool",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "global_avg_pool",
    "global_max_pool",
    "masked_max_over_time",
    "max_over_time",
    "MaskedMaxOverTime",
    "conv_window_mask",
    "KMaxPool",
    "kmax_pool",
    "dynamic_k",
]

POOL_KINDS = ("max", "avg", "lp", "stochastic", "fractional_max", "global_avg", "global_max")


# ----------------------------------------------------------------------------- stochastic pooling


def _windows(x: torch.Tensor, kernel_size: tuple, stride: tuple, padding: tuple) -> torch.Tensor:
    """Zero-padded pooling windows, window elements on the last axis.
    (N, C, L) → (N, C, L_out, k); (N, C, H, W) → (N, C, H_out, W_out, kh·kw)."""
    if x.dim() == 3:
        (k,), (s,), (p,) = kernel_size, stride, padding
        if p:
            x = F.pad(x, (p, p))
        if x.shape[-1] < k:
            raise ValueError(f"kernel_size={k} is larger than the padded input length {x.shape[-1]}")
        return x.unfold(-1, k, s)  # (N, C, L_out, k)
    kh, kw = kernel_size
    sh, sw = stride
    ph, pw = padding
    if ph or pw:
        x = F.pad(x, (pw, pw, ph, ph))
    if x.shape[-2] < kh or x.shape[-1] < kw:
        raise ValueError(f"kernel_size={kernel_size} is larger than the padded input {tuple(x.shape[-2:])}")
    # strided views (F.unfold's im2col is slow on the CPU for many small maps)
    win = x.unfold(2, kh, sh).unfold(3, kw, sw)  # (N, C, H_out, W_out, kh, kw)
    return win.reshape(*win.shape[:4], kh * kw)  # (N, C, H_out, W_out, kh·kw)


def stochastic_pool(x: torch.Tensor, kernel_size, stride=None, padding=0, *, training: bool = True,
                    generator: torch.Generator | None = None, negative: str = "error") -> torch.Tensor:
    """Functional stochastic pooling (Zeiler & Fergus 2013) for (N, C, L) or (N, C, H, W) input.

    ``training=True``: in every window sample one activation with probability aᵢ / Σa (inverse-CDF
    sampling on the cumulative sum, one uniform draw per window from ``generator`` or torch's
    global RNG, so ``torch.manual_seed`` makes it reproducible); the gradient flows to the sampled
    element only. ``training=False``: the probability-weighted average Σ aᵢ² / Σ aᵢ.
    All-zero windows give 0. Zero padding (``padding``) never gets sampled.
    """
    if x.dim() not in (3, 4):
        raise ValueError(f"x must be (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
    dims = x.dim() - 2
    ks = _tuple(kernel_size, dims, "kernel_size")
    st = ks if stride is None else _tuple(stride, dims, "stride")
    pd = _tuple(padding, dims, "padding", minimum=0)
    if negative == "clamp":
        x = x.clamp_min(0)
    elif negative == "error":
        if bool((x < 0).any()):
            raise ValueError("x must be non-negative for stochastic pooling (put it after a ReLU), "
                             "or pass negative='clamp'")
    else:
        raise ValueError(f"negative must be 'error' or 'clamp', got {negative!r}")
    win = _windows(x, ks, st, pd)  # (..., K)
    if not training:
        # Σ pᵢ aᵢ = Σ aᵢ² / Σ aᵢ; clamp keeps 0/0 windows at 0 without NaN gradients.
        return (win * win).sum(-1) / win.sum(-1).clamp_min(torch.finfo(win.dtype).tiny)
    csum = win.cumsum(-1)
    total = csum[..., -1:]  # (..., 1); the same rounding as the cumulative sum it is compared with
    u = torch.rand(total.shape, generator=generator, dtype=win.dtype, device=win.device) * total
    idx = (csum <= u).sum(-1, keepdim=True)  # first i with cumsum_i > u: never a zero element
    k = win.shape[-1]
    positions = torch.arange(k, device=win.device)
    last_nonzero = ((win > 0) * positions).amax(-1, keepdim=True)  # guards u rounding up to the total
    idx = torch.minimum(idx, last_nonzero)
    return win.gather(-1, idx).squeeze(-1)


class _StochasticPoolNd(nn.Module):
    _dims = 2

    def __init__(self, kernel_size=2, stride=None, padding=0, *, generator: torch.Generator | None = None,
                 negative: str = "error"):
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._dims, "kernel_size")
        self.stride = self.kernel_size if stride is None else _tuple(stride, self._dims, "stride")
        self.padding = _tuple(padding, self._dims, "padding", minimum=0)
        if negative not in ("error", "clamp"):
            raise ValueError(f"negative must be 'error' or 'clamp', got {negative!r}")
        self.negative = negative
        self.generator = generator
        self.dilation = (1,) * self._dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != self._dims + 2:
            raise ValueError(f"{type(self).__name__} expects a {self._dims + 2}-D input, got shape {tuple(x.shape)}")
        gen = self.generator
        if gen is not None and gen.device != x.device:
            gen = None  # a CPU generator cannot drive CUDA sampling; fall back to the global RNG
        return stochastic_pool(x, self.kernel_size, self.stride, self.padding, training=self.training,
                               generator=gen, negative=self.negative)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"negative={self.negative!r}")


class StochasticPool2d(_StochasticPoolNd):
    """Stochastic pooling (Zeiler & Fergus 2013) over (N, C, H, W), see :func:`stochastic_pool`.
    ``stride`` defaults to ``kernel_size``; ``negative="error"`` (default) rejects negative input,
    ``"clamp"`` clamps it at 0. Train mode samples, eval mode takes the p-weighted average."""

    _dims = 2


class StochasticPool1d(_StochasticPoolNd):
    """Stochastic pooling over (N, C, L), see :class:`StochasticPool2d`."""

    _dims = 1


# ----------------------------------------------------------------------------- masks


def _check_mask(x: torch.Tensor, mask, name: str = "mask") -> torch.Tensor | None:
    """Validate a (N, *spatial) mask against x (N, C, *spatial) and return it as bool."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (N, L) of bools, got {type(mask).__name__}")
    expected = (x.shape[0],) + tuple(x.shape[2:])
    if tuple(mask.shape) != expected:
        raise ValueError(f"{name} must have shape {expected} (N, *spatial) to match x {tuple(x.shape)}, "
                         f"got {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        if mask.is_floating_point() or mask.is_complex():
            raise TypeError(f"{name} must be a bool (or integer 0/1) tensor, got {mask.dtype}")
        mask = mask != 0
    return mask.to(x.device)


def global_avg_pool(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over every spatial axis: (N, C, L) or (N, C, H, W) → (N, C).

    With ``mask`` (N, L) / (N, H, W), True = valid, only valid positions count; a row without a
    valid position gives 0. Plain reductions only (deterministic backward)."""
    if x.dim() < 3:
        raise ValueError(f"x must be (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
    axes = tuple(range(2, x.dim()))
    m = _check_mask(x, mask)
    if m is None:
        return x.mean(dim=axes)
    m = m.unsqueeze(1)  # (N, 1, *spatial)
    summed = x.masked_fill(~m, 0).sum(dim=axes)
    count = m.sum(dim=axes).clamp_min(1).to(x.dtype)  # (N, 1)
    return summed / count


def global_max_pool(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Max over every spatial axis: (N, C, L) or (N, C, H, W) → (N, C).

    With ``mask`` (True = valid) masked positions never win; a row without a valid position gives
    exactly 0. The gradient flows to the arg-max only (one position per row and channel)."""
    if x.dim() < 3:
        raise ValueError(f"x must be (N, C, L) or (N, C, H, W), got shape {tuple(x.shape)}")
    m = _check_mask(x, mask)
    flat = x.flatten(2)  # (N, C, S)
    if m is None:
        return flat.max(dim=-1).values
    mflat = m.flatten(1).unsqueeze(1)  # (N, 1, S)
    vals = flat.masked_fill(~mflat, float("-inf")).max(dim=-1).values  # (N, C)
    any_valid = mflat.any(dim=-1)  # (N, 1)
    return torch.where(any_valid, vals, torch.zeros((), dtype=x.dtype, device=x.device))


def masked_max_over_time(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Max-over-time pooling of conv outputs (Collobert et al. 2011; Kim 2014): (N, C, L) → (N, C).

    ``mask`` (N, L) bool marks VALID window positions (e.g. from :func:`conv_window_mask`):
    windows entirely made of padding never win, even with larger activations, and a row with no
    valid window pools to exactly 0. The gradient flows to the arg-max only."""
    if x.dim() != 3:
        raise ValueError(f"x must be (N, C, L) conv outputs, got shape {tuple(x.shape)}")
    return global_max_pool(x, mask)


def max_over_time(x: torch.Tensor) -> torch.Tensor:
    """Max-over-time of a (N, C, L) map whose masked positions already hold −inf (the text
    networks' ``forward_features``): (N, C). A channel that is −inf at every position (no valid
    window) pools to exactly 0, so ``max_over_time(x.masked_fill(~mask[:, None], -inf))`` equals
    ``masked_max_over_time(x, mask)``. The gradient flows to the arg-max only."""
    if x.dim() != 3:
        raise ValueError(f"x must be (N, C, L) conv outputs, got shape {tuple(x.shape)}")
    vals = x.max(dim=2).values
    return vals.masked_fill(torch.isneginf(vals), 0.0)


def conv_window_mask(token_mask: torch.Tensor, kernel_size: int, padding=0, stride: int = 1,
                     dilation: int = 1) -> torch.Tensor:
    """Turn a token-level mask (N, L) (True = real token) into the mask of valid conv windows
    (N, L_out) for a Conv1d with this ``kernel_size``/``padding``/``stride``/``dilation``.

    The input is zero-padded by ``padding`` positions on each side (``padding="full"`` means
    d·(k−1), Kim's w−1 zeros per side); window j covers padded positions j·s … j·s + d·(k−1) and is
    valid when any real token falls in it. L_out = ⌊(L + 2p − d(k−1) − 1)/s⌋ + 1, like the conv.
    """
    if not isinstance(token_mask, torch.Tensor):
        raise TypeError(f"token_mask must be a (N, L) torch.Tensor, got {type(token_mask).__name__}")
    if token_mask.dim() != 2:
        raise ValueError(f"token_mask must be a (N, L) tensor, got shape {tuple(token_mask.shape)}")
    (k,) = _tuple(kernel_size, 1, "kernel_size")
    (s,) = _tuple(stride, 1, "stride")
    (d,) = _tuple(dilation, 1, "dilation")
    if padding == "full":
        p = d * (k - 1)
    else:
        (p,) = _tuple(padding, 1, "padding", minimum=0)
    length = token_mask.shape[1] + 2 * p
    if length < d * (k - 1) + 1:
        raise ValueError(f"kernel_size={k} (dilation {d}) is larger than the padded length {length}")
    m = (token_mask != 0).to(torch.float32).unsqueeze(1)  # (N, 1, L)
    valid = F.max_pool1d(F.pad(m, (p, p)), k, stride=s, dilation=d)  # (N, 1, L_out)
    return valid.squeeze(1) > 0


class GlobalAvgPool(nn.Module):
    """Global average pooling over the time axis (``dims=1``: (N, C, L) → (N, C)) or the image
    (``dims=2``: (N, C, H, W) → (N, C)); ``forward(x, mask=None)`` averages over valid positions
    only (mask (N, L) or (N, H, W), True = valid). Lin et al. 2014 (NiN)."""

    def __init__(self, dims: int = 2):
        super().__init__()
        self.dims = _check_dims(dims)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != self.dims + 2:
            raise ValueError(f"x must be {self.dims + 2}-D for GlobalAvgPool(dims={self.dims}), "
                             f"got shape {tuple(x.shape)}")
        return global_avg_pool(x, mask)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class GlobalMaxPool(nn.Module):
    """Global max pooling (N, C, L) / (N, C, H, W) → (N, C); ``forward(x, mask=None)``: masked
    positions never win, a row without valid positions gives 0."""

    def __init__(self, dims: int = 2):
        super().__init__()
        self.dims = _check_dims(dims)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != self.dims + 2:
            raise ValueError(f"x must be {self.dims + 2}-D for GlobalMaxPool(dims={self.dims}), "
                             f"got shape {tuple(x.shape)}")
        return global_max_pool(x, mask)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class MaskedMaxOverTime(nn.Module):
    """Module form of :func:`masked_max_over_time`: ``forward(x (N, C, L), mask (N, L) | None)`` → (N, C)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return masked_max_over_time(x, mask)


# ----------------------------------------------------------------------------- k-max pooling


def kmax_pool(x: torch.Tensor, k: int, dim: int = -1, mask: torch.Tensor | None = None) -> torch.Tensor:
    """k-max pooling (Kalchbrenner et al. 2014): the ``k`` largest values along ``dim`` in their
    original order; (N, C, L) → (N, C, k). When the axis is shorter than ``k`` (or has fewer than
    ``k`` valid positions) the result is right-padded with zeros to length ``k``. Ties go to the
    order ``torch.topk`` returns. The gradient flows to the selected positions only.

    ``mask`` (only for (N, C, L) input pooled along the last axis): (N, L) bool, True = valid;
    padding positions are never selected ahead of valid ones and come out as 0.
    """
    k = _check_channels(k, "k")
    if x.dim() == 0:
        raise ValueError("x must have at least one axis")
    dim = dim % x.dim()
    if mask is not None:
        if x.dim() != 3 or dim != 2:
            raise ValueError("mask is supported for (N, C, L) input pooled along the last axis only")
        m = _check_mask(x, mask).unsqueeze(1).expand_as(x)  # (N, C, L)
    else:
        m = None
    length = x.shape[dim]
    if length < k:
        pad_shape = list(x.shape)
        pad_shape[dim] = k - length
        x = torch.cat([x, x.new_zeros(pad_shape)], dim=dim)
        if m is not None:
            m = torch.cat([m, m.new_zeros(pad_shape)], dim=dim)
        else:
            m = torch.ones(x.shape, dtype=torch.bool, device=x.device)
            m.narrow(dim, length, k - length).fill_(False)
        length = k
    if m is None:
        idx = x.topk(k, dim=dim, sorted=False).indices
        idx = idx.sort(dim=dim).values
        return x.gather(dim, idx)
    scores = x.masked_fill(~m, float("-inf"))
    idx = scores.topk(k, dim=dim, sorted=False).indices
    chosen_valid = m.gather(dim, idx)
    # valid picks first in their original order, then the invalid ones (which become 0)
    key = idx + (~chosen_valid).long() * length
    order = key.argsort(dim=dim)
    idx = idx.gather(dim, order)
    keep = chosen_valid.gather(dim, order)
    out = x.gather(dim, idx)
    return torch.where(keep, out, torch.zeros((), dtype=x.dtype, device=x.device))


def dynamic_k(layer: int, num_layers: int, length: int, k_top: int) -> int:
    """Dynamic k of Kalchbrenner et al. 2014 (eq. 4): k_l = max(k_top, ⌈(L − l) / L · s⌉) for
    conv layer ``layer`` = l (1-based) of ``num_layers`` = L on a sentence of ``length`` = s."""
    for name, val in (("layer", layer), ("num_layers", num_layers), ("length", length), ("k_top", k_top)):
        _check_channels(val, name)
    if layer > num_layers:
        raise ValueError(f"layer must be <= num_layers={num_layers}, got {layer}")
    return max(k_top, math.ceil((num_layers - layer) / num_layers * length))


class KMaxPool(nn.Module):
    """k-max pooling (Kalchbrenner et al. 2014): keeps the ``k`` largest values along ``dim`` in
    their original order, (N, C, L) → (N, C, k). Shorter inputs are right-padded with zeros.
    ``forward(x, mask=None)``, mask (N, L) True = valid (see :func:`kmax_pool`)."""

    def __init__(self, k: int, dim: int = -1):
        super().__init__()
        self.k = _check_channels(k, "k")
        self.dim = dim

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return kmax_pool(x, self.k, self.dim, mask)

    def extra_repr(self) -> str:
        return f"k={self.k}, dim={self.dim}"


# ----------------------------------------------------------------------------- factory


def make_pool(kind: str, dims: int = 2, kernel_size=2, stride=None, padding=0, **kwargs) -> nn.Module:
    """Build a pooling layer by name.

    ``kind``: ``"max"`` (``nn.MaxPool1d/2d``), ``"avg"`` (``nn.AvgPool1d/2d``), ``"lp"``
    (``nn.LPPool1d/2d`` with ``norm_type=2`` unless given; no padding), ``"stochastic"``
    (:class:`StochasticPool1d/2d`), ``"fractional_max"`` (``nn.FractionalMaxPool2d``, 2D only,
    ``output_ratio`` default 1/√2, or ``output_size``), ``"global_avg"`` / ``"global_max"``
    (:class:`GlobalAvgPool` / :class:`GlobalMaxPool`, kernel arguments ignored).
    Extra keyword arguments go to the torch class (e.g. ``ceil_mode``, ``count_include_pad``).
    """
    if not isinstance(kind, str) or kind not in POOL_KINDS:
        raise ValueError(f"kind={kind!r} is not a known pooling; choose one of {', '.join(POOL_KINDS)}")
    dims = _check_dims(dims)
    if kind == "global_avg":
        return GlobalAvgPool(dims)
    if kind == "global_max":
        return GlobalMaxPool(dims)
    ks = _tuple(kernel_size, dims, "kernel_size")
    st = ks if stride is None else _tuple(stride, dims, "stride")
    pd = _tuple(padding, dims, "padding", minimum=0)
    k1 = ks if dims == 2 else ks[0]
    s1 = st if dims == 2 else st[0]
    p1 = pd if dims == 2 else pd[0]
    if kind == "max":
        return (nn.MaxPool1d if dims == 1 else nn.MaxPool2d)(k1, s1, p1, **kwargs)
    if kind == "avg":
        return (nn.AvgPool1d if dims == 1 else nn.AvgPool2d)(k1, s1, p1, **kwargs)
    if kind == "lp":
        if any(pd):
            raise ValueError(f"padding must be 0 for LP pooling (torch's LPPool has none), got {padding!r}")
        norm_type = kwargs.pop("norm_type", 2)
        return (nn.LPPool1d if dims == 1 else nn.LPPool2d)(norm_type, k1, s1, **kwargs)
    if kind == "stochastic":
        return (StochasticPool1d if dims == 1 else StochasticPool2d)(ks, st, pd, **kwargs)
    # fractional_max
    if dims != 2:
        raise ValueError("dims must be 2 for kind='fractional_max' (torch has no 1D fractional max pooling)")
    if stride is not None or any(pd):
        raise ValueError("stride and padding are not used by fractional max pooling; leave stride=None, padding=0")
    if "output_size" not in kwargs and "output_ratio" not in kwargs:
        kwargs["output_ratio"] = 1 / math.sqrt(2)
    return nn.FractionalMaxPool2d(ks, **kwargs)
