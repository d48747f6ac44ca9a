"""Residual networks on the engine's blocks (``seqcnn.engine.layers.ResidualBlock`` / ``Bottleneck``).

* ImageNet ResNet-18/34/50/101/152 (He, Zhang, Ren & Sun 2016, "Deep residual learning for image
  recognition", Table 1): 7×7/2 stem + 3×3/2 max pool, four stages, global average pooling, FC.
  ``variant="v1.5"`` (default, torchvision's) puts the bottleneck stride on the 3×3 conv;
  ``variant="v1"`` puts it on the first 1×1 as in the paper (same parameters, fewer MACs:
  3.8 G instead of 4.1 G for ResNet-50). Projection shortcuts (option B: 1×1 conv + BN) where
  the shape changes, as in torchvision, so parameter counts equal torchvision's.
* CIFAR ResNet-20/32/44/56/110 (same paper, §4.2): 3×3 stem with 16 maps, three stages of
  ``n = (depth − 2) / 6`` basic blocks with 16-32-64 maps, option A (parameter-free
  zero-padding) shortcuts, GAP, FC (ResNet-20: 269,722 parameters at 10 classes).
* Pre-activation ResNet-18/34/50 (He, Zhang, Ren & Sun 2016, "Identity mappings in deep
  residual networks"): BN → ReLU → conv blocks, one final BN → ReLU before pooling;
  ``stem="imagenet"`` (default, 7×7/2 + max pool) or ``stem="cifar"`` (3×3/1, no pool).
* Wide ResNet-50-2 (Zagoruyko & Komodakis 2016, torchvision's ImageNet form: bottleneck inner
  width doubled, ``base_width=128``): 68,883,240 parameters.
* WRN-28-10 (Zagoruyko & Komodakis 2016, CIFAR): pre-activation basic blocks, widths
  16·k/32·k/64·k with k = 10, 4 blocks per stage, dropout between the convs (``dropout=0.3``
  in the paper's best runs; default 0.0 = off), 1×1 projection shortcuts without BN.

Kaiming (fan-out) initialisation for every ReLU conv; ``zero_init_residual=True`` zeroes the
last BN γ (last conv for pre-activation blocks) of each residual branch (Goyal et al. 2017).
"""
from __future__ import annotations

import torch.nn as nn

from seqcnn.engine.layers import Bottleneck, ConvBlock, ResidualBlock
from vision.models._common import GAPModel, to_hw
from vision.registry import register_model

__all__ = ["ResNet", "CifarResNet", "WideResNet", "RESNET_DEPTHS"]

# depth → (block kind, blocks per stage), He et al. 2016 Table 1
RESNET_DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def _check_variant(variant):
    if variant not in ("v1.5", "v1"):
        raise ValueError(f"variant must be 'v1.5' (stride on the 3x3) or 'v1' (stride on the first 1x1), got {variant!r}")
    return "3x3" if variant == "v1.5" else "1x1"


class ResNet(GAPModel):
    """ImageNet-style ResNet (He et al. 2016). ``block`` "basic" or "bottleneck"; ``layers`` the
    blocks per stage; ``preact`` for the pre-activation order; ``stem`` "imagenet" | "cifar";
    ``base_width``/``groups`` for wide / grouped bottlenecks; ``width`` scales the stage widths
    (64-128-256-512 at 1.0; smaller values are for tests and tiny data)."""

    def __init__(self, block, layers, num_classes=1000, in_channels=3, input_size=None, *, arch="resnet",
                 variant="v1.5", preact=False, stem="imagenet", base_width=64, groups=1, width=1.0,
                 dropout=0.0, zero_init_residual=False):
        super().__init__()
        stride_on = _check_variant(variant)
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        if not (isinstance(width, (int, float)) and width > 0):
            raise ValueError(f"width must be a positive number, got {width!r}")
        self.arch, self.variant, self.preact = arch, variant, preact
        self.num_classes, self.in_channels = num_classes, in_channels
        self.imagenet_stem = stem == "imagenet"
        self.input_size = to_hw(input_size, 224 if self.imagenet_stem else 32)
        planes = [max(1, int(round(p * width))) for p in (64, 128, 256, 512)]
        c0 = planes[0]
        if stem == "imagenet":
            # conv1 7×7/2 → BN → ReLU → 3×3/2 max pool: 224 → 112 → 56
            self.stem = nn.Sequential(ConvBlock(in_channels, c0, 7, stride=2, padding=3),
                                      nn.MaxPool2d(3, stride=2, padding=1))
        elif preact:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, c0, 3, padding=1, bias=False))
        else:
            self.stem = nn.Sequential(ConvBlock(in_channels, c0, 3, padding=1))
        stages = []
        cin = c0
        for i, (p, n) in enumerate(zip(planes, layers)):
            blocks = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                if block == "basic":
                    blk = ResidualBlock(cin, p, (3, 3), stride=stride, preact=preact)
                else:
                    blk = Bottleneck(cin, p, stride=stride, stride_on=stride_on, groups=groups,
                                     base_width=base_width, preact=preact)
                blocks.append(blk)
                cin = blk.out_channels
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        # pre-activation nets end with BN → ReLU (the last block's output is not activated)
        self.final_act = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True)) if preact else nn.Identity()
        self._finish(cin, num_classes, dropout, zero_init_residual=zero_init_residual)

    def _trace_steps(self):
        return [("stem", self.stem), ("layer1", self.layer1), ("layer2", self.layer2),
                ("layer3", self.layer3), ("layer4", self.layer4)]

    def forward_features(self, x):
        x = self.stem(x)        # (N, 64, H/4, W/4) for the ImageNet stem
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)      # (N, 512·expansion, H/32, W/32)
        return self.final_act(x)


