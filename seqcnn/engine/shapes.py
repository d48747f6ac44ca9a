"""Convolution and pooling arithmetic: output sizes, parameter counts, "same" padding and
receptive fields.

Pure functions on Python integers (no torch state), so they can be used to plan an
architecture before building it. The formulas are the ones torch implements:

* output size (Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016;
  torch ``nn.Conv*d`` / ``nn.MaxPool*d`` docs)::

      out = floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1

  with ``ceil_mode=True`` (pooling only) the division rounds up, and — as in torch — a last
  window that would start inside the right padding is dropped;
* parameters of a convolution: ``out_channels · (in_channels / groups) · prod(kernel) (+ out_channels bias)``;
* receptive field of a chain of layers (Araujo et al., "Computing receptive fields of
  convolutional neural networks", Distill 2019)::

      RF = 1 + Σᵢ (kᵢ − 1) · dᵢ · Πⱼ<ᵢ sⱼ,   jump = Πᵢ sᵢ

Every function validates its arguments: a bool or a non-integer size is a ``TypeError``, a
negative/zero size, a zero stride or a kernel larger than the padded input is a ``ValueError``;
the message names the argument.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

__all__ = [
    "conv_output_size",
    "conv_params",
    "same_padding",
    "receptive_field",
    "receptive_field_step",
]


# --------------------------------------------------------------------------- validation
def _check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    value = int(value)
    if value < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value}")
    return value


def _is_seq(value) -> bool:
    return isinstance(value, (tuple, list))


def _broadcast(named: dict, n: int | None = None) -> tuple[int, dict]:
    """Broadcast ints / tuples of the same length to ``n`` per-dimension values.

    Returns ``(n, {name: tuple})``; tuples of different lengths raise ``ValueError``."""
    lengths = {name: len(v) for name, v in named.items() if _is_seq(v)}
    if n is None:
        n = max(lengths.values()) if lengths else 1
    for name, length in lengths.items():
        if length != n:
            raise ValueError(
                f"{name} has {length} dimensions but the other arguments have {n}: "
                + ", ".join(f"{k}={v!r}" for k, v in named.items())
            )
        if length == 0:
            raise ValueError(f"{name} must not be an empty sequence")
    return n, {name: tuple(v) if _is_seq(v) else (v,) * n for name, v in named.items()}


# --------------------------------------------------------------------------- output size
def conv_output_size(
    size,
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
    *,
    strict: bool = False,
    ceil_mode: bool = False,
):
    """Spatial output size of a convolution or pooling layer, exactly as torch computes it.

    ``out = floor((size + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1``

    Parameters
    ----------
    size, kernel_size, stride, padding, dilation : int or tuple of int
        Input length ``L`` (or ``(H, W)``), filter size, step, zero padding added on *each*
        side and dilation. If any of them is a tuple the result is a tuple (one entry per
        spatial dimension); plain ints are broadcast.
    strict : bool, default False
        Raise ``ValueError`` when the filter does not tile the padded input exactly, i.e. when
        ``(size + 2·padding − effective_kernel)`` is not a multiple of ``stride`` (the seed's
        "7×7 input, 3×3 filter, stride 3 → 2.33" case) and torch would silently drop the last
        rows/columns.
    ceil_mode : bool, default False
        Pooling's ``ceil_mode``: round the division up; as in torch, a last window that would
        start in the right padding is dropped.

    Returns
    -------
    int or tuple of int

    Raises
    ------
    ValueError
        when the output would be smaller than 1 (kernel larger than the padded input), for
        non-positive sizes/kernels/strides/dilations, negative padding, or with ``strict=True``
        when the filter does not tile exactly.
    TypeError
        for non-integer (or bool) arguments.

    Examples
    --------
    >>> conv_output_size(32, 5, padding=2)
    32
    >>> conv_output_size(227, 11, stride=4)
    55
    >>> conv_output_size((7, 7), 3, stride=2)
    (3, 3)
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {type(strict).__name__}")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be a bool, got {type(ceil_mode).__name__}")
    args = {
        "size": size,
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    if any(_is_seq(v) for v in args.values()):
        n, per_dim = _broadcast(args)
        return tuple(
            _conv_output_size_1d(*(per_dim[k][i] for k in args), strict=strict, ceil_mode=ceil_mode, dim=i)
            for i in range(n)
        )
    return _conv_output_size_1d(size, kernel_size, stride, padding, dilation, strict=strict, ceil_mode=ceil_mode)


def _conv_output_size_1d(size, kernel_size, stride, padding, dilation, *, strict, ceil_mode, dim=None) -> int:
    where = "" if dim is None else f" (dimension {dim})"
    size = _check_int("size" + where, size, 1)
    kernel_size = _check_int("kernel_size" + where, kernel_size, 1)
    stride = _check_int("stride" + where, stride, 1)
    padding = _check_int("padding" + where, padding, 0)
    dilation = _check_int("dilation" + where, dilation, 1)
    effective = dilation * (kernel_size - 1) + 1
    span = size + 2 * padding - effective
    if ceil_mode:
        # torch's pooling_output_shape: round up, then drop a last window starting in the right padding
        out = (span + stride - 1) // stride + 1
        if out >= 1 and (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = span // stride + 1
    if out < 1:
        raise ValueError(
            f"kernel_size={kernel_size} (effective {effective} with dilation={dilation}) is larger than "
            f"the padded input: size={size} + 2·padding={2 * padding} = {size + 2 * padding}{where}; "
            "the output would be smaller than 1"
        )
    if strict and span % stride != 0:
        raise ValueError(
            f"stride={stride} does not tile the input exactly{where}: (size + 2·padding − effective kernel) "
            f"= ({size} + {2 * padding} − {effective}) = {span} is not a multiple of {stride} "
            f"({span}/{stride} + 1 = {span / stride + 1:.2f}); change padding or stride, or pass strict=False"
        )
    return out


# --------------------------------------------------------------------------- parameters
def conv_params(in_channels, out_channels, kernel_size, *, bias: bool = True, groups=1) -> int:
    """Number of learnable parameters of a ``Conv1d``/``Conv2d``/``Conv3d`` layer.

    ``out_channels · (in_channels / groups) · prod(kernel_size) + (out_channels if bias)``

    ``kernel_size`` is an int (1D) or a tuple (``(kh, kw)``). ``groups`` must divide both
    channel counts.

    >>> conv_params(3, 10, (5, 5))     # the seed's 10 filters of 5×5×3: (75 + 1) · 10
    760
    >>> conv_params(3, 10, 5)          # 1D: 10 filters of width 5 over 3 channels
    160
    """
    in_channels = _check_int("in_channels", in_channels, 1)
    out_channels = _check_int("out_channels", out_channels, 1)
    groups = _check_int("groups", groups, 1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    if in_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels}")
    if out_channels % groups:
        raise ValueError(f"groups={groups} must divide out_channels={out_channels}")
    if _is_seq(kernel_size):
        if len(kernel_size) == 0:
            raise ValueError("kernel_size must not be an empty sequence")
        kernel = [_check_int(f"kernel_size[{i}]", k, 1) for i, k in enumerate(kernel_size)]
    else:
        kernel = [_check_int("kernel_size", kernel_size, 1)]
    weights = out_channels * (in_channels // groups) * math.prod(kernel)
    return weights + (out_channels if bias else 0)


# --------------------------------------------------------------------------- same padding
def same_padding(kernel_size, dilation=1):
    """Zero padding ``(left, right)`` that keeps the length at stride 1, for ANY kernel size.

    The total padding is ``dilation · (kernel_size − 1)``; ``left = total // 2`` and
    ``right = total − left``, so when the total is odd (even kernel, odd dilation) the extra
    zero goes on the **right** — the same convention as torch's ``padding="same"`` and
    TensorFlow's ``"SAME"``. Use it with ``F.pad(x, (left, right))`` (1D) before a convolution
    with ``padding=0``.

    With tuples (``(kh, kw)``) the result is a tuple of ``(left, right)`` pairs, one per
    dimension in the same order (note that ``F.pad`` wants the *last* dimension first).

    >>> same_padding(3)
    (1, 1)
    >>> same_padding(4)
    (1, 2)
    >>> same_padding(2, dilation=3)
    (1, 2)
    """
    if _is_seq(kernel_size) or _is_seq(dilation):
        n, per_dim = _broadcast({"kernel_size": kernel_size, "dilation": dilation})
        return tuple(same_padding(per_dim["kernel_size"][i], per_dim["dilation"][i]) for i in range(n))
    kernel_size = _check_int("kernel_size", kernel_size, 1)
    dilation = _check_int("dilation", dilation, 1)
    total = dilation * (kernel_size - 1)
    left = total // 2
    return left, total - left


# --------------------------------------------------------------------------- receptive field
def receptive_field_step(rf: int, jump: int, kernel_size, stride=1, dilation=1) -> tuple[int, int]:
    """One layer of the receptive-field recursion.

    ``rf_out = rf_in + (kernel_size − 1) · dilation · jump_in`` and ``jump_out = jump_in · stride``,
    where ``jump`` is the distance, in input positions, between two adjacent units of the
    layer's input. Padding does not change the receptive field (only where it sits).
    """
    rf = _check_int("rf", rf, 1)
    jump = _check_int("jump", jump, 1)
    kernel_size = _check_int("kernel_size", kernel_size, 1)
    stride = _check_int("stride", stride, 1)
    dilation = _check_int("dilation", dilation, 1)
    return rf + (kernel_size - 1) * dilation * jump, jump * stride


def _parse_layer(i: int, layer) -> tuple[int, int, int]:
    if isinstance(layer, numbers.Integral) and not isinstance(layer, bool):
        return int(layer), 1, 1
    if isinstance(layer, dict):
        unknown = set(layer) - {"kernel_size", "stride", "dilation"}
        if unknown or "kernel_size" not in layer:
            raise ValueError(
                f"layers[{i}] must have the keys kernel_size (and optionally stride, dilation), got {sorted(layer)}"
            )
        return layer["kernel_size"], layer.get("stride", 1), layer.get("dilation", 1)
    if _is_seq(layer) and 1 <= len(layer) <= 3:
        k, s, d = (tuple(layer) + (1, 1))[:3]
        return k, s, d
    raise TypeError(
        f"layers[{i}] must be an int kernel size, a (kernel_size, stride[, dilation]) tuple or a dict, got {layer!r}"
    )


def receptive_field(layers: Iterable, *, return_jump: bool = False):
    """Receptive field, in input positions, of one unit at the end of a chain of layers.

    ``RF = 1 + Σᵢ (kᵢ − 1) · dᵢ · Πⱼ<ᵢ sⱼ``

    Parameters
    ----------
    layers : iterable
        One entry per conv/pool layer along ONE spatial dimension, input first: an int
        (kernel size, stride 1, dilation 1), a tuple ``(kernel_size, stride)`` or
        ``(kernel_size, stride, dilation)``, or a dict with those keys. Pointwise layers
        (activations, batch norm, 1×1 convs) may be left out (they add 0). For 2D networks call
        it once per dimension.
    return_jump : bool
        Also return the jump (product of the strides: distance in input positions between two
        adjacent output units).

    Returns
    -------
    int, or ``(rf, jump)`` with ``return_jump=True``.

    >>> receptive_field([3, 3, 3])                       # three stacked 3×3 convs (VGG)
    7
    >>> receptive_field([(2, 1, 1), (2, 1, 2), (2, 1, 4)])   # WaveNet-style dilations 1, 2, 4
    8
    >>> receptive_field([(11, 4), (3, 2)], return_jump=True)  # AlexNet conv1 + pool1
    (19, 8)
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (Iterable, Sequence)):
        raise TypeError(f"layers must be an iterable of layers, got {type(layers).__name__}")
    rf, jump = 1, 1
    for i, layer in enumerate(layers):
        k, s, d = _parse_layer(i, layer)
        try:
            rf, jump = receptive_field_step(rf, jump, k, s, d)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"layers[{i}]: {exc}") from None
    return (rf, jump) if return_jump else rf
