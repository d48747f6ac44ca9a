"""One model registry for every modality (text, signal, vision).

A builder is registered with ``@register_model(modality=...)`` under its function name (or
``name=``); :func:`list_models` lists names, optionally for one modality and a shell pattern;
:func:`create_model` builds one. Registering a name twice raises ``ValueError``.

Every registered network follows one outer interface (timm's):

- ``forward_features(x, *aux)`` → the feature map before global pooling ((N, F, L) for 1D
  networks, (N, C, H, W) for images);
- ``forward_head(features, pre_logits=False, *aux)`` → pools and classifies: logits (N, K), or
  the pooled pre-logit features (N, F) with ``pre_logits=True``;
- ``forward(x, *aux)`` = ``forward_head(forward_features(x, *aux), False, *aux)``.

``aux`` are the auxiliary inputs after ``x`` (the signal networks' padding mask); networks that
take none ignore them. Max-over-time text networks put −inf at the positions their pooling
skips (:func:`~seqcnn.engine.pooling.max_over_time`; see :mod:`seqcnn.text.zoo`).
:func:`pre_logit_features` is the one way to get the pooled features
of any registered network.

The engine imports nothing above it: the modalities' model modules are imported by name
(:data:`PROVIDERS`) the first time the registry is read, which runs their decorators.
"""
from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import inspect
from typing import Callable

__all__ = ["register_model", "unregister_model", "list_models", "create_model", "model_entry", "is_model",
           "routed_kwargs", "pre_logit_features", "ModelEntry", "MODALITIES", "PROVIDERS"]

MODALITIES = ("text", "signal", "vision")
# modules whose import registers each modality's networks (imported lazily, by name)
PROVIDERS = {"text": "seqcnn.text.zoo", "signal": "seqcnn.signal.models", "vision": "vision.models"}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered network: ``name``, ``modality``, ``builder`` (called by :func:`create_model`)."""

    name: str
    modality: str
    builder: Callable

    @property
    def parameters(self) -> tuple[str, ...]:
        """Keyword names the builder accepts (``**kw`` builders list only the named ones)."""
        return tuple(p.name for p in inspect.signature(self.builder).parameters.values()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))

    @property
    def accepts_any(self) -> bool:
        """True when the builder takes ``**kw`` (switches passed on to a model class)."""
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(self.builder).parameters.values())


_ENTRIES: dict[str, ModelEntry] = {}
_loaded: set[str] = set()


def register_model(fn: Callable | None = None, *, modality: str, name: str | None = None):
    """Register a builder under ``name`` (default: the function's ``__name__``) for ``modality``.

    Usable as ``@register_model(modality="signal")`` or ``register_model(f, modality=..., name=...)``.
    A name that is already registered (in any modality) raises ``ValueError``.
    """
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")

    def _register(f: Callable) -> Callable:
        if not callable(f):
            raise TypeError(f"register_model expects a callable, got {type(f).__name__}")
        key = name or f.__name__
        if not isinstance(key, str) or not key:
            raise ValueError(f"name must be a non-empty string, got {key!r}")
        if key in _ENTRIES:
            old = _ENTRIES[key]
            raise ValueError(f"a model named {key!r} is already registered ({old.modality}, "
                             f"{old.builder.__module__})")
        _ENTRIES[key] = ModelEntry(key, modality, f)
        return f

    return _register if fn is None else _register(fn)


def unregister_model(name: str) -> ModelEntry:
    """Remove ``name`` from the registry and return its entry (``KeyError`` if absent)."""
    return _ENTRIES.pop(name)


def _ensure_loaded(modality: str | None = None) -> None:
    for mod in ([modality] if modality else MODALITIES):
        if mod not in _loaded:
            _loaded.add(mod)
            try:
                importlib.import_module(PROVIDERS[mod])
            except BaseException:
                _loaded.discard(mod)
                raise


def list_models(modality: str | None = None, pattern: str | None = None) -> list[str]:
    """Sorted registered names; ``modality`` ("text", "signal", "vision") and a shell
    ``pattern`` (``"resnet*"``) filter them."""
    if modality is not None and modality not in MODALITIES:
        raise ValueError(f"modality must be None or one of {MODALITIES}, got {modality!r}")
    if pattern is not None and not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string, got {type(pattern).__name__}")
    _ensure_loaded(modality)
    names = sorted(n for n, e in _ENTRIES.items() if modality is None or e.modality == modality)
    return names if pattern is None else [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def is_model(name: str, modality: str | None = None) -> bool:
    _ensure_loaded(modality)
    entry = _ENTRIES.get(name)
    return entry is not None and (modality is None or entry.modality == modality)


def model_entry(name: str, modality: str | None = None) -> ModelEntry:
    """The entry registered as ``name`` (in ``modality`` when given); ``ValueError`` listing
    close names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    for mod in ([modality] if modality else MODALITIES):
        if name in _ENTRIES:
            break  # found without importing the other modalities (text never imports vision)
        _ensure_loaded(mod)
    entry = _ENTRIES.get(name)
    if entry is None or (modality is not None and entry.modality != modality):
        known = list_models(modality)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = f"{modality} model" if modality else "model"
        see = f"list_models({modality!r})" if modality else "list_models()"
        raise ValueError(f"name={name!r} is not a registered {where}{hint} (see {see})")
    return entry


def create_model(name: str, **kwargs):
    """Build the registered network ``name`` with the builder's keyword arguments (sizes such as
    ``num_classes``/``in_channels``/``vocab_size`` and the architecture's switches)."""
    return model_entry(name).builder(**kwargs)


def routed_kwargs(name: str, settings: dict, model_kwargs: dict | None = None, *,
                  owner: str = "model_kwargs") -> dict:
    """The keyword arguments an estimator passes to :func:`create_model`.

    ``settings`` are the estimator's own architecture parameters (its documented names): each
    is passed when the builder takes it, skipped otherwise (``n_members`` means nothing to FCN).
    ``model_kwargs`` are the user's extra switches: each must be a parameter of the builder
    (``TypeError`` naming ``owner``, the key and the accepted names otherwise) and overrides a
    setting of the same name."""
    entry = model_entry(name)
    accepted = set(entry.parameters)
    out = {k: v for k, v in settings.items() if k in accepted}
    if model_kwargs is None:
        return out
    if not isinstance(model_kwargs, dict):
        raise TypeError(f"{owner} must be a dict or None, got {type(model_kwargs).__name__}")
    for key, value in model_kwargs.items():
        if not isinstance(key, str):
            raise TypeError(f"{owner} keys must be strings, got {key!r}")
        if key not in accepted and not entry.accepts_any:
            raise TypeError(f"{owner}: {name!r} takes no argument {key!r} (it takes: {', '.join(sorted(accepted))})")
        out[key] = value
    return out


def pre_logit_features(module, *inputs):
    """Pooled pre-logit features (N, F) of a registered network on ``inputs`` (``x`` then the
    auxiliary inputs, e.g. the mask): ``forward_head(forward_features(*inputs), True, *aux)``.
    A module without ``forward_head`` (a user's own network) gives its ``forward_features``."""
    features = module.forward_features(*inputs)
    head = getattr(module, "forward_head", None)
    return features if head is None else head(features, True, *inputs[1:])
