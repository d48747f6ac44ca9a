"""Classification metrics, their one printed table and the confusion-matrix picture that every
``seqcnn ... train`` command writes; for multi-label targets (:func:`multilabel_metrics`) the
same printer shows the multi-label figures and :func:`plot_label_f1` draws a per-label F1 bar
chart instead of the confusion matrix.

Metrics are always computed over the **full label list** (a class missing from a split still
gets its row; scikit-learn#9842), as JSON-ready Python values. Labels are drawn literally in
the picture (``"$x$"`` is the three characters ``$x$``, never mathtext).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["classification_metrics", "multilabel_metrics", "format_metrics", "plot_confusion_matrix",
           "plot_label_f1", "plot_metrics", "json_scalar"]


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


def multilabel_metrics(Y_true, Y_pred, labels, proba=None, ks=(1, 3)) -> dict:
    """Multi-label figures over the full label list: micro/macro/sample F1, precision and
    recall, Hamming loss, subset accuracy (also under ``"accuracy"``, scikit-learn's
    ``accuracy_score`` on indicators), label cardinality, P@k for each ``k`` of ``ks`` (with
    ``proba`` ``(n, L)``: the share of the k most probable labels that are true, averaged
    over examples) and ``per_class`` (label, precision, recall, F1, support). ``Y_true`` and
    ``Y_pred`` are 0/1 indicators ``(n, L)`` in the order of ``labels``; ``"task"`` is
    ``"multilabel"``."""
    from sklearn.metrics import hamming_loss, precision_recall_fscore_support

    Y_true, Y_pred = np.asarray(Y_true).astype(int), np.asarray(Y_pred).astype(int)
    labels = list(labels)
    if Y_true.shape != Y_pred.shape or Y_true.ndim != 2 or Y_true.shape[1] != len(labels):
        raise ValueError(f"Y_true {Y_true.shape} and Y_pred {Y_pred.shape} must both be (n, {len(labels)}) indicators")
    out = {"task": "multilabel", "n": int(len(Y_true))}
    for avg in ("micro", "macro", "samples"):
        p, r, f, _ = precision_recall_fscore_support(Y_true, Y_pred, average=avg, zero_division=0)
        key = "sample" if avg == "samples" else avg
        out.update({f"{key}_f1": float(f), f"{key}_precision": float(p), f"{key}_recall": float(r)})
    exact = float(np.mean(np.all(Y_true == Y_pred, axis=1))) if len(Y_true) else 0.0
    out.update(subset_accuracy=exact, accuracy=exact, hamming_loss=float(hamming_loss(Y_true, Y_pred)),
               cardinality_true=float(Y_true.sum(1).mean()) if len(Y_true) else 0.0,
               cardinality_pred=float(Y_pred.sum(1).mean()) if len(Y_pred) else 0.0,
               no_label_rows=int(np.sum(Y_pred.sum(1) == 0)))
    if proba is not None:
        P = np.asarray(proba, dtype=float)
        order = np.argsort(-P, axis=1, kind="stable")
        for k in ks:
            if k <= len(labels):
                top = np.take_along_axis(Y_true, order[:, :k], axis=1)
                out[f"p_at_{k}"] = float(top.mean()) if len(top) else 0.0
    p, r, f, s = precision_recall_fscore_support(Y_true, Y_pred, average=None, zero_division=0,
                                                 labels=list(range(len(labels))))
    out["per_class"] = [{"label": json_scalar(lab), "precision": float(p[i]), "recall": float(r[i]),
                         "f1": float(f[i]), "support": int(s[i])} for i, lab in enumerate(labels)]
    out["labels"] = [json_scalar(lab) for lab in labels]
    return out


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def format_metrics(m: dict, name: str | None = None) -> str:
    """The one printed form of :func:`classification_metrics`' dict ``m``: a headline
    (``NAME: accuracy … balanced accuracy … macro-F1 … (n = …)``, plus ``top-5 accuracy`` when
    ``m`` has ``"top5_accuracy"``) and a per-class table (label, precision, recall, F1, support)
    over the full label list. A multi-label dict (``"task": "multilabel"``) gets the
    multi-label headline (macro/micro/sample F1, precision, recall, Hamming loss, subset
    accuracy, P@k) over the same per-label table."""
    if m.get("task") == "multilabel":
        return _format_multilabel(m, name)
    head = [f"accuracy {_pct(m['accuracy'])}"]
    if m.get("top5_accuracy") is not None:
        head.append(f"top-5 accuracy {_pct(m['top5_accuracy'])}")
    head += [f"balanced accuracy {_pct(m.get('balanced_accuracy'))}", f"macro-F1 {_pct(m['macro_f1'])}",
             f"(n = {m['n']})"]
    lines = [(f"{name}: " if name else "") + "   ".join(head)]
    return "\n".join(lines + _per_class_table(m))


def _format_multilabel(m: dict, name) -> str:
    head = [f"macro-F1 {_pct(m['macro_f1'])}", f"micro-F1 {_pct(m['micro_f1'])}",
            f"sample-F1 {_pct(m['sample_f1'])}", f"subset accuracy {_pct(m['subset_accuracy'])}",
            f"Hamming loss {m['hamming_loss']:.4f}", f"(n = {m['n']})"]
    second = [f"micro P/R {_pct(m['micro_precision'])} / {_pct(m['micro_recall'])}",
              f"macro P/R {_pct(m['macro_precision'])} / {_pct(m['macro_recall'])}"]
    second += [f"P@{k[5:]} {_pct(m[k])}" for k in sorted(m) if k.startswith("p_at_")]
    second.append(f"labels per text {m['cardinality_pred']:.2f} predicted / {m['cardinality_true']:.2f} true, "
                  f"{m['no_label_rows']} with none")
    lines = [(f"{name}: " if name else "") + "   ".join(head), "  " + "   ".join(second)]
    return "\n".join(lines + _per_class_table(m))


def _per_class_table(m: dict) -> list:
    lines = []
    width = max([5] + [len(str(c["label"])) for c in m["per_class"]])
    lines.append(f"  {'label':<{width}}  precision  recall     F1  support")
    for c in m["per_class"]:
        lines.append(f"  {str(c['label']):<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  "
                     f"{c['support']:7d}")
    return lines


def _literal_png(path, figsize, draw) -> Path:
    """One figure of ``figsize`` drawn by ``draw(ax)``, written to a PNG at ``path`` atomically
    (a temporary file, then a rename; nothing left behind on failure). Every string is drawn
    literally: no mathtext, no TeX, so ``"$x$"`` shows as ``$x$`` and a label like ``"$\\frac{"``
    cannot make the drawing fail."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    with matplotlib.rc_context({"text.usetex": False, "text.parse_math": False}):
        fig, ax = plt.subplots(figsize=figsize)
        try:
            draw(ax)
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


