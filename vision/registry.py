"""The image models' view of the one model registry (:mod:`seqcnn.engine.registry`).

``create_model(name, num_classes=1000, in_channels=3, input_size=None, **kw)`` looks a builder
up among the ``"vision"`` models and calls it; ``list_models(pattern)`` filters the image names
with a shell-style pattern; ``register_model`` registers a builder with ``modality="vision"``.
The same names are listed by ``seqcnn.engine.registry.list_models("vision")`` and built by its
``create_model``. Registering a name twice raises ``ValueError`` (timm only warns).
"""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Callable

from seqcnn.engine import registry as _engine

__all__ = ["register_model", "create_model", "list_models", "is_model", "model_entrypoint"]

MODALITY = "vision"


class _VisionBuilders(MutableMapping):
    """``name → builder`` of the image models, live over the engine registry (deleting a name
    unregisters it)."""

    def __getitem__(self, name):
        if not _engine.is_model(name, MODALITY):
            raise KeyError(name)
        return _engine.model_entry(name).builder

    def __setitem__(self, name, builder):
        register_model(builder, name=name)

    def __delitem__(self, name):
        if not _engine.is_model(name, MODALITY):
            raise KeyError(name)
        _engine.unregister_model(name)

    def __iter__(self):
        return iter(_engine.list_models(MODALITY))

    def __len__(self):
        return len(_engine.list_models(MODALITY))


_REGISTRY = _VisionBuilders()


def register_model(fn: Callable | None = None, *, name: str | None = None):
    """Register an image-model builder under ``name`` (default: the function's ``__name__``).

    Usable bare (``@register_model``) or with a name (``@register_model(name="vgg11_lrn")``).
    A name that is already registered raises ``ValueError``.
    """
    if fn is not None and not callable(fn):
        raise TypeError(f"register_model expects a callable, got {type(fn).__name__}")
    return _engine.register_model(fn, modality=MODALITY, name=name)


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted registered image-model names, optionally filtered by a shell pattern (``"resnet*"``)."""
    return _engine.list_models(MODALITY, pattern)


def is_model(name: str) -> bool:
    return _engine.is_model(name, MODALITY)


def model_entrypoint(name: str) -> Callable:
    """The builder registered as ``name``; ``ValueError`` listing close names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    try:
        return _engine.model_entry(name, MODALITY).builder
    except ValueError as exc:
        raise ValueError(str(exc).replace(f"(see list_models({MODALITY!r}))", "(see vision.list_models())")) from None


def create_model(name: str, num_classes: int = 1000, in_channels: int = 3, input_size=None, **kw):
    """Build the registered model ``name``.

    Parameters
    ----------
    name : a name from :func:`list_models`.
    num_classes : size of the classifier output (logits ``(N, num_classes)``).
    in_channels : channels of the input images ``(N, C, H, W)``.
    input_size : ``H`` or ``(H, W)`` of the inputs; ``None`` uses the architecture's native size.
        Models with a fully connected head size it from this; all models trace it and raise
        ``ValueError`` naming the layer where a spatial size would reach 0.
    **kw : architecture switches documented by each builder (``variant``, ``batch_norm``, ...).
    """
    builder = model_entrypoint(name)
    _check_positive_int(num_classes, "num_classes")
    _check_positive_int(in_channels, "in_channels")
    return builder(num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kw)


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
