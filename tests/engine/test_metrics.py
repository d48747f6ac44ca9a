"""Shared classification metrics and the confusion-matrix picture of the train commands."""
import json

import numpy as np

from seqcnn.engine.metrics import classification_metrics, json_scalar, plot_confusion_matrix


def test_a_class_missing_from_the_split_keeps_its_row():
    m = classification_metrics(["a", "a", "b"], ["a", "b", "b"], labels=["a", "b", "c"])
    assert m["labels"] == ["a", "b", "c"] and m["n"] == 3
    assert [row["support"] for row in m["per_class"]] == [2, 1, 0]
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    assert m["accuracy"] == 2 / 3
    json.dumps(m)


def test_numpy_labels_become_json_values():
    m = classification_metrics(np.array([1, 2]), np.array([1, 1]), labels=np.array([1, 2]))
    assert m["labels"] == [1, 2] and type(m["labels"][0]) is int
    assert json_scalar(np.float32(0.5)) == 0.5 and json_scalar("x") == "x"


def test_confusion_matrix_png_is_written_atomically(tmp_path):
    out = plot_confusion_matrix([[3, 1], [0, 4]], ["neg", "pos"], tmp_path / "cm.png", title="t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png"]


def test_mismatched_lengths_are_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        classification_metrics(["a", "b"], ["a"], labels=["a", "b"])
