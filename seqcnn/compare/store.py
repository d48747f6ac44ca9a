"""The files of a comparison folder: ``results.csv`` (one row per finished cell, appended and
``fsync``'d), ``predictions.csv`` (per cell, which test samples were right, appended the same
way), ``folds.json`` and ``errors.log``. Folders written before ``predictions.csv`` existed kept
one ``predictions/<dataset>/<model>/fold<k>.npy`` per cell; those are still read.

A run that is killed (even ``kill -9``) leaves at most a partial last line in ``results.csv``;
:func:`read_results` ignores it and :class:`ResultWriter` cuts it off before appending.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from pathlib import Path

import numpy as np

__all__ = ["RESULT_FIELDS", "PREDICTION_FIELDS", "read_results", "ResultWriter", "PredictionWriter",
           "read_predictions", "atomic_write_text", "prediction_path", "load_correct", "cell_key", "append_errors",
           "read_folds", "backup"]

RESULT_FIELDS = [
    "dataset", "model", "fold", "modality", "kind", "protocol", "n_folds", "seed", "data_hash", "fold_hash",
    "params_hash", "n_train", "n_test", "n_classes", "accuracy", "balanced_accuracy", "macro_f1",
    "fit_seconds", "predict_seconds", "model_size", "size_unit", "selection", "finished_at", "micro_f1",
    "threads",
]
# results.csv files of the earlier layouts are still read and extended in their own columns:
# before ``threads`` (threads = None) and before ``micro_f1`` too (micro_f1 = nan)
_LAYOUTS = (RESULT_FIELDS, RESULT_FIELDS[:-1], RESULT_FIELDS[:-2])
PREDICTION_FIELDS = ["dataset", "model", "seed", "fold", "correct"]  # correct: one 0/1 character per test sample
_INT_FIELDS = {"fold", "n_folds", "seed", "n_train", "n_test", "n_classes", "model_size", "threads"}
_FLOAT_FIELDS = {"accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "fit_seconds", "predict_seconds"}


def cell_key(row: dict) -> tuple:
    """(dataset, model, seed, fold): one cell of the grid."""
    return row["dataset"], row["model"], row["seed"], row["fold"]


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary name, fsync, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))


def prediction_path(out_dir: Path, dataset: str, model: str, fold: int, seed: int | None = None) -> Path:
    """Where folders of the earlier layout kept a cell's correctness:
    ``predictions/<dataset>/<model>/fold<k>.npy`` (``fold<k>_seed<s>.npy`` for later seeds)."""
    suffix = "" if seed is None else f"_seed{seed}"
    return Path(out_dir) / "predictions" / _safe(dataset) / _safe(model) / f"fold{fold}{suffix}.npy"


def load_correct(path: Path):
    return np.load(path) if path.exists() else None


def read_predictions(path) -> dict:
    """``{(dataset, model, seed, fold): bool array}`` from ``predictions.csv`` (a partial last
    line and malformed rows are ignored)."""
    path = Path(path)
    if not path.exists():
        return {}
    data = path.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    if next(reader, None) != PREDICTION_FIELDS:
        raise ValueError(f"{path} has other columns than {PREDICTION_FIELDS}: not written by seqcnn compare")
    out = {}
    for fields in reader:
        if len(fields) != len(PREDICTION_FIELDS) or set(fields[4]) - {"0", "1"}:
            continue
        try:
            key = (fields[0], fields[1], int(fields[2]), int(fields[3]))
        except ValueError:
            continue
        out[key] = np.frombuffer(fields[4].encode(), dtype=np.uint8) == ord("1")
    return out


def _convert(row: dict) -> dict:
    out = {}
    for k in RESULT_FIELDS:
        v = row.get(k, "")
        if k in _INT_FIELDS:
            out[k] = int(v) if v not in ("", None) else None
        elif k in _FLOAT_FIELDS:
            out[k] = float(v) if v not in ("", None) else float("nan")
        else:
            out[k] = v
    return out


def read_results(path) -> list[dict]:
    """Rows of a ``results.csv`` (typed), ignoring a partial last line and duplicate cells."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]  # the last line was cut by a kill: ignore it
    text = data.decode("utf-8")
    if not text:
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header not in _LAYOUTS:
        raise ValueError(f"{path} has columns {header}, expected {RESULT_FIELDS}: it was not written by this "
                         "version of seqcnn compare; use another out_dir")
    rows, seen = [], set()
    for fields in reader:
        if len(fields) != len(header):
            continue
        try:
            row = _convert(dict(zip(header, fields)))
        except ValueError:
            continue
        if cell_key(row) in seen:
            continue
        seen.add(cell_key(row))
        rows.append(row)
    return rows


def _repair_partial_line(path: Path) -> None:
    """Truncate a last line that a kill cut short, so appends start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(path.stat().st_size - 1)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        fh.truncate(data.rfind(b"\n") + 1)
        fh.flush()
        os.fsync(fh.fileno())


class _CsvAppender:
    """Appends one CSV line at a time; flush + fsync after every line; a partial last line left
    by a kill is cut off first. ``fields`` is the header of a new file; an existing file whose
    header is one of ``accepted`` keeps it."""

    def __init__(self, path: Path, fields: list, accepted: tuple = ()):
        self.path = path
        _repair_partial_line(path)
        new = not path.exists() or path.stat().st_size == 0
        self.fields = fields
        if not new:
            with open(path, encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh), None)
            self.fields = header if header in accepted else fields
        self.fh = open(path, "a", encoding="utf-8", newline="")
        if new:
            self._write(fields)

    def _write(self, fields) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(fields)
        self.fh.write(buf.getvalue())
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def write(self, row: dict) -> None:
        self._write(["" if row.get(k) is None else row.get(k) for k in self.fields])

    def close(self) -> None:
        self.fh.close()


class ResultWriter(_CsvAppender):
    """``results.csv``; a file of an earlier layout (no ``threads``, or no ``micro_f1`` either)
    keeps its columns."""

    def __init__(self, path: Path):
        super().__init__(path, RESULT_FIELDS, _LAYOUTS)


class PredictionWriter(_CsvAppender):
    """``predictions.csv``: per cell, one 0/1 character per test sample (1 = predicted right)."""

    def __init__(self, path: Path):
        super().__init__(path, PREDICTION_FIELDS, (PREDICTION_FIELDS,))

    def write_cell(self, row: dict, correct) -> None:
        bits = "".join("1" if c else "0" for c in np.asarray(correct, dtype=bool).ravel())
        self.write({"dataset": row["dataset"], "model": row["model"], "seed": row["seed"], "fold": row["fold"],
                    "correct": bits})


def append_errors(out_dir: Path, errors) -> None:
    """Append ``(key, traceback, base_row)`` entries to ``errors.log``."""
    with open(Path(out_dir) / "errors.log", "a", encoding="utf-8") as fh:
        for key, text, _base in errors:
            fh.write(f"=== {key} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n{text}\n")


def read_folds(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def backup(*paths: Path) -> None:
    """Rename existing files to ``<name>.<time>.bak`` (``resume=False``)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for p in paths:
        if p.exists():
            os.replace(p, p.with_name(f"{p.name}.{stamp}.bak"))
