"""Run a grid of data sets × models × seeds × folds and keep every finished cell on disk.

Files in ``out_dir`` (see :mod:`seqcnn.compare.store`):

- ``folds.json``: per data set the protocol, seeds, number of folds, data hash, the fold indices
  and their hash (per seed when there are several). A later run into the same folder refuses to
  mix (``ValueError``) when any of these differ.
- ``results.csv``: one row per finished cell, appended, flushed and ``fsync``'d as each cell
  finishes (the parent process is the only writer). A run that is killed (even ``kill -9``)
  and started again skips finished cells; a partial last line is detected and dropped.
- ``predictions.csv``: per cell, whether each test sample was predicted right (for McNemar's
  test on a single given split), appended and ``fsync``'d like ``results.csv``.
- ``errors.log``: cells that raised (they are not written to ``results.csv`` and are retried on
  the next run).
- ``report.md``, ``report.json`` and the figures (see :mod:`seqcnn.compare.report`).

Seeds: every cell runs once per seed of ``seeds`` (default ``[seed]``). The seed goes to the
estimator's ``random_state``; k-fold data sets draw their folds with it too (repeated CV), given
splits stay fixed. Rows record their seed; the statistics average over seeds and folds.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from itertools import product
from pathlib import Path

import numpy as np

from . import store
from .backend import check_backend, execute, threads_for
from .cells import is_multilabel, worker_threads
from .datasets import DatasetSpec, fold_hash, get_dataset, make_folds, take
from .models import ModelSpec, check_params, get_model
from .store import RESULT_FIELDS, read_results

__all__ = ["run_comparison", "read_results", "RESULT_FIELDS", "ComparisonRows", "worker_threads", "DEV_MODES"]

_PROTOCOL_KEYS = ("protocol", "n_folds", "seeds", "data_hash", "dev")
DEV_MODES = ("merge", "validation")


# ---------------------------------------------------------------------- argument checks
def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_seeds(seed, seeds) -> list[int]:
    if seeds is None:
        return [_check_int(seed, "seed", 0)]
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(_check_int(seeds, "seeds", 1)))  # seeds=10 means 0..9
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a list of ints or a count, got {type(seeds).__name__}")
    out = [_check_int(s, "seeds entry", 0) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds must be a non-empty list of distinct ints, got {list(seeds)!r}")
    return out


def _check_device(cnn_device):
    if cnn_device is None:
        return
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


def _check_n_jobs(n_jobs):
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")


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


def _cell_overrides(overrides, mspecs, dspecs) -> dict:
    """``{(model, dataset): params}`` from ``{model: params}`` and ``{"model@dataset": params}``
    (a data-set-specific entry wins). Unknown models or data sets are refused."""
    if not all(isinstance(v, dict) for v in overrides.values()):
        raise TypeError("overrides must map model names to dicts of parameters")
    models, datasets = {m.name for m in mspecs}, {d.name for d in dspecs}
    unknown = sorted(k for k in overrides if k.partition("@")[0] not in models)
    if unknown:
        raise ValueError(f"overrides name models not in this run: {unknown} (models: {[m.name for m in mspecs]})")
    bad_ds = sorted(k for k in overrides if "@" in k and k.partition("@")[2] not in datasets)
    if bad_ds:
        raise ValueError(f"overrides name data sets not in this run: {bad_ds} (data sets: {sorted(datasets)})")
    return {(m.name, d.name): {**overrides.get(m.name, {}), **overrides.get(f"{m.name}@{d.name}", {})}
            for m in mspecs for d in dspecs if d.modality in m.modalities}


def _check_params_early(mspecs, dspecs, cell_params, seed):
    """Fail before any work on a bad parameter name or value."""
    for m in mspecs:
        for d in dspecs:
            if d.modality not in m.modalities:
                continue
            try:
                check_params(m.build(d.modality, overrides=cell_params[(m.name, d.name)], seed=seed))
            except (ValueError, TypeError) as exc:
                where = f"model {m.name!r}" + (f" on {d.name!r}" if len(dspecs) > 1 else "")
                raise type(exc)(f"{where}: {exc}") from None


def _params_hash(spec: ModelSpec, params: dict) -> str:
    factory = spec.factory if isinstance(spec.factory, str) else \
        f"{getattr(spec.factory, '__module__', '')}.{getattr(spec.factory, '__qualname__', repr(spec.factory))}"
    blob = json.dumps({"factory": factory, "kwargs": spec.kwargs, "select": spec.select,
                       "params": {**spec.params, **(params or {})}}, sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- data and folds
def _label_list(data) -> list:
    if is_multilabel(data.y):
        return list(data.label_names) if data.label_names is not None else list(range(data.y.shape[1]))
    return [c.item() if hasattr(c, "item") else c for c in np.unique(data.y)]


def _dataset_meta(d: DatasetSpec, data, splits: dict, seeds: list[int], dev: str) -> dict:
    first = splits[seeds[0]]
    classes = _label_list(data)
    return {
        "name": d.name, "modality": d.modality, "protocol": d.protocol, "n_folds": len(first),
        "seed": seeds[0], "seeds": seeds, "data_hash": data.data_hash, "fold_hash": fold_hash(first),
        "fold_hashes": {str(s): fold_hash(splits[s]) for s in seeds},
        "dev": dev if d.protocol == "train_dev_test" else None, "multilabel": is_multilabel(data.y),
        "n_samples": len(data.y), "n_classes": int(len(classes)), "classes": classes,
        "n_train": [int(len(f[0])) for f in first], "n_test": [int(len(f[1])) for f in first],
        "description": d.description, "files": data.files,
    }


def _load_all(dspecs, data_dir, cv, seeds, dev):
    """(loaded data, splits {name: {seed: folds}}, meta {name: dict}) — loaded once, in the parent."""
    loaded, splits, ds_meta = {}, {}, {}
    for d in dspecs:
        data = d.load(data_dir)
        splits[d.name] = {s: make_folds(d, data, cv=cv, seed=s, dev=dev) for s in seeds}
        loaded[d.name] = data
        ds_meta[d.name] = _dataset_meta(d, data, splits[d.name], seeds, dev)
    return loaded, splits, ds_meta


def _mismatch(name, what, old, new, hint=""):
    return ValueError(
        f"out_dir already holds results for dataset {name!r} with {what}={old!r}, but this run has "
        f"{what}={new!r}; results from different protocols, data versions or seeds are never mixed. "
        "Use another out_dir, or resume=False to start over (the old results are kept as a backup)."
        + (f" {hint}" if hint else ""))


def _stored_value(old: dict, key: str):
    """A protocol value of a ``folds.json`` entry, reading the one-seed layout too."""
    if key == "seeds":
        return old.get("seeds", [old.get("seed")])
    if key == "dev" and "dev" not in old:
        return "merge" if old.get("protocol") == "train_dev_test" else None
    return old.get(key)


def _check_stored(stored: dict, existing: list, ds_meta: dict, phash: dict) -> None:
    """Refuse to mix: other protocol, seeds, data version or fold indices; other model parameters.

    Seeds may only grow: a run whose seed list starts with the stored one (``--seeds 5`` then
    ``--seeds 10``) keeps every stored cell and runs the new seeds' cells; fewer or other seeds are
    refused (the report would silently drop or mix cells)."""
    for name, meta in ds_meta.items():
        old = stored.get(name)
        for key in _PROTOCOL_KEYS if old is not None else ():
            before, now = _stored_value(old, key), meta[key]
            if key == "seeds" and now[:len(before)] == before:
                continue  # more seeds after the stored ones: stored cells kept, the new seeds run
            if before != now:
                if key == "seeds" and len(before) == len(now) == 1:  # one seed each: say "seed"
                    key, before, now = "seed", before[0], now[0]
                hint = (f"Seeds may only be extended: give a list that starts with the stored seeds "
                        f"{before!r}." if key == "seeds" else "")
                raise _mismatch(name, key, before, now, hint)
    for row in existing:
        meta = ds_meta.get(row["dataset"])
        if meta is None:
            continue
        for key in ("protocol", "n_folds", "data_hash"):
            if row[key] != meta[key]:
                raise _mismatch(row["dataset"], key, row[key], meta[key])
        if row["seed"] not in meta["seeds"]:
            raise _mismatch(row["dataset"], "seed", row["seed"], meta["seeds"])
        if row["fold_hash"] != meta["fold_hashes"][str(row["seed"])]:
            raise _mismatch(row["dataset"], "fold_hash", row["fold_hash"], meta["fold_hashes"][str(row["seed"])])
        expected = phash.get((row["model"], row["dataset"]))
        if expected is not None and row["params_hash"] != expected:
            raise ValueError(
                f"out_dir already holds results of model {row['model']!r} with other parameters "
                f"(params_hash {row['params_hash']} ≠ {expected}); use another out_dir or "
                "resume=False, or give the changed model a new name (ModelSpec)")


def _folds_json(stored: dict, ds_meta: dict, splits: dict) -> str:
    """``folds.json``: the first seed's folds under ``folds`` (dev indices under ``dev``), every
    further seed's under ``repeats``."""
    def listed(folds):
        return [{"train": f[0].tolist(), "test": f[1].tolist(),
                 **({"dev": f[2].tolist()} if len(f) > 2 else {})} for f in folds]

    for name, meta in ds_meta.items():
        seeds = meta["seeds"]
        entry = dict(meta, folds=listed(splits[name][seeds[0]]))
        if len(seeds) > 1 and meta["protocol"] == "kfold":
            entry["repeats"] = {str(s): listed(splits[name][s]) for s in seeds[1:]}
        stored[name] = entry
    return json.dumps(stored)  # compact: the index lists are long


