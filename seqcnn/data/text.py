"""Readers for labelled text → ``(texts, labels)``.

* :func:`read_labeled_lines` — ``LABEL sentence`` lines (Kim 2014's MR, SST, TREC files), and
  fastText's ``__label__x sentence`` lines (detected from the first line).
* :func:`read_table` — CSV, TSV and JSON lines (or a JSON array) with named text/label columns.
* :func:`read_folder` — one sub-folder of ``.txt`` documents per class.
* :func:`read_text_dataset` — picks one of the three from what the path is.

Every reader decodes with the one policy of :mod:`seqcnn.data.decode` (UTF-8, else Latin-1 with
a warning; binary files refused; lines split on ``\\n``/``\\r\\n``/``\\r`` only) and checks every
record with :mod:`seqcnn.data.checks`: a missing or empty label, or a record with a label and no
text, is a :class:`~seqcnn.data.errors.DataError` ``"FILE:LINE: ..."`` unless
``allow_empty_text=True`` (which only lets empty *texts* through).
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from pathlib import Path

from .checks import check_label, check_label_kinds, check_text
from .decode import check_file, decode_bytes, read_text_file, split_lines
from .errors import DataError

__all__ = ["read_labeled_lines", "read_table", "read_folder", "read_text_dataset", "read_label_names",
           "apply_label_names", "TABLE_FORMATS"]

FASTTEXT_PREFIX = "__label__"
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".json": "jsonl"}
# A labelled file whose "labels" are mostly distinct is a file without labels (the first word of
# every line was taken as its label): refused when it has at least this many lines.
_MIN_LINES_FOR_DISTINCT_CHECK = 20


def _split_label(line: str) -> tuple[str, str]:
    """``"LABEL<space or tab>text"`` → (label, text), both stripped of spaces and tabs."""
    stripped = line.strip(" \t")
    cut = min((i for i in (stripped.find(" "), stripped.find("\t")) if i >= 0), default=-1)
    if cut < 0:
        return stripped, ""
    return stripped[:cut], stripped[cut + 1:].strip(" \t")


def _fasttext_labels(line: str, p, lineno) -> tuple[list[str], str]:
    """Leading ``__label__x`` tokens → (labels without the prefix, rest of the line)."""
    labels = []
    rest = line.strip(" \t")
    while rest.startswith(FASTTEXT_PREFIX):
        token, rest = _split_label(rest)
        name = token[len(FASTTEXT_PREFIX):]
        if not name:
            raise DataError("empty fastText label '__label__' (nothing after the prefix)", p, lineno)
        labels.append(name)
    if not labels:
        raise DataError(f"no {FASTTEXT_PREFIX} label at the start of the line, while the file's first line has "
                        f"one (fastText format): is this line's label missing?", p, lineno)
    return labels, rest


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _check_unlabelled_lines(labels: list[str], lines: list[int], p) -> None:
    """Catch the two ways a file without labels slips through a ``LABEL sentence`` reader: a few
    lines without a label among numeric labels, and a file whose "labels" are its first words."""
    numeric = [_is_number(lab) for lab in labels]
    n_num = sum(numeric)
    if 0 < len(labels) - n_num and n_num >= 0.9 * len(labels):
        i = numeric.index(False)
        known = sorted({lab for lab, num in zip(labels, numeric) if num}, key=float)[:5]
        raise DataError(f"the label {labels[i]!r:.40} is not a number like the other labels ({', '.join(known)}"
                        f"{', ...' if len(known) == 5 else ''}): does this line lack its label?", p, lines[i])
    n = len(labels)
    if n >= _MIN_LINES_FOR_DISTINCT_CHECK:
        counts = Counter(labels)
        if len(counts) > n / 2:
            raise DataError(f"{len(labels)} lines give {len(counts)} different labels (the first word of each "
                            f"line is read as its label): this looks like a file without labels; expected "
                            f"'LABEL text' lines", p)
        _warn_lone_labels(labels, lines, counts, p)


def _warn_lone_labels(labels, lines, counts, p) -> None:
    """A few labels seen once among classes of at least 5 lines each are most likely lines whose
    label is missing (their first word became a class): a warning naming each line."""
    lone = [lab for lab, c in counts.items() if c == 1]
    others = [c for c in counts.values() if c > 1]
    if not lone or len(lone) > 3 or not others or min(others) < 5:
        return
    import warnings

    for lab in lone:
        line = lines[labels.index(lab)]
        warnings.warn(f"{os.fspath(p)}:{line}: the label {lab!r:.40} occurs on this line only (the other "
                      f"labels on {min(others)} lines or more): does this line lack its label?", UserWarning,
                      stacklevel=4)


def read_labeled_lines(path, encoding=None, *, allow_empty_text: bool = False, multilabel: bool = False):
    """Read a ``LABEL<space or tab>TEXT`` file → ``(texts, labels)``.

    Parameters
    ----------
    path : str or PathLike
    encoding : str or None
        ``None``: UTF-8, else Latin-1 with a warning (see :mod:`seqcnn.data.decode`).
    allow_empty_text : bool
        Keep lines that hold a label and no text (as the empty string) instead of refusing them.
    multilabel : bool
        Labels are lists: fastText lines may carry several ``__label__`` tokens; in the plain
        format the label token is split on commas (``pos,funny text``).

    Returns
    -------
    texts : list of str (spaces and tabs around them stripped).
    labels : list of str as written (fastText's ``__label__`` prefix removed), or list of lists
        of str with ``multilabel=True``.

    Blank lines are skipped. fastText's format is detected when the first line starts with
    ``__label__``; then every line must. Raises :class:`DataError` (``FILE:LINE: ...``) for a line
    with a label and no text, an empty ``__label__``, several ``__label__`` tokens without
    ``multilabel``, a line without a label (a non-numeric first word among numeric labels, or a
    file whose first words are mostly distinct) and a file without labelled lines;
    ``FileNotFoundError`` for a missing file.
    """
    if isinstance(path, (bytes, bytearray)):
        raise TypeError("path must be a str or os.PathLike, got bytes")
    p = check_file(path)
    text = read_text_file(p, encoding)
    texts, labels, lines = [], [], []
    fasttext = None
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip(" \t"):
            continue
        if fasttext is None:
            fasttext = line.lstrip(" \t").startswith(FASTTEXT_PREFIX)
        if fasttext:
            names, sentence = _fasttext_labels(line, p, lineno)
            if len(names) > 1 and not multilabel:
                raise DataError(f"the line has {len(names)} labels ({', '.join(names)}); pass multilabel=True "
                                f"to read several labels per line", p, lineno)
            label = names if multilabel else names[0]
        else:
            token, sentence = _split_label(line)
            label = [t for t in token.split(",") if t] if multilabel else token
            if multilabel and not label:
                raise DataError(f"the label {token!r} names no label", p, lineno)
        shown = ",".join(label) if isinstance(label, list) else label
        texts.append(check_text(sentence, path=p, line=lineno, allow_empty_text=allow_empty_text, label=shown))
        labels.append(label)
        lines.append(lineno)
    if not texts:
        raise DataError("contains no labelled lines (expected 'LABEL text' lines)", p)
    if not fasttext and not multilabel:
        _check_unlabelled_lines(labels, lines, p)
    return texts, labels


# ------------------------------------------------------------------------------------ tables
def _guess_format(p: Path) -> str | None:
    return TABLE_FORMATS.get(p.suffix.lower())


def _label_value(raw, p, lineno, label_column, multilabel, label_sep):
    if label_sep is not None and isinstance(raw, str):
        parts = [s.strip() for s in raw.split(label_sep)]
        if raw.strip() == "" or any(s == "" for s in parts):
            raise DataError(f"the label {raw!r:.60} (column {label_column!r}) has an empty entry between "
                            f"{label_sep!r} separators", p, lineno)
        raw = parts
    return check_label(raw, path=p, line=lineno, multilabel=multilabel, column=label_column)


def _no_column(column, arg, columns, p, lineno):
    shown = sorted(str(c) for c in columns if c is not None)
    return DataError(f"{arg}={column!r} is not a column (the columns are {shown})", p, lineno)


def _json_records(text: str, p):
    """(line, dict) records of a JSON-lines file, or of a JSON array file (line None)."""
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            line = getattr(exc, "lineno", None)
            raise DataError(f"is not valid JSON: {getattr(exc, 'msg', 'nested too deeply')}", p, line) from None
        if not isinstance(rows, list):
            raise DataError("a JSON file must hold one object per line, or an array of objects", p)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise DataError(f"record {i + 1} of the JSON array is a {type(row).__name__}, expected an object", p)
            yield None, row
        return
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise DataError(f"not valid JSON ({getattr(exc, 'msg', 'nested too deeply')})", p, lineno) from None
        if not isinstance(row, dict):
            raise DataError(f"expected a JSON object, got {type(row).__name__}", p, lineno)
        yield lineno, row


def _csv_records(text: str, fmt: str, p, columns):
    """(line, dict) records of a CSV/TSV file with a header line; line = the record's first line.
    ``columns`` ((name, argument) pairs) must be in the header; a short row gives ``None`` fields."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="," if fmt == "csv" else "\t")
    try:
        header = next(reader, None)
        if header is None:
            raise DataError("is empty (expected a header line naming the columns)", p)
        header = [h.strip() for h in header]
        for column, arg in columns:
            if column is not None and column not in header:
                raise _no_column(column, arg, header, p, 1)
        start = reader.line_num + 1
        for row in reader:
            lineno, start = start, reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) > len(header):
                raise DataError(f"the row has {len(row)} fields but the header names {len(header)} columns", p, lineno)
            yield lineno, {h: (row[i] if i < len(row) else None) for i, h in enumerate(header)}
    except csv.Error as exc:
        raise DataError(f"malformed {fmt.upper()} ({exc})", p, reader.line_num or None) from None


