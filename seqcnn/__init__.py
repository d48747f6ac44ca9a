"""seqcnn: convolutional networks for sentences, 1D signals and images on one conv engine.

The estimators are imported lazily so that ``import seqcnn.engine`` never pulls in the text,
signal or comparison modules (the engine is the floor; nothing below it imports upward).
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "TextCNNClassifier": "seqcnn.text",
    "TextCNNEnsemble": "seqcnn.text",
    "SignalCNNClassifier": "seqcnn.signal",
    "MiniRocketClassifier": "seqcnn.signal",
    "read_labeled_lines": "seqcnn.text",
    "load_vectors": "seqcnn.text",
    "read_ts": "seqcnn.signal",
    "run_comparison": "seqcnn.compare",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seqcnn' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
