"""Artifacts saved before the signal networks moved onto the engine's blocks (issue 18) still
load and predict the same probabilities (tests/fixtures/signal_artifacts_v1, written by the
earlier code on a seeded toy problem)."""
import json
from pathlib import Path

import numpy as np
import pytest

from seqcnn.signal import SignalCNNClassifier

FIXTURES = Path(__file__).parents[1] / "fixtures" / "signal_artifacts_v1"


@pytest.mark.parametrize("arch", ["fcn", "resnet", "inception", "inceptiontime"])
def test_artifact_saved_before_the_engine_blocks_loads_and_predicts_the_same(arch):
    X = np.load(FIXTURES / "X_test.npy")
    expected = np.array(json.loads((FIXTURES / "expected_proba.json").read_text())[arch])
    clf = SignalCNNClassifier.load(FIXTURES / arch)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-6)


def test_old_resnet_keys_are_renamed():
    from seqcnn.signal.models import ResNet1D

    old = {"blocks.0.convs.1.conv.weight": 1, "blocks.2.convs.0.norm.running_mean": 2, "head.weight": 3,
           "blocks.0.shortcut.1.bias": 4}
    assert ResNet1D.upgrade_state_dict(old) == {"blocks.0.convs.1.weight": 1, "blocks.2.norms.0.running_mean": 2,
                                                "head.weight": 3, "blocks.0.shortcut.1.bias": 4}
