"""Pieces every architecture shares: the outer interface, shape tracing, the small-input warning.

Outer interface (the timm habit): every model has ``num_classes``, ``num_features``,
``forward_features(x)`` (``(N, C, H, W)`` → last feature maps ``(N, C', H', W')``) and
``forward_head(x, pre_logits=False)`` (feature maps → logits ``(N, num_classes)``, or the
``(N, num_features)`` pre-logit vector). ``forward(x) = forward_head(forward_features(x))``.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn as nn

__all__ = [
    "ImageModel", "GAPModel", "SmallInputWarning", "to_hw", "trace_shapes", "check_input_size",
]


class SmallInputWarning(UserWarning):
    """An ImageNet stem (large stride early) got images under 64 px."""


def to_hw(input_size, default):
    """``None`` → ``default``; int ``s`` → ``(s, s)``; ``(H, W)`` or ``(C, H, W)`` → ``(H, W)``."""
    if input_size is None:
        input_size = default
    if isinstance(input_size, bool):
        raise TypeError("input_size must be an int or a tuple (H, W), got bool")
    if isinstance(input_size, int):
        hw = (input_size, input_size)
    elif isinstance(input_size, (tuple, list)) and len(input_size) in (2, 3):
        hw = tuple(input_size[-2:])
    else:
        raise TypeError(f"input_size must be an int or a tuple (H, W), got {input_size!r}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in hw):
        raise ValueError(f"input_size must hold positive ints, got {input_size!r}")
    return hw


def _leaf_steps(module: nn.Module, prefix: str):
    """Walk nested ``nn.Sequential`` containers so errors name the innermost step."""
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _leaf_steps(child, f"{prefix}.{name}" if prefix else name)
    else:
        yield prefix, module


def _meta_call(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    # Run a module on "meta" tensors: shapes only, no memory, no arithmetic.
    state = {k: torch.empty_like(v, device="meta") for k, v in module.named_parameters()}
    state.update({k: torch.empty_like(v, device="meta") for k, v in module.named_buffers()})
    return torch.func.functional_call(module, state, (x,), strict=False)


_SHAPE_PRESERVING = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.ELU, nn.Dropout,
                     nn.BatchNorm2d, nn.LocalResponseNorm, nn.Identity)


def _passthrough(x, *args, **kwargs):
    return x


def _real_call(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return module(x)


def trace_shapes(steps, in_channels: int, input_size, *, model_name: str = "model"):
    """Push a ``(1, C, H, W)`` meta tensor through ``steps`` (``[(name, module), ...]``,
    nested Sequentials are entered) and return ``[(name, output_shape), ...]``.

    Raises ``ValueError`` naming the first layer whose output would have a spatial size < 1
    (the error adaptive pooling would otherwise hide until the head, or never)."""
    h, w = input_size
    steps = list(steps)
    params = [p for _, top in steps for p in top.parameters()]
    on_meta = any(p.is_meta for p in params)
    # Small inputs: a real batch of one is cheaper than the meta machinery (whose Python
    # decompositions cost seconds on deep nets); large inputs: meta tensors, no arithmetic.
    real = (not on_meta) and h * w <= 64 * 64 and all(p.device.type == "cpu" for p in params)
    call = _real_call if real else _meta_call
    x = torch.zeros(1, in_channels, h, w) if real else torch.empty(1, in_channels, h, w, device="meta")
    shapes = []
    # Shape-preserving element-wise layers are skipped while tracing: on meta tensors their
    # Python decompositions cost most of the time (seconds for a ResNet-152), and in eval mode
    # they cannot change a shape. Training flags are restored afterwards.
    modes = [(m, m.training) for _, top in steps for m in top.modules()]
    patched = []
    for m, _ in modes:
        m.training = False
        if isinstance(m, _SHAPE_PRESERVING) and "forward" not in m.__dict__:
            m.forward = _passthrough
            patched.append(m)
    try:
        for top_name, top in steps:
            for name, mod in _leaf_steps(top, top_name):
                before = tuple(x.shape)
                try:
                    x = call(mod, x)
                except RuntimeError as exc:
                    raise ValueError(
                        f"{model_name}: input_size={h}x{w} is too small: the spatial size reaches 0 at "
                        f"layer '{name}' ({mod.__class__.__name__}, input {before[1]}x{before[2]}x{before[3]}); "
                        f"use larger images or a smaller-stride variant"
                    ) from exc
                if x.dim() == 4 and min(x.shape[-2:]) < 1:
                    raise ValueError(
                        f"{model_name}: input_size={h}x{w} is too small: the spatial size reaches 0 at "
                        f"layer '{name}' ({mod.__class__.__name__}, output {tuple(x.shape[1:])})"
                    )
                shapes.append((name, tuple(x.shape)))
    finally:
        for m, mode in modes:
            m.training = mode
        for m in patched:
            del m.forward
    return shapes


def check_input_size(model_name: str, hw, *, imagenet_stem: bool):
    """Warn (``SmallInputWarning``) when an ImageNet stem gets images under 64 px."""
    if imagenet_stem and min(hw) < 64:
        warnings.warn(
            f"{model_name} has an ImageNet stem (large early stride) but input_size={hw[0]}x{hw[1]} is "
            f"under 64 px: most spatial detail is gone after the first layers. For 32x32 images use a "
            f"CIFAR model (resnet20/32/44/56/110, wrn28_10, preact_*(stem='cifar')) instead.",
            SmallInputWarning,
            stacklevel=3,
        )


class ImageModel(nn.Module):
    """Base of every zoo model: holds the outer interface and the small-input check.

    Subclasses set ``num_classes``, ``num_features``, ``in_channels``, ``input_size`` (H, W),
    ``imagenet_stem`` and implement ``forward_features`` and ``forward_head``.
    ``gap_head`` is True when the head is global average pooling (+ an optional linear layer),
    which is what class activation mapping needs; ``classifier`` is then that linear layer
    (``None`` when the last conv already has one map per class, as in NiN).
    """

    num_classes: int
    num_features: int
    in_channels: int
    input_size: tuple
    imagenet_stem: bool = False
    gap_head: bool = False
    arch: str = "model"

    def _post_init_checks(self):
        check_input_size(self.arch, self.input_size, imagenet_stem=self.imagenet_stem)
        self._warned_small = min(self.input_size) < 64

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _check_forward_input(self, x: torch.Tensor):
        if x.dim() != 4:
            raise ValueError(
                f"{self.arch} expects images of shape (N, C, H, W), got a tensor of shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self.arch} was built for in_channels={self.in_channels}, got {x.shape[1]} channels"
            )
        if self.imagenet_stem and not self._warned_small and min(x.shape[-2:]) < 64:
            self._warned_small = True
            check_input_size(self.arch, tuple(x.shape[-2:]), imagenet_stem=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_forward_input(x)
        return self.forward_head(self.forward_features(x))

    def classifier_layer(self):
        """The final ``nn.Linear`` (used by CAM); ``None`` when there is none."""
        return getattr(self, "fc", None)


class GAPModel(ImageModel):
    """Trunk ``self.features`` (or ``forward_features``) → global average pool → ``self.fc``."""

    gap_head = True

    def _finish(self, num_features: int, num_classes: int, dropout: float = 0.0, *, init=True,
                zero_init_residual=False):
        self.num_features, self.num_classes = num_features, num_classes
        from seqcnn.engine.layers import GlobalAvgPool, init_weights

        self.global_pool = GlobalAvgPool(dims=2)
        self.head_drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(num_features, num_classes)
        trace_shapes(self._trace_steps(), self.in_channels, self.input_size, model_name=self.arch)
        if init:
            init_weights(self, "kaiming", nonlinearity="relu", zero_init_residual=zero_init_residual)
        self._post_init_checks()

    def _trace_steps(self):
        return [("features", self.features)]

    def forward_features(self, x):
        return self.features(x)  # (N, C, H, W)

    def forward_head(self, x, pre_logits: bool = False):
        x = self.head_drop(self.global_pool(x))  # (N, C)
        return x if pre_logits else self.fc(x)


def kaiming_init(module: nn.Module, nonlinearity: str = "relu") -> None:
    """He (Kaiming) init for every conv and linear layer (the engine's ``init_weights``): convs
    ``kaiming_normal_`` fan-out, biases 0, batch norm (1, 0)."""
    from seqcnn.engine.layers import init_weights

    init_weights(module, scheme="kaiming", nonlinearity=nonlinearity)


def make_lrn() -> nn.Module:
    """Local response normalisation with AlexNet's constants (n=5, alpha=1e-4, beta=0.75, k=2),
    from the engine."""
    from seqcnn.engine.layers import LocalResponseNorm

    return LocalResponseNorm()