# ---------------------------------------------------------------------- the grid
def _tasks(dspecs, mspecs, splits, ds_meta, cell_params, phash, done):
    """The cells still to run, cheap ones first (baselines before CNNs): an interrupted run then
    has the widest possible table, and the CNN cells resume later."""
    tasks = []
    for d in dspecs:
        meta = ds_meta[d.name]
        for m in mspecs:
            for seed in meta["seeds"]:
                for k, fold in enumerate(splits[d.name][seed]):
                    if (d.name, m.name, seed, k) in done:
                        continue
                    base = {"dataset": d.name, "model": m.name, "fold": k, "modality": d.modality, "kind": m.kind,
                            "protocol": d.protocol, "n_folds": meta["n_folds"], "seed": seed,
                            "data_hash": meta["data_hash"], "fold_hash": meta["fold_hashes"][str(seed)],
                            "params_hash": phash[(m.name, d.name)], "n_train": len(fold[0]),
                            "n_test": len(fold[1]), "n_classes": meta["n_classes"]}
                    tasks.append((m, d, cell_params[(m.name, d.name)], fold, base))
    tasks.sort(key=lambda t: t[0].kind == "cnn")
    return tasks


def _payload_maker(loaded, ds_meta, threads, cnn_device):
    def payload(task):
        m, d, params, fold, base = task
        data, meta = loaded[d.name], ds_meta[d.name]
        tr, te = fold[0], fold[1]
        validation = (take(data.X, fold[2]), data.y[fold[2]]) if len(fold) > 2 else None
        args = (m, d.modality, params, base["seed"], take(data.X, tr), data.y[tr], take(data.X, te), data.y[te],
                meta["classes"], base, threads, cnn_device if m.kind == "cnn" else None)
        return args, {"validation": validation}
    return payload


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


