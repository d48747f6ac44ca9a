"""Multi-branch and residual blocks shared by image and 1D-signal networks.

- :class:`InceptionModule` — GoogLeNet's module (Szegedy et al. 2014, "Going deeper with
  convolutions", Fig. 2): naive (1×1 | 3×3 | 5×5 | 3×3 max pool) or with 1×1 reductions. The 5×5
  branch is a real 5×5 convolution (torchvision uses 3×3 there) and there is no batch norm unless
  ``norm="batch"`` is asked for (torchvision always adds it).
- :class:`ResidualBlock` — the basic two-conv block of He et al. 2015 ("Deep residual learning",
  Fig. 2 left), with any number of convs and kernel sizes so that ResNet1D (Wang et al. 2017,
  kernels 8, 5, 3) shares it; shortcuts: identity, 1×1 projection ("conv", option B/C) or
  option A (parameter-free: subsample + zero channels, §4.2); ``preact=True`` is the
  pre-activation order of He et al. 2016 ("Identity mappings"); ``dropout`` between the convs is
  the wide ResNet block of Zagoruyko & Komodakis 2016.
- :class:`InceptionTimeModule` — the 1D module of InceptionTime (Ismail Fawaz et al. 2020): a
  shared linear bottleneck, parallel long convolutions without activation, a max-pool → 1×1
  branch, then one BN → ReLU over the concatenation. A different module from GoogLeNet's (one
  activation after the concatenation, no per-branch reductions), hence its own class.
- :class:`Bottleneck` — 1×1 → 3×3 → 1×1 with ``expansion`` (4); ``stride_on="3x3"`` is
  torchvision's "v1.5", ``"1x1"`` the paper's v1; ``groups``/``base_width`` give ResNeXt and wide
  variants with torchvision's width formula.

Padding: stride-1 convolutions use exact "same" padding for any kernel (asymmetric for even
kernels). Strided convolutions use the same d·(k−1) total, split left = total // 2 (symmetric
k // 2 for odd kernels, as everyone does); the output is then ⌈L / stride⌉, equal to the 1×1
stride-s projection and to option A's ``x[..., ::s]``, for odd and even kernels alike.

Shapes: (N, C, L) with ``dims=1``, (N, C, H, W) with ``dims=2``.

Masks (1D, ragged batches): :class:`ResidualBlock` and :class:`InceptionTimeModule` take an
optional ``mask`` (N, L) (True = a real step); padded steps are zeroed after every convolution
stage and never win a max pool, so a short series gives the same output alone as padded in a batch.
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .layers import (
    ConvBlock,
    SameConv,
    _check_channels,
    _check_dims,
    get_activation,
    make_conv,
    make_norm,
)

__all__ = ["InceptionModule", "InceptionTimeModule", "ResidualBlock", "BasicBlock", "Bottleneck", "SHORTCUTS",
           "zero_padded", "masked_max_pool_same"]

SHORTCUTS = (None, "auto", "identity", "conv", "projection", "A", "bn")


def zero_padded(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded steps of (N, C, L) activations (``mask`` (N, L), True = real; None: no-op)."""
    if mask is None:
        return x
    return x * mask[:, None, :].to(x.dtype)


def masked_max_pool_same(x: torch.Tensor, mask: torch.Tensor | None, kernel_size: int = 3) -> torch.Tensor:
    """Max pooling with stride 1 that keeps the length ("same") and never lets a padded step or
    the border win (they count as −∞); padded outputs are zero. (N, C, L) → (N, C, L)."""
    left = (kernel_size - 1) // 2
    right = kernel_size - 1 - left
    neg = torch.finfo(x.dtype).min
    if mask is not None:
        x = x.masked_fill(~mask[:, None, :], neg)
    y = F.max_pool1d(F.pad(x, (left, right), value=neg), kernel_size, stride=1)
    return zero_padded(y, mask)


