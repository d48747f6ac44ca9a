"""Multi-label targets for the CNN estimators: detection, encoding, thresholds, decisions.

Two target forms, scikit-learn's conventions:

* **indicator**: a binary matrix ``(n, L)`` (what ``MultiLabelBinarizer`` gives; NumPy array,
  SciPy sparse matrix, DataFrame, or nested lists of equal length that
  ``sklearn.utils.multiclass.type_of_target`` calls ``"multilabel-indicator"``). The labels are
  the column indices ``0 … L−1``; ``predict`` returns an indicator array ``(n, L)`` of ints.
* **label lists**: one list (tuple, set) of labels per example, of any hashable kind
  (``[["joy", "love"], [], ["anger"]]``). The labels are the sorted distinct labels; ``predict``
  returns a list of tuples of labels (``MultiLabelBinarizer.inverse_transform``'s form).

An example may have no label (an empty list, an all-zero row). A label that never occurs in
the training targets (an all-zero indicator column) is kept as a column with a warning; it is
never predicted. Bad targets raise ``ValueError`` naming ``y``: a 2-D matrix with values other
than 0/1, rows of different lengths that read as neither, a label list that repeats a label
(a ragged indicator row, most likely), and targets in which no example has any label.

Decisions: ``proba >= threshold`` per label (``threshold`` a number or one per label, in
[0, 1]); ``min_labels = m`` gives a row with fewer than ``m`` labels above threshold its ``m``
most probable labels (``0``: a row may get no label). :func:`best_thresholds` picks, per label,
the threshold with the highest F1 on held-out data.
"""
from __future__ import annotations

import numpy as np

__all__ = ["MULTICLASS", "INDICATOR", "SEQUENCES", "is_multilabel_target", "encode_multilabel",
           "encode_like", "decode_multilabel", "check_threshold", "best_thresholds", "decide",
           "top_k_indices", "pos_weight_vector", "check_min_labels"]

from seqcnn.data.targets import (INDICATOR, MULTICLASS, SEQUENCES, decode_multilabel, encode_like,  # noqa: F401
                                  encode_multilabel, is_multilabel_target)


def check_threshold(threshold, n_labels: int, *, allow_auto: bool = True):
    """``threshold`` → ``"auto"`` or a float array ``(L,)`` in [0, 1]; ``ValueError`` otherwise."""
    if isinstance(threshold, str):
        if threshold == "auto" and allow_auto:
            return "auto"
        raise ValueError(f"threshold must be a number in [0, 1], one per label, or 'auto', got {threshold!r}")
    if isinstance(threshold, bool) or threshold is None:
        raise ValueError(f"threshold must be a number in [0, 1], one per label, or 'auto', got {threshold!r}")
    try:
        t = np.asarray(threshold, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number in [0, 1], one per label, or 'auto', got {threshold!r}") from None
    if t.ndim == 0:
        t = np.full(n_labels, float(t))
    if t.shape != (n_labels,):
        raise ValueError(f"threshold has {t.size} values but the model has {n_labels} labels")
    if not np.all(np.isfinite(t)) or t.min() < 0 or t.max() > 1:
        raise ValueError(f"threshold values must be in [0, 1], got {t.min() if t.size else t!r} .. "
                         f"{t.max() if t.size else t!r}")
    return t


def check_min_labels(min_labels, n_labels: int) -> int:
    if isinstance(min_labels, bool) or not isinstance(min_labels, (int, np.integer)) or not 0 <= min_labels <= n_labels:
        raise ValueError(f"min_labels must be an integer in [0, {n_labels}] (the number of labels), got {min_labels!r}")
    return int(min_labels)


def best_thresholds(Y: np.ndarray, P: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per label, the threshold in (0, 1] with the highest F1 of ``P >= t`` against ``Y``
    (both ``(n, L)``): the midpoint between the k-th and (k+1)-th highest probability for the
    best k. A label without a positive example in ``Y`` gets ``default``."""
    Y, P = np.asarray(Y) > 0.5, np.asarray(P, dtype=np.float64)
    out = np.full(Y.shape[1], float(default))
    for j in range(Y.shape[1]):
        pos = int(Y[:, j].sum())
        if pos == 0:
            continue
        order = np.argsort(-P[:, j], kind="stable")
        p, y = P[order, j], Y[order, j]
        tp = np.cumsum(y)
        k = np.arange(1, len(p) + 1)
        f1 = 2 * tp / (k + pos)
        # only cut between distinct probabilities, and never below a probability of 0
        # (a threshold is > 0, so rows at exactly 0 are never predicted)
        valid = np.r_[p[:-1] > p[1:], True] & (p > 0)
        if not valid.any():
            continue
        best = int(np.argmax(np.where(valid, f1, -1.0)))
        lo = p[best + 1] if best + 1 < len(p) else 0.0
        t = (p[best] + lo) / 2
        out[j] = float(t if lo < t <= p[best] else p[best])
    return out


def decide(P: np.ndarray, threshold: np.ndarray, min_labels: int = 0, seen=None) -> np.ndarray:
    """``P >= threshold`` per label (labels with ``seen`` False never), then each row with
    fewer than ``min_labels`` labels gets its ``min_labels`` most probable (seen) labels."""
    P = np.asarray(P, dtype=np.float64)
    if seen is not None:
        P = np.where(np.asarray(seen, dtype=bool)[None, :], P, -1.0)
    D = P >= np.asarray(threshold)[None, :]
    if min_labels > 0 and len(P):
        short = D.sum(axis=1) < min_labels
        if short.any():
            top = top_k_indices(P[short], min_labels)
            rows = np.flatnonzero(short)
            D[rows[:, None], top] = True
            D &= P >= 0  # a never-seen label stays off
    return D


def top_k_indices(P: np.ndarray, k: int) -> np.ndarray:
    """Column indices ``(n, k)`` of the ``k`` largest values per row, largest first (ties: lower index)."""
    return np.argsort(-np.asarray(P), axis=1, kind="stable")[:, :k]


def pos_weight_vector(spec, Y: np.ndarray, classes=None):
    """``pos_weight`` → float32 array ``(L,)`` or None: ``None``; ``"balanced"`` (negatives /
    positives per label, as ``torch.nn.BCEWithLogitsLoss`` suggests; 1 for a label without
    positives); an array of L positive numbers; or a dict label → weight (others 1)."""
    if spec is None:
        return None
    L = Y.shape[1]
    if isinstance(spec, str):
        if spec != "balanced":
            raise ValueError(f"pos_weight must be None, 'balanced', one positive number per label or a dict, "
                             f"got {spec!r}")
        pos = Y.sum(axis=0).astype(np.float64)
        w = np.where(pos > 0, (len(Y) - pos) / np.maximum(pos, 1), 1.0)
        return np.maximum(w, 1e-6).astype(np.float32)
    if isinstance(spec, dict):
        lookup = [c.item() if isinstance(c, np.generic) else c for c in (classes if classes is not None else range(L))]
        w = np.ones(L)
        for lab, v in spec.items():
            if lab not in lookup:
                raise ValueError(f"pos_weight names label {lab!r}, which is not among the labels")
            w[lookup.index(lab)] = v
    else:
        try:
            w = np.asarray(spec, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"pos_weight must be None, 'balanced', one positive number per label or a dict, "
                             f"got {spec!r}") from None
        if w.ndim == 0:
            w = np.full(L, float(w))
    if w.shape != (L,) or not np.all(np.isfinite(w)) or w.min() <= 0:
        raise ValueError(f"pos_weight must hold {L} finite positive numbers (one per label), got {spec!r:.80}")
    return w.astype(np.float32)
