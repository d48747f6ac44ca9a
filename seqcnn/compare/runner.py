"""Run a grid of data sets × models × folds and keep every finished cell on disk.

Files in ``out_dir``:

- ``folds.json``: per data set the protocol, seed, number of folds, data hash, the fold indices
  and their hash. A later run into the same folder refuses to mix (``ValueError``) when any of
  these differ.
- ``results.csv``: one row per finished cell, appended, flushed and ``fsync``'d as each cell
  finishes (the parent process is the only writer). A run that is killed (even ``kill -9``)
  and started again skips finished cells; a partial last line is detected and dropped.
- ``predictions/<dataset>/<model>/fold<k>.npy``: per test sample, whether the prediction was
  right (for McNemar's test on a single given split).
- ``errors.log``: cells that raised (they are not written to ``results.csv`` and are retried on
  the next run).
- ``report.md``, ``report.json`` and the figures (see :mod:`seqcnn.compare.report`).
"""
from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import hashlib
import io
import json
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from .datasets import DatasetSpec, fold_hash, get_dataset, make_folds, take
from .models import ModelSpec, check_params, get_model, model_size, selection_of

__all__ = ["run_comparison", "read_results", "RESULT_FIELDS", "ComparisonRows", "worker_threads"]

RESULT_FIELDS = [
    "dataset", "model", "fold", "modality", "kind", "protocol", "n_folds", "seed", "data_hash", "fold_hash",
    "params_hash", "n_train", "n_test", "n_classes", "accuracy", "balanced_accuracy", "macro_f1",
    "fit_seconds", "predict_seconds", "model_size", "size_unit", "selection", "finished_at",
]
_INT_FIELDS = {"fold", "n_folds", "seed", "n_train", "n_test", "n_classes", "model_size"}
_FLOAT_FIELDS = {"accuracy", "balanced_accuracy", "macro_f1", "fit_seconds", "predict_seconds"}
_PROTOCOL_KEYS = ("protocol", "n_folds", "seed", "data_hash", "fold_hash")


# ---------------------------------------------------------------------- small file helpers
def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))


def _prediction_path(out_dir: Path, dataset: str, model: str, fold: int) -> Path:
    return out_dir / "predictions" / _safe(dataset) / _safe(model) / f"fold{fold}.npy"


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
    if header != RESULT_FIELDS:
        raise ValueError(f"{path} has columns {header}, expected {RESULT_FIELDS}: it was not written by this "
                         "version of seqcnn compare; use another out_dir")
    rows, seen = [], set()
    for fields in reader:
        if len(fields) != len(RESULT_FIELDS):
            continue
        try:
            row = _convert(dict(zip(RESULT_FIELDS, fields)))
        except ValueError:
            continue
        key = (row["dataset"], row["model"], row["fold"])
        if key in seen:
            continue
        seen.add(key)
        rows.append(row)
    return rows


def _repair_partial_line(path: Path) -> None:
    """Truncate a last line that a kill cut short, so appends start on a fresh line."""
    if not path.exists():
        return
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(max(0, size - 1))
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        fh.truncate(data.rfind(b"\n") + 1)
        fh.flush()
        os.fsync(fh.fileno())


class _ResultWriter:
    """Appends one CSV line per finished cell; flush + fsync after every line."""

    def __init__(self, path: Path):
        self.path = path
        _repair_partial_line(path)
        new = not path.exists() or path.stat().st_size == 0
        self.fh = open(path, "a", encoding="utf-8", newline="")
        if new:
            self._write(RESULT_FIELDS)

    def _write(self, fields) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(fields)
        self.fh.write(buf.getvalue())
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def write(self, row: dict) -> None:
        self._write(["" if row.get(k) is None else row.get(k) for k in RESULT_FIELDS])

    def close(self) -> None:
        self.fh.close()


