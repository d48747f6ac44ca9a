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

import warnings

import numpy as np

__all__ = ["MULTICLASS", "INDICATOR", "SEQUENCES", "is_multilabel_target", "encode_multilabel",
           "encode_like", "decode_multilabel", "check_threshold", "best_thresholds", "decide",
           "top_k_indices", "pos_weight_vector", "check_min_labels"]

MULTICLASS = "multiclass"                # one label per example (binary or multiclass)
INDICATOR = "multilabel-indicator"       # a binary matrix (n, L)
SEQUENCES = "multilabel-sequences"       # a list of label lists

_SEQ = (list, tuple, set, frozenset)


def _as_dense(y):
    """Sparse matrices and DataFrames → ndarray; anything else as given."""
    if hasattr(y, "toarray") and hasattr(y, "nnz"):
        return np.asarray(y.toarray())
    if hasattr(y, "iloc") and hasattr(y, "columns"):
        return y.to_numpy()
    return y


def is_multilabel_target(y) -> bool:
    """Whether ``y`` is multi-label (a 2-D matrix with more than one column, or a sequence of
    label sequences). A column vector ``(n, 1)`` is single-label, as in scikit-learn."""
    y = _as_dense(y)
    if isinstance(y, np.ndarray):
        if y.ndim == 2:
            return y.shape[1] > 1
        return y.ndim == 1 and y.dtype == object and len(y) > 0 and all(isinstance(v, _SEQ) for v in y)
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or len(y) == 0:
        return False
    try:
        rows = list(y)
    except TypeError:
        return False
    return all(isinstance(v, _SEQ) for v in rows)


def _check_indicator(Y) -> np.ndarray:
    if Y.ndim != 2:
        raise ValueError(f"y: expected a 2-D indicator matrix, got an array of shape {Y.shape}")
    if Y.dtype.kind not in "biuf":
        raise ValueError(f"y is a 2-D matrix of {Y.dtype} values; a multi-label indicator holds 0 and 1")
    if Y.dtype.kind == "f" and not np.all(np.isfinite(Y)):
        raise ValueError("y contains NaN or infinity")
    values = np.unique(Y)
    if not np.all(np.isin(values, (0, 1))):
        shown = ", ".join(str(v) for v in values[:6])
        raise ValueError(f"y is a 2-D matrix but not a binary indicator: its values are {{{shown}"
                         f"{', ...' if len(values) > 6 else ''}}}, expected only 0 and 1 (one column per label)")
    return Y.astype(np.float32)


def _rows(y, n_samples) -> list:
    rows = list(y)
    if len(rows) != n_samples:
        raise ValueError(f"X and y have inconsistent numbers of samples: X has {n_samples}, y has {len(rows)}")
    return rows


def _check_lists(rows) -> None:
    for i, r in enumerate(rows):
        if not isinstance(r, _SEQ):
            raise ValueError(f"y[{i}] is {type(r).__name__} {r!r:.40}: multi-label targets given as label lists "
                             f"need one list (or tuple/set) of labels per example")
        items = list(r)
        for lab in items:
            if lab is None or (isinstance(lab, float) and not np.isfinite(lab)) or isinstance(lab, _SEQ):
                raise ValueError(f"y[{i}] holds the label {lab!r}: labels must be hashable values (str, int), "
                                 f"not None, NaN or lists")
        if len(set(items)) != len(items):
            raise ValueError(f"y[{i}] = {list(items)!r:.60} repeats a label: a label list names each label once "
                             f"(is this a row of an indicator matrix of unequal length?)")


def _sorted_labels(rows) -> np.ndarray:
    seen = {lab for r in rows for lab in r}
    kinds = {"str" if isinstance(lab, str) else "num" if isinstance(lab, (int, float, np.number)) else
             type(lab).__name__ for lab in seen}
    if len(kinds) > 1:
        raise ValueError(f"y mixes label kinds ({', '.join(sorted(kinds))}); use one kind of label")
    labels = sorted(seen)
    if labels and all(isinstance(v, str) for v in labels):
        return np.array(labels, dtype=object)
    return np.array(labels)