def _last_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "unknown error"


class ComparisonRows(list):
    """The rows of :func:`run_comparison` (a plain ``list`` of dicts) plus ``failed``: one dict
    per cell of this run that raised (``dataset``, ``model``, ``fold``, ``seed``, ``error`` =
    the exception's last traceback line); such cells are in ``errors.log``, not in the rows."""

    def __init__(self, rows=(), failed=()):
        super().__init__(rows)
        self.failed = list(failed)


def _check_references(references) -> dict:
    if references is None:
        return {}
    if not isinstance(references, dict) or not all(
            isinstance(v, dict) or (k == "note" and isinstance(v, str)) for k, v in references.items()):
        raise TypeError("references must map data set names to {label: value} tables (plus an optional "
                        f"'note' string), got {references!r}")
    return references


def _correct_loader(out_dir: Path, first_seed: int):
    """``loader(dataset, model, fold, seed=None)`` → per-sample correctness from
    ``predictions.csv`` (or a folder of the earlier layout's ``.npy`` files), None if absent."""
    table = store.read_predictions(out_dir / "predictions.csv")

    def load(d, m, k, s=None):
        seed = first_seed if s is None else s
        if (d, m, seed, k) in table:
            return table[(d, m, seed, k)]
        return store.load_correct(store.prediction_path(out_dir, d, m, k, None if seed == first_seed else seed))
    return load


