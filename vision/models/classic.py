"""The classic fully connected-head networks: LeNet-5, AlexNet, ZFNet and VGG (A to E).

Each head is sized by tracing the input size through the convolutional trunk, so a changed
``input_size`` changes the first FC layer instead of being hidden by adaptive pooling, and a
too-small input fails at construction naming the layer where the spatial size reaches 0.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from vision.models._common import ImageModel, kaiming_init, make_lrn, to_hw, trace_shapes
from vision.registry import register_model

__all__ = ["LeNet5", "AlexNet", "VGG", "VGG_CFGS", "lenet5", "alexnet", "zfnet",
           "vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19"]


class _FCHeadModel(ImageModel):
    """Trunk ``self.features`` → flatten → ``self.pre_logits`` (hidden FC layers) → ``self.fc``."""

    def _build_head(self, hidden: list[int], num_classes: int, dropout: float, activation):
        shapes = trace_shapes([("features", self.features)], self.in_channels, self.input_size,
                              model_name=self.arch)
        self.feature_shape = shapes[-1][1][1:]  # (C, H, W) after the trunk
        flat = math.prod(self.feature_shape)
        layers: list[nn.Module] = []
        width = flat
        for h in hidden:
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers += [nn.Linear(width, h), activation()]
            width = h
        self.pre_logits = nn.Sequential(*layers)
        self.fc = nn.Linear(width, num_classes)
        self.num_features = width
        self.num_classes = num_classes

    def forward_features(self, x):
        return self.features(x)  # (N, C, H, W)

    def forward_head(self, x, pre_logits: bool = False):
        x = self.pre_logits(torch.flatten(x, 1))  # (N, num_features)
        return x if pre_logits else self.fc(x)


# ----------------------------------------------------------------------------- LeNet-5
class LeNet5(_FCHeadModel):
    """LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998, "Gradient-based learning applied to
    document recognition"): C1 6@5×5 → S2 → C3 16@5×5 → S4 → C5 120@5×5 → F6 84 → output.

    32×32 inputs as in the paper (61,706 parameters at 1 channel, 10 classes).
    Deviations, named: C3 is fully connected to S2 (the paper's sparse connection table is
    dropped, as in most modern reproductions); S2/S4 are plain 2×2 average (or max) pooling
    without the trainable coefficient and bias; the output is a linear layer instead of the
    Euclidean RBF units; ``activation="tanh"`` (the paper's scaled tanh without the 1.7159 factor)
    or ``"relu"``. Inputs smaller than 32 px (e.g. 28×28 MNIST) are zero-padded inside C1 to
    reach 32, as LeCun padded MNIST digits to 32×32.
    """

    arch = "lenet5"

    def __init__(self, num_classes=10, in_channels=1, input_size=None, *, activation="tanh",
                 pool="avg"):
        super().__init__()
        acts = {"tanh": nn.Tanh, "relu": nn.ReLU}
        pools = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
        if activation not in acts:
            raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
        if pool not in pools:
            raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size = to_hw(input_size, 32)
        pad = max(0, math.ceil((32 - min(self.input_size)) / 2))
        act, pl = acts[activation], pools[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad), act(), pl(2, 2),  # C1, S2: 28×28×6 → 14×14×6
            nn.Conv2d(6, 16, 5), act(), pl(2, 2),                         # C3, S4: 10×10×16 → 5×5×16
            nn.Conv2d(16, 120, 5), act(),                                 # C5: 1×1×120
        )
        self._build_head([84], num_classes, 0.0, act)                     # F6 84
        if activation == "relu":
            kaiming_init(self)
        else:
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)
        self._post_init_checks()


@register_model
def lenet5(num_classes=10, in_channels=1, input_size=None, **kw):
    """LeNet-5 (LeCun et al., 1998), 32×32 inputs, full C3 connections: 61,706 parameters."""
    return LeNet5(num_classes, in_channels, input_size, **kw)


# ----------------------------------------------------------------------------- AlexNet / ZFNet
class AlexNet(_FCHeadModel):
    """AlexNet (Krizhevsky, Sutskever & Hinton, 2012) as a single tower, as in the seed's table:

        [227×227×3] → CONV1 96@11×11/4 → [55×55×96] → POOL1 3×3/2 → NORM1 → [27×27×96]
        → CONV2 256@5×5 pad 2 → POOL2 3×3/2 → NORM2 → [13×13×256] → CONV3 384@3×3 → CONV4 384
        → CONV5 256 → POOL3 3×3/2 → [6×6×256] → FC6 4096 → FC7 4096 → FC8 (62,378,344 params).

    ``groups=2`` restores the paper's two-GPU connectivity (CONV2, CONV4, CONV5 see only their
    own tower's maps). ``lrn=False`` drops the response normalisation. The seed's order
    pool → norm is kept (the paper normalises before pooling; output shapes are equal).
    Also ZFNet via ``stem="zf"``: 7×7/2 first layer (see :func:`zfnet`).
    Deviation from torchvision: torchvision's "alexnet" uses 64-192-384-256-256 maps and
    11×11/4 pad 2 on 224 inputs (One weird trick, 2014); this is the 2012 network.
    """

    arch = "alexnet"
    imagenet_stem = True

    def __init__(self, num_classes=1000, in_channels=3, input_size=None, *, groups=1, lrn=True,
                 dropout=0.5, widths=(96, 256, 384, 384, 256), stem="alexnet", fc_width=4096):
        super().__init__()
        if groups not in (1, 2):
            raise ValueError(f"groups must be 1 or 2, got {groups!r}")
        if len(widths) != 5:
            raise ValueError(f"widths must list 5 conv widths, got {widths!r}")
        self.num_classes, self.in_channels = num_classes, in_channels
        c1, c2, c3, c4, c5 = widths
        norm = (lambda: make_lrn()) if lrn else (lambda: nn.Identity())
        if stem == "alexnet":
            self.input_size = to_hw(input_size, 227)
            layers = [
                nn.Conv2d(in_channels, c1, 11, stride=4), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2), norm(),
                nn.Conv2d(c1, c2, 5, padding=2, groups=groups), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2), norm(),
            ]
        elif stem == "zf":  # Zeiler & Fergus 2013, Fig. 3: 224 → 110 → 55 → 26 → 13
            self.arch = "zfnet"
            self.input_size = to_hw(input_size, 224)
            layers = [
                nn.Conv2d(in_channels, c1, 7, stride=2, padding=1), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, ceil_mode=True), norm(),
                nn.Conv2d(c1, c2, 5, stride=2, groups=groups), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, ceil_mode=True), norm(),
            ]
        else:
            raise ValueError(f"stem must be 'alexnet' or 'zf', got {stem!r}")
        layers += [
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1, groups=groups), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        ]
        self.features = nn.Sequential(*layers)
        self._build_head([fc_width, fc_width], num_classes, dropout, lambda: nn.ReLU(inplace=True))
        kaiming_init(self)
        self._post_init_checks()


@register_model
def alexnet(num_classes=1000, in_channels=3, input_size=None, **kw):
    """AlexNet (Krizhevsky et al., 2012), single tower as in the seed's layer table, 227×227
    inputs, LRN after conv1 and conv2 (``lrn=False`` drops it), ``groups=2`` optional:
    62,378,344 parameters at 1000 classes; conv1 output 55×55×96 with 34,944 parameters."""
    return AlexNet(num_classes, in_channels, input_size, **kw)


@register_model
def zfnet(num_classes=1000, in_channels=3, input_size=None, **kw):
    """ZFNet (Zeiler & Fergus, 2013, Fig. 3): AlexNet with a 7×7/2 first layer and a 5×5/2
    second layer on 224×224 inputs (110 → 55 → 26 → 13 → 6 maps), contrast normalisation after
    layers 1 and 2. The seed's wider variant (CONV3-5 = 512, 1024, 512) is
    ``widths=(96, 256, 512, 1024, 512)``. Pools use ceil mode to reproduce the paper's sizes."""
    return AlexNet(num_classes, in_channels, input_size, stem="zf", **kw)


# ----------------------------------------------------------------------------- VGG
# Simonyan & Zisserman (2015), Table 1. Ints are 3×3 convs (pad 1), (c, 1) a 1×1 conv,
# "M" a 2×2/2 max pool, "LRN" local response normalisation.
VGG_CFGS: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M", 512, 512, (512, 1), "M",
          512, 512, (512, 1), "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"],
}


