"""Time-series CNNs: FCN and ResNet1D (Wang, Yan & Oates 2017) and InceptionTime
(Ismail Fawaz et al. 2020), assembled from the engine's 1D blocks.

Every network takes ``x`` (N, C, L) and an optional ``mask`` (N, L) (True = a real time step;
``None`` = every step is real) and returns logits (N, K). They share one outer interface:

- ``feature_maps(x, mask)`` → (N, F, L): the activations of the last convolutional layer
  (``cam_layer`` names that layer, for hooks); used by :func:`class_activation_map`;
- ``forward_features(x, mask)`` → (N, F): global average pooling over the valid steps;
- ``forward_head(features)`` → logits (N, K) through ``head`` (an ``nn.Linear``);
- ``forward(x, mask)`` = ``forward_head(forward_features(x, mask))``.

Masking. Every convolution uses the engine's exact "same" padding (``make_conv(...,
padding="same")``), so no layer shortens the series and any length >= 1 works. Padded steps
are set to zero before every convolution and ignored by the max-pool branch and by global
average pooling, so in evaluation mode a series gets the same output alone as in a batch padded
to a longer series (the zero padding a short series sees past its end is exactly the "same"
padding it would see alone). Series shorter than ``min_length`` are padded (masked) to it, so
batch norm never sees a single value per channel.

Deviations from the papers (all named here):

- FCN / ResNet1D follow the authors' Keras code (hfawaz/dl-4-tsc): the ResNet shortcut is a 1×1
  convolution + BN when the channel count changes and BN alone when it does not (third block).
  The engine's ``ResidualBlock`` takes no mask, so the residual block here is assembled from
  :class:`~seqcnn.engine.layers.ConvBlock` with masking between its convolutions.
- InceptionTime's kernel sizes default to 40/20/10 as in the authors' code (``kernel_size=41``
  minus one, halved twice); even kernels are fine with exact "same" padding. The bottleneck is a
  linear 1×1 convolution to 32 channels, used only when a module's input has more than one
  channel (so the first module of a univariate network has none). Convolutions inside the
  module have no bias (BN follows), as in the authors' code.
- Weights use Glorot-uniform initialisation (Keras' default, which the reference results used)
  with zero biases; batch norm keeps PyTorch's defaults.
- During training, batch-norm statistics of a ragged batch include the zeroed padded steps.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.engine.layers import ConvBlock, GlobalAvgPool, global_avg_pool, init_weights, make_conv

__all__ = [
    "FCN",
    "ResNet1D",
    "InceptionModule1D",
    "InceptionNet",
    "InceptionTime",
    "build_model",
    "ARCHS",
    "masked_mean",
]

ARCHS = ("fcn", "resnet", "inception", "inceptiontime")


def _apply_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero the padded steps of (N, C, L) activations."""
    if mask is None:
        return x
    return x * mask[:, None, :].to(x.dtype)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Global average pooling over the valid steps: (N, C, L) → (N, C). A row without any valid
    step pools to 0. Plain reductions (deterministic on GPU)."""
    return global_avg_pool(x, mask)


class _SignalNet(nn.Module):
    """Shared outer interface (see the module docstring). Subclasses implement ``_body(x, mask)``
    returning the last conv activations (N, F, L) and set ``self.head``, ``self.num_features``."""

    cam_layer: str = ""

    def __init__(self, in_channels: int, num_classes: int, min_length: int = 4):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("num_classes", num_classes), ("min_length", min_length)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.min_length = min_length
        self.gap = GlobalAvgPool(dims=1)  # the engine's masked global average pooling

    def _prepare(self, x: torch.Tensor, mask: torch.Tensor | None):
        if x.dim() == 2:  # (N, L) -> (N, 1, L)
            x = x.unsqueeze(1)
        if x.dim() != 3:
            raise ValueError(f"x must be (N, C, L) or (N, L), got shape {tuple(x.shape)}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x has {x.shape[1]} channels, the network expects {self.in_channels}")
        n, _, length = x.shape
        if length < 1:
            raise ValueError("x has length 0")
        if mask is not None:
            mask = mask.to(device=x.device, dtype=torch.bool)
            if mask.shape != (n, length):
                raise ValueError(f"mask must be (N, L) = {(n, length)}, got {tuple(mask.shape)}")
        if length < self.min_length:
            extra = self.min_length - length
            if mask is None:
                mask = torch.ones(n, length, dtype=torch.bool, device=x.device)
            x = F.pad(x, (0, extra))
            mask = F.pad(mask, (0, extra), value=False)
        return _apply_mask(x, mask), mask, length

    def _body(self, x, mask):  # pragma: no cover - abstract
        raise NotImplementedError

    def feature_maps(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Last conv activations (N, F, L) at the input's length (masked steps are zero)."""
        x, mask, length = self._prepare(x, mask)
        return _apply_mask(self._body(x, mask), mask)[:, :, :length]

    def forward_features(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Pre-logit features (N, F): masked global average pooling of :meth:`feature_maps`."""
        x, mask, _ = self._prepare(x, mask)
        return self.gap(self._body(x, mask), mask)  # (N, F)

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return features if pre_logits else self.head(features)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(N, C, L), mask (N, L) | None → logits (N, K)."""
        return self.forward_head(self.forward_features(x, mask))


# ------------------------------------------------------------------------------------ FCN


def _check_pair(filters: Sequence[int], kernels: Sequence[int], name: str):
    filters, kernels = tuple(filters), tuple(kernels)
    if len(filters) != len(kernels) or not filters:
        raise ValueError(f"{name}: filters {filters} and kernel_sizes {kernels} must have the same non-zero length")
    return filters, kernels


class FCN(_SignalNet):
    """Fully convolutional network (Wang, Yan & Oates 2017): three conv → BN → ReLU blocks with
    128, 256, 128 filters and kernels 8, 5, 3 ("same" padding, stride 1), global average pooling
    over the valid steps, a linear classifier. (N, C, L) → (N, K)."""

    cam_layer = "blocks.2"

    def __init__(self, in_channels: int, num_classes: int, filters: Sequence[int] = (128, 256, 128),
                 kernel_sizes: Sequence[int] = (8, 5, 3), min_length: int = 4):
        super().__init__(in_channels, num_classes, min_length)
        filters, kernel_sizes = _check_pair(filters, kernel_sizes, "FCN")
        chans = (in_channels, *filters)
        self.blocks = nn.ModuleList(
            ConvBlock(chans[i], chans[i + 1], k, dims=1, padding="same") for i, k in enumerate(kernel_sizes)
        )
        self.num_features = filters[-1]
        self.head = nn.Linear(self.num_features, num_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"
        init_weights(self, "xavier", "linear")

    def _body(self, x, mask):
        for block in self.blocks:
            x = _apply_mask(block(x), mask)  # (N, F_i, L)
        return x


# --------------------------------------------------------------------------------- ResNet


class ResidualBlock1D(nn.Module):
    """Residual block of ResNet1D (Wang et al. 2017): conv(k₁)-BN-ReLU → conv(k₂)-BN-ReLU →
    conv(k₃)-BN, plus a shortcut (1×1 conv + BN when channels change, BN alone otherwise, as in
    the authors' code), then ReLU. Padded steps are zeroed before each convolution."""

    def __init__(self, in_channels: int, out_channels: int, kernel_sizes: Sequence[int] = (8, 5, 3)):
        super().__init__()
        kernel_sizes = tuple(kernel_sizes)
        if len(kernel_sizes) < 1:
            raise ValueError("kernel_sizes must hold at least one kernel size")
        convs = []
        c = in_channels
        for i, k in enumerate(kernel_sizes):
            last = i == len(kernel_sizes) - 1
            convs.append(ConvBlock(c, out_channels, k, dims=1, padding="same",
                                   activation=None if last else "relu"))
            c = out_channels
        self.convs = nn.ModuleList(convs)
        if in_channels != out_channels:
            self.shortcut = nn.Sequential(make_conv(1, in_channels, out_channels, 1, bias=False),
                                          nn.BatchNorm1d(out_channels))
        else:
            self.shortcut = nn.BatchNorm1d(out_channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        y = x
        for conv in self.convs:
            y = _apply_mask(conv(y), mask)
        return _apply_mask(self.act(y + self.shortcut(x)), mask)


class ResNet1D(_SignalNet):
    """ResNet for time series (Wang, Yan & Oates 2017): three residual blocks with 64, 128, 128
    filters, each three convolutions with kernels 8, 5, 3, BN and ReLU; global average pooling
    over the valid steps; a linear classifier. (N, C, L) → (N, K)."""

    def __init__(self, in_channels: int, num_classes: int, filters: Sequence[int] = (64, 128, 128),
                 kernel_sizes: Sequence[int] = (8, 5, 3), min_length: int = 4):
        super().__init__(in_channels, num_classes, min_length)
        filters = tuple(filters)
        if not filters:
            raise ValueError("ResNet1D: filters must not be empty")
        chans = (in_channels, *filters)
        self.blocks = nn.ModuleList(ResidualBlock1D(chans[i], chans[i + 1], kernel_sizes)
                                    for i in range(len(filters)))
        self.num_features = filters[-1]
        self.head = nn.Linear(self.num_features, num_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"
        init_weights(self, "xavier", "linear")

    def _body(self, x, mask):
        for block in self.blocks:
            x = block(x, mask)  # (N, F_i, L)
        return x


# --------------------------------------------------------------------------- InceptionTime


def masked_max_pool_same(x: torch.Tensor, mask: torch.Tensor | None, kernel_size: int = 3) -> torch.Tensor:
    """Max pooling with stride 1 that keeps the length ("same") and never lets a padded step or
    the border win (they count as −∞); padded outputs are zero. (N, C, L) → (N, C, L)."""
    left = (kernel_size - 1) // 2
    right = kernel_size - 1 - left
    neg = torch.finfo(x.dtype).min
    if mask is not None:
        x = x.masked_fill(~mask[:, None, :], neg)
    y = F.max_pool1d(F.pad(x, (left, right), value=neg), kernel_size, stride=1)
    return _apply_mask(y, mask)


class InceptionModule1D(nn.Module):
    """Inception module of InceptionTime (Ismail Fawaz et al. 2020).

    bottleneck (linear 1×1 conv to ``bottleneck_size`` channels, only when ``in_channels > 1``)
    → three **parallel** convolutions with ``kernel_sizes`` (default 40, 20, 10; exact "same"
    padding) and ``n_filters`` filters each; in parallel on the module's input, max-pool (3,
    stride 1, same) → 1×1 conv to ``n_filters``; the four outputs are concatenated to
    ``4·n_filters`` channels → BN → ReLU. (N, C_in, L) → (N, 4·n_filters, L).
    """

    def __init__(self, in_channels: int, n_filters: int = 32, kernel_sizes: Sequence[int] = (40, 20, 10),
                 bottleneck_size: int = 32, use_bottleneck: bool = True):
        super().__init__()
        kernel_sizes = tuple(kernel_sizes)
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
        z = x if self.bottleneck is None else _apply_mask(self.bottleneck(x), mask)
        outs = [branch(z) for branch in self.branches]  # each (N, nf, L)
        outs.append(self.pool_conv(masked_max_pool_same(x, mask, 3)))
        return _apply_mask(self.act(self.bn(torch.cat(outs, dim=1))), mask)  # (N, 4·nf, L)


class _Shortcut(nn.Module):
    """InceptionTime's residual connection: 1×1 conv + BN on the block's input, added to the
    block's output, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = make_conv(1, in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm1d(out_channels)
        self.act = nn.ReLU()

    def forward(self, residual, out, mask):
        return _apply_mask(self.act(out + self.bn(self.conv(residual))), mask)


class InceptionNet(_SignalNet):
    """One InceptionTime network (Ismail Fawaz et al. 2020): ``depth`` Inception modules (6),
    a residual connection every ``residual_every`` (3) modules, global average pooling over the
    valid steps and a linear classifier. (N, C, L) → (N, K). ``arch="inception"``."""

    def __init__(self, in_channels: int, num_classes: int, n_filters: int = 32, depth: int = 6,
                 kernel_sizes: Sequence[int] = (40, 20, 10), bottleneck_size: int = 32,
                 use_residual: bool = True, residual_every: int = 3, min_length: int = 4):
        super().__init__(in_channels, num_classes, min_length)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be an int >= 1, got {depth!r}")
        self.depth = depth
        self.residual_every = residual_every
        self.use_residual = use_residual
        modules, shortcuts = [], {}
        c = res_c = in_channels
        for d in range(depth):
            m = InceptionModule1D(c, n_filters, kernel_sizes, bottleneck_size)
            modules.append(m)
            c = m.out_channels
            if use_residual and d % residual_every == residual_every - 1:
                shortcuts[str(d)] = _Shortcut(res_c, c)
                res_c = c
        self.inceptions = nn.ModuleList(modules)
        self.shortcuts = nn.ModuleDict(shortcuts)
        self.num_features = c
        self.head = nn.Linear(c, num_classes)
        last = depth - 1
        self.cam_layer = f"shortcuts.{last}" if str(last) in shortcuts else f"inceptions.{last}"
        init_weights(self, "xavier", "linear")

    def _body(self, x, mask):
        residual = x
        for d, module in enumerate(self.inceptions):
            x = module(x, mask)  # (N, 4·nf, L)
            key = str(d)
            if key in self.shortcuts:
                x = self.shortcuts[key](residual, x, mask)
                residual = x
        return x


class InceptionTime(nn.Module):
    """The InceptionTime ensemble (Ismail Fawaz et al. 2020): ``n_members`` (5) independently
    initialised and trained :class:`InceptionNet` networks whose class probabilities are
    averaged. ``forward`` returns ``log(mean_m softmax(logits_m))`` so that a softmax of the
    output is the averaged probability. (N, C, L) → (N, K).

    The estimator trains each member on its own (own initialisation, own shuffling and best
    epoch), as the paper does; this module only assembles them.
    """

    def __init__(self, in_channels: int, num_classes: int, n_members: int = 5, **kwargs):
        super().__init__()
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1:
            raise ValueError(f"n_members must be an int >= 1, got {n_members!r}")
        self.members = nn.ModuleList(InceptionNet(in_channels, num_classes, **kwargs) for _ in range(n_members))
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.num_features = sum(m.num_features for m in self.members)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        probs = torch.stack([torch.softmax(m(x, mask), dim=1) for m in self.members]).mean(0)
        return torch.log(probs.clamp_min(1e-12))

    def forward_features(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenated pre-logit features of the members (N, Σ F_m)."""
        return torch.cat([m.forward_features(x, mask) for m in self.members], dim=1)

    def feature_maps(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.cat([m.feature_maps(x, mask) for m in self.members], dim=1)


def build_model(arch: str, in_channels: int, num_classes: int, *, n_filters=None, depth=None,
                n_members: int = 5, kernel_sizes=None, min_length: int = 4) -> nn.Module:
    """Build a network by name. ``n_filters`` scales the widths: for FCN/ResNet an int ``w``
    gives the papers' pattern relative to 128 (FCN ``(w, 2w, w)``, ResNet ``(w/2, w, w)``) or a
    tuple gives them exactly; for Inception it is filters per branch (32). ``depth`` is the
    number of Inception modules (6) or of FCN/ResNet blocks (3)."""
    if arch == "fcn":
        filters = (128, 256, 128)
        if n_filters is not None:
            filters = tuple(n_filters) if isinstance(n_filters, (tuple, list)) else (n_filters, 2 * n_filters, n_filters)
        kernels = tuple(kernel_sizes) if kernel_sizes is not None else (8, 5, 3)
        if depth is not None and depth != len(filters):
            filters = tuple(filters[min(i, len(filters) - 1)] for i in range(depth))
            kernels = tuple(kernels[min(i, len(kernels) - 1)] for i in range(depth))
        return FCN(in_channels, num_classes, filters, kernels, min_length=min_length)
    if arch == "resnet":
        filters = (64, 128, 128)
        if n_filters is not None:
            filters = (tuple(n_filters) if isinstance(n_filters, (tuple, list))
                       else (max(1, n_filters // 2), n_filters, n_filters))
        if depth is not None and depth != len(filters):
            filters = tuple(filters[min(i, len(filters) - 1)] for i in range(depth))
        kernels = tuple(kernel_sizes) if kernel_sizes is not None else (8, 5, 3)
        return ResNet1D(in_channels, num_classes, filters, kernels, min_length=min_length)
    if arch in ("inception", "inceptiontime"):
        kw = dict(n_filters=32 if n_filters is None else int(n_filters), depth=6 if depth is None else depth,
                  kernel_sizes=tuple(kernel_sizes) if kernel_sizes is not None else (40, 20, 10),
                  min_length=min_length)
        if arch == "inception":
            return InceptionNet(in_channels, num_classes, **kw)
        return InceptionTime(in_channels, num_classes, n_members=n_members, **kw)
    raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
