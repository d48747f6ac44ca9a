"""Convolution as a matrix product: im2col, ``conv_as_matmul`` and the dense convolution matrix.

A reference implementation, written for clarity and checked against ``F.conv1d``/``F.conv2d``
(equal to 1e-5), not for speed:

* :func:`im2col` unfolds every receptive-field patch of the input into a column
  (Chellapilla, Puri & Simard, "High performance convolutional neural networks for document
  processing", 2006 — the "unfolding" trick cuDNN and Caffe popularised);
* :func:`conv_as_matmul` multiplies the reshaped filter bank ``(C_out, C_in/groups · prod(k))``
  by those columns — a convolution is one GEMM per group;
* :func:`conv_matrix` builds the dense ``(out_elements, in_elements)`` matrix (doubly block
  Toeplitz in 2D; the seed calls it "circulant") so that ``matrix @ x.flatten()`` reproduces the
  convolution of one example, as in the lecture's 3×3 input / 2×2 kernel worked example.

Like torch, "convolution" here is cross-correlation (the kernel is not flipped).
Shapes: 1D input ``(N, C, L)``, weight ``(C_out, C_in/groups, k)``; 2D input ``(N, C, H, W)``,
weight ``(C_out, C_in/groups, kh, kw)``.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from .shapes import conv_output_size, same_padding

__all__ = ["im2col", "conv_as_matmul", "conv_matrix"]


# --------------------------------------------------------------------------- helpers
def _tuple(name: str, value, n: int, minimum: int) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or a tuple of {n} ints for {n}D input, got {value!r}")
        values = tuple(value)
    else:
        values = (value,) * n
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
        if v < minimum:
            what = "positive" if minimum == 1 else f">= {minimum}"
            raise ValueError(f"{name} must be {what}, got {value!r}")
    return tuple(int(v) for v in values)


def _padding_pairs(padding, kernel: tuple[int, ...], stride, dilation: tuple[int, ...]):
    """Per-dimension ``(before, after)`` zero padding; accepts int, tuple, "valid", "same"."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in range(n))
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"padding='same' needs stride=1 (as in torch), got stride={stride!r}")
            return tuple(same_padding(k, d) for k, d in zip(kernel, dilation))
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    return tuple((p, p) for p in _tuple("padding", padding, n, 0))


def _check_input(x, name: str = "x") -> int:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in (3, 4):
        raise ValueError(
            f"{name} must be 3D (N, C, L) for a 1D convolution or 4D (N, C, H, W) for a 2D one, "
            f"got shape {tuple(x.shape)}"
        )
    return x.dim() - 2


def _windows(size: int, pad: tuple[int, int], k: int, s: int, d: int, device) -> torch.Tensor:
    """Indices into the padded axis: ``(out, k)``, row ``o`` = positions read by output ``o``."""
    padded = size + pad[0] + pad[1]
    # the symmetric-padding formula with 2·p replaced by the actual total padding
    out = (padded - d * (k - 1) - 1) // s + 1
    if out < 1:
        raise ValueError(
            f"kernel_size={k} with dilation={d} is larger than the padded input ({size} + {pad[0]} + {pad[1]})"
        )
    return torch.arange(out, device=device)[:, None] * s + torch.arange(k, device=device)[None, :] * d


