"""Readers for time series → ``(X, y)``.

* :func:`read_ts` — the sktime/aeon ``.ts`` format (UEA/UCR archives).
* :func:`read_ucr_tsv` — the UCR 2018 archive's ``.tsv`` files as shipped (label first, tab
  separated; older comma- or space-separated ``.txt``/``.csv`` copies too).
* :func:`read_arff` — Weka ARFF: univariate numeric attributes plus a nominal class, or the UEA
  multivariate layout (one relational attribute whose value holds the channels).
* :func:`read_series_dataset` — picks the reader from the suffix.

``X`` is a float64 array ``(N, C, L)`` when every case has the same length, else a list of
``(C, Lᵢ)`` arrays; ``y`` holds integers when every label is an integer, floats when every
label is a number, else strings. Missing values (``NaN``, ``?``) follow one ``missing=`` policy,
the one of :func:`seqcnn.signal.to_padded` (see :func:`finish_case`). Values that are not finite
(``inf``) are refused. Every problem in a file is a :class:`~seqcnn.data.errors.DataError`
``"FILE:LINE: ..."``.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .decode import check_file, read_text_file, split_lines
from .errors import DataError

__all__ = ["read_ts", "read_ucr_tsv", "read_arff", "read_series_dataset", "finish_case", "interpolate_missing",
           "MISSING_POLICIES", "SERIES_FORMATS"]

MISSING_POLICIES = ("keep", "raise", "interpolate")

_MISSING_TOKENS = {"?", "nan", "NaN", "NAN", "Nan"}


def _lines(text: str):
    """(line number, stripped line); split on line breaks only (never on U+0085)."""
    for i, line in enumerate(split_lines(text), start=1):
        yield i, line.strip()


def _parse_bool(value: str, tag: str, lineno: int, path) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise DataError(f"{tag} expects true or false, got {value!r}", path, lineno)


def _parse_value(tok: str, lineno: int, path, case: int, dim: int) -> float:
    tok = tok.strip()
    if tok in _MISSING_TOKENS or tok == "":
        return math.nan
    try:
        v = float(tok)
    except ValueError:
        raise DataError(f"non-numeric value {tok!r:.40} in case {case}, dimension {dim}", path, lineno) from None
    if math.isinf(v):
        raise DataError(f"value {tok!r:.40} in case {case}, dimension {dim} is not finite", path, lineno)
    return v


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


def _check_missing(missing) -> None:
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")


def interpolate_missing(v: np.ndarray) -> np.ndarray:
    """Fill the ``NaN`` of a 1-D series by linear interpolation; ``NaN`` at the ends take the
    nearest value; an all-``NaN`` series becomes zeros."""
    nan = np.isnan(v)
    if not nan.any():
        return v
    if nan.all():
        return np.zeros_like(v)
    idx = np.arange(v.size)
    out = v.copy()
    out[nan] = np.interp(idx[nan], idx[~nan], v[~nan])  # holds the end values beyond the ends
    return out


def finish_case(case: np.ndarray, missing: str, path=None, line=None, *, trim: bool = True) -> np.ndarray:
    """Apply the ``missing=`` policy to one case ``(C, L)`` read from ``path`` at ``line``.

    ``trim``: steps at the end that are ``NaN`` in every channel are padding (the UCR convention
    for unequal lengths) and are removed; a case with no value at all is a :class:`DataError`.
    Then a ``NaN`` inside the series is kept (``"keep"``), refused with a :class:`DataError`
    naming the channel and step (``"raise"``), or filled by linear interpolation per channel
    (``"interpolate"``, as :func:`seqcnn.signal.to_padded` does).
    """
    nan = np.isnan(case)
    if not nan.any():
        return case
    if trim:
        valid = np.flatnonzero(~nan.all(axis=0))
        if valid.size == 0:
            raise DataError("the series holds no values (all missing)", path, line)
        case = case[:, : valid[-1] + 1]
        nan = np.isnan(case)
    if not nan.any() or missing == "keep":
        return case
    if missing == "raise":
        ch, t = (int(v) for v in np.argwhere(nan)[0])
        where = f"channel {ch}, step {t}" if case.shape[0] > 1 else f"step {t}"
        raise DataError(f"missing value (NaN) inside the series ({where}); pass missing='interpolate' to fill "
                        f"it by linear interpolation, or missing='keep'", path, line)
    return np.stack([interpolate_missing(row) for row in case])


class _TsReader:
    """The state of one ``.ts`` file being read: the header so far, then the cases."""

    def __init__(self, path, missing: str):
        self.path, self.missing = path, missing
        self.header: dict[str, object] = {}
        self.declared_labels: list[str] | None = None
        self.has_labels = None
        self.target_label = False
        self.in_data = False
        self.data_line = None
        self.cases: list[np.ndarray] = []
        self.labels: list[str] = []
        self.n_dims = None

    def error(self, message: str, lineno) -> DataError:
        return DataError(message, self.path, lineno)

    # ---- the header: one '@tag value' line at a time
    def header_line(self, line: str, lineno: int) -> None:
        if not line.startswith("@"):
            raise self.error("data before the @data tag (every header line starts with '@' and the header ends "
                             "with '@data')", lineno)
        parts = line.split(None, 1)
        tag = parts[0].lower()
        value = parts[1].strip() if len(parts) > 1 else ""
        if tag == "@data":
            self.in_data = True
            self.data_line = lineno
            if self.has_labels is None and not self.target_label:
                raise self.error("@data reached without @classLabel (declare '@classLabel true <labels>' or "
                                 "'@classLabel false')", lineno)
        elif tag == "@classlabel":
            self._class_label(value, lineno)
        elif tag == "@targetlabel":
            self.target_label = _parse_bool(value.split()[0] if value else "", "@targetLabel", lineno, self.path)
        elif tag == "@problemname":
            self.header["problemName"] = value
        elif tag in ("@timestamps", "@missing", "@univariate", "@equallength"):
            b = _parse_bool(value, parts[0], lineno, self.path)
            self.header[tag[1:]] = b
            if tag == "@timestamps" and b:
                raise self.error("@timeStamps true is not supported (time-stamped values '(t,v)'); export the "
                                 "series without time stamps", lineno)
        elif tag in ("@serieslength", "@dimensions"):
            try:
                n = int(value)
            except ValueError:
                raise self.error(f"{parts[0]} expects a positive integer, got {value!r}", lineno) from None
            if n < 1:
                raise self.error(f"{parts[0]} must be >= 1, got {n}", lineno)
            self.header[tag[1:]] = n
        # Unknown tags (e.g. @dimension names) are ignored, as aeon does.

    def _class_label(self, value: str, lineno: int) -> None:
        toks = value.split()
        if not toks:
            raise self.error("@classLabel needs true or false", lineno)
        self.has_labels = _parse_bool(toks[0], "@classLabel", lineno, self.path)
        if self.has_labels:
            self.declared_labels = toks[1:]
            if not self.declared_labels:
                raise self.error("@classLabel true must list the class labels", lineno)
            if len(set(self.declared_labels)) != len(self.declared_labels):
                raise self.error("@classLabel repeats a label", lineno)
        elif len(toks) > 1:
            raise self.error("@classLabel false takes no labels", lineno)

    # ---- the data: one case 'dim1:dim2:...:label' per line
    def case_line(self, line: str, lineno: int) -> None:
        fields = line.split(":")
        if self.has_labels or self.target_label:
            if len(fields) < 2:
                raise self.error("expected 'values:label', found no ':' before a label", lineno)
            label = fields[-1].strip()
            fields = fields[:-1]
            if self.has_labels and label not in self.declared_labels:
                raise self.error(f"label {label!r} is not declared in @classLabel {self.declared_labels}", lineno)
            self.labels.append(label)
        self._check_dimensions(len(fields), lineno)
        case_no = len(self.cases)
        dims = []
        for d, fld in enumerate(fields):
            if fld.strip() == "":
                raise self.error(f"dimension {d} of case {case_no} is empty", lineno)
            dims.append([_parse_value(t, lineno, self.path, case_no, d) for t in fld.split(",")])
        self._check_length(dims, case_no, lineno)
        self.cases.append(finish_case(np.asarray(dims, dtype=np.float64), self.missing, self.path, lineno,
                                      trim=self.missing != "keep"))

    def _check_dimensions(self, n: int, lineno: int) -> None:
        if self.n_dims is None:
            self.n_dims = n
            expected = 1 if self.header.get("univariate") is True else self.header.get("dimensions")
            if expected is not None and n != expected:
                raise self.error(f"case has {n} dimension(s) but the header declares {expected}", lineno)
        elif n != self.n_dims:
            raise self.error(f"case has {n} dimension(s), earlier cases have {self.n_dims}", lineno)

    def _check_length(self, dims: list, case_no: int, lineno: int) -> None:
        lens = {len(v) for v in dims}
        if len(lens) != 1:
            raise self.error(f"the dimensions of case {case_no} have different lengths {[len(v) for v in dims]}",
                             lineno)
        length = lens.pop()
        declared_len = self.header.get("serieslength")
        if self.header.get("equallength") is True and declared_len is not None and length != declared_len:
            raise self.error(f"case {case_no} has length {length} but @seriesLength is {declared_len}", lineno)
        if self.header.get("equallength") is True and self.cases and length != self.cases[0].shape[1]:
            raise self.error(f"case {case_no} has length {length} but @equalLength is true and earlier cases "
                             f"have length {self.cases[0].shape[1]}", lineno)

    # ---- the end of the file
    def result(self):
        if not self.in_data:
            raise DataError("no @data tag found (the header must end with '@data')", self.path)
        if not self.cases:
            raise DataError("@data section holds no cases", self.path, self.data_line)
        X = _assemble(self.cases)
        if self.target_label and not self.has_labels:
            try:
                y = np.asarray([float(s) for s in self.labels], dtype=np.float64)
            except ValueError as exc:
                raise DataError(f"non-numeric @targetLabel value: {exc}", self.path) from None
        elif self.has_labels:
            y = _labels_array(self.labels)
        else:
            y = None
        return X, y


def read_ts(path, *, missing: str = "keep"):
    """Read a sktime/aeon ``.ts`` file.

    Parameters
    ----------
    path : str or Path
        The file. UTF-8 or Latin-1 (detected); ``\\r\\n`` line ends are fine.

    missing : "keep", "raise" or "interpolate"
        See :func:`finish_case`: ``"keep"`` leaves ``NaN`` in place (the default, as always);
        ``"raise"``/``"interpolate"`` first drop trailing steps that are ``NaN`` in every channel
        (padding), then refuse or fill a ``NaN`` inside a series.

    Returns
    -------
    X : ndarray (N, C, L) of float64 when all cases have the same length, else a list of
        (C, Lᵢ) arrays. Missing values (``?`` or ``NaN`` in the file) are ``NaN`` with the
        default ``missing="keep"`` (the estimators' own ``missing=`` then decides).
    y : ndarray (N,) of the class labels — integers if every label in the file is an integer,
        floats if every label is a number, strings otherwise — or ``None`` when the file
        declares ``@classLabel false`` (and has no ``@targetLabel``).

    Raises
    ------
    DataError (a ValueError)
        ``FILE:LINE: ...``, for a malformed file: no ``@data`` section, a header tag without
        a value, data before ``@data``, a label not declared in ``@classLabel``, a case whose
        number of dimensions differs from the others (or from ``@dimensions``/``@univariate``),
        dimensions of one case with different lengths, a case whose length contradicts
        ``@seriesLength``/``@equalLength``, a non-numeric value, or an empty file.
    """
    _check_missing(missing)
    path = check_file(path)
    reader = _TsReader(path, missing)
    for lineno, line in _lines(read_text_file(path)):
        if not line or line.startswith("#"):
            continue
        if reader.in_data:
            reader.case_line(line, lineno)
        else:
            reader.header_line(line, lineno)
    return reader.result()


def _numbers(tokens, path, lineno, what="value") -> list[float]:
    out = []
    for tok in tokens:
        tok = tok.strip()
        if tok in _MISSING_TOKENS or tok == "":
            out.append(math.nan)
            continue
        try:
            v = float(tok)
        except ValueError:
            raise DataError(f"non-numeric {what} {tok!r:.40}", path, lineno) from None
        if math.isinf(v):
            raise DataError(f"{what} {tok!r:.40} is not finite", path, lineno)
        out.append(v)
    return out


def _check_series_label(label: str, path, lineno) -> str:
    if label == "" or label in _MISSING_TOKENS:
        raise DataError(f"the class label is missing ({label!r}); every case needs a label first", path, lineno)
    return label


def read_ucr_tsv(path, *, missing: str = "raise"):
    """Read a UCR 2018 archive ``.tsv`` file: one case per line, the class label first, then the
    values, separated by tabs (commas, or runs of spaces as in the older ``.txt`` copies, are
    accepted too).

    Sets of unequal length are right-padded with ``NaN`` in the archive: those trailing ``NaN``
    are removed (the case is then shorter). A ``NaN`` *inside* a series is a missing value:
    ``missing="raise"`` (default) refuses it naming the line and step, ``"interpolate"`` fills it
    linearly, ``"keep"`` leaves it for the estimator's own ``missing=``.

    Returns
    -------
    X : ndarray (N, 1, L) when every case has the same length after trimming, else a list of
        (1, Lᵢ) arrays.
    y : ndarray (N,), integers when every label is an integer, else floats or strings.
    """
    _check_missing(missing)
    path = check_file(path)
    text = read_text_file(path)
    cases, labels = [], []
    for lineno, line in enumerate(split_lines(text), start=1):
        line = line.strip(" ")  # not tabs: a leading tab is an empty label
        if not line.strip():
            continue
        if "\t" in line:
            toks = line.split("\t")
        elif "," in line:
            toks = line.split(",")
        else:
            toks = line.split()
        if len(toks) < 2:
            raise DataError("expected a class label and at least one value", path, lineno)
        labels.append(_check_series_label(toks[0].strip(), path, lineno))
        v = np.asarray(_numbers(toks[1:], path, lineno), dtype=np.float64)[None, :]
        cases.append(finish_case(v, missing, path, lineno))
    if not cases:
        raise DataError("the file holds no cases", path)
    return _assemble(cases), _labels_array(labels)


# ------------------------------------------------------------------------------------- ARFF
_ARFF_NUMERIC = ("numeric", "real", "integer")


def _arff_split_decl(rest: str, path, lineno) -> tuple[str, str]:
    """``@attribute NAME TYPE`` → (name, type text); NAME may be quoted."""
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end < 0:
            raise DataError("unterminated quoted attribute name", path, lineno)
        return rest[1:end], rest[end + 1:].strip()
    parts = rest.split(None, 1)
    if len(parts) < 2:
        raise DataError("@attribute needs a name and a type", path, lineno)
    return parts[0], parts[1].strip()


def _nominal(type_text: str, path, lineno) -> list[str]:
    if not (type_text.startswith("{") and type_text.endswith("}")):
        raise DataError(f"expected a nominal type {{a,b,...}}, got {type_text!r:.40}", path, lineno)
    vals = [v.strip().strip("'\"") for v in type_text[1:-1].split(",")]
    if not vals or any(v == "" for v in vals):
        raise DataError(f"empty value in the nominal class {type_text!r:.60}", path, lineno)
    return vals


def _arff_header(lines, path):
    """Parse the header → (kind, n_values or None, class values, line of @data, iterator rest)."""
    attrs = []  # (name, type, line)
    relational = None  # (name, [inner types]) while inside a relational attribute
    rel_done = None
    for lineno, line in lines:
        if not line or line.startswith("%"):
            continue
        low = line.lower()
        if low.startswith("@relation"):
            continue
        if low.startswith("@attribute"):
            name, typ = _arff_split_decl(line[len("@attribute"):], path, lineno)
            tlow = typ.lower()
            if relational is not None:
                if tlow not in _ARFF_NUMERIC:
                    raise DataError(f"attribute {name!r} inside relational {relational[0]!r} has type "
                                    f"{typ!r:.40}; only numeric values are supported", path, lineno)
                relational[1].append(lineno)
                continue
            if tlow == "relational":
                if rel_done is not None or attrs:
                    raise DataError("only one relational attribute, before the class, is supported", path, lineno)
                relational = (name, [])
                continue
            attrs.append((name, typ, lineno))
            continue
        if low.startswith("@end"):
            if relational is None:
                raise DataError("@end without a relational attribute", path, lineno)
            rel_done, relational = relational, None
            continue
        if low.startswith("@data"):
            if relational is not None:
                raise DataError(f"@data inside relational attribute {relational[0]!r} (missing @end)", path, lineno)
            if not attrs:
                raise DataError("@data reached without a class attribute", path, lineno)
            *values, (cname, ctype, cline) = attrs
            classes = _nominal(ctype, path, cline)
            for name, typ, ln in values:
                if typ.lower() not in _ARFF_NUMERIC:
                    raise DataError(f"attribute {name!r} has type {typ!r:.40}; only numeric attributes and a "
                                    f"nominal class (the last attribute) are supported", path, ln)
            if rel_done is not None:
                if values:
                    raise DataError("numeric attributes beside a relational one are not supported", path, lineno)
                return "relational", None, classes, lineno
            if not values:
                raise DataError("no numeric attributes before the class attribute", path, lineno)
            return "flat", len(values), classes, lineno
        if line.startswith("@"):
            raise DataError(f"unknown ARFF keyword {line.split()[0]!r:.40}", path, lineno)
        raise DataError("data before the @data line", path, lineno)
    raise DataError("no @data line found", path)


def _arff_class(tok: str, classes, path, lineno) -> str:
    label = tok.strip().strip("'\"").strip()
    _check_series_label(label, path, lineno)
    if label not in classes:
        raise DataError(f"class {label!r:.40} is not one of the declared {classes}", path, lineno)
    return label


def read_arff(path, *, missing: str = "raise"):
    """Read a Weka ARFF file of time series → ``(X, y)``.

    Two layouts: *univariate* — numeric attributes (the time steps) followed by a nominal class
    attribute, one case per ``@data`` line; *multivariate* (the UEA archive's) — one relational
    attribute whose quoted value holds the channels separated by ``\\n``, each a
    comma-separated series, then the class. ``?`` is a missing value, handled by ``missing=``
    as in :func:`read_ucr_tsv` (trailing missing steps are padding). Sparse rows, string and date
    attributes are refused with a :class:`DataError`.
    """
    _check_missing(missing)
    path = check_file(path)
    lines = _lines(read_text_file(path))
    kind, n_values, classes, data_line = _arff_header(lines, path)
    cases, labels = [], []
    n_channels = None
    for lineno, line in lines:
        if not line or line.startswith("%"):
            continue
        if line.startswith("{"):
            raise DataError("sparse ARFF rows are not supported", path, lineno)
        if kind == "flat":
            toks = line.split(",")
            if len(toks) != n_values + 1:
                raise DataError(f"expected {n_values} values and a class ({n_values + 1} fields), got {len(toks)}",
                                path, lineno)
            labels.append(_arff_class(toks[-1], classes, path, lineno))
            case = np.asarray(_numbers(toks[:-1], path, lineno), dtype=np.float64)[None, :]
        else:
            q = line[:1]
            end = line.rfind(q) if q in ("'", '"') else -1
            if end <= 0 or not line[end + 1:].lstrip().startswith(","):
                raise DataError("expected a quoted relational value then ',class'", path, lineno)
            labels.append(_arff_class(line[end + 1:].lstrip()[1:], classes, path, lineno))
            chans = [_numbers(c.split(","), path, lineno) for c in line[1:end].split("\\n")]
            if len({len(c) for c in chans}) != 1:
                raise DataError(f"the channels have different lengths {[len(c) for c in chans]}", path, lineno)
            if n_channels is None:
                n_channels = len(chans)
            elif len(chans) != n_channels:
                raise DataError(f"case has {len(chans)} channels, earlier cases have {n_channels}", path, lineno)
            case = np.asarray(chans, dtype=np.float64)
        cases.append(finish_case(case, missing, path, lineno))
    if not cases:
        raise DataError("@data section holds no cases", path, data_line)
    return _assemble(cases), _labels_array(labels)


# -------------------------------------------------------------------------------- dispatch
SERIES_FORMATS = {".ts": "ts", ".tsv": "ucr", ".txt": "ucr", ".csv": "ucr", ".arff": "arff"}


def read_series_dataset(path, **kw):
    """Read labelled series from a file, choosing the reader from the suffix: ``.ts`` →
    :func:`read_ts`, ``.tsv``/``.txt``/``.csv`` → :func:`read_ucr_tsv`, ``.arff`` →
    :func:`read_arff`. Keyword arguments (``missing=``) go to the reader."""
    p = Path(os.fspath(path))
    kind = SERIES_FORMATS.get(p.suffix.lower())
    if kind is None:
        if p.is_dir():
            raise DataError("is a folder; expected a .ts, .tsv, .txt, .csv or .arff file", p)
        raise DataError(f"unknown series file suffix {p.suffix!r}; expected .ts, .tsv, .txt, .csv or .arff", p)
    return {"ts": read_ts, "ucr": read_ucr_tsv, "arff": read_arff}[kind](p, **kw)