def _write_run_report(rows, out_dir, ds_meta, names_d, mspecs, cell_params, phash, errors, n_total, alpha, cv,
                      references):
    from .report import write_report

    seeds = ds_meta[names_d[0]]["seeds"]
    models = []
    for m in mspecs:
        by_ds = {d: cell_params[(m.name, d)] for d in names_d if (m.name, d) in cell_params}
        common = {k: v for k, v in next(iter(by_ds.values()), {}).items()
                  if all(p.get(k, object()) == v for p in by_ds.values())}
        specific = {d: {k: v for k, v in p.items() if k not in common} for d, p in by_ds.items()}
        models.append({"name": m.name, "kind": m.kind, "modalities": list(m.modalities),
                       "description": m.description,
                       "params_hash": next(v for (mm, _d), v in phash.items() if mm == m.name),
                       "params": {**m.params, **common},
                       "dataset_params": {d: p for d, p in specific.items() if p}})
    run_meta = {"seed": seeds[0], "seeds": seeds, "cv": cv, "alpha": alpha,
                "datasets": [ds_meta[n] for n in names_d], "models": models, "machine": _machine(),
                "failed_cells": [k for k, _t, _b in errors], "expected_cells": n_total, "references": references}
    write_report(rows, run_meta, out_dir, alpha=alpha, correct_loader=_correct_loader(out_dir, seeds[0]))


def _grid_rows(results_path, names_d, names_m, seeds) -> list[dict]:
    """The rows of this grid in ``results.csv``, sorted by data set, model, seed, fold."""
    rows = [r for r in read_results(results_path)
            if r["dataset"] in names_d and r["model"] in names_m and r["seed"] in seeds]
    rows.sort(key=lambda r: (names_d.index(r["dataset"]), names_m.index(r["model"]), seeds.index(r["seed"]),
                             r["fold"]))
    return rows


def _validated(cv, seed, seeds, n_jobs, out_dir, cnn_device, dev, backend, scheduler):
    cv = _check_int(cv, "cv", 2)
    seeds = _check_seeds(seed, seeds)
    _check_device(cnn_device)
    _check_n_jobs(n_jobs)
    if out_dir is None:
        raise ValueError("out_dir is required")
    if dev not in DEV_MODES:
        raise ValueError(f"dev must be one of {DEV_MODES}, got {dev!r}")
    return cv, seeds, check_backend(backend, scheduler)


