"""Meta-device builds shared by the test modules (one build per configuration per session)."""
import functools

import torch

import vision


@functools.lru_cache(maxsize=None)
def _build(name, frozen_kw):
    with torch.device("meta"):
        return vision.create_model(name, **dict(frozen_kw))


def meta_model(name, **kw):
    """The model ``name`` built on the meta device (shapes and parameters, no memory); cached,
    so callers must not modify it."""
    return _build(name, tuple(sorted(kw.items())))


@functools.lru_cache(maxsize=None)
def _summary(name, frozen_kw, input_size):
    from seqcnn.engine.summary import summary

    return summary(_build(name, frozen_kw), input_size)


def meta_summary(name, input_size, **kw):
    return _summary(name, tuple(sorted(kw.items())), tuple(input_size))
