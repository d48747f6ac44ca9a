"""Time-series input: file readers, validation, padding with masks, and normalisation.

Readers
    :func:`read_ts` (the sktime/aeon ``.ts`` format) and :func:`read_ucr_tsv` (the UCR 2018
    ``.tsv`` files) live in :mod:`seqcnn.data.series`, the one data layer, and are re-exported
    here under their old names.

Input conversion
    :func:`to_padded` turns what a user passes to ``fit``/``predict`` — an array (N, L) or
    (N, C, L), or a list of ragged (C, Lᵢ)/(Lᵢ,) arrays — into one float array (N, C, L) plus a
    boolean mask (N, L) (True = a real time step) and the lengths. Trailing steps that are ``NaN``
    in every channel are padding (the UCR convention for unequal lengths); a ``NaN`` inside a
    series is a missing value that is either rejected (``missing="raise"``) or filled by linear
    interpolation (``missing="interpolate"``, edges filled with the nearest value). Nothing
    that leaves this module contains ``NaN`` or ``inf``.

Normalisation
    Per-series z-normalisation (each channel of each series to mean 0, std 1 over its valid
    steps — the UCR convention; a constant channel becomes zeros, not ``NaN``), or dataset
    standardisation with per-channel statistics learnt on the training set (and saved with the
    model).
"""
from __future__ import annotations

from numbers import Integral

import numpy as np

from seqcnn.data.series import interpolate_missing as _interpolate_channel
from seqcnn.data.series import read_ts, read_ucr_tsv

__all__ = [
    "read_ts",
    "read_ucr_tsv",
    "to_padded",
    "znorm_series",
    "dataset_stats",
    "apply_dataset_stats",
]

# --------------------------------------------------------------------------------------------
# Input conversion
# --------------------------------------------------------------------------------------------

def _as_float_case(item, index: int, name: str) -> np.ndarray:
    if _issparse(item):
        raise TypeError(_SPARSE_MSG.format(name=name))
    if np.iscomplexobj(item):
        raise ValueError(f"Complex data not supported: {name}[{index}] is complex")
    try:
        a = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name}[{index}] is not a numeric array ({exc}); each series must be an array (L,) "
            f"or (C, L) of numbers"
        ) from None
    if a.ndim == 1:
        a = a[None, :]
    elif a.ndim != 2:
        raise ValueError(
            f"{name}[{index}] has {a.ndim} dimensions; each series must be (L,) or (C, L)"
        )
    if a.shape[1] == 0:
        raise ValueError(f"{name}[{index}] is an empty series (length 0)")
    return a


_SPARSE_MSG = ("Sparse data was passed for {name}, but dense data is required: sparse input is not "
               "supported (use .toarray() to convert to a dense array (N, L) or (N, C, L))")


def _issparse(x) -> bool:
    import scipy.sparse as sp  # a scikit-learn dependency, always present

    return sp.issparse(x)


def to_padded(X, *, missing="raise", name="X", n_channels=None):
    """Validate series input and pad it to one array with a mask.

    Parameters
    ----------
    X : array (N, L) or (N, C, L), or a list of (C, Lᵢ)/(Lᵢ,) arrays (ragged lengths allowed).
        Trailing steps that are ``NaN`` in every channel count as padding (unequal lengths
        written the UCR way).
    missing : "raise" or "interpolate"
        What to do with a ``NaN`` inside a series.
    name : str
        The argument's name used in error messages.
    n_channels : int or None
        When given (at predict time), the number of channels the model was fitted on.

    Returns
    -------
    values : float32 ndarray (N, C, L) with zeros at padded steps, no NaN/inf.
    mask : bool ndarray (N, L), True at real time steps, or ``None`` when every series has the
        full length L.
    lengths : int64 ndarray (N,).
    """
    if missing not in ("raise", "interpolate"):
        raise ValueError(f"missing must be 'raise' or 'interpolate', got {missing!r}")
    if X is None:
        raise ValueError(f"{name} is None; expected an array (N, L), (N, C, L) or a list of series")
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be an array or a list of series, got a string")
    if _issparse(X):
        raise TypeError(_SPARSE_MSG.format(name=name))
    arr, X = _as_numeric_array(X, name)
    if arr is not None:
        series = _check_array(arr, X, name)  # (N, C, L) float64
        n, c, L = series.shape
    else:
        series = _as_cases(X, name)  # list of (C, Li)
        n, c, L = len(series), series[0].shape[0], max(cc.shape[1] for cc in series)
    if n_channels is not None and c != n_channels:
        raise ValueError(
            f"{name} has {c} channel(s) per series but the model was fitted on {n_channels}"
        )
    values = np.zeros((n, c, L), dtype=np.float32)
    lengths = np.zeros(n, dtype=np.int64)
    for i in range(n):
        s = _clean_case(series[i], i, name, missing)  # (C, Li)
        li = s.shape[1]
        values[i, :, :li] = s
        lengths[i] = li
    if (lengths == L).all():
        return values, None, lengths
    mask = np.arange(L)[None, :] < lengths[:, None]
    return values, mask, lengths


def _as_numeric_array(X, name):
    """``(array, X)``: ``X`` as a non-object ndarray when it is one (an object array of numbers is
    converted as a whole), else ``(None, X)`` with array-likes of objects turned into a list."""
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim in (2, 3):
        try:  # an object array of numbers (e.g. from pandas): convert as a whole
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers: {exc} (argument must be a string or a number)") from None
    if isinstance(X, np.ndarray) and X.dtype != object:
        return X, X
    if hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        arr = np.asarray(X)
        if arr.dtype != object:
            return arr, X
        return None, list(X)
    return None, X


