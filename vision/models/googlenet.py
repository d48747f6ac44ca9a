"""GoogLeNet (Szegedy et al. 2015, "Going deeper with convolutions", Table 1 and Fig. 3), as in
the paper: no batch norm, real 5×5 convolutions in the 5×5 branch (torchvision uses 3×3 there and
adds batch norm everywhere), local response normalisation in the stem, and the two auxiliary
classifiers (on 4a and 4d) switchable with ``aux_logits``.

With ``aux_logits=True`` the model returns ``(main, aux1, aux2)`` in training mode — the engine's
Trainer then adds the auxiliary losses with weight 0.3 as in the paper — and only ``main`` in
eval mode. Deviations, named: the stem pools use ceil mode (Caffe's rounding) to get 112 → 56 →
28; the final 7×7 average pool is a global average pool (identical at 224, and it keeps other
input sizes working); the LRN constants are AlexNet's (the engine's ``LocalResponseNorm``);
Kaiming (fan-in) initialisation instead of the original Caffe model's Xavier fill.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from seqcnn.engine.layers import ConvBlock, InceptionModule
from vision.models._common import GAPModel, make_lrn, to_hw, trace_shapes
from vision.registry import register_model

__all__ = ["GoogLeNet", "INCEPTION_TABLE"]

# Table 1: name → (#1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj); "M" = 3×3/2 max pool
INCEPTION_TABLE = [
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    "M",
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    "M",
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
]


def _relu_conv(cin, cout, k, stride=1, padding=0):
    return ConvBlock(cin, cout, k, stride=stride, padding=padding, norm=None, activation="relu")


class AuxHead(nn.Module):
    """Auxiliary classifier (paper §5): 5×5/3 average pool → 1×1 conv 128 + ReLU → FC 1024 + ReLU
    → dropout 70 % → linear. ``in_hw`` is the traced map size (14×14 at 224 → 4×4 after pooling)."""

    def __init__(self, in_channels, num_classes, in_hw):
        super().__init__()
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = _relu_conv(in_channels, 128, 1)
        h = (in_hw[0] - 5) // 3 + 1
        w = (in_hw[1] - 5) // 3 + 1
        if h < 1 or w < 1:
            raise ValueError(f"googlenet: the auxiliary head needs maps of at least 5x5, got {in_hw}; "
                             f"use aux_logits=False or larger images")
        self.fc1 = nn.Linear(128 * h * w, 1024)
        self.act = nn.ReLU(inplace=True)
        self.drop = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = torch.flatten(self.conv(self.pool(x)), 1)  # (N, 128·h·w)
        return self.fc2(self.drop(self.act(self.fc1(x))))


class GoogLeNet(GAPModel):
    """GoogLeNet / Inception v1 (Szegedy et al. 2015), 224×224 inputs, ``aux_logits`` switch,
    ``dropout=0.4`` before the final linear layer."""

    arch = "googlenet"
    imagenet_stem = True

    def __init__(self, num_classes=1000, in_channels=3, input_size=None, *, aux_logits=False, dropout=0.4,
                 lrn=True):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        self.input_size = to_hw(input_size, 224)
        self.aux_logits = bool(aux_logits)
        norm = make_lrn if lrn else nn.Identity
        self.stem = nn.Sequential(
            _relu_conv(in_channels, 64, 7, stride=2, padding=3),  # 112×112×64
            nn.MaxPool2d(3, 2, ceil_mode=True),                      # 56×56×64
            norm(),
            _relu_conv(64, 64, 1),                                   # 3×3 reduce
            _relu_conv(64, 192, 3, padding=1),                       # 56×56×192
            norm(),
            nn.MaxPool2d(3, 2, ceil_mode=True),                      # 28×28×192
        )
        cin = 192
        blocks = []
        for entry in INCEPTION_TABLE:
            if entry == "M":
                blocks.append(("pool", nn.MaxPool2d(3, 2, ceil_mode=True)))
                continue
            name, cfg = entry
            mod = InceptionModule(cin, *cfg)
            blocks.append((f"inception{name}", mod))
            cin = mod.out_channels
        pools = iter(["pool3", "pool4"])
        self.blocks = nn.Sequential()
        for name, mod in blocks:
            self.blocks.add_module(next(pools) if name == "pool" else name, mod)
        self.aux1 = self.aux2 = None
        if self.aux_logits:
            shapes = dict(trace_shapes([("stem", self.stem), ("blocks", self.blocks)], in_channels,
                                       self.input_size, model_name=self.arch))
            s4a, s4d = shapes["blocks.inception4a"], shapes["blocks.inception4d"]
            self.aux1 = AuxHead(s4a[1], num_classes, s4a[2:])
            self.aux2 = AuxHead(s4d[1], num_classes, s4d[2:])
        self._finish(cin, num_classes, dropout)
        # Kaiming in fan-in mode: the 1×1 reductions shrink channels up to 26× (832 → 32), so
        # fan-out scaling (the engine's default, right when C_in ≈ C_out) would multiply the
        # forward variance by C_in / C_out at each reduction and, with no batch norm, diverge.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def _trace_steps(self):
        return [("stem", self.stem), ("blocks", self.blocks)]

    def forward_features(self, x):
        return self.blocks(self.stem(x))  # (N, 1024, H/32, W/32)

    def forward(self, x):
        self._check_forward_input(x)
        if not (self.aux_logits and self.training):
            return self.forward_head(self.forward_features(x))
        x = self.stem(x)
        aux = []
        for name, mod in self.blocks.named_children():
            x = mod(x)
            if name == "inception4a":
                aux.append(self.aux1(x))
            elif name == "inception4d":
                aux.append(self.aux2(x))
        return (self.forward_head(x), *aux)


@register_model
def googlenet(num_classes=1000, in_channels=3, input_size=None, **kw):
    """GoogLeNet as in the paper (Szegedy et al. 2015): no batch norm, real 5×5 branches, LRN in
    the stem, ``aux_logits`` (two auxiliary heads, loss weight 0.3 in training) off by default."""
    return GoogLeNet(num_classes, in_channels, input_size, **kw)