# ---------------------------------------------------------------------- the cell
def _score(y_true, y_pred, labels) -> dict:
    from sklearn.metrics import balanced_accuracy_score, f1_score

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(np.mean(y_pred == y_true)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            # full label list: a class absent from this test fold still counts (scikit-learn#9842)
            "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        }


@contextlib.contextmanager
def _thread_limits(n_threads: int | None):
    """Cap torch's intra-op threads and the BLAS/OpenMP pools (threadpoolctl) at ``n_threads``
    for one cell, restoring both afterwards; ``None`` changes nothing. With ``k`` workers each
    cell gets ``cores // k`` threads, so parallel cells do not oversubscribe the machine."""
    if not n_threads:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        with threadpool_limits(limits=int(n_threads)):
            yield
    finally:
        torch.set_num_threads(before)


def worker_threads(n_workers: int, cores: int | None = None) -> int | None:
    """Threads per cell when ``n_workers`` cells run at once: ``max(1, cores // n_workers)``;
    ``None`` (leave the defaults) for a single worker."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // n_workers) if n_workers > 1 else None


def _run_cell(spec: ModelSpec, modality: str, overrides: dict, seed: int, X_train, y_train, X_test, y_test,
              labels, base_row: dict, n_threads: int | None, device: str | None = None):
    """Fit and score one cell → (row, correct) or (None, error text). Runs in a worker."""
    try:
        est = spec.build(modality, overrides=overrides, seed=seed, device=device)
        with _thread_limits(n_threads):
            t0 = time.perf_counter()
            est.fit(X_train, y_train)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            y_pred = est.predict(X_test)
            pred_s = time.perf_counter() - t0
        scores = _score(y_test, y_pred, labels)
        size, unit = model_size(est)
        row = dict(base_row, **scores, fit_seconds=round(fit_s, 4), predict_seconds=round(pred_s, 4),
                   model_size=size, size_unit=unit, selection=selection_of(est),
                   finished_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        correct = np.asarray(y_pred) == np.asarray(y_test)
        return row, correct
    except Exception:
        return None, traceback.format_exc()


# ---------------------------------------------------------------------- the run
def _params_hash(spec: ModelSpec, overrides: dict) -> str:
    factory = spec.factory if isinstance(spec.factory, str) else \
        f"{getattr(spec.factory, '__module__', '')}.{getattr(spec.factory, '__qualname__', repr(spec.factory))}"
    blob = json.dumps({"factory": factory, "kwargs": spec.kwargs, "select": spec.select,
                       "params": {**spec.params, **(overrides or {})}}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _resolve(datasets, models):
    if isinstance(datasets, (str, DatasetSpec, dict)):
        datasets = [datasets]
    if isinstance(models, (str, ModelSpec)):
        models = [models]
    if not datasets:
        raise ValueError("datasets is empty; give at least one data set name or DatasetSpec")
    if not models:
        raise ValueError("models is empty; give at least one model name or ModelSpec")
    dspecs = [get_dataset(d) for d in datasets]
    mspecs = [get_model(m) for m in models]
    for kind, specs in (("dataset", dspecs), ("model", mspecs)):
        names = [s.name for s in specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"{kind} names must be unique, got duplicates {dup}")
    bad = [f"{m.name} ({'/'.join(m.modalities)}) × {d.name} ({d.modality})"
           for d in dspecs for m in mspecs if d.modality not in m.modalities]
    if bad:
        raise ValueError("modality mismatch: a model only runs on data of its own modality; refused pairs: "
                         + "; ".join(bad))
    for m in mspecs:
        ok, err = m.availability()
        if not ok:
            raise ValueError(f"model {m.name!r} is unavailable ({m.factory}): {err}")
    return dspecs, mspecs


def _mismatch(name, what, old, new):
    return ValueError(
        f"out_dir already holds results for dataset {name!r} with {what}={old!r}, but this run has "
        f"{what}={new!r}; results from different protocols, data versions or seeds are never mixed. "
        "Use another out_dir, or resume=False to start over (the old results are kept as a backup).")


def _machine() -> dict:
    import platform

    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version()}
    versions = {}
    for mod in ("numpy", "scipy", "sklearn", "torch", "joblib", "seqcnn"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            pass
    info["versions"] = versions
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def run_comparison(datasets, models, *, cv=10, out_dir, n_jobs=1, resume=True, seed=0, data_dir="../shared/data",
                   verbose=1, overrides=None, alpha=0.05, report=True, run_cells=True, cnn_device=None):
    """Run every model on every data set, on the same folds, and write the report.

    Parameters
    ----------
    datasets : names of built-in data sets (``MR``, ``SST-2``, ``TREC``, ``GunPoint``, ...),
        :class:`DatasetSpec` objects or custom-dataset dicts (see ``dataset_from_dict``).
    models : names of built-in models (``textcnn-rand``, ``mnb``, ``nbsvm``, ...) or
        :class:`ModelSpec` objects. A model only pairs with data of its own modality.
    cv : folds for data sets whose protocol is ``kfold`` (>= 2); given splits ignore it.
    out_dir : folder of ``results.csv``, ``folds.json``, ``report.md``, figures.
    n_jobs : cells run in parallel through joblib (-1: all cores); the parent alone writes.
    resume : skip cells already in ``out_dir/results.csv`` (refusing to mix a different protocol,
        seed, data version or model parameters); ``False`` starts over, keeping a backup.
    seed : seeds the k-fold shuffling and every estimator's ``random_state``.
    data_dir : root of the built-in data sets.
    verbose : 0 silences the progress bar over cells.
    overrides : ``{model_name: {param: value}}`` applied with ``set_params``.
    alpha : significance level of the report's tests.
    report : write ``report.md``/``report.json``/figures at the end.
    run_cells : ``False`` runs nothing and only (re)writes the report from the cells already in
        ``results.csv`` (the same checks against mixing apply).
    cnn_device : pin every CNN cell to this torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``);
        ``None`` leaves each estimator's own ``device`` (``"auto"``: CUDA when present). Baseline
        cells are unaffected. A placement, not a protocol setting: it is not part of the
        parameter hash, so a run may resume on another device. With ``n_jobs > 1`` several CNN
        cells can share the device at once.

    Returns
    -------
    list of dict, one per cell of this grid (see ``RESULT_FIELDS``), sorted by data set, model, fold
    (a :class:`ComparisonRows`: its ``failed`` attribute lists the cells of this run that raised).
    """
    cv = _check_int(cv, "cv", 2)
    seed = _check_int(seed, "seed", 0)
    if cnn_device is not None:
        import torch

        if not isinstance(cnn_device, str):  # torch.device(5) would quietly mean cuda:5
            raise TypeError(f"cnn_device must be a device string such as 'cuda:0' or 'cpu', "
                            f"got {type(cnn_device).__name__}")
        try:
            kind = torch.device(cnn_device).type
        except (RuntimeError, TypeError, ValueError):
            raise ValueError(f"cnn_device must be a torch device string such as 'cuda:0' or 'cpu', "
                             f"got {cnn_device!r}") from None
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"cnn_device={cnn_device!r} but CUDA is not available on this machine")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
    if out_dir is None:
        raise ValueError("out_dir is required")
    overrides = dict(overrides or {})
    if not all(isinstance(v, dict) for v in overrides.values()):
        raise TypeError("overrides must map model names to dicts of parameters")
    dspecs, mspecs = _resolve(datasets, models)
    unknown = set(overrides) - {m.name for m in mspecs}
    if unknown:
        raise ValueError(f"overrides name models not in this run: {sorted(unknown)} (models: {[m.name for m in mspecs]})")
    for m in mspecs:  # fail before any work on a bad parameter name or value
        for modality in sorted({d.modality for d in dspecs} & set(m.modalities)):
            try:
                check_params(m.build(modality, overrides=overrides.get(m.name), seed=seed))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"model {m.name!r}: {exc}") from None
    out_dir = Path(os.fspath(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path, folds_path = out_dir / "results.csv", out_dir / "folds.json"

    if not resume:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for p in (results_path, folds_path):
            if p.exists():
                os.replace(p, p.with_name(f"{p.name}.{stamp}.bak"))

    # -- data and folds (loaded once, in the parent)
    loaded, fold_sets, ds_meta = {}, {}, {}
    for d in dspecs:
        data = d.load(data_dir)
        folds = make_folds(d, data, cv=cv, seed=seed)
        classes = np.unique(data.y)
        loaded[d.name], fold_sets[d.name] = data, folds
        ds_meta[d.name] = {
            "name": d.name, "modality": d.modality, "protocol": d.protocol,
            "n_folds": len(folds), "seed": seed, "data_hash": data.data_hash, "fold_hash": fold_hash(folds),
            "n_samples": len(data.y), "n_classes": int(len(classes)), "classes": [c.item() if hasattr(c, "item")
                                                                                 else c for c in classes],
            "n_train": [int(len(tr)) for tr, _ in folds], "n_test": [int(len(te)) for _, te in folds],
            "description": d.description, "files": data.files,
        }

    # -- refuse to mix protocols / seeds / data versions
    stored = {}
    if folds_path.exists():
        stored = json.loads(folds_path.read_text(encoding="utf-8"))
    for name, meta in ds_meta.items():
        old = stored.get(name)
        if old is not None:
            for key in _PROTOCOL_KEYS:
                if old.get(key) != meta[key]:
                    raise _mismatch(name, key, old.get(key), meta[key])
    existing = read_results(results_path) if results_path.exists() else []
    phash = {m.name: _params_hash(m, overrides.get(m.name)) for m in mspecs}
    for row in existing:
        meta = ds_meta.get(row["dataset"])
        if meta is None:
            continue
        for key in _PROTOCOL_KEYS:
            if row[key] != meta[key]:
                raise _mismatch(row["dataset"], key, row[key], meta[key])
        if row["model"] in phash and row["params_hash"] != phash[row["model"]]:
            raise ValueError(
                f"out_dir already holds results of model {row['model']!r} with other parameters "
                f"(params_hash {row['params_hash']} ≠ {phash[row['model']]}); use another out_dir or "
                "resume=False, or give the changed model a new name (ModelSpec)")
    for name, meta in ds_meta.items():
        stored[name] = dict(meta, folds=[{"train": tr.tolist(), "test": te.tolist()} for tr, te in fold_sets[name]])
    _atomic_write_text(folds_path, json.dumps(stored))  # compact: the index lists are long

    # -- the grid
    done = {(r["dataset"], r["model"], r["fold"]) for r in existing}
    tasks = []
    for d in dspecs:
        data, meta = loaded[d.name], ds_meta[d.name]
        for m in mspecs:
            for k, (tr, te) in enumerate(fold_sets[d.name]):
                if (d.name, m.name, k) in done:
                    continue
                base = {"dataset": d.name, "model": m.name, "fold": k, "modality": d.modality, "kind": m.kind,
                        "protocol": d.protocol, "n_folds": meta["n_folds"], "seed": seed,
                        "data_hash": meta["data_hash"], "fold_hash": meta["fold_hash"], "params_hash": phash[m.name],
                        "n_train": len(tr), "n_test": len(te), "n_classes": meta["n_classes"]}
                tasks.append((m, d.modality, overrides.get(m.name, {}), seed, tr, te, data, meta, base))
    # cheap cells first (baselines before CNNs, stable otherwise): an interrupted run then has the
    # widest possible table, and the CNN cells resume later
    tasks.sort(key=lambda t: t[0].kind == "cnn")
    n_total = sum(len(fold_sets[d.name]) for d in dspecs) * len(mspecs)

    errors = []
    if tasks and run_cells:
        _execute(tasks, out_dir, results_path, n_jobs=n_jobs, verbose=verbose, n_total=n_total, errors=errors,
                 cnn_device=cnn_device)
    if errors:
        with open(out_dir / "errors.log", "a", encoding="utf-8") as fh:
            for key, text, _base in errors:
                fh.write(f"=== {key} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n{text}\n")
        warnings.warn(f"{len(errors)} cell(s) failed and were not recorded (see {out_dir / 'errors.log'}): "
                      + "; ".join(f"{k}: {_last_line(t)}" for k, t, _b in errors[:5]), RuntimeWarning,
                      stacklevel=2)

    names_d = [d.name for d in dspecs]
    names_m = [m.name for m in mspecs]
    rows = [r for r in read_results(results_path) if r["dataset"] in names_d and r["model"] in names_m]
    rows.sort(key=lambda r: (names_d.index(r["dataset"]), names_m.index(r["model"]), r["fold"]))
    if report:
        from .report import write_report

        run_meta = {"seed": seed, "cv": cv, "alpha": alpha, "datasets": [ds_meta[n] for n in names_d],
                    "models": [{"name": m.name, "kind": m.kind, "modalities": list(m.modalities),
                                "description": m.description, "params_hash": phash[m.name],
                                "params": {**m.params, **overrides.get(m.name, {})}} for m in mspecs],
                    "machine": _machine(), "failed_cells": [k for k, _t, _b in errors],
                    "expected_cells": n_total}
        write_report(rows, run_meta, out_dir, alpha=alpha,
                     correct_loader=lambda d, m, k: _load_correct(out_dir, d, m, k))
    failed = [{"dataset": b["dataset"], "model": b["model"], "fold": b["fold"], "error": _last_line(t)}
              for _k, t, b in errors]
    return ComparisonRows(rows, failed)


class ComparisonRows(list):
    """The rows of :func:`run_comparison` (a plain ``list`` of dicts) plus ``failed``: one dict
    per cell of this run that raised (``dataset``, ``model``, ``fold``, ``error`` = the
    exception's last traceback line); such cells are in ``errors.log``, not in the rows."""

    def __init__(self, rows=(), failed=()):
        super().__init__(rows)
        self.failed = list(failed)


def _last_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"


def _load_correct(out_dir: Path, dataset: str, model: str, fold: int):
    p = _prediction_path(out_dir, dataset, model, fold)
    return np.load(p) if p.exists() else None


def _execute(tasks, out_dir: Path, results_path: Path, *, n_jobs, verbose, n_total, errors, cnn_device=None):
    from tqdm.auto import tqdm

    writer = _ResultWriter(results_path)
    n_workers = min((os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs), len(tasks))
    threads = worker_threads(n_workers)

    def payload(t):
        m, modality, ovr, seed, tr, te, data, meta, base = t
        return (m, modality, ovr, seed, take(data.X, tr), data.y[tr], take(data.X, te), data.y[te],
                meta["classes"], base, threads, cnn_device if m.kind == "cnn" else None)

    bar = tqdm(total=n_total, initial=n_total - len(tasks), desc="compare", unit="cell", disable=not verbose,
               dynamic_ncols=True)
    try:
        if n_workers <= 1:
            results = (_run_cell(*payload(t)) + (t[-1],) for t in tasks)
        else:
            from joblib import Parallel, delayed

            par = Parallel(n_jobs=n_workers, return_as="generator_unordered")
            results = par(delayed(_tagged_cell)(*payload(t)) for t in tasks)
        for row, extra, base in results:
            key = f"{base['dataset']} × {base['model']} × fold {base['fold']}"
            if row is None:
                errors.append((key, extra, base))
            else:
                p = _prediction_path(out_dir, row["dataset"], row["model"], row["fold"])
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_name(f".{p.stem}.tmp.npy")
                np.save(tmp, np.asarray(extra, dtype=bool))
                os.replace(tmp, p)
                writer.write(row)
            bar.set_postfix_str(key, refresh=False)
            bar.update(1)
    finally:
        bar.close()
        writer.close()


def _tagged_cell(*args):
    """``_run_cell`` plus its base row, so unordered results can be matched to their cell."""
    return _run_cell(*args) + (args[9],)