def read_table(path, text_column="text", label_column="label", *, format=None, encoding=None,
               multilabel: bool = False, label_sep: str | None = None, allow_empty_text: bool = False):
    """Read a CSV, TSV or JSON-lines file with named columns → ``(texts, labels)``.

    Parameters
    ----------
    text_column, label_column : str
        Column (field) names; ``label_column=None`` reads unlabelled text (labels are ``None``).
    format : "csv", "tsv", "jsonl" or None
        ``None`` guesses from the suffix (``.csv``; ``.tsv``/``.tab``; ``.jsonl``/``.ndjson``/``.json``
        — a ``.json`` file may also hold one JSON array of objects).
    multilabel : bool
        Labels are lists (a JSON list, or ``label_sep``-joined text); a single value becomes a
        one-element list.
    label_sep : str or None
        Split text labels on this separator (``","`` for GoEmotions' ``2,5``); implies
        ``multilabel=True``.
    allow_empty_text : bool
        Keep records with an empty text.

    Returns
    -------
    texts : list of str. labels : list — CSV/TSV labels are strings, JSON labels keep their JSON
    type (all of one kind) — or list of lists with ``multilabel``.

    A header line is required in CSV/TSV; fields follow CSV quoting. Raises :class:`DataError`
    (``FILE:LINE: ...``) for a missing column (the columns are listed), a missing, empty or
    ``null`` label, a missing or empty text, labels of mixed kinds, invalid JSON, and a file
    without records.
    """
    p = check_file(path)
    if format is not None and format not in ("csv", "tsv", "jsonl"):
        raise ValueError(f"format must be 'csv', 'tsv', 'jsonl' or None, got {format!r}")
    fmt = format or _guess_format(p)
    if fmt is None:
        raise DataError(f"cannot tell the table format from the suffix {p.suffix!r}; pass format='csv', "
                        f"'tsv' or 'jsonl'", p)
    if label_sep is not None:
        if not isinstance(label_sep, str) or not label_sep:
            raise ValueError(f"label_sep must be a non-empty string or None, got {label_sep!r}")
        multilabel = True
    text = read_text_file(p, encoding)
    records = (_json_records(text, p) if fmt == "jsonl" else
               _csv_records(text, fmt, p, ((text_column, "text_column"), (label_column, "label_column"))))
    texts, labels, lines = [], [], []
    for lineno, row in records:
        if text_column not in row:
            raise _no_column(text_column, "text_column", row, p, lineno)
        if label_column is not None and label_column not in row:
            raise _no_column(label_column, "label_column", row, p, lineno)
        label = None
        if label_column is not None:
            label = _label_value(row[label_column], p, lineno, label_column, multilabel, label_sep)
        texts.append(check_text(row[text_column], path=p, line=lineno, allow_empty_text=allow_empty_text,
                                label=label, column=text_column))
        labels.append(label)
        lines.append(lineno)
    if not texts:
        raise DataError("contains no rows", p)
    if label_column is not None:
        check_label_kinds(labels, lines, path=p)
    return texts, labels


