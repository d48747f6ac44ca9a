"""vision: the image core of seqcnn — a model zoo faithful to the papers, image data, pictures.

``create_model(name, num_classes=1000, in_channels=3, input_size=None, **kw)`` /
``list_models(pattern=None)`` / ``register_model`` form the registry; ``ImageCNNClassifier`` is the
scikit-learn estimator; ``plot_filters``, ``plot_activations`` and ``class_activation_map`` draw
pictures. Heavy pieces are imported lazily.
"""
from importlib import import_module

from vision.registry import create_model, list_models, register_model

_LAZY = {
    "ImageCNNClassifier": "vision.estimator",
    "plot_filters": "vision.pictures",
    "plot_activations": "vision.pictures",
    "class_activation_map": "vision.pictures",
    "readers": "vision.readers",
    "read_image_folder": "vision.readers",
    "read_mnist_idx": "vision.readers",
    "read_mnist_csv": "vision.readers",
    "as_image_array": "vision.readers",
    "SmallInputWarning": "vision.models._common",
}

__all__ = ["create_model", "list_models", "register_model", *_LAZY]


def __getattr__(name):
    if name == "readers":
        return import_module("vision.readers")
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vision' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