def _conv(dims, in_channels, out_channels, kernel_size, stride=1, groups=1, bias=False) -> nn.Module:
    """Conv with ceil(L / stride) output for any kernel size (see the module docstring)."""
    if kernel_size == 1:
        return make_conv(dims, in_channels, out_channels, 1, stride=stride, groups=groups, bias=bias)
    return SameConv[dims](in_channels, out_channels, kernel_size, stride=stride, groups=groups, bias=bias)


def _check_dropout(dropout) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a float in [0, 1), got {dropout!r}")
    return float(dropout)


def _check_stride(stride) -> int:
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral):
        raise TypeError(f"stride must be an int, got {stride!r}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    return int(stride)


# ----------------------------------------------------------------------------- inception


class InceptionModule(nn.Module):
    """GoogLeNet Inception module (Szegedy et al. 2014); branches concatenated on channels.

    With reductions (default): ``1×1(ch1x1)`` | ``1×1(ch3x3red) → 3×3(ch3x3)`` |
    ``1×1(ch5x5red) → 5×5(ch5x5)`` | ``3×3 max pool (stride 1, pad 1) → 1×1(pool_proj)``, ReLU after
    every conv; ``out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj``.
    ``naive=True``: ``1×1(ch1x1)`` | ``3×3(ch3x3)`` | ``5×5(ch5x5)`` | ``3×3 max pool`` straight on
    the input (the reduction arguments are ignored and may be 0/None);
    ``out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels``.
    ``norm="batch"`` adds BN before each ReLU (not in the paper). ``dims=1`` builds the same
    module on (N, C, L). (N, C_in, H, W) → (N, out_channels, H, W).
    Inception (3a) = ``InceptionModule(192, 64, 96, 128, 16, 32, 32)``: 163,696 parameters.
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, *, dims=2,
                 naive=False, norm=None):
        super().__init__()
        dims = _check_dims(dims)
        _check_channels(in_channels, "in_channels")
        for name, val in (("ch1x1", ch1x1), ("ch3x3", ch3x3), ("ch5x5", ch5x5)):
            _check_channels(val, name)
        pool_cls = nn.MaxPool1d if dims == 1 else nn.MaxPool2d

        def block(cin, cout, k):
            return ConvBlock(cin, cout, k, dims=dims, padding=k // 2, norm=norm, activation="relu")

        self.branch1 = block(in_channels, ch1x1, 1)
        if naive:
            self.branch2 = block(in_channels, ch3x3, 3)
            self.branch3 = block(in_channels, ch5x5, 5)
            self.branch4 = pool_cls(3, stride=1, padding=1)
            self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels
        else:
            for name, val in (("ch3x3red", ch3x3red), ("ch5x5red", ch5x5red), ("pool_proj", pool_proj)):
                _check_channels(val, name)
            self.branch2 = nn.Sequential(block(in_channels, ch3x3red, 1), block(ch3x3red, ch3x3, 3))
            self.branch3 = nn.Sequential(block(in_channels, ch5x5red, 1), block(ch5x5red, ch5x5, 5))
            self.branch4 = nn.Sequential(pool_cls(3, stride=1, padding=1), block(in_channels, pool_proj, 1))
            self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.in_channels = in_channels
        self.naive = bool(naive)
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)


class InceptionTimeModule(nn.Module):
    """Inception module of InceptionTime (Ismail Fawaz et al. 2020), 1D.

    bottleneck (linear 1×1 conv to ``bottleneck_size`` channels, only when ``in_channels > 1``
    and ``use_bottleneck``) → **parallel** convolutions with ``kernel_sizes`` (default 40, 20, 10;
    exact "same" padding, even kernels included) and ``n_filters`` filters each; in parallel on
    the module's input, max-pool (3, stride 1, same) → 1×1 conv to ``n_filters``; the outputs are
    concatenated to ``(len(kernel_sizes) + 1)·n_filters`` channels → BN → ReLU. Convolutions have
    no bias (BN follows), as in the authors' code. ``forward(x, mask=None)``:
    (N, C_in, L) → (N, out_channels, L), padded steps zero.
    """

    def __init__(self, in_channels: int, n_filters: int = 32, kernel_sizes=(40, 20, 10),
                 bottleneck_size: int = 32, use_bottleneck: bool = True):
        super().__init__()
        in_channels = _check_channels(in_channels, "in_channels")
        kernel_sizes = tuple(_check_channels(k, "kernel_sizes") for k in kernel_sizes)
        if in_channels > 1 and use_bottleneck:
            self.bottleneck = make_conv(1, in_channels, bottleneck_size, 1, bias=False)
            branch_in = bottleneck_size
        else:
            self.bottleneck = None
            branch_in = in_channels
        self.branches = nn.ModuleList(
            make_conv(1, branch_in, n_filters, k, padding="same", bias=False) for k in kernel_sizes
        )
        self.pool_conv = make_conv(1, in_channels, n_filters, 1, bias=False)
        self.out_channels = n_filters * (len(kernel_sizes) + 1)
        self.bn = nn.BatchNorm1d(self.out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        z = x if self.bottleneck is None else zero_padded(self.bottleneck(x), mask)
        outs = [branch(z) for branch in self.branches]  # each (N, nf, L)
        outs.append(self.pool_conv(masked_max_pool_same(x, mask, 3)))
        return zero_padded(self.act(self.bn(torch.cat(outs, dim=1))), mask)  # (N, out_channels, L)


# ----------------------------------------------------------------------------- residual


class _Shortcut(nn.Module):
    """Option A shortcut (He et al. 2015, §4.2): ``x[..., ::s, ::s]`` and zero extra channels.
    Parameter-free. (N, C_in, *S) → (N, C_out, *ceil(S / s))."""

    def __init__(self, in_channels, out_channels, stride, dims):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"shortcut='A' needs out_channels >= in_channels, got {in_channels} → {out_channels}")
        self.extra = out_channels - in_channels
        self.stride = stride
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[..., :: self.stride] if self.dims == 1 else x[..., :: self.stride, :: self.stride]
        if self.extra:
            # F.pad pads from the last dim backwards: zeros for every spatial dim, then channels.
            x = F.pad(x, (0, 0) * self.dims + (0, self.extra))
        return x

    def extra_repr(self) -> str:
        return f"option A: stride={self.stride}, zero channels={self.extra}"


def _make_shortcut(kind, in_channels, out_channels, stride, dims, preact) -> nn.Module | None:
    """None for identity; a module otherwise."""
    if kind not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of None/'auto', 'identity', 'conv' ('projection') or 'A', got {kind!r}")
    if kind in (None, "auto"):
        kind = "identity" if (in_channels == out_channels and stride == 1) else "conv"
    if kind == "identity":
        if in_channels != out_channels or stride != 1:
            raise ValueError(f"shortcut='identity' needs in_channels == out_channels and stride == 1, got "
                             f"{in_channels} → {out_channels}, stride {stride}")
        return None
    if kind == "A":
        return _Shortcut(in_channels, out_channels, stride, dims)
    if kind == "bn":
        if in_channels != out_channels or stride != 1:
            raise ValueError(f"shortcut='bn' needs in_channels == out_channels and stride == 1, got "
                             f"{in_channels} → {out_channels}, stride {stride}")
        return make_norm("batch", dims, out_channels)  # Wang et al. 2017's Keras code: BN alone
    conv = make_conv(dims, in_channels, out_channels, 1, stride=stride, bias=False)
    if preact:
        return conv  # pre-activation: projection on the BN-ReLU'd input, no BN (He et al. 2016)
    return nn.Sequential(conv, make_norm("batch", dims, out_channels))


class ResidualBlock(nn.Module):
    """Basic residual block, 1D or 2D (He et al. 2015; pre-activation: He et al. 2016; wide with
    dropout: Zagoruyko & Komodakis 2016).

    ``kernel_sizes``: one conv per entry (``(3, 3)`` for ResNet-18/34, ``(8, 5, 3)`` for the
    ResNet1D of Wang et al. 2017). The first conv carries ``stride``.

    Post-activation (``preact=False``): [conv → BN → act] … conv → BN, + shortcut, → act.
    Pre-activation (``preact=True``): [BN → act → conv] …, + shortcut, no activation after the
    add; a projection shortcut then sees the pre-activated input and has no BN.
    ``dropout`` > 0 inserts ``nn.Dropout`` after the first conv's activation (post) or between the
    convs (pre; the WRN block BN-ReLU-conv-dropout-BN-ReLU-conv).

    ``shortcut``: ``None`` (auto: identity when shapes match, else "conv"), ``"identity"``,
    ``"conv"``/``"projection"`` (1×1 conv with stride + BN), ``"A"`` (parameter-free option A)
    or ``"bn"`` (batch norm alone, same shapes: the ResNet1D authors' code).
    ``forward(x, mask=None)``: with a (N, L) mask (1D, stride 1), padded steps are zeroed after
    every conv stage and after the output activation.
    ``expansion = 1``; ``out_channels`` attribute. ``zero_init_last()`` zeroes the last BN γ (post)
    or the last conv (pre). (N, C_in, *S) → (N, out_channels, *ceil(S / stride)).
    """

    expansion = 1

    def __init__(self, in_channels, out_channels, kernel_sizes=(3, 3), *, stride=1, dims=2, shortcut=None,
                 preact=False, dropout=0.0, activation="relu"):
        super().__init__()
        dims = _check_dims(dims)
        in_channels = _check_channels(in_channels, "in_channels")
        out_channels = _check_channels(out_channels, "out_channels")
        stride = _check_stride(stride)
        dropout = _check_dropout(dropout)
        if isinstance(kernel_sizes, numbers.Integral):
            kernel_sizes = (kernel_sizes,)
        kernel_sizes = tuple(kernel_sizes)
        if not kernel_sizes:
            raise ValueError("kernel_sizes must hold at least one kernel size")
        kernel_sizes = tuple(_check_channels(k, "kernel_sizes") for k in kernel_sizes)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.dims, self.preact = stride, dims, bool(preact)
        self.kernel_sizes = kernel_sizes

        convs, norms, acts = [], [], []
        cin = in_channels
        for i, k in enumerate(kernel_sizes):
            convs.append(_conv(dims, cin, out_channels, k, stride=stride if i == 0 else 1))
            norms.append(make_norm("batch", dims, cin if preact else out_channels))
            acts.append(get_activation(activation))
            cin = out_channels
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(norms)
        self.acts = nn.ModuleList(acts)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = _make_shortcut(shortcut, in_channels, out_channels, stride, dims, preact)
        self.out_act = nn.Identity() if preact else get_activation(activation)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None and (self.dims != 1 or self.stride != 1):
            raise ValueError("mask needs a 1D block with stride 1")
        n = len(self.convs)
        if self.preact:
            out = x
            skip = x
            for i in range(n):
                out = self.acts[i](self.norms[i](out))
                if i == 0 and self.shortcut is not None:
                    skip = self.shortcut(out)
                if i == 1:
                    out = self.dropout(out)
                out = zero_padded(self.convs[i](out), mask)
            return zero_padded(out + skip, mask)
        skip = x if self.shortcut is None else self.shortcut(x)
        out = x
        for i in range(n):
            out = self.norms[i](self.convs[i](out))
            if i < n - 1:
                out = self.acts[i](out)
                if i == 0:
                    out = self.dropout(out)
            out = zero_padded(out, mask)
        return zero_padded(self.out_act(out + skip), mask)

    def zero_init_last(self) -> None:
        """Make the residual branch start at 0 (Goyal et al. 2017): the block starts as its shortcut."""
        if self.preact:
            nn.init.zeros_(self.convs[-1].weight)
        else:
            nn.init.zeros_(self.norms[-1].weight)


BasicBlock = ResidualBlock
"""torchvision's name for the two-conv block."""


class Bottleneck(nn.Module):
    """Bottleneck residual block (He et al. 2015, Fig. 5 right): 1×1 (reduce) → 3×3 → 1×1 (expand).

    ``width`` is torchvision's ``planes``: the block outputs ``width · expansion`` channels and
    the inner convs have ``mid = int(width · base_width / 64) · groups`` channels (torchvision's
    formula: ``base_width=128`` gives wide_resnet50_2, ``groups=32, base_width=4`` ResNeXt-50 32×4d).
    ``stride_on="3x3"`` (torchvision "v1.5", default) or ``"1x1"`` (paper v1: stride in the first
    1×1). ``preact=True``: BN → ReLU → conv ordering, no ReLU after the add. Projection shortcut
    (1×1 conv stride s + BN) when the shape changes, or as ``shortcut`` says. ``zero_init_residual``
    zeroes the last BN γ at construction. (N, C_in, *S) → (N, width·expansion, *ceil(S / stride)).
    """

    expansion = 4

    def __init__(self, in_channels, width, *, stride=1, dims=2, expansion=4, stride_on="3x3", groups=1,
                 base_width=64, preact=False, shortcut=None, dropout=0.0, zero_init_residual=False,
                 activation="relu"):
        super().__init__()
        dims = _check_dims(dims)
        in_channels = _check_channels(in_channels, "in_channels")
        width = _check_channels(width, "width")
        expansion = _check_channels(expansion, "expansion")
        groups = _check_channels(groups, "groups")
        base_width = _check_channels(base_width, "base_width")
        stride = _check_stride(stride)
        dropout = _check_dropout(dropout)
        if stride_on not in ("3x3", "1x1"):
            raise ValueError(f"stride_on must be '3x3' (v1.5) or '1x1' (v1), got {stride_on!r}")
        mid = int(width * (base_width / 64.0)) * groups
        if mid < 1:
            raise ValueError(f"width={width} with base_width={base_width} leaves no inner channels")
        out_channels = width * expansion
        self.in_channels, self.width, self.mid_channels, self.out_channels = in_channels, width, mid, out_channels
        self.expansion = expansion
        self.stride, self.dims, self.preact, self.stride_on = stride, dims, bool(preact), stride_on
        s1, s3 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = make_conv(dims, in_channels, mid, 1, stride=s1, bias=False)
        self.conv2 = _conv(dims, mid, mid, 3, stride=s3, groups=groups)
        self.conv3 = make_conv(dims, mid, out_channels, 1, bias=False)
        if preact:
            self.bn1, self.bn2, self.bn3 = (make_norm("batch", dims, c) for c in (in_channels, mid, mid))
        else:
            self.bn1, self.bn2, self.bn3 = (make_norm("batch", dims, c) for c in (mid, mid, out_channels))
        self.act1, self.act2, self.act3 = (get_activation(activation) for _ in range(3))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = _make_shortcut(shortcut, in_channels, out_channels, stride, dims, preact)
        if zero_init_residual:
            self.zero_init_last()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preact:
            out = self.act1(self.bn1(x))
            skip = x if self.shortcut is None else self.shortcut(out)
            out = self.conv1(out)
            out = self.conv2(self.dropout(self.act2(self.bn2(out))))
            out = self.conv3(self.act3(self.bn3(out)))
            return out + skip
        skip = x if self.shortcut is None else self.shortcut(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.dropout(self.act2(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        return self.act3(out + skip)

    def zero_init_last(self) -> None:
        """Zero the last BN γ (post) or the last conv (pre) so the block starts as its shortcut."""
        if self.preact:
            nn.init.zeros_(self.conv3.weight)
        else:
            nn.init.zeros_(self.bn3.weight)