# ------------------------------------------------------------------------------------ folders
def read_folder(path, *, encoding=None, suffix: str = ".txt", allow_empty_text: bool = False):
    """Read a folder with one sub-folder per class, each holding ``suffix`` files (one document
    per file) → ``(texts, labels)``; the label is the sub-folder's name. Sorted by class, then
    file name; hidden sub-folders (``.name``) are skipped. Texts are stripped; an empty document
    is a :class:`DataError` naming the file unless ``allow_empty_text``."""
    root = Path(os.fspath(path))
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError("is not a folder (expected one sub-folder of documents per class)", root)
    texts, labels = [], []
    for sub in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        for f in sorted(sub.glob(f"*{suffix}")):
            if not f.is_file():
                continue
            doc = decode_bytes(f.read_bytes(), encoding, path=f).strip()
            texts.append(check_text(doc, path=f, allow_empty_text=allow_empty_text, label=sub.name))
            labels.append(sub.name)
    if not texts:
        raise DataError(f"has no class sub-folders with {suffix} files (expected PATH/<class>/<doc>{suffix})", root)
    return texts, labels


def read_text_dataset(path, *, text_column="text", label_column="label", encoding=None, format=None,
                      multilabel: bool = False, label_sep: str | None = None, allow_empty_text: bool = False,
                      label_names=None):
    """Read labelled text from whatever ``path`` is → ``(texts, labels)``: a folder →
    :func:`read_folder`; a ``.csv``/``.tsv``/``.tab``/``.jsonl``/``.ndjson``/``.json`` file (or
    ``format=``) → :func:`read_table`; any other file → :func:`read_labeled_lines`.
    ``label_names`` (a names file, :func:`read_label_names`, or a list of names): the labels are
    ids ``0 … L−1`` and come back as their names (GoEmotions: ``label_sep=","`` and
    ``label_names="labels.txt"``)."""
    p = Path(os.fspath(path))
    if p.is_dir():
        X, y = read_folder(p, encoding=encoding, allow_empty_text=allow_empty_text)
    elif format is not None or label_sep is not None or _guess_format(p) is not None:
        X, y = read_table(p, text_column, label_column, format=format, encoding=encoding, multilabel=multilabel,
                          label_sep=label_sep, allow_empty_text=allow_empty_text)
    else:
        X, y = read_labeled_lines(p, encoding, allow_empty_text=allow_empty_text, multilabel=multilabel)
    if label_names is None:
        return X, y
    names_path = None
    if isinstance(label_names, (str, os.PathLike)):
        names_path, label_names = label_names, read_label_names(label_names)
    return X, apply_label_names(y, list(label_names), path=names_path)


