"""Multi-label target forms (scikit-learn's conventions): detection, encoding, decoding.

* **indicator**: a binary matrix ``(n, L)`` (what ``MultiLabelBinarizer`` gives; NumPy array,
  SciPy sparse matrix, DataFrame, or nested lists of 0/1 of equal length, which
  ``sklearn.utils.multiclass.type_of_target`` calls ``"multilabel-indicator"``). The labels are
  the column indices ``0 … L−1``; predictions are an indicator array ``(n, L)`` of ints.
* **label lists**: one list (tuple, set) of labels per example, of any hashable kind
  (``[["joy", "love"], [], ["anger"]]``). The labels are the sorted distinct labels;
  predictions are a list of tuples of labels (``MultiLabelBinarizer.inverse_transform``'s form).

An example may have no label (an empty list, an all-zero row). A label that never occurs in
the training targets (an all-zero indicator column) is kept with a warning. Bad targets raise
``ValueError`` naming ``y``: a 2-D matrix with values other than 0/1, a label list that repeats
a label (a ragged indicator row, most likely), None/NaN/list labels, mixed label kinds, and
targets in which no example has any label.

Used by the CNN estimators (:mod:`seqcnn.engine.multilabel`) and the baselines alike; NumPy only.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["MULTICLASS", "INDICATOR", "SEQUENCES", "is_multilabel_target", "encode_multilabel", "encode_like",
           "decode_multilabel"]

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
    """Whether ``y`` is multi-label: a 2-D matrix with more than one column, or a sequence
    holding label sequences (any one list/tuple/set among its items: the others must then be
    label sequences too, which :func:`encode_multilabel` checks). A column vector ``(n, 1)`` is
    single-label, as in scikit-learn."""
    y = _as_dense(y)
    if isinstance(y, np.ndarray):
        if y.ndim == 2:
            return y.shape[1] > 1
        return y.ndim == 1 and y.dtype == object and len(y) > 0 and any(isinstance(v, _SEQ) for v in y)
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or len(y) == 0:
        return False
    try:
        rows = list(y)
    except TypeError:
        return False
    return any(isinstance(v, _SEQ) for v in rows)  # one list among labels: bad label lists, said so


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
