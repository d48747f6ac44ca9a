"""Model registry: a decorator maps names to builders (the timm habit, without its machinery).

``create_model(name, num_classes=1000, in_channels=3, input_size=None, **kw)`` looks a builder
up and calls it; ``list_models(pattern)`` filters the names with a shell-style pattern.
Unlike timm, registering a name twice raises ``ValueError`` instead of warning.
"""
from __future__ import annotations

import fnmatch
from typing import Callable

__all__ = ["register_model", "create_model", "list_models", "is_model", "model_entrypoint"]

_REGISTRY: dict[str, Callable] = {}


def register_model(fn: Callable | None = None, *, name: str | None = None):
    """Register a builder under ``name`` (default: the function's ``__name__``).

    Usable bare (``@register_model``) or with a name (``@register_model(name="vgg11_lrn")``).
    A name that is already registered raises ``ValueError``.
    """

    def _register(f: Callable) -> Callable:
        key = name or f.__name__
        if not isinstance(key, str) or not key:
            raise ValueError(f"name must be a non-empty string, got {key!r}")
        if key in _REGISTRY:
            raise ValueError(f"a model named {key!r} is already registered ({_REGISTRY[key].__module__})")
        _REGISTRY[key] = f
        return f

    if fn is None:
        return _register
    if not callable(fn):
        raise TypeError(f"register_model expects a callable, got {type(fn).__name__}")
    return _register(fn)


def _ensure_loaded() -> None:
    # importing the model modules runs their @register_model decorators
    from vision import models  # noqa: F401


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted registered names, optionally filtered by a shell pattern (``"resnet*"``)."""
    _ensure_loaded()
    names = sorted(_REGISTRY)
    if pattern is not None:
        if not isinstance(pattern, str):
            raise TypeError(f"pattern must be a string, got {type(pattern).__name__}")
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def is_model(name: str) -> bool:
    _ensure_loaded()
    return name in _REGISTRY


def model_entrypoint(name: str) -> Callable:
    """The builder registered as ``name``; ``ValueError`` listing close names otherwise."""
    _ensure_loaded()
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"name={name!r} is not a registered model{hint} (see vision.list_models())")
    return _REGISTRY[name]


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
