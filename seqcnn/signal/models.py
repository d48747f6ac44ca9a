"""Time-series CNNs: FCN and ResNet1D (Wang, Yan & Oates 2017) and InceptionTime
(Ismail Fawaz et al. 2020), assembled from the engine's 1D blocks.

Every network takes ``x`` (N, C, L) and an optional ``mask`` (N, L) (True = a real time step;
``None`` = every step is real) and returns logits (N, K). They follow the registry's outer
interface (:mod:`seqcnn.engine.registry`; names ``fcn``, ``resnet1d``, ``inception``,
``inceptiontime``, modality ``"signal"``):

- ``forward_features(x, mask)`` → (N, F, L): the activations of the last convolutional layer
  at the input's length, padded steps zero (``cam_layer`` names that layer, for hooks);
  ``feature_maps`` is the same method under the name :func:`class_activation_map` uses;
- ``forward_head(maps, pre_logits=False, mask=None)`` → global average pooling over the valid
  steps (N, F), then logits (N, K) through ``head`` (an ``nn.Linear``);
- ``forward(x, mask)`` = ``forward_head(forward_features(x, mask), False, mask)``.

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
  The residual block is the engine's :class:`~seqcnn.engine.blocks.ResidualBlock` (``dims=1``,
  masked); artifacts saved with the earlier signal-only block load through
  :meth:`ResNet1D.upgrade_state_dict`.
- InceptionTime's kernel sizes default to 40/20/10 as in the authors' code (``kernel_size=41``
  minus one, halved twice); even kernels are fine with exact "same" padding. The module is the
  engine's :class:`~seqcnn.engine.blocks.InceptionTimeModule`: its bottleneck is a linear 1×1
  convolution to 32 channels, used only when a module's input has more than one channel (so the
  first module of a univariate network has none).
- Weights use Glorot-uniform initialisation (Keras' default, which the reference results used)
  with zero biases; batch norm keeps PyTorch's defaults.
- During training, batch-norm statistics of a ragged batch include the zeroed padded steps.
"""
from __future__ import annotations

import re
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seqcnn.engine.blocks import InceptionTimeModule, ResidualBlock, masked_max_pool_same, zero_padded
from seqcnn.engine.layers import ConvBlock, GlobalAvgPool, global_avg_pool, init_weights, make_conv
from seqcnn.engine.registry import create_model, register_model

__all__ = [
    "FCN",
    "ResNet1D",
    "InceptionModule1D",
    "InceptionNet",
    "InceptionTime",
    "build_model",
    "ARCHS",
    "REGISTRY_NAMES",
    "masked_mean",
    "masked_max_pool_same",
]

