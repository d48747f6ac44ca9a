"""Device choice and seeding, shared by every estimator (and by ``baselines`` for k-NN on torch).

Estimators never touch the process's random state: ``fit`` runs its torch work inside
:func:`isolated_rng`, which forks torch's global generators (CPU and CUDA), seeds the fork and
restores the caller's state on exit. :func:`seed_everything` is the opposite — a helper for
scripts that *want* to seed the whole process — and no estimator calls it.
"""
from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything", "seed_worker", "isolated_rng", "check_seed", "cudnn_benchmark"]


def resolve_device(device="auto") -> torch.device:
    """Map ``"auto"`` to CUDA when present, else the CPU; accept ``"cpu"``, ``"cuda"``,
    ``"cuda:1"`` or a :class:`torch.device`. Asking for CUDA without it raises ``ValueError``."""
    if isinstance(device, torch.device):
        dev = device
    elif device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(f"device={device!r} is not a valid device ('auto', 'cpu', 'cuda', 'cuda:N')") from exc
    else:
        raise TypeError(f"device must be 'auto', a string or a torch.device, got {type(device).__name__}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on this machine")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise ValueError(f"device={device!r} was requested but this machine has {n} CUDA device(s) "
                         f"(cuda:0 to cuda:{n - 1})")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r} was requested but MPS is not available on this machine")
    return dev


def check_seed(seed) -> int:
    """``seed`` as an int in ``[0, 2**32)``; ``TypeError``/``ValueError`` naming it otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if seed < 0 or seed >= 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return seed


def _cuda_devices() -> list[int]:
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


@contextlib.contextmanager
def isolated_rng(seed: int):
    """Run the block with torch's global generators (CPU and every CUDA device) seeded with
    ``seed``, then put back the state the caller had: weight initialisation, dropout and
    augmentation inside the block are reproducible for a given seed whatever the global state
    was, and the process's random state is the same after the block as before it. Python's
    ``random``, NumPy's global state and ``os.environ`` are not touched."""
    seed = check_seed(seed)
    with torch.random.fork_rng(devices=_cuda_devices()):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def cudnn_benchmark(enabled: bool):
    """Set ``torch.backends.cudnn.benchmark`` for the block and restore the previous value."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = bool(enabled)
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy, torch (CPU and every CUDA device) for the whole process and return a
    seeded :class:`torch.Generator` for samplers. For scripts: estimators do not call it (their
    ``fit`` uses :func:`isolated_rng` and leaves the process's state alone).

    With ``deterministic=True`` also: ``torch.use_deterministic_algorithms(True, warn_only=True)``,
    ``cudnn.deterministic=True``, ``cudnn.benchmark=False`` and ``CUBLAS_WORKSPACE_CONFIG`` set
    (needed by cuBLAS for reproducible matmuls). DataLoader workers are seeded through
    :func:`seed_worker` (pass it as ``worker_init_fn``) and the returned generator.
    Global pooling in the engine uses plain reductions, so deterministic mode never trips on
    adaptive-pooling backward kernels.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader: derive NumPy/Python seeds from torch's per-worker seed."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