# ------------------------------------------------------------------------------------ label names
def read_label_names(path, encoding=None) -> list[str]:
    """A label-names file (GoEmotions' ``labels.txt``): one name per line, line ``i`` (from 0)
    naming label id ``i``. Blank lines at the end are ignored; a blank line inside, a repeated
    name or an empty file is a :class:`DataError` ``FILE:LINE: ...``."""
    p = check_file(path)
    lines = split_lines(read_text_file(p, encoding))
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError("holds no label names (expected one name per line)", p)
    names, seen = [], {}
    for lineno, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            raise DataError("is blank: every line up to the last names one label (line i names label id i-1)",
                            p, lineno)
        if name in seen:
            raise DataError(f"repeats the label name {name!r} of line {seen[name]}", p, lineno)
        seen[name] = lineno
        names.append(name)
    return names


def apply_label_names(labels, names, *, path=None) -> list:
    """Label ids (``"3"`` or ``3``; single labels or label lists) → the names of ``names``
    (:func:`read_label_names`). An id that is not an integer in ``[0, len(names))`` is a
    ``ValueError`` naming it (and ``path``, the names file)."""
    where = f" (label names from {path})" if path is not None else ""

    def one(v):
        try:
            i = int(v)
        except (TypeError, ValueError):
            raise ValueError(f"the label {v!r} is not a label id (an integer){where}") from None
        if str(v).strip() != str(i) and not isinstance(v, int) or not 0 <= i < len(names):
            raise ValueError(f"the label id {v!r} is not in 0..{len(names) - 1}{where}")
        return names[i]

    return [[one(v) for v in lab] if isinstance(lab, (list, tuple)) else one(lab) for lab in labels]
