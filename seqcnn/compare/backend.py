"""Where the cells run: in the parent one after another, in local joblib workers
(``n_jobs > 1``), or on a Dask cluster through joblib's ``dask`` backend.

Whatever the backend, the parent alone writes ``results.csv`` and ``predictions.csv`` as results
come back, so a Dask run resumes exactly as a local one and gives the same rows (each cell is
seeded by the run, not by the worker it lands on).

``backend="dask"`` needs the optional extra (``pip install "seqcnn[dask]"``, which brings
``dask[distributed]``). ``scheduler`` is the address of a running scheduler
(``tcp://host:8786``); without one a local cluster is started for the run and closed after it.
"""
from __future__ import annotations

import contextlib
import os

from seqcnn.data.errors import MissingExtraError

from .cells import run_cell, tagged_cell, worker_threads
from .store import PredictionWriter, ResultWriter

__all__ = ["BACKENDS", "MissingExtraError", "check_backend", "execute"]

BACKENDS = ("local", "dask")


def check_backend(backend, scheduler) -> str:
    """Validate ``backend``/``scheduler`` before any cell runs; ``None`` means ``"local"``."""
    backend = "local" if backend is None else backend
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if scheduler is not None:
        if backend != "dask":
            raise ValueError(f"scheduler={scheduler!r} needs backend='dask'")
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise ValueError(f"scheduler must be an address such as 'tcp://host:8786', got {scheduler!r}")
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise MissingExtraError('backend "dask" needs the optional extra: pip install "seqcnn[dask]"') from None
    return backend


@contextlib.contextmanager
def _dask_client(scheduler):
    from distributed import Client

    client = Client(scheduler) if scheduler else Client(processes=False)
    try:
        yield client
    finally:
        client.close()


def _results(tasks, payload, n_workers, backend, scheduler):
    """An iterator of (row, extra, base) per task, in completion order for parallel runs."""
    if backend == "local" and n_workers <= 1:
        for t in tasks:
            args, kwargs = payload(t)
            yield run_cell(*args, **kwargs) + (args[9],)
        return
    from joblib import Parallel, delayed, parallel_config

    if backend == "local":
        par = Parallel(n_jobs=n_workers, return_as="generator_unordered")
        yield from par(delayed(tagged_cell)(*a, **k) for a, k in map(payload, tasks))
        return
    with _dask_client(scheduler), parallel_config(backend="dask"):
        par = Parallel(n_jobs=-1, return_as="generator_unordered")
        yield from par(delayed(tagged_cell)(*a, **k) for a, k in map(payload, tasks))


def execute(tasks, payload, out_dir, results_path, *, n_jobs, verbose, n_total, errors, first_seed,
            backend="local", scheduler=None):
    """Run ``tasks`` (``payload(task)`` → the arguments of :func:`run_cell`), append each finished
    row to ``results.csv``, its per-sample correctness to ``predictions.csv``, and each failure
    ``(key, traceback, base_row)`` to ``errors``. ``payload`` is called with the threads per cell
    already fixed by :func:`threads_for`."""
    from tqdm.auto import tqdm

    writer, predictions = ResultWriter(results_path), PredictionWriter(out_dir / "predictions.csv")
    bar = tqdm(total=n_total, initial=n_total - len(tasks), desc="compare", unit="cell", disable=not verbose,
               dynamic_ncols=True)
    try:
        for row, extra, base in _results(tasks, payload, n_workers(n_jobs, len(tasks)), backend, scheduler):
            key = f"{base['dataset']} × {base['model']} × fold {base['fold']}"
            if base["seed"] != first_seed:
                key += f" × seed {base['seed']}"
            if row is None:
                errors.append((key, extra, base))
            else:
                predictions.write_cell(row, extra)  # before the row: a recorded row always has its predictions
                writer.write(row)
            bar.set_postfix_str(key, refresh=False)
            bar.update(1)
    finally:
        bar.close()
        writer.close()
        predictions.close()


def n_workers(n_jobs: int, n_tasks: int) -> int:
    """Local workers: ``n_jobs`` (-1: every core), never more than the tasks."""
    return max(1, min((os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs), n_tasks))


def threads_for(n_jobs: int, n_tasks: int, backend: str) -> int | str | None:
    """Threads per cell: cores // local workers; on Dask, decided in the worker (its node's
    cores // its task slots)."""
    return "dask" if backend == "dask" else worker_threads(n_workers(n_jobs, n_tasks))