def _check_array(arr: np.ndarray, X, name) -> np.ndarray:
    """A numeric array (N, L) or (N, C, L) → float64 (N, C, L); errors name ``name`` and the shape."""
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}")
    if arr.ndim not in (2, 3):
        if arr.ndim == 1 and arr.size == 0:
            raise ValueError(f"{name} is empty (0 series)")
        if arr.ndim == 1:
            raise ValueError(
                f"{name} is a 1-D array with shape {arr.shape}; expected (N, L) or (N, C, L). "
                f"Reshape your data either using X.reshape(1, -1) for a single series or "
                f"X.reshape(-1, 1) for series of length 1"
            )
        raise ValueError(
            f"{name} has {arr.ndim} dimension(s) with shape {arr.shape}; expected (N, L) or "
            f"(N, C, L), or a list of series"
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, None, :]  # (N, L) -> (N, 1, L)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 series)")
    if arr.shape[1] == 0 or arr.shape[2] == 0:
        shown = tuple(np.shape(X))
        raise ValueError(f"{name} has 0 feature(s) (shape={shown}) while a minimum of 1 is required: "
                         f"series need at least 1 channel and 1 time step")
    return arr


def _as_cases(X, name) -> list[np.ndarray]:
    """A list of series → float (C, Li) arrays with one channel count."""
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            f"{name} must be an array (N, L)/(N, C, L) or a list of series, got "
            f"{type(X).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{name} is empty (0 series)")
    if all(np.isscalar(v) for v in items):
        raise ValueError(
            f"{name} is a single 1-D sequence of numbers; pass a list of series or an "
            f"array (N, L) (use [x] for one series)"
        )
    cases = [_as_float_case(item, i, name) for i, item in enumerate(items)]
    first = cases[0].shape[0]
    bad = next((i for i, c in enumerate(cases) if c.shape[0] != first), None)
    if bad is not None:
        raise ValueError(
            f"{name}[{bad}] has {cases[bad].shape[0]} channel(s) but {name}[0] has {first}; "
            f"all series need the same number of channels"
        )
    return cases


def _clean_case(s: np.ndarray, i: int, name, missing) -> np.ndarray:
    """Series ``i`` (C, Li): inf refused, trailing all-NaN steps cut (padding), inner NaN refused
    or interpolated (``missing``)."""
    if np.isinf(s).any():
        raise ValueError(f"{name}[{i}] contains inf; series must be finite")
    nan = np.isnan(s)
    if not nan.any():
        return s
    valid_steps = np.flatnonzero(~nan.all(axis=0))
    if valid_steps.size == 0:
        raise ValueError(f"{name}[{i}] holds no values (every step is NaN)")
    s = s[:, : valid_steps[-1] + 1]  # trailing all-NaN steps are padding
    nan = np.isnan(s)
    if nan.any():
        if missing == "raise":
            ch, t = np.argwhere(nan)[0]
            raise ValueError(
                f"{name}[{i}] contains NaN inside the series (channel {ch}, step {t}); "
                f"pass missing='interpolate' to fill missing values by linear "
                f"interpolation"
            )
        s = np.stack([_interpolate_channel(row) for row in s])
    return s


# --------------------------------------------------------------------------------------------
# Normalisation (over valid steps only)
# --------------------------------------------------------------------------------------------

def _valid(values: np.ndarray, mask):
    if mask is None:
        return np.ones((values.shape[0], values.shape[2]), dtype=bool)
    return mask


def znorm_series(values: np.ndarray, mask=None, eps: float = 1e-8) -> np.ndarray:
    """Z-normalise each channel of each series over its valid steps: (N, C, L) -> (N, C, L).
    A channel with zero variance becomes zeros (not ``NaN``); padded steps stay zero."""
    m = _valid(values, mask)[:, None, :].astype(np.float64)  # (N, 1, L)
    cnt = np.maximum(m.sum(axis=2, keepdims=True), 1.0)
    v = values.astype(np.float64)
    mean = (v * m).sum(axis=2, keepdims=True) / cnt
    var = (((v - mean) * m) ** 2).sum(axis=2, keepdims=True) / cnt
    std = np.sqrt(var)
    out = np.where(std > eps, (v - mean) / np.where(std > eps, std, 1.0), 0.0) * m
    return out.astype(np.float32)


def dataset_stats(values: np.ndarray, mask=None):
    """Per-channel mean and std over every valid step of the training set: two lists of C
    floats (std 0 is stored as 1)."""
    m = _valid(values, mask)[:, None, :].astype(np.float64)
    v = values.astype(np.float64)
    cnt = max(float(m.sum()), 1.0)
    mean = (v * m).sum(axis=(0, 2)) / cnt
    var = (((v - mean[None, :, None]) * m) ** 2).sum(axis=(0, 2)) / cnt
    std = np.sqrt(var)
    std = np.where(std > 1e-8, std, 1.0)
    return [float(x) for x in mean], [float(x) for x in std]


def apply_dataset_stats(values: np.ndarray, mask, mean, std) -> np.ndarray:
    """Standardise with saved per-channel statistics; padded steps stay zero."""
    m = _valid(values, mask)[:, None, :]
    mean = np.asarray(mean, dtype=np.float64)[None, :, None]
    std = np.asarray(std, dtype=np.float64)[None, :, None]
    out = (values.astype(np.float64) - mean) / std
    return (out * m).astype(np.float32)


def check_int(value, name, minimum=1):
    """Small shared validator: an int >= minimum (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
