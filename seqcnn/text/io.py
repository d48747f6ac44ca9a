"""Readers for labelled text: ``LABEL sentence`` lines, CSV/TSV and JSON-lines tables, and a
folder with one sub-folder of ``.txt`` files per class.

The ``LABEL sentence`` format is the one of Kim (2014)'s data sets (MR, SST, TREC, ...). Two
traps of real files are handled here: files that are not UTF-8 (``rt-polarity.all`` and
``TREC.train.all`` are Latin-1) are decoded as Latin-1, and lines are split on ``"\\n"`` only —
never with :meth:`str.splitlines`, which also breaks on U+0085 (byte 0x85 decoded as Latin-1,
present inside sentences of ``rt-polarity.all``), U+2028 and friends.
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

__all__ = ["read_labeled_lines", "read_table", "read_folder", "read_dataset", "decode_bytes"]


def decode_bytes(data: bytes, encoding: str | None = None) -> str:
    """Decode ``data`` with ``encoding``; ``None`` tries UTF-8 (BOM allowed), then Latin-1
    (which decodes every byte, so it never fails)."""
    if encoding is not None:
        return data.decode(encoding)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_text(path, encoding) -> str:
    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(f"path {str(p)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"path {str(p)!r} is a directory, expected a file")
    return decode_bytes(p.read_bytes(), encoding)


def _lines(text: str):
    """Split on "\\n" only (see the module docstring); strip a trailing "\\r"."""
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        yield line


def read_labeled_lines(path, encoding=None) -> tuple[list[str], list[str]]:
    """Read a ``LABEL<space or tab>SENTENCE`` file → ``(texts, labels)``.

    Labels are returned as strings, exactly as written. Blank lines are skipped; a line with a
    label but no sentence gives the empty sentence. ``encoding=None``: UTF-8, else Latin-1.
    """
    if isinstance(path, (bytes, bytearray)):
        raise TypeError("path must be a str or os.PathLike, got bytes")
    text = _read_text(path, encoding)
    texts, labels = [], []
    for line in _lines(text):
        if not line.strip(" \t"):
            continue
        stripped = line.lstrip(" \t")
        cut = min((i for i in (stripped.find(" "), stripped.find("\t")) if i >= 0), default=-1)
        if cut < 0:
            label, sentence = stripped, ""
        else:
            label, sentence = stripped[:cut], stripped[cut + 1:]
        labels.append(label)
        texts.append(sentence.strip(" \t"))
    if not texts:
        raise ValueError(f"path {str(path)!r} contains no labelled lines")
    return texts, labels


def read_table(path, text_column="text", label_column="label", *, format=None, encoding=None):
    """Read a CSV, TSV or JSON-lines file with named text and label columns → ``(texts, labels)``.

    ``format`` is ``"csv"``, ``"tsv"`` or ``"jsonl"``; ``None`` guesses from the extension
    (``.csv``, ``.tsv``/``.tab``, ``.jsonl``/``.ndjson``/``.json``). ``label_column=None`` reads
    unlabelled text (labels are then ``None``). CSV labels are strings; JSON labels keep their
    JSON type.
    """
    p = Path(os.fspath(path))
    fmt = format or _guess_format(p)
    if fmt not in ("csv", "tsv", "jsonl"):
        raise ValueError(f"format must be 'csv', 'tsv' or 'jsonl', got {fmt!r} (path {str(p)!r})")
    text = _read_text(p, encoding)
    texts, labels = [], []
    if fmt == "jsonl":
        for lineno, line in enumerate(_lines(text), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"path {str(p)!r} line {lineno} is not valid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise ValueError(f"path {str(p)!r} line {lineno}: expected a JSON object, got {type(row).__name__}")
            texts.append(_field(row, text_column, "text_column", p, lineno))
            labels.append(None if label_column is None else _field(row, label_column, "label_column", p, lineno))
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="," if fmt == "csv" else "\t")
        if reader.fieldnames is None:
            raise ValueError(f"path {str(p)!r} is empty")
        for lineno, row in enumerate(reader, start=2):
            texts.append(_field(row, text_column, "text_column", p, lineno))
            labels.append(None if label_column is None else _field(row, label_column, "label_column", p, lineno))
    if not texts:
        raise ValueError(f"path {str(p)!r} contains no rows")
    return [str(t) if t is not None else "" for t in texts], labels


def _field(row, column, arg, path, lineno):
    if column not in row:
        raise ValueError(f"{arg}={column!r} is not a column of {str(path)!r} (line {lineno} has "
                         f"{sorted(k for k in row if k is not None)})")
    return row[column]


def _guess_format(p: Path) -> str | None:
    suffix = p.suffix.lower()
    return {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
            ".json": "jsonl"}.get(suffix)


def read_folder(path, *, encoding=None, suffix=".txt") -> tuple[list[str], list[str]]:
    """Read a folder with one sub-folder per class, each holding ``.txt`` files (one document per
    file) → ``(texts, labels)``; the label is the sub-folder's name. Sorted for determinism."""
    root = Path(os.fspath(path))
    if not root.is_dir():
        raise ValueError(f"path {str(root)!r} is not a directory")
    texts, labels = [], []
    for sub in sorted(d for d in root.iterdir() if d.is_dir()):
        for f in sorted(sub.glob(f"*{suffix}")):
            texts.append(decode_bytes(f.read_bytes(), encoding).strip())
            labels.append(sub.name)
    if not texts:
        raise ValueError(f"path {str(root)!r} has no class sub-folders with {suffix} files")
    return texts, labels


def read_dataset(path, *, text_column="text", label_column="label", encoding=None):
    """Dispatch on what ``path`` is: a folder → :func:`read_folder`; ``.csv``/``.tsv``/``.jsonl``
    → :func:`read_table`; anything else → :func:`read_labeled_lines`."""
    p = Path(os.fspath(path))
    if p.is_dir():
        return read_folder(p, encoding=encoding)
    if _guess_format(p) is not None:
        return read_table(p, text_column, label_column, encoding=encoding)
    return read_labeled_lines(p, encoding=encoding)