def encode_multilabel(y, n_samples: int):
    """``y`` → ``(kind, classes, Y)``: ``kind`` is :data:`INDICATOR` or :data:`SEQUENCES`,
    ``classes`` the labels (column order), ``Y`` a float32 indicator ``(n, L)``. Warns about
    labels without a positive example; ``ValueError`` for bad targets (module docstring)."""
    y = _as_dense(y)
    if isinstance(y, np.ndarray) and y.ndim == 2:
        kind, Y = INDICATOR, _check_indicator(y)
        if len(Y) != n_samples:
            raise ValueError(f"X and y have inconsistent numbers of samples: X has {n_samples}, y has {len(Y)}")
        classes = np.arange(Y.shape[1])
    else:
        rows = _rows(y, n_samples)
        lengths = {len(r) for r in rows if isinstance(r, (list, tuple))}
        flat = [v for r in rows if isinstance(r, (list, tuple)) for v in r]
        if (len(lengths) == 1 and min(lengths) > 1 and flat and len(rows) == sum(isinstance(r, (list, tuple)) for r in rows)
                and all(isinstance(v, (int, np.integer, bool, np.bool_)) and v in (0, 1) for v in flat)):
            return encode_multilabel(np.asarray(rows), n_samples)  # nested 0/1 lists: an indicator
        _check_lists(rows)
        kind, classes = SEQUENCES, _sorted_labels(rows)
        Y = encode_like(SEQUENCES, classes, rows, "y")
    if Y.shape[1] == 0 or not Y.any():
        raise ValueError("y has no label at all: every example's label list is empty (all-zero indicator); "
                         "a multi-label classifier needs positive examples")
    missing = np.flatnonzero(Y.sum(axis=0) == 0)
    if len(missing):
        names = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in classes[missing][:8])
        warnings.warn(f"y: {len(missing)} label(s) never occur in the training targets ({names}"
                      f"{', ...' if len(missing) > 8 else ''}); their columns are kept and never predicted",
                      UserWarning, stacklevel=3)
    return kind, classes, Y


def encode_like(kind: str, classes, y, what: str = "y_val") -> np.ndarray:
    """Targets ``y`` of the same form as the fitted ones → float32 indicator over ``classes``;
    ``ValueError`` naming ``what`` for another form, another width or unknown labels."""
    L = len(classes)
    y = _as_dense(y)
    if kind == INDICATOR:
        Y = np.asarray(y)
        if Y.ndim != 2 or Y.shape[1] != L:
            raise ValueError(f"{what}: expected an indicator matrix with {L} columns like the training targets, "
                             f"got shape {Y.shape}")
        return _check_indicator(Y)
    rows = list(y)
    _check_lists(rows)
    index = {(c.item() if isinstance(c, np.generic) else c): j for j, c in enumerate(classes)}
    Y = np.zeros((len(rows), L), dtype=np.float32)
    unknown = set()
    for i, r in enumerate(rows):
        for lab in r:
            key = lab.item() if isinstance(lab, np.generic) else lab
            j = index.get(key)
            if j is None:
                unknown.add(key)
            else:
                Y[i, j] = 1.0
    if unknown:
        shown = sorted(map(str, unknown))[:5]
        raise ValueError(f"{what} has labels not in the training targets: {shown}")
    return Y


def decode_multilabel(kind: str, classes, Yhat: np.ndarray):
    """A 0/1 decision matrix → the fitted target form (indicator ints, or list of label tuples)."""
    Yhat = np.asarray(Yhat).astype(bool)
    if kind == INDICATOR:
        return Yhat.astype(np.int64)
    return [tuple(classes[row].tolist()) for row in Yhat]


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
    """Per label, the threshold in (0, 1) with the highest F1 of ``P >= t`` against ``Y``
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
        # only cut between distinct probabilities
        valid = np.r_[p[:-1] > p[1:], True]
        f1 = np.where(valid, f1, -1.0)
        best = int(np.argmax(f1))
        lo = p[best + 1] if best + 1 < len(p) else 0.0
        out[j] = float(np.clip((p[best] + lo) / 2, 1e-6, 1.0))
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
