"""Input checks shared by every reader and by the baselines.

Array/collection validators (``X`` as strings or series, ``y`` as labels, positive integers) raise a
``ValueError`` or ``TypeError`` that names the argument (``X``, ``y``) and what was wrong.

The ONE label check of every file reader is :func:`check_label` (+ :func:`check_text` and
:func:`check_label_kinds`): a missing, empty, ``None`` or ``NaN`` label, or a record with a
label and no text, is a :class:`~seqcnn.data.errors.DataError` naming the file and line, unless
the caller passes ``allow_empty_text=True`` (empty texts only; a label is never optional in a
labelled file). Labels of one file must be all strings or all numbers (or all booleans), so that
``sorted()``/``np.unique`` never meets ``None`` next to ``'pos'`` or ``1`` next to ``'a'``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import DataError

__all__ = ["check_strings", "check_series", "check_labels", "check_positive_int", "is_string_input",
           "check_label", "check_text", "check_label_kinds"]


def _issparse(X) -> bool:
    import scipy.sparse as sp  # lazily: importing seqcnn.data stays light

    return sp.issparse(X)


def is_string_input(X) -> bool:
    """True when ``X`` looks like a collection of raw strings (list/tuple/1-D array of ``str``)."""
    if isinstance(X, str) or _issparse(X):
        return False
    if isinstance(X, np.ndarray):
        return X.ndim == 1 and (X.dtype.kind in "US" or (X.dtype == object and X.size > 0 and isinstance(X.flat[0], str)))
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and isinstance(X[0], str)
    return False


def check_strings(X, name: str = "X") -> list[str]:
    """Return ``X`` as a list of ``str``; raise ``TypeError`` naming ``name`` otherwise."""
    if isinstance(X, str):
        raise TypeError(f"{name} must be a list of strings, got a single string; wrap it in a list")
    if isinstance(X, np.ndarray):
        if X.ndim != 1:
            raise ValueError(f"{name} must be a 1-D collection of strings, got an array of shape {X.shape}")
        X = X.tolist()
    try:
        out = list(X)
    except TypeError as exc:
        raise TypeError(f"{name} must be a list of strings, got {type(X).__name__}") from exc
    for i, s in enumerate(out):
        if not isinstance(s, str):
            raise TypeError(f"{name} must contain only strings; {name}[{i}] is {type(s).__name__}")
    if len(out) == 0:
        raise ValueError(f"{name} is empty: at least one string is required")
    return out


def check_series(X, name: str = "X", *, dtype=np.float64) -> list[np.ndarray]:
    """Return raw series as a list of ``(C, L_i)`` float arrays.

    Accepts an array ``(N, L)`` (univariate) or ``(N, C, L)``, or a list of ``(L_i,)`` or
    ``(C, L_i)`` arrays (ragged lengths allowed; the number of channels must agree).
    NaN or infinite values raise ``ValueError`` naming ``name``.
    """
    if _issparse(X):
        raise TypeError(f"{name} must be a dense array or a list of arrays, got a sparse matrix")
    if not isinstance(X, (np.ndarray, list, tuple)) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} must be real-valued")
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim in (2, 3) and X.shape[-1] == 0:
            raise ValueError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if X.ndim == 2:
            items = [row[None, :] for row in X]
        elif X.ndim == 3:
            items = list(X)
        else:
            raise ValueError(f"{name} must have shape (N, L) or (N, C, L), got shape {X.shape}. Reshape your data: "
                             "X.reshape(1, -1) for a single series, X.reshape(-1, 1) is not a series")
    else:
        try:
            items = list(X)
        except TypeError as exc:
            raise TypeError(f"{name} must be an array (N, L)/(N, C, L) or a list of series, got {type(X).__name__}") from exc
    if len(items) == 0:
        raise ValueError(f"{name} is empty: at least one series is required")
    out = []
    n_channels = None
    for i, s in enumerate(items):
        if isinstance(s, str):
            raise TypeError(f"{name}[{i}] is a string; a series must be numeric")
        try:
            a = np.asarray(s, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name}[{i}] is not numeric: {exc}") from exc
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2:
            raise ValueError(f"{name}[{i}] must have shape (L,) or (C, L), got shape {a.shape}")
        if a.shape[1] == 0:
            raise ValueError(f"{name}[{i}] is an empty series (length 0)")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}[{i}] contains NaN or infinite values; impute or drop them first")
        if n_channels is None:
            n_channels = a.shape[0]
        elif a.shape[0] != n_channels:
            raise ValueError(f"{name}[{i}] has {a.shape[0]} channels but {name}[0] has {n_channels}")
        out.append(a)
    return out


def check_labels(y, n_samples: int, name: str = "y") -> np.ndarray:
    """Labels as a 1-D array with as many entries as ``X``; multi-output is refused."""
    if y is None:
        raise ValueError(f"this classifier requires y to be passed, but the target {name} is None")
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        from sklearn.utils.validation import column_or_1d

        y_arr = column_or_1d(y_arr, warn=True)
    if y_arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y_arr.shape}")
    if y_arr.shape[0] != n_samples:
        raise ValueError(f"X and {name} have inconsistent lengths: {n_samples} samples in X, {y_arr.shape[0]} labels in {name}")
    from sklearn.utils.multiclass import check_classification_targets

    check_classification_targets(y_arr)
    return y_arr


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# The label check of every file reader
# ---------------------------------------------------------------------------------------------
def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float) or isinstance(value, np.floating):
        return math.isnan(value)
    return False


def _one_label(value, path, line, where: str):
    if _is_missing(value):
        shown = "empty" if isinstance(value, str) else ("NaN" if value is not None else "missing")
        raise DataError(f"the label{where} is {shown}; every record needs a label", path, line)
    if isinstance(value, (dict, list, tuple)):
        raise DataError(f"the label{where} is a {type(value).__name__} ({value!r:.60}); labels must be "
                        f"strings or numbers", path, line)
    if isinstance(value, float) and math.isinf(value):
        raise DataError(f"the label{where} is {value!r}, not a class", path, line)
    if not isinstance(value, (str, numbers.Number)):
        raise DataError(f"the label{where} has type {type(value).__name__}; labels must be strings or numbers",
                        path, line)
    return value


def check_label(value, *, path=None, line=None, multilabel: bool = False, column: str | None = None):
    """One record's label, checked: returned as given (a list of labels when ``multilabel``).

    A ``None``/missing, empty or whitespace-only, or ``NaN`` label is a :class:`DataError` naming
    ``path`` and ``line``. With ``multilabel=True`` a list/tuple is a set of labels (each checked;
    an empty list means "none of the labels" and is kept) and a single value becomes a one-element
    list; without it a list is an error that suggests ``multilabel=True``.
    """
    where = f" (column {column!r})" if column is not None else ""
    if multilabel:
        if isinstance(value, (list, tuple)):
            return [_one_label(v, path, line, where) for v in value]
        return [_one_label(value, path, line, where)]
    if isinstance(value, (list, tuple)):
        raise DataError(f"the label{where} is a list of {len(value)} labels {list(value)!r:.80}; pass "
                        f"multilabel=True to read several labels per record", path, line)
    return _one_label(value, path, line, where)


def check_text(value, *, path=None, line=None, allow_empty_text: bool = False, label=None,
               column: str | None = None) -> str:
    """One record's text: a string (numbers are turned into their decimal text). ``None`` is a
    :class:`DataError`; an empty or whitespace-only text is one too unless ``allow_empty_text``."""
    where = f" (column {column!r})" if column is not None else ""
    if value is None:
        raise DataError(f"the text{where} is missing (null)", path, line)
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Number)):
        raise DataError(f"the text{where} is a {type(value).__name__}, expected a string", path, line)
    text = value if isinstance(value, str) else str(value)
    if not allow_empty_text and text.strip() == "":
        has = f"has a label ({label!r:.40}) but no text" if label is not None else "has no text"
        raise DataError(f"the record {has}{where}; is the text or the label missing? "
                        f"(allow_empty_text=True keeps empty texts)", path, line)
    return text


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, numbers.Number):
        return "a number"
    return "a string"


def check_label_kinds(labels, lines=None, *, path=None) -> None:
    """All labels (or, for multi-label lists, all their members) must be of one kind — strings,
    numbers or booleans — so that they sort. The first record of another kind is a
    :class:`DataError` naming its line (``lines[i]`` is record ``i``'s line, when given)."""
    first_kind = first_at = first_value = None
    for i, lab in enumerate(labels):
        for v in (lab if isinstance(lab, list) else [lab]):
            k = _kind(v)
            if first_kind is None:
                first_kind, first_at, first_value = k, i, v
            elif k != first_kind:
                where = f"line {lines[first_at]}" if lines is not None and lines[first_at] is not None \
                    else f"record {first_at + 1}"
                raise DataError(f"the label {v!r:.40} is {k} but the label {first_value!r:.40} ({where}) is "
                                f"{first_kind}; all labels of a file must be of one kind", path,
                                None if lines is None else lines[i])
