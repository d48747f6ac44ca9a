"""Network in Network (Lin, Chen & Yan 2014): stacks of mlpconv blocks (the engine's ``MLPConv``:
a k×k conv followed by two 1×1 convs, ReLU after each), no fully connected layer — the last
mlpconv has one map per class and global average pooling turns the maps into logits.

``variant="imagenet"`` (default): the 4-block ImageNet model of the authors' Caffe release
(11×11/4 96-96-96, 5×5 256-256-256, 3×3 384-384-384, dropout, 3×3 1024-1024-classes).
``variant="cifar"``: the 3-block CIFAR-10 model of §4.2 (5×5 192-160-96, 3×3/2 max pool,
dropout; 5×5 192-192-192, 3×3/2 average pool, dropout; 3×3 192-192-classes), dropout on the
outputs of mlpconv 1 and 2 as in the paper. No batch norm (``batch_norm=True`` adds it).
"""
from __future__ import annotations

import torch.nn as nn

from seqcnn.engine.layers import MLPConv
from vision.models._common import GAPModel, to_hw
from vision.registry import register_model

__all__ = ["NiN"]


class NiN(GAPModel):
    """NiN; ``forward_features`` returns the class maps ``(N, num_classes, H', W')`` (so
    ``num_features == num_classes`` and the class activation map is the class's own map)."""

    arch = "nin"

    def __init__(self, num_classes=1000, in_channels=3, input_size=None, *, variant="imagenet", dropout=0.5,
                 batch_norm=False):
        super().__init__()
        self.num_classes, self.in_channels = num_classes, in_channels
        bn = bool(batch_norm)
        if variant == "imagenet":
            self.imagenet_stem = True
            self.input_size = to_hw(input_size, 224)
            self.features = nn.Sequential(
                MLPConv(in_channels, (96, 96, 96), kernel_size=11, stride=4, batch_norm=bn),  # 54×54
                nn.MaxPool2d(3, 2),                                                         # 26×26
                MLPConv(96, (256, 256, 256), kernel_size=5, padding=2, batch_norm=bn),
                nn.MaxPool2d(3, 2),                                                         # 12×12
                MLPConv(256, (384, 384, 384), kernel_size=3, padding=1, batch_norm=bn),
                nn.MaxPool2d(3, 2),                                                         # 5×5
                nn.Dropout(dropout),
                MLPConv(384, (1024, 1024, num_classes), kernel_size=3, padding=1, batch_norm=bn),
            )
        elif variant == "cifar":
            self.input_size = to_hw(input_size, 32)
            self.features = nn.Sequential(
                MLPConv(in_channels, (192, 160, 96), kernel_size=5, padding=2, batch_norm=bn),
                nn.MaxPool2d(3, 2, ceil_mode=True),                                         # 16×16
                nn.Dropout(dropout),
                MLPConv(96, (192, 192, 192), kernel_size=5, padding=2, batch_norm=bn),
                nn.AvgPool2d(3, 2, ceil_mode=True),                                         # 8×8
                nn.Dropout(dropout),
                MLPConv(192, (192, 192, num_classes), kernel_size=3, padding=1, batch_norm=bn),
            )
        else:
            raise ValueError(f"variant must be 'imagenet' or 'cifar', got {variant!r}")
        self.variant = variant
        self._finish(num_classes, num_classes)
        # no linear layer: GAP of the class maps are the logits
        del self.fc
        self.fc = None

    def forward_head(self, x, pre_logits: bool = False):
        return self.global_pool(x)  # (N, num_classes)


@register_model
def nin(num_classes=1000, in_channels=3, input_size=None, **kw):
    """Network in Network (Lin et al. 2014): mlpconv blocks + global average pooling, no FC;
    ``variant="imagenet"`` (4 blocks, default) or ``"cifar"`` (3 blocks, the paper's CIFAR net)."""
    return NiN(num_classes, in_channels, input_size, **kw)
