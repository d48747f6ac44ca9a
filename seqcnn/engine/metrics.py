"""Classification metrics, their one printed table and the confusion-matrix picture that every
``seqcnn ... train`` command writes.

Metrics are always computed over the **full label list** (a class missing from a split still
gets its row; scikit-learn#9842), as JSON-ready Python values. Labels are drawn literally in
the picture (``"$x$"`` is the three characters ``$x$``, never mathtext).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["classification_metrics", "format_metrics", "plot_confusion_matrix", "json_scalar"]


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


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def format_metrics(m: dict, name: str | None = None) -> str:
    """The one printed form of :func:`classification_metrics`' dict ``m``: a headline
    (``NAME: accuracy … balanced accuracy … macro-F1 … (n = …)``, plus ``top-5 accuracy`` when
    ``m`` has ``"top5_accuracy"``) and a per-class table (label, precision, recall, F1, support)
    over the full label list."""
    head = [f"accuracy {_pct(m['accuracy'])}"]
    if m.get("top5_accuracy") is not None:
        head.append(f"top-5 accuracy {_pct(m['top5_accuracy'])}")
    head += [f"balanced accuracy {_pct(m.get('balanced_accuracy'))}", f"macro-F1 {_pct(m['macro_f1'])}",
             f"(n = {m['n']})"]
    lines = [(f"{name}: " if name else "") + "   ".join(head)]
    width = max([5] + [len(str(c["label"])) for c in m["per_class"]])
    lines.append(f"  {'label':<{width}}  precision  recall     F1  support")
    for c in m["per_class"]:
        lines.append(f"  {str(c['label']):<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  "
                     f"{c['support']:7d}")
    return "\n".join(lines)


def plot_confusion_matrix(cm, labels, path, title="confusion matrix") -> Path:
    """Draw ``cm`` (K, K) with its counts to a PNG at ``path`` (written atomically).

    Every string (labels, title) is drawn literally: no mathtext, no TeX, so ``"$x$"`` shows
    as ``$x$`` and a label like ``"$\\frac{"`` cannot make the drawing fail.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    names = [str(lab) for lab in labels]
    k = len(names)
    literal = {"text.usetex": False, "text.parse_math": False}
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    with matplotlib.rc_context(literal):
        fig, ax = plt.subplots(figsize=(max(4.0, 2 + 0.6 * k), max(4.0, 1.5 + 0.6 * k)))
        try:
            ax.imshow(cm, cmap="Blues")
            ax.set_xticks(range(k), names, rotation=45, ha="right")
            ax.set_yticks(range(k), names)
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(str(title))
            top = cm.max() if cm.size else 0
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                            color="white" if top and cm[i, j] > top / 2 else "black")
            for t in fig.findobj(matplotlib.text.Text):  # artists made before the context too
                t.set_parse_math(False)
                t.set_usetex(False)
            fig.tight_layout()
            fig.savefig(tmp, dpi=100, format="png")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            plt.close(fig)
    tmp.replace(path)
    return path