class CifarResNet(GAPModel):
    """CIFAR ResNet (He et al. 2016 §4.2): 6n + 2 layers, 16-32-64 maps, option-A shortcuts
    (``shortcut="conv"`` for option B). ``width`` multiplies 16-32-64."""

    def __init__(self, depth, num_classes=10, in_channels=3, input_size=None, *, shortcut="A", width=1.0,
                 zero_init_residual=False):
        super().__init__()
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 (20, 32, 44, 56, 110, ...), got {depth}")
        n = (depth - 2) // 6
        self.arch = f"resnet{depth}"
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size = to_hw(input_size, 32)
        widths = [max(1, int(round(c * width))) for c in (16, 32, 64)]
        layers = [("stem", ConvBlock(in_channels, widths[0], 3, padding=1))]
        cin = widths[0]
        for i, c in enumerate(widths):
            blocks = [ResidualBlock(cin if j == 0 else c, c, (3, 3), stride=2 if (i > 0 and j == 0) else 1,
                                    shortcut=shortcut if (j == 0 and i > 0) else None)
                      for j in range(n)]
            layers.append((f"stage{i + 1}", nn.Sequential(*blocks)))
            cin = c
        self.features = nn.Sequential()
        for name, mod in layers:
            self.features.add_module(name, mod)
        self._finish(cin, num_classes, zero_init_residual=zero_init_residual)


class WideResNet(GAPModel):
    """CIFAR Wide ResNet WRN-d-k (Zagoruyko & Komodakis 2016): pre-activation basic blocks with
    16k-32k-64k maps, (d − 4) / 6 blocks per stage, dropout between the convs, final BN → ReLU.
    ``width`` scales the stage widths further (for tests and tiny data)."""

    def __init__(self, depth=28, widen_factor=10, num_classes=10, in_channels=3, input_size=None, *,
                 dropout=0.0, width=1.0):
        super().__init__()
        if (depth - 4) % 6:
            raise ValueError(f"depth must be 6n + 4 (16, 22, 28, 40, ...), got {depth}")
        n = (depth - 4) // 6
        self.arch = f"wrn{depth}_{widen_factor}"
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size = to_hw(input_size, 32)
        if not (isinstance(width, (int, float)) and width > 0):
            raise ValueError(f"width must be a positive number, got {width!r}")
        widths = [max(1, int(round(c * widen_factor * width))) for c in (16, 32, 64)]
        self.features = nn.Sequential()
        self.features.add_module("stem", nn.Conv2d(in_channels, 16, 3, padding=1, bias=False))
        cin = 16
        for i, c in enumerate(widths):
            blocks = [ResidualBlock(cin if j == 0 else c, c, (3, 3), stride=2 if (i > 0 and j == 0) else 1,
                                    preact=True, dropout=dropout) for j in range(n)]
            self.features.add_module(f"stage{i + 1}", nn.Sequential(*blocks))
            cin = c
        self.features.add_module("final_act", nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True)))
        self._finish(cin, num_classes)


def _resnet(depth, arch, num_classes, in_channels, input_size, **kw):
    block, layers = RESNET_DEPTHS[depth]
    return ResNet(block, layers, num_classes, in_channels, input_size, arch=arch, **kw)