def run_comparison(datasets, models, *, cv=10, out_dir, n_jobs=1, resume=True, seed=0, data_dir="../shared/data",
                   verbose=1, overrides=None, alpha=0.05, report=True, run_cells=True, cnn_device=None,
                   seeds=None, dev="merge", backend=None, scheduler=None, references=None):
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
    seeds : a list of seeds, or a count ``n`` (0..n-1); every cell runs once per seed (k-fold
        data sets are re-split with each); overrides ``seed``.
    data_dir : root of the built-in data sets.
    verbose : 0 silences the progress bar over cells.
    overrides : ``{model_name: {param: value}}`` applied with ``set_params``; a key
        ``"model@dataset"`` applies to that data set only (and wins over the model's entry).
    alpha : significance level of the report's tests.
    report : write ``report.md``/``report.json``/figures at the end.
    run_cells : ``False`` runs nothing and only (re)writes the report from the cells already in
        ``results.csv`` (the same checks against mixing apply).
    cnn_device : pin every CNN cell to this torch device (``"cuda:1"``, ``"cpu"``); a placement,
        not part of the parameter hash (a run may resume on another device).
    dev : for given train/dev/test splits, ``"merge"`` (default) adds the dev part to the
        training part; ``"validation"`` keeps it apart and passes it as
        ``fit(..., validation_data=(X_dev, y_dev))`` to estimators that take it (it picks their
        epoch); the others train on the training part alone.
    backend, scheduler : ``None``/``"local"`` runs cells here (joblib workers for ``n_jobs > 1``);
        ``"dask"`` sends them to the Dask scheduler at ``scheduler`` (a local cluster when
        ``None``) through joblib's dask backend. Same files, same rows, same resume.
    references : published figures shown beside the results, ``{"note": text, dataset: {label:
        value}}`` (a report section only; nothing is compared against them).

    Returns
    -------
    list of dict, one per cell of this grid (see ``RESULT_FIELDS``), sorted by data set, model,
    seed, fold (a :class:`ComparisonRows`: its ``failed`` attribute lists the cells that raised).
    """
    cv, seeds, backend = _validated(cv, seed, seeds, n_jobs, out_dir, cnn_device, dev, backend, scheduler)
    dspecs, mspecs = _resolve(datasets, models)
    cell_params = _cell_overrides(dict(overrides or {}), mspecs, dspecs)
    _check_params_early(mspecs, dspecs, cell_params, seeds[0])
    out_dir = Path(os.fspath(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path, folds_path = out_dir / "results.csv", out_dir / "folds.json"
    if not resume:
        store.backup(results_path, folds_path, out_dir / "predictions.csv")
    loaded, splits, ds_meta = _load_all(dspecs, data_dir, cv, seeds, dev)
    by_name = {m.name: m for m in mspecs}
    phash = {key: _params_hash(by_name[key[0]], p) for key, p in cell_params.items()}
    stored, existing = store.read_folds(folds_path), read_results(results_path)
    _check_stored(stored, existing, ds_meta, phash)
    store.atomic_write_text(folds_path, _folds_json(stored, ds_meta, splits))

    tasks = _tasks(dspecs, mspecs, splits, ds_meta, cell_params, phash, {store.cell_key(r) for r in existing})
    n_total = sum(ds_meta[d.name]["n_folds"] * len(seeds) for d, m in product(dspecs, mspecs))
    errors = []
    if tasks and run_cells:
        payload = _payload_maker(loaded, ds_meta, threads_for(n_jobs, len(tasks), backend), cnn_device)
        execute(tasks, payload, out_dir, results_path, n_jobs=n_jobs, verbose=verbose, n_total=n_total,
                errors=errors, first_seed=seeds[0], backend=backend, scheduler=scheduler)
    if errors:
        store.append_errors(out_dir, errors)
        warnings.warn(f"{len(errors)} cell(s) failed and were not recorded (see {out_dir / 'errors.log'}): "
                      + "; ".join(f"{k}: {_last_line(t)}" for k, t, _b in errors[:5]), RuntimeWarning,
                      stacklevel=2)
    names_d = [d.name for d in dspecs]
    rows = _grid_rows(results_path, names_d, [m.name for m in mspecs], seeds)
    if report:
        _write_run_report(rows, out_dir, ds_meta, names_d, mspecs, cell_params, phash, errors, n_total,
                          alpha, cv, _check_references(references))
    failed = [{"dataset": b["dataset"], "model": b["model"], "fold": b["fold"], "seed": b["seed"],
               "error": _last_line(t)} for _k, t, b in errors]
    return ComparisonRows(rows, failed)