# --------------------------------------------------------------------------- im2col
def im2col(x: torch.Tensor, kernel_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Unfold every patch of ``x`` into a column (the "im2col" matrix).

    Parameters
    ----------
    x : Tensor ``(N, C, L)`` or ``(N, C, H, W)``
    kernel_size, stride, dilation : int or tuple
    padding : int, tuple, ``"valid"`` or ``"same"`` (stride 1; extra zero on the right/bottom
        for even kernels, as torch does)

    Returns
    -------
    Tensor ``(N, C · k, L_out)`` in 1D, ``(N, C · kh · kw, H_out · W_out)`` in 2D.
        Rows are ordered channel-major, then kernel row, then kernel column — the same layout as
        ``weight.reshape(C_out, -1)`` and as ``F.unfold`` — and columns scan the output
        positions row by row. ``patches[n, :, j]`` is the receptive field of output position
        ``j`` of example ``n``.
    """
    dims = _check_input(x)
    kernel = _tuple("kernel_size", kernel_size, dims, 1)
    stride_t = _tuple("stride", stride, dims, 1)
    dilation_t = _tuple("dilation", dilation, dims, 1)
    pads = _padding_pairs(padding, kernel, stride_t, dilation_t)
    return _im2col(x, kernel, stride_t, pads, dilation_t)


def _im2col(x, kernel, stride, pads, dilation) -> torch.Tensor:
    """:func:`im2col` on validated per-dimension tuples; ``pads`` = ((before, after), ...)."""
    dims = len(kernel)
    flat_pad = [p for pair in reversed(pads) for p in pair]  # F.pad wants the last dimension first
    xp = F.pad(x, flat_pad) if any(flat_pad) else x
    n, c = x.shape[:2]
    idx = [_windows(x.shape[2 + i], pads[i], kernel[i], stride[i], dilation[i], x.device) for i in range(dims)]
    if dims == 1:
        (iw,) = idx  # (L_out, k)
        cols = xp[:, :, iw]  # (N, C, L_out, k)
        return cols.permute(0, 1, 3, 2).reshape(n, c * kernel[0], iw.shape[0])
    ih, iw = idx  # (H_out, kh), (W_out, kw)
    cols = xp[:, :, ih[:, :, None, None], iw[None, None, :, :]]  # (N, C, H_out, kh, W_out, kw)
    cols = cols.permute(0, 1, 3, 5, 2, 4)  # (N, C, kh, kw, H_out, W_out)
    return cols.reshape(n, c * kernel[0] * kernel[1], ih.shape[0] * iw.shape[0])


# --------------------------------------------------------------------------- conv as matmul
def conv_as_matmul(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> torch.Tensor:
    """1D/2D convolution computed as im2col followed by one matrix product per group.

    Same arguments and result as ``F.conv1d`` / ``F.conv2d`` (which it matches to 1e-5):

    * ``x``: ``(N, C_in, L)`` or ``(N, C_in, H, W)``;
    * ``weight``: ``(C_out, C_in / groups, k)`` or ``(C_out, C_in / groups, kh, kw)``;
    * ``bias``: ``(C_out,)`` or None;
    * ``padding``: int, tuple, ``"valid"`` or ``"same"``.

    Returns ``(N, C_out, L_out)`` or ``(N, C_out, H_out, W_out)``.

    The product is ``W_g @ cols_g`` with ``W_g = weight[g].reshape(C_out/groups, C_in/groups·prod(k))``
    and ``cols_g`` the group's ``(C_in/groups·prod(k), positions)`` block of :func:`im2col`.
    """
    dims = _check_input(x)
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() != dims + 2:
        raise ValueError(
            f"weight must be {dims + 2}D (C_out, C_in/groups, *kernel) for {dims}D input of shape "
            f"{tuple(x.shape)}, got shape {tuple(weight.shape)}"
        )
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    groups = int(groups)
    n, c_in = x.shape[:2]
    c_out, c_per_group = weight.shape[:2]
    if c_in % groups:
        raise ValueError(f"groups={groups} must divide the input channels (x has {c_in})")
    if c_out % groups:
        raise ValueError(f"groups={groups} must divide the output channels (weight has {c_out})")
    if c_per_group * groups != c_in:
        raise ValueError(
            f"channel mismatch: x has {c_in} channels but weight expects {c_per_group} × groups={groups} "
            f"= {c_per_group * groups}"
        )
    if bias is not None:
        if not isinstance(bias, torch.Tensor):
            raise TypeError(f"bias must be a torch.Tensor or None, got {type(bias).__name__}")
        if tuple(bias.shape) != (c_out,):
            raise ValueError(f"bias must have shape ({c_out},), got {tuple(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    stride_t = _tuple("stride", stride, dims, 1)
    dilation_t = _tuple("dilation", dilation, dims, 1)
    pads = _padding_pairs(padding, kernel, stride_t, dilation_t)
    out_sizes = [
        (x.shape[2 + i] + sum(pads[i]) - dilation_t[i] * (kernel[i] - 1) - 1) // stride_t[i] + 1
        for i in range(dims)
    ]
    cols = _im2col(x, kernel, stride_t, pads, dilation_t)  # (N, C_in·K, P)
    positions = cols.shape[-1]
    cols = cols.reshape(n, groups, c_per_group * _prod(kernel), positions)  # (N, G, C_in/G·K, P)
    w = weight.reshape(groups, c_out // groups, c_per_group * _prod(kernel))  # (G, C_out/G, C_in/G·K)
    out = torch.einsum("gok,ngkp->ngop", w, cols).reshape(n, c_out, *out_sizes)
    if bias is not None:
        out = out + bias.reshape(1, c_out, *([1] * dims))
    return out


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


# --------------------------------------------------------------------------- dense matrix
def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1) -> torch.Tensor:
    """Dense matrix ``M`` of a (small) convolution, so that ``M @ x.flatten() == conv(x).flatten()``.

    Parameters
    ----------
    weight : Tensor
        ``(C_out, C_in, kh, kw)`` (2D), ``(C_out, C_in, k)`` (1D), or a bare kernel ``(kh, kw)`` /
        ``(k,)`` meaning one input and one output channel.
    input_size : int or tuple
        Spatial size of one example: ``(H, W)`` in 2D, ``L`` (or ``(L,)``) in 1D.
    stride, padding, dilation : int or tuple (zero padding on both sides; no groups).

    Returns
    -------
    Tensor ``(C_out · H_out · W_out, C_in · H · W)`` (``(C_out · L_out, C_in · L)`` in 1D), the
    doubly block-Toeplitz matrix: row ``(o, i, j)`` holds the kernel of output channel ``o``
    placed where output position ``(i, j)`` reads the input. Zero padding shows up as kernel
    entries that fall outside the input and are dropped. The bias is not included (add it to
    ``M @ x`` per output channel). For the seed's 3×3 input and 2×2 kernel ``[[k1, k2], [k3, k4]]``
    this is the 4×9 matrix whose first row is ``k1 k2 0 k3 k4 0 0 0 0``.
    """
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() in (1, 2):
        weight = weight.reshape(1, 1, *weight.shape)
    if weight.dim() not in (3, 4):
        raise ValueError(
            "weight must be (C_out, C_in, k), (C_out, C_in, kh, kw) or a bare kernel (k,) / (kh, kw), "
            f"got shape {tuple(weight.shape)}"
        )
    dims = weight.dim() - 2
    size = _tuple("input_size", input_size, dims, 1)
    kernel = tuple(weight.shape[2:])
    stride_t = _tuple("stride", stride, dims, 1)
    padding_t = _tuple("padding", padding, dims, 0)
    dilation_t = _tuple("dilation", dilation, dims, 1)
    out_size = conv_output_size(size, kernel, stride_t, padding_t, dilation_t)
    c_out, c_in = weight.shape[:2]

    # For every (output position, kernel offset) pair along each axis: the input position read.
    axes_pos, axes_valid = [], []
    for i in range(dims):
        pos = (
            torch.arange(out_size[i])[:, None] * stride_t[i]
            - padding_t[i]
            + torch.arange(kernel[i])[None, :] * dilation_t[i]
        )  # (out_i, k_i)
        axes_pos.append(pos)
        axes_valid.append((pos >= 0) & (pos < size[i]))
    if dims == 1:
        (pos,), (valid,) = axes_pos, axes_valid
        out_idx = torch.arange(out_size[0])[:, None].expand_as(pos)  # (L_out, k)
        in_idx = pos
        k_idx = torch.arange(kernel[0])[None, :].expand_as(pos)
        out_flat, in_flat, k_sel = out_idx[valid], in_idx[valid], (k_idx[valid],)
        n_out, n_in = out_size[0], size[0]
    else:
        ph, pw = axes_pos
        vh, vw = axes_valid
        oh, kh = ph.shape
        ow, kw = pw.shape
        # broadcast to (H_out, kh, W_out, kw)
        valid = vh[:, :, None, None] & vw[None, None, :, :]
        out_idx = torch.arange(oh)[:, None, None, None] * ow + torch.arange(ow)[None, None, :, None]
        in_idx = ph[:, :, None, None] * size[1] + pw[None, None, :, :]
        ki = torch.arange(kh)[None, :, None, None]
        kj = torch.arange(kw)[None, None, None, :]
        shape = (oh, kh, ow, kw)
        out_flat = out_idx.expand(shape)[valid]
        in_flat = in_idx.expand(shape)[valid]
        k_sel = (ki.expand(shape)[valid], kj.expand(shape)[valid])
        n_out, n_in = oh * ow, size[0] * size[1]

    matrix = weight.new_zeros(c_out * n_out, c_in * n_in)
    for o in range(c_out):
        for c in range(c_in):
            values = weight[(o, c) + k_sel]  # kernel entries in (position, offset) order
            # distinct offsets of one output position read distinct inputs, so no accumulation is needed
            matrix[o * n_out + out_flat, c * n_in + in_flat] = values
    return matrix
