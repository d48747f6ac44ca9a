"""The package surface: public names, and the dependency rule (only seqcnn.engine.device and the
shared input checks of seqcnn.data.checks)."""
import ast
from pathlib import Path

import baselines

PACKAGE = Path(baselines.__file__).parent


def test_public_names_are_exported():
    for name in ("NBSVM", "KNNClassifier", "KernelSVM", "StringKernel", "default_baselines", "model_size",
                 "SeriesFeaturizer", "ImageFeaturizer", "word_ngrams", "char_ngrams"):
        assert name in baselines.__all__ and hasattr(baselines, name)


def test_baselines_import_nothing_from_seqcnn_but_the_device_helper():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("seqcnn", "vision")):
                assert node.module in ("seqcnn.engine.device", "seqcnn.data.checks", "seqcnn.data.targets",
                                       "seqcnn.data"), (path.name, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(("seqcnn", "vision")), (path.name, alias.name)