ARCHS = ("fcn", "resnet", "inception", "inceptiontime")
# SignalCNNClassifier(arch=...) → registry name
REGISTRY_NAMES = {"fcn": "fcn", "resnet": "resnet1d", "inception": "inception", "inceptiontime": "inceptiontime"}
InceptionModule1D = InceptionTimeModule  # the name this module exported before the engine held the block
_apply_mask = zero_padded


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Global average pooling over the valid steps: (N, C, L) → (N, C). A row without any valid
    step pools to 0. Plain reductions (deterministic on GPU)."""
    return global_avg_pool(x, mask)


class _SignalNet(nn.Module):
    """Shared outer interface (see the module docstring). Subclasses implement ``_body(x, mask)``
    returning the last conv activations (N, F, L) and end their ``__init__`` with ``_finish``."""

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

    def _finish(self, num_features: int, cam_layer: str) -> None:
        """The head every signal network ends with: ``num_features`` → a linear classifier, the
        CAM layer's name, Xavier-initialised weights."""
        self.num_features = num_features
        self.head = nn.Linear(num_features, self.num_classes)
        self.cam_layer = cam_layer
        init_weights(self, "xavier", "linear")

    def _body(self, x, mask):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_features(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Last conv activations (N, F, L) at the input's length (masked steps are zero)."""
        x, mask, length = self._prepare(x, mask)
        return _apply_mask(self._body(x, mask), mask)[:, :, :length]

    feature_maps = forward_features

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False, mask: torch.Tensor | None = None):
        """Feature maps (N, F, L) → masked global average pooling (N, F) → logits (N, K)."""
        if mask is not None:
            mask = mask.to(device=x.device, dtype=torch.bool)
        features = self.gap(x, mask)  # (N, F)
        return features if pre_logits else self.head(features)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(N, C, L), mask (N, L) | None → logits (N, K)."""
        return self.forward_head(self.forward_features(x, mask), False, mask)


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
        self._finish(filters[-1], f"blocks.{len(self.blocks) - 1}")

    def _body(self, x, mask):
        for block in self.blocks:
            x = _apply_mask(block(x), mask)  # (N, F_i, L)
        return x


# --------------------------------------------------------------------------------- ResNet


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
        self.blocks = nn.ModuleList(
            ResidualBlock(chans[i], chans[i + 1], tuple(kernel_sizes), dims=1,
                          shortcut="bn" if chans[i] == chans[i + 1] else "conv")
            for i in range(len(filters)))
        self._finish(filters[-1], f"blocks.{len(self.blocks) - 1}")

    def _body(self, x, mask):
        for block in self.blocks:
            x = block(x, mask)  # (N, F_i, L)
        return x

    @staticmethod
    def upgrade_state_dict(tensors: dict) -> dict:
        """Rename the keys of the signal-only residual block (``blocks.b.convs.i.conv.*``,
        ``blocks.b.convs.i.norm.*``) to the engine block's (``blocks.b.convs.i.*``,
        ``blocks.b.norms.i.*``); other keys are unchanged. Called before loading an artifact."""
        out = {}
        for key, value in tensors.items():
            m = _OLD_RESNET_KEY.match(key)
            if m:
                block, i, kind, rest = m.groups()
                key = f"blocks.{block}.{'convs' if kind == 'conv' else 'norms'}.{i}.{rest}"
            out[key] = value
        return out


_OLD_RESNET_KEY = re.compile(r"^blocks\.(\d+)\.convs\.(\d+)\.(conv|norm)\.(.+)$")


# --------------------------------------------------------------------------- InceptionTime


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
            m = InceptionTimeModule(c, n_filters, kernel_sizes, bottleneck_size)
            modules.append(m)
            c = m.out_channels
            if use_residual and d % residual_every == residual_every - 1:
                shortcuts[str(d)] = _Shortcut(res_c, c)
                res_c = c
        self.inceptions = nn.ModuleList(modules)
        self.shortcuts = nn.ModuleDict(shortcuts)
        last = depth - 1
        self._finish(c, f"shortcuts.{last}" if str(last) in shortcuts else f"inceptions.{last}")

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

    ``forward_features`` concatenates the members' feature maps (N, Σ F_m, L); ``forward_head``
    splits them back, pools and classifies per member (``pre_logits=True``: the concatenated
    pooled features). The estimator trains each member on its own (own initialisation, own
    shuffling and best epoch, :class:`~seqcnn.engine.ensemble.CNNEnsemble`'s seed rule), as the
    paper does; this module only assembles them.
    """

    def __init__(self, in_channels: int, num_classes: int, n_members: int = 5, **kwargs):
        super().__init__()
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 1:
            raise ValueError(f"n_members must be an int >= 1, got {n_members!r}")
        self.members = nn.ModuleList(InceptionNet(in_channels, num_classes, **kwargs) for _ in range(n_members))
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.num_features = sum(m.num_features for m in self.members)

    def forward_features(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Concatenated member feature maps (N, Σ F_m, L)."""
        return torch.cat([m.forward_features(x, mask) for m in self.members], dim=1)

    feature_maps = forward_features

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False, mask: torch.Tensor | None = None):
        parts = x.split([m.num_features for m in self.members], dim=1)
        if pre_logits:
            return torch.cat([m.forward_head(p, True, mask) for m, p in zip(self.members, parts)], dim=1)
        probs = torch.stack([torch.softmax(m.forward_head(p, False, mask), dim=1)
                             for m, p in zip(self.members, parts)]).mean(0)
        return torch.log(probs.clamp_min(1e-12))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.forward_head(self.forward_features(x, mask), False, mask)


# ------------------------------------------------------------------------------- registry


def _widths(n_filters, default: tuple, pattern) -> tuple:
    if n_filters is None:
        return default
    if isinstance(n_filters, (tuple, list)):
        return tuple(n_filters)
    return pattern(n_filters)


def _deepen(values: tuple, depth) -> tuple:
    """``values`` cut or extended (last value repeated) to ``depth`` entries."""
    if depth is None or depth == len(values):
        return values
    return tuple(values[min(i, len(values) - 1)] for i in range(depth))


@register_model(modality="signal")
def fcn(in_channels: int = 1, num_classes: int = 2, *, n_filters=None, depth=None, kernel_sizes=None,
        min_length: int = 4) -> FCN:
    """FCN (Wang, Yan & Oates 2017). ``n_filters``: an int ``w`` gives ``(w, 2w, w)`` (paper:
    128), a tuple the widths exactly; ``depth`` blocks (3); ``kernel_sizes`` (8, 5, 3)."""
    filters = _widths(n_filters, (128, 256, 128), lambda w: (w, 2 * w, w))
    kernels = tuple(kernel_sizes) if kernel_sizes is not None else (8, 5, 3)
    if depth is not None and depth != len(filters):
        filters, kernels = _deepen(filters, depth), _deepen(kernels, depth)
    return FCN(in_channels, num_classes, filters, kernels, min_length=min_length)


@register_model(modality="signal")
def resnet1d(in_channels: int = 1, num_classes: int = 2, *, n_filters=None, depth=None, kernel_sizes=None,
             min_length: int = 4) -> ResNet1D:
    """ResNet1D (Wang, Yan & Oates 2017). ``n_filters``: an int ``w`` gives ``(w/2, w, w)``
    (paper: 128), a tuple the widths exactly; ``depth`` blocks (3); ``kernel_sizes`` per block
    (8, 5, 3)."""
    filters = _deepen(_widths(n_filters, (64, 128, 128), lambda w: (max(1, w // 2), w, w)), depth)
    kernels = tuple(kernel_sizes) if kernel_sizes is not None else (8, 5, 3)
    return ResNet1D(in_channels, num_classes, filters, kernels, min_length=min_length)


def _inception_kwargs(n_filters, depth, kernel_sizes, min_length) -> dict:
    return dict(n_filters=32 if n_filters is None else int(n_filters), depth=6 if depth is None else depth,
                kernel_sizes=tuple(kernel_sizes) if kernel_sizes is not None else (40, 20, 10),
                min_length=min_length)


@register_model(modality="signal")
def inception(in_channels: int = 1, num_classes: int = 2, *, n_filters=None, depth=None, kernel_sizes=None,
              min_length: int = 4) -> InceptionNet:
    """One InceptionTime network (Ismail Fawaz et al. 2020): ``n_filters`` per branch (32),
    ``depth`` modules (6), ``kernel_sizes`` (40, 20, 10)."""
    return InceptionNet(in_channels, num_classes, **_inception_kwargs(n_filters, depth, kernel_sizes, min_length))


@register_model(modality="signal")
def inceptiontime(in_channels: int = 1, num_classes: int = 2, *, n_filters=None, depth=None,
                  kernel_sizes=None, n_members: int = 5, min_length: int = 4) -> InceptionTime:
    """InceptionTime (Ismail Fawaz et al. 2020): ``n_members`` (5) :func:`inception` networks
    with averaged probabilities."""
    return InceptionTime(in_channels, num_classes, n_members=n_members,
                         **_inception_kwargs(n_filters, depth, kernel_sizes, min_length))


def build_model(arch: str, in_channels: int, num_classes: int, *, n_filters=None, depth=None,
                n_members: int = 5, kernel_sizes=None, min_length: int = 4) -> nn.Module:
    """Build a network by its ``SignalCNNClassifier`` name (``arch`` in :data:`ARCHS`) through
    the model registry; see the builders :func:`fcn`, :func:`resnet1d`, :func:`inception` and
    :func:`inceptiontime` for the meaning of the sizes."""
    if arch not in REGISTRY_NAMES:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    kw = dict(n_filters=n_filters, depth=depth, kernel_sizes=kernel_sizes, min_length=min_length)
    if arch == "inceptiontime":
        kw["n_members"] = n_members
    return create_model(REGISTRY_NAMES[arch], in_channels=in_channels, num_classes=num_classes, **kw)