@register_model
def resnet18(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ResNet-18 (He et al. 2016, Table 1): 11,689,512 parameters; 1.8 G MACs at 224."""
    return _resnet(18, "resnet18", num_classes, in_channels, input_size, **kw)


@register_model
def resnet34(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ResNet-34 (He et al. 2016, Table 1): 21,797,672 parameters; 3.6 G MACs at 224."""
    return _resnet(34, "resnet34", num_classes, in_channels, input_size, **kw)


@register_model
def resnet50(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ResNet-50 (He et al. 2016): 25,557,032 parameters; ``variant="v1.5"`` (default, stride
    on the 3×3, ≈4.1 G MACs) or ``"v1"`` (paper, stride on the first 1×1, 3.8 G MACs)."""
    return _resnet(50, "resnet50", num_classes, in_channels, input_size, **kw)


@register_model
def resnet101(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ResNet-101 (He et al. 2016): 44,549,160 parameters; v1 7.6 G MACs, v1.5 ≈7.8 G."""
    return _resnet(101, "resnet101", num_classes, in_channels, input_size, **kw)


@register_model
def resnet152(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ResNet-152 (He et al. 2016): 60,192,808 parameters; v1 11.3 G MACs, v1.5 ≈11.5 G."""
    return _resnet(152, "resnet152", num_classes, in_channels, input_size, **kw)


def _cifar(depth, num_classes, in_channels, input_size, **kw):
    return CifarResNet(depth, num_classes, in_channels, input_size, **kw)


@register_model
def resnet20(num_classes=10, in_channels=3, input_size=None, **kw):
    """CIFAR ResNet-20 (He et al. 2016 §4.2, n = 3, option A): 269,722 parameters at 10 classes."""
    return _cifar(20, num_classes, in_channels, input_size, **kw)


@register_model
def resnet32(num_classes=10, in_channels=3, input_size=None, **kw):
    """CIFAR ResNet-32 (He et al. 2016 §4.2, n = 5, option A): 464,154 parameters at 10 classes."""
    return _cifar(32, num_classes, in_channels, input_size, **kw)


@register_model
def resnet44(num_classes=10, in_channels=3, input_size=None, **kw):
    """CIFAR ResNet-44 (He et al. 2016 §4.2, n = 7, option A): 658,586 parameters at 10 classes."""
    return _cifar(44, num_classes, in_channels, input_size, **kw)


@register_model
def resnet56(num_classes=10, in_channels=3, input_size=None, **kw):
    """CIFAR ResNet-56 (He et al. 2016 §4.2, n = 9, option A): 853,018 parameters at 10 classes."""
    return _cifar(56, num_classes, in_channels, input_size, **kw)


@register_model
def resnet110(num_classes=10, in_channels=3, input_size=None, **kw):
    """CIFAR ResNet-110 (He et al. 2016 §4.2, n = 18, option A): 1,727,962 parameters at 10 classes."""
    return _cifar(110, num_classes, in_channels, input_size, **kw)


@register_model
def preact_resnet18(num_classes=1000, in_channels=3, input_size=None, **kw):
    """Pre-activation ResNet-18 (He et al. 2016, "Identity mappings"); ``stem="cifar"`` for 32 px."""
    return _resnet(18, "preact_resnet18", num_classes, in_channels, input_size, preact=True, **kw)


@register_model
def preact_resnet34(num_classes=1000, in_channels=3, input_size=None, **kw):
    """Pre-activation ResNet-34 (He et al. 2016, "Identity mappings")."""
    return _resnet(34, "preact_resnet34", num_classes, in_channels, input_size, preact=True, **kw)


@register_model
def preact_resnet50(num_classes=1000, in_channels=3, input_size=None, **kw):
    """Pre-activation ResNet-50 (He et al. 2016, "Identity mappings"), bottleneck blocks."""
    return _resnet(50, "preact_resnet50", num_classes, in_channels, input_size, preact=True, **kw)


@register_model
def wide_resnet50_2(num_classes=1000, in_channels=3, input_size=None, **kw):
    """Wide ResNet-50-2 (Zagoruyko & Komodakis 2016; torchvision's ImageNet form: the bottleneck's
    inner 3×3 is twice as wide, outer widths unchanged): 68,883,240 parameters."""
    return _resnet(50, "wide_resnet50_2", num_classes, in_channels, input_size, base_width=128, **kw)


@register_model
def wrn28_10(num_classes=10, in_channels=3, input_size=None, **kw):
    """WRN-28-10 (Zagoruyko & Komodakis 2016) for 32×32 inputs; ``dropout`` between the convs
    of each block (0.3 in the paper's dropout runs; default 0 = off)."""
    return WideResNet(28, 10, num_classes, in_channels, input_size, **kw)
