"""Input checks shared by the baselines: raw strings, raw series, labels.

Every error is a ``ValueError`` or ``TypeError`` that names the argument (``X``, ``y``) and what
was wrong, as the rest of seqcnn does.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["check_strings", "check_series", "check_labels", "check_positive_int", "is_string_input"]


def is_string_input(X) -> bool:
    """True when ``X`` looks like a collection of raw strings (list/tuple/1-D array of ``str``)."""
    if isinstance(X, str) or sp.issparse(X):
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
    if sp.issparse(X):
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
