"""One cell of a comparison: fit a fresh estimator on a training part, predict the test part,
score it. Runs in the parent, a joblib worker or a Dask worker; it never touches the files.

Scores: single-label targets (N,) get accuracy (from ``predict``), balanced accuracy, macro-F1
and micro-F1 over the data set's full label list (a class absent from a test fold still counts,
scikit-learn#9842). Multi-label targets, a (N, L) 0/1 indicator matrix, get subset accuracy
(every label right), macro-F1 (the primary score of a multi-label data set) and micro-F1;
balanced accuracy is not defined for them and is left empty.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import inspect
import os
import time
import traceback
import warnings

import numpy as np

from .models import ModelSpec, model_size, selection_of

__all__ = ["score", "run_cell", "tagged_cell", "worker_threads", "dask_worker_threads", "thread_limits",
           "is_multilabel"]


def is_multilabel(y) -> bool:
    """True for a 2-D indicator matrix (N, L): the multi-label layout compare uses."""
    return np.ndim(y) == 2


def _indicator(y_pred, n_labels: int) -> np.ndarray:
    pred = np.asarray(y_pred)
    if pred.ndim != 2 or pred.shape[1] != n_labels:
        raise ValueError(f"a multi-label model must predict a (n, {n_labels}) indicator matrix, "
                         f"got shape {pred.shape}")
    return (pred != 0).astype(np.int8)


def score(y_true, y_pred, labels) -> tuple[dict, np.ndarray]:
    """(scores, correct): the metric dict of one cell and, per test sample, whether the
    prediction was right (all labels right for multi-label targets)."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    y_true = np.asarray(y_true)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if is_multilabel(y_true):
            pred = _indicator(y_pred, y_true.shape[1])
            correct = np.all(pred == (y_true != 0), axis=1)
            return {"accuracy": float(np.mean(correct)), "balanced_accuracy": float("nan"),
                    "macro_f1": float(f1_score(y_true, pred, average="macro", zero_division=0)),
                    "micro_f1": float(f1_score(y_true, pred, average="micro", zero_division=0))}, correct
        y_pred = np.asarray(y_pred)
        correct = y_pred == y_true
        return {"accuracy": float(np.mean(correct)),
                "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
                "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
                "micro_f1": float(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
                }, correct


@contextlib.contextmanager
def thread_limits(n_threads: int | None):
    """Cap torch's intra-op threads and the BLAS/OpenMP pools (threadpoolctl) at ``n_threads``
    for one cell, restoring both afterwards; ``None`` changes nothing. With ``k`` workers each
    cell gets ``cores // k`` threads, so parallel cells do not oversubscribe the machine.

    Yields the intra-op threads the cell runs with (``torch.get_num_threads()`` inside the
    limits): a seeded CPU cell repeats bit for bit only at the same count, so rows record it."""
    import torch

    if not n_threads:
        yield torch.get_num_threads()
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        with threadpool_limits(limits=int(n_threads)):
            yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def worker_threads(n_workers: int, cores: int | None = None) -> int | None:
    """Threads per cell when ``n_workers`` cells run at once: ``max(1, cores // n_workers)``;
    ``None`` (leave the defaults) for a single worker."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // n_workers) if n_workers > 1 else None


def dask_worker_threads() -> int | None:
    """Threads per cell inside a Dask worker: the machine's cores divided by the worker's task
    slots (``dask worker --nthreads``), so that parallel cells do not oversubscribe a node;
    ``None`` outside a worker."""
    try:
        from distributed import get_worker

        slots = int(getattr(get_worker(), "nthreads", 0) or get_worker().state.nthreads)
    except Exception:  # not in a worker, or an unknown distributed version: leave the defaults
        return None
    return max(1, (os.cpu_count() or 1) // max(1, slots))


def _takes_validation_data(est) -> bool:
    try:
        return "validation_data" in inspect.signature(est.fit).parameters
    except (TypeError, ValueError):
        return False


def _fit_predict(est, X_train, y_train, X_test, validation):
    """Fit (with ``validation_data`` when given and accepted) and predict; returns
    (y_pred, fit seconds, predict seconds, whether the given validation data was used)."""
    use_val = validation is not None and _takes_validation_data(est)
    t0 = time.perf_counter()
    if use_val:
        est.fit(X_train, y_train, validation_data=validation)
    else:
        est.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    y_pred = est.predict(X_test)
    return y_pred, fit_s, time.perf_counter() - t0, use_val


def run_cell(spec: ModelSpec, modality: str, overrides: dict, seed: int, X_train, y_train, X_test, y_test,
             labels, base_row: dict, n_threads: int | None, device: str | None = None, validation=None):
    """Fit and score one cell → (row, correct) or (None, error text). ``n_threads``: threads for
    the cell (``None``: leave the defaults; ``"dask"``: cores // the Dask worker's task slots).

    ``validation`` = (X_dev, y_dev): the given development part (``dev="validation"``), passed
    as ``fit(..., validation_data=...)`` to estimators that take it; the others ignore it."""
    try:
        est = spec.build(modality, overrides=overrides, seed=seed, device=device)
        with thread_limits(dask_worker_threads() if n_threads == "dask" else n_threads) as threads:
            y_pred, fit_s, pred_s, used_val = _fit_predict(est, X_train, y_train, X_test, validation)
        scores, correct = score(y_test, y_pred, labels)
        size, unit = model_size(est)
        selection = selection_of(est)
        if used_val and selection != "none":
            selection = "given-dev"
        row = dict(base_row, **scores, fit_seconds=round(fit_s, 4), predict_seconds=round(pred_s, 4),
                   model_size=size, size_unit=unit, selection=selection, threads=threads,
                   finished_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        return row, correct
    except Exception:
        return None, traceback.format_exc()


def tagged_cell(*args, **kwargs):
    """``run_cell`` plus its base row, so unordered results can be matched to their cell."""
    return run_cell(*args, **kwargs) + (args[9],)