def make_vgg_layers(cfg: list, in_channels: int, batch_norm: bool, width: float = 1.0) -> nn.Sequential:
    """Turn one configuration list into the convolutional trunk (``width`` scales every conv)."""
    layers: list[nn.Module] = []
    c = in_channels
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        elif v == "LRN":
            layers.append(make_lrn())
        else:
            out, k = (v, 3) if isinstance(v, int) else v
            out = max(1, int(round(out * width)))
            layers.append(nn.Conv2d(c, out, k, padding=k // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU(inplace=True))
            c = out
    return nn.Sequential(*layers)


class VGG(_FCHeadModel):
    """VGG (Simonyan & Zisserman, 2015, "Very deep convolutional networks for large-scale image
    recognition"), configurations A, A-LRN, B, C, D, E of Table 1 and the FC-4096, FC-4096 head.

    ``batch_norm=True`` adds batch norm after every conv (not in the paper); ``width`` and
    ``fc_width`` shrink the network for tests and tiny data (1.0 and 4096 are the paper's). The head is sized
    from ``input_size`` (7×7×512 at 224, so counts equal torchvision's, which reaches 7×7 by
    adaptive pooling instead). Convs get Kaiming init (the paper pre-trained config A instead;
    He init lets the deep configurations train from scratch without batch norm).
    """

    imagenet_stem = False

    def __init__(self, cfg="D", num_classes=1000, in_channels=3, input_size=None, *,
                 batch_norm=False, dropout=0.5, arch=None, width=1.0, fc_width=4096):
        super().__init__()
        if cfg not in VGG_CFGS:
            raise ValueError(f"cfg must be one of {sorted(VGG_CFGS)}, got {cfg!r}")
        self.arch = arch or f"vgg_{cfg}"
        self.cfg = cfg
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size = to_hw(input_size, 224)
        if not (isinstance(width, (int, float)) and width > 0):
            raise ValueError(f"width must be a positive number, got {width!r}")
        self.features = make_vgg_layers(VGG_CFGS[cfg], in_channels, batch_norm, width)
        self._build_head([fc_width, fc_width], num_classes, dropout, lambda: nn.ReLU(inplace=True))
        kaiming_init(self)
        self._post_init_checks()


def _vgg(cfg, arch, num_classes, in_channels, input_size, **kw):
    return VGG(cfg, num_classes, in_channels, input_size, arch=arch, **kw)


@register_model
def vgg11(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration A (Simonyan & Zisserman 2015, 11 weight layers), 132,863,336 parameters; ``batch_norm`` switch."""
    return _vgg("A", "vgg11", num_classes, in_channels, input_size, **kw)


@register_model
def vgg11_lrn(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration A-LRN (Simonyan & Zisserman 2015): A with local response normalisation after the first conv."""
    return _vgg("A-LRN", "vgg11_lrn", num_classes, in_channels, input_size, **kw)


@register_model
def vgg13(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration B (Simonyan & Zisserman 2015, 13 weight layers), 133,047,848 parameters."""
    return _vgg("B", "vgg13", num_classes, in_channels, input_size, **kw)


@register_model
def vgg16_c(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration C (Simonyan & Zisserman 2015, 16 weight layers, the third conv of stages 3-5 is 1×1):
    133,638,952 parameters."""
    return _vgg("C", "vgg16_c", num_classes, in_channels, input_size, **kw)


@register_model
def vgg16(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration D (Simonyan & Zisserman 2015, 16 weight layers), 138,357,544 parameters."""
    return _vgg("D", "vgg16", num_classes, in_channels, input_size, **kw)


@register_model
def vgg19(num_classes=1000, in_channels=3, input_size=None, **kw):
    """VGG configuration E (Simonyan & Zisserman 2015, 19 weight layers), 143,667,240 parameters."""
    return _vgg("E", "vgg19", num_classes, in_channels, input_size, **kw)