def plot_confusion_matrix(cm, labels, path, title="confusion matrix") -> Path:
    """Draw ``cm`` (K, K) with its counts to a PNG at ``path`` (written atomically; strings
    drawn literally, see :func:`_literal_png`)."""
    cm = np.asarray(cm)
    names = [str(lab) for lab in labels]
    k = len(names)

    def draw(ax):
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

    return _literal_png(path, (max(4.0, 2 + 0.6 * k), max(4.0, 1.5 + 0.6 * k)), draw)


def plot_label_f1(per_class, path, title="F1 per label") -> Path:
    """A horizontal bar per label (F1, support in the tick label) to a PNG at ``path``,
    written atomically; labels drawn literally (no mathtext), as in :func:`plot_confusion_matrix`."""
    names = [f"{c['label']} ({c['support']})" for c in per_class]
    f1 = [float(c["f1"]) for c in per_class]

    def draw(ax):
        ax.barh(range(len(names)), f1, color="tab:blue")
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1 (support in brackets)")
        ax.set_title(str(title))
        for i, v in enumerate(f1):
            ax.text(min(v + 0.01, 0.93), i, f"{v:.2f}", va="center", fontsize=8)

    return _literal_png(path, (7.0, max(3.0, 1.2 + 0.28 * len(names))), draw)


def plot_metrics(m: dict, path, title=None) -> Path:
    """The picture of a metrics dict: the confusion matrix, or for a multi-label dict the
    per-label F1 bars."""
    if m.get("task") == "multilabel":
        return plot_label_f1(m["per_class"], path, title=title or f"F1 per label (macro-F1 {100 * m['macro_f1']:.1f} %)")
    return plot_confusion_matrix(m["confusion_matrix"], m["labels"], path,
                                 title=title or f"accuracy {100 * m['accuracy']:.1f} %")
