"""Time-series input: file readers, validation, padding with masks, and normalisation.

Readers
    :func:`read_ts` reads the sktime/aeon ``.ts`` text format (the format of the UEA/UCR
    archives in ``../shared/data/signals``); :func:`read_ucr_tsv` reads the UCR 2018 ``.tsv``
    files (label first, tab-separated, unequal-length sets padded with ``NaN``).

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

import math
from numbers import Integral
from pathlib import Path

import numpy as np

__all__ = [
    "read_ts",
    "read_ucr_tsv",
    "to_padded",
    "znorm_series",
    "dataset_stats",
    "apply_dataset_stats",
]

_MISSING_TOKENS = {"?", "nan", "NaN", "NAN", "Nan"}


def _read_text(path) -> str:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path={str(path)!r}: no such file")
    if path.is_dir():
        raise ValueError(f"path={str(path)!r} is a directory, expected a file")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _lines(text: str):
    """(line number, stripped line) — split on ``\\n`` only: Latin-1 text may hold U+0085,
    which ``str.splitlines`` would treat as a line break."""
    for i, line in enumerate(text.split("\n"), start=1):
        yield i, line.strip().rstrip("\r").strip()


def _parse_bool(value: str, tag: str, lineno: int, path) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise ValueError(f"{path}: line {lineno}: {tag} expects true or false, got {value!r}")


def _parse_value(tok: str, lineno: int, path, case: int, dim: int) -> float:
    tok = tok.strip()
    if tok in _MISSING_TOKENS or tok == "":
        return math.nan
    try:
        return float(tok)
    except ValueError:
        raise ValueError(
            f"{path}: line {lineno}: non-numeric value {tok!r} in case {case}, dimension {dim}"
        ) from None


def _labels_array(labels: list[str]):
    """Labels as the file writes them: integers when every label is an integer, floats when
    every label is a number, else strings."""
    n_distinct = len(set(labels))
    try:
        ints = [int(s) for s in labels]
        if len(set(ints)) == n_distinct:  # "01" and "1" stay strings: never merge two labels
            return np.asarray(ints, dtype=np.int64)
    except ValueError:
        pass
    try:
        floats = [float(s) for s in labels]
        if all(math.isfinite(f) for f in floats) and len(set(floats)) == n_distinct:
            return np.asarray(floats, dtype=np.float64)
    except ValueError:
        pass
    return np.asarray(labels, dtype=object).astype(str)


def _assemble(cases: list[np.ndarray]):
    lengths = {c.shape[1] for c in cases}
    if len(lengths) == 1:
        return np.stack(cases)  # (N, C, L)
    return cases


def read_ts(path):
    """Read a sktime/aeon ``.ts`` file.

    Parameters
    ----------
    path : str or Path
        The file. UTF-8 or Latin-1 (detected); ``\\r\\n`` line ends are fine.

    Returns
    -------
    X : ndarray (N, C, L) of float64 when all cases have the same length, else a list of
        (C, Lᵢ) arrays. Missing values (``?`` or ``NaN`` in the file) are ``NaN``.
    y : ndarray (N,) of the class labels — integers if every label in the file is an integer,
        floats if every label is a number, strings otherwise — or ``None`` when the file
        declares ``@classLabel false`` (and has no ``@targetLabel``).

    Raises
    ------
    ValueError
        With the line number, for a malformed file: no ``@data`` section, a header tag without
        a value, data before ``@data``, a label not declared in ``@classLabel``, a case whose
        number of dimensions differs from the others (or from ``@dimensions``/``@univariate``),
        dimensions of one case with different lengths, a case whose length contradicts
        ``@seriesLength``/``@equalLength``, a non-numeric value, or an empty file.
    """
    text = _read_text(path)
    header: dict[str, object] = {}
    declared_labels: list[str] | None = None
    has_labels = None
    target_label = False
    in_data = False
    data_line = None
    cases: list[np.ndarray] = []
    labels: list[str] = []
    lines_of_case: list[int] = []
    n_dims = None
    for lineno, line in _lines(text):
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise ValueError(
                    f"{path}: line {lineno}: data before the @data tag (every header line starts "
                    f"with '@' and the header ends with '@data')"
                )
            parts = line.split(None, 1)
            tag = parts[0].lower()
            value = parts[1].strip() if len(parts) > 1 else ""
            if tag == "@data":
                in_data = True
                data_line = lineno
                if has_labels is None and not target_label:
                    raise ValueError(
                        f"{path}: line {lineno}: @data reached without @classLabel "
                        f"(declare '@classLabel true <labels>' or '@classLabel false')"
                    )
                continue
            if tag == "@classlabel":
                toks = value.split()
                if not toks:
                    raise ValueError(f"{path}: line {lineno}: @classLabel needs true or false")
                has_labels = _parse_bool(toks[0], "@classLabel", lineno, path)
                if has_labels:
                    declared_labels = toks[1:]
                    if not declared_labels:
                        raise ValueError(
                            f"{path}: line {lineno}: @classLabel true must list the class labels"
                        )
                    if len(set(declared_labels)) != len(declared_labels):
                        raise ValueError(f"{path}: line {lineno}: @classLabel repeats a label")
                elif len(toks) > 1:
                    raise ValueError(f"{path}: line {lineno}: @classLabel false takes no labels")
                continue
            if tag == "@targetlabel":
                target_label = _parse_bool(value.split()[0] if value else "", "@targetLabel", lineno, path)
                continue
            if tag in ("@problemname",):
                header["problemName"] = value
                continue
            if tag in ("@timestamps", "@missing", "@univariate", "@equallength"):
                b = _parse_bool(value, parts[0], lineno, path)
                header[tag[1:]] = b
                if tag == "@timestamps" and b:
                    raise ValueError(
                        f"{path}: line {lineno}: @timeStamps true is not supported (time-stamped "
                        f"values '(t,v)'); export the series without time stamps"
                    )
                continue
            if tag in ("@serieslength", "@dimensions"):
                try:
                    n = int(value)
                except ValueError:
                    raise ValueError(
                        f"{path}: line {lineno}: {parts[0]} expects a positive integer, got {value!r}"
                    ) from None
                if n < 1:
                    raise ValueError(f"{path}: line {lineno}: {parts[0]} must be >= 1, got {n}")
                header[tag[1:]] = n
                continue
            # Unknown tags (e.g. @dimension names) are ignored, as aeon does.
            continue

        # ---- a case: dim1:dim2:...:label --------------------------------------------------
        fields = line.split(":")
        if has_labels or target_label:
            if len(fields) < 2:
                raise ValueError(
                    f"{path}: line {lineno}: expected 'values:label', found no ':' before a label"
                )
            label = fields[-1].strip()
            fields = fields[:-1]
            if has_labels and label not in declared_labels:
                raise ValueError(
                    f"{path}: line {lineno}: label {label!r} is not declared in @classLabel "
                    f"{declared_labels}"
                )
            labels.append(label)
        case_no = len(cases)
        if n_dims is None:
            n_dims = len(fields)
            expected = header.get("dimensions")
            if header.get("univariate") is True:
                expected = 1
            if expected is not None and n_dims != expected:
                raise ValueError(
                    f"{path}: line {lineno}: case has {n_dims} dimension(s) but the header "
                    f"declares {expected}"
                )
        elif len(fields) != n_dims:
            raise ValueError(
                f"{path}: line {lineno}: case has {len(fields)} dimension(s), earlier cases have "
                f"{n_dims}"
            )
        dims = []
        for d, field in enumerate(fields):
            toks = field.split(",")
            if field.strip() == "":
                raise ValueError(f"{path}: line {lineno}: dimension {d} of case {case_no} is empty")
            dims.append([_parse_value(t, lineno, path, case_no, d) for t in toks])
        lens = {len(v) for v in dims}
        if len(lens) != 1:
            raise ValueError(
                f"{path}: line {lineno}: the dimensions of case {case_no} have different lengths "
                f"{[len(v) for v in dims]}"
            )
        length = lens.pop()
        declared_len = header.get("serieslength")
        if header.get("equallength") is True and declared_len is not None and length != declared_len:
            raise ValueError(
                f"{path}: line {lineno}: case {case_no} has length {length} but @seriesLength is "
                f"{declared_len}"
            )
        if header.get("equallength") is True and cases and length != cases[0].shape[1]:
            raise ValueError(
                f"{path}: line {lineno}: case {case_no} has length {length} but @equalLength is "
                f"true and earlier cases have length {cases[0].shape[1]}"
            )
        cases.append(np.asarray(dims, dtype=np.float64))
        lines_of_case.append(lineno)

    if not in_data:
        raise ValueError(f"{path}: no @data tag found (the header must end with '@data')")
    if not cases:
        raise ValueError(f"{path}: line {data_line}: @data section holds no cases")
    X = _assemble(cases)
    if target_label and not has_labels:
        try:
            y = np.asarray([float(s) for s in labels], dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"{path}: non-numeric @targetLabel value: {exc}") from None
    elif has_labels:
        y = _labels_array(labels)
    else:
        y = None
    return X, y


def read_ucr_tsv(path):
    """Read a UCR 2018 archive ``.tsv`` file: one case per line, the class label first, then
    the values, separated by tabs (commas are accepted too). Unequal-length sets in that
    archive are right-padded with ``NaN``; those trailing ``NaN`` are removed here.

    Returns
    -------
    X : ndarray (N, 1, L) when every case has the same length after trimming, else a list of
        (1, Lᵢ) arrays; ``NaN`` inside a series (a missing value) is kept.
    y : ndarray (N,), integers when every label is an integer, else floats or strings.
    """
    text = _read_text(path)
    cases, labels = [], []
    for lineno, line in _lines(text):
        if not line:
            continue
        sep = "\t" if "\t" in line else ","
        toks = line.split(sep)
        if len(toks) < 2:
            raise ValueError(f"{path}: line {lineno}: expected a label and at least one value")
        label = toks[0].strip()
        vals = []
        for t in toks[1:]:
            t = t.strip()
            if t in _MISSING_TOKENS or t == "":
                vals.append(math.nan)
                continue
            try:
                vals.append(float(t))
            except ValueError:
                raise ValueError(f"{path}: line {lineno}: non-numeric value {t!r}") from None
        v = np.asarray(vals, dtype=np.float64)
        valid = np.flatnonzero(~np.isnan(v))
        if valid.size == 0:
            raise ValueError(f"{path}: line {lineno}: the series holds no values (all NaN)")
        cases.append(v[: valid[-1] + 1][None, :])
        labels.append(label)
    if not cases:
        raise ValueError(f"{path}: the file holds no cases")
    return _assemble(cases), _labels_array(labels)


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
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover
        return False
    return sp.issparse(x)


def _interpolate_channel(v: np.ndarray) -> np.ndarray:
    nan = np.isnan(v)
    if not nan.any():
        return v
    if nan.all():
        return np.zeros_like(v)
    idx = np.arange(v.size)
    out = v.copy()
    # np.interp holds the first/last valid value beyond the ends: edge filling.
    out[nan] = np.interp(idx[nan], idx[~nan], v[~nan])
    return out


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
    cases: list[np.ndarray] | None = None
    arr = None
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim in (2, 3):
        try:  # an object array of numbers (e.g. from pandas): convert as a whole
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers: {exc} (argument must be a string or a number)") from None
    if isinstance(X, np.ndarray) and X.dtype != object:
        arr = X
    elif hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        arr = np.asarray(X)
        if arr.dtype == object:
            arr = None
            X = list(X)
    if arr is not None:
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
    else:
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
        chans = {c.shape[0] for c in cases}
        if len(chans) != 1:
            first = cases[0].shape[0]
            bad = next(i for i, c in enumerate(cases) if c.shape[0] != first)
            raise ValueError(
                f"{name}[{bad}] has {cases[bad].shape[0]} channel(s) but {name}[0] has {first}; "
                f"all series need the same number of channels"
            )

    if arr is not None:
        n, c, L = arr.shape
    else:
        n, c, L = len(cases), cases[0].shape[0], max(cc.shape[1] for cc in cases)
    if n_channels is not None and c != n_channels:
        raise ValueError(
            f"{name} has {c} channel(s) per series but the model was fitted on {n_channels}"
        )

    values = np.zeros((n, c, L), dtype=np.float32)
    lengths = np.zeros(n, dtype=np.int64)
    for i in range(n):
        s = arr[i] if arr is not None else cases[i]  # (C, Li)
        if np.isinf(s).any():
            raise ValueError(f"{name}[{i}] contains inf; series must be finite")
        nan = np.isnan(s)
        if nan.any():
            step_all_nan = nan.all(axis=0)
            valid_steps = np.flatnonzero(~step_all_nan)
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
        li = s.shape[1]
        values[i, :, :li] = s
        lengths[i] = li
    if (lengths == L).all():
        return values, None, lengths
    mask = np.arange(L)[None, :] < lengths[:, None]
    return values, mask, lengths


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
