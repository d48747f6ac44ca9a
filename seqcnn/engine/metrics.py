"""Classification metrics and the confusion-matrix picture that every ``seqcnn ... train``
command writes.

Metrics are always computed over the **full label list** (a class missing from a split still
gets its row; scikit-learn#9842), as JSON-ready Python values.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["classification_metrics", "plot_confusion_matrix", "json_scalar"]


def json_scalar(v):
    """A NumPy scalar as the Python value (labels like ``np.int64(3)`` for JSON); others as given."""
    return v.item() if isinstance(v, np.generic) else v


def classification_metrics(y_true, y_pred, labels) -> dict:
    """Accuracy, balanced accuracy (None when no label of ``labels`` occurs in ``y_true``),
    macro-F1 and per-class precision/recall/F1/support over ``labels``, the confusion matrix
    (rows true, columns predicted, in the order of ``labels``) and ``n``."""
    from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score,
                                 precision_recall_fscore_support)

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    present = any(np.any(y_true == lab) for lab in labels)
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)) if present else None,
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": [{"label": json_scalar(lab), "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                       "support": int(s[i])} for i, lab in enumerate(labels)],
        "labels": [json_scalar(lab) for lab in labels],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def plot_confusion_matrix(cm, labels, path, title="confusion matrix") -> Path:
    """Draw ``cm`` (K, K) with its counts to a PNG at ``path`` (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    names = [str(lab) for lab in labels]
    k = len(names)
    fig, ax = plt.subplots(figsize=(max(4.0, 2 + 0.6 * k), max(4.0, 1.5 + 0.6 * k)))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    top = cm.max() if cm.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if top and cm[i, j] > top / 2 else "black")
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path
