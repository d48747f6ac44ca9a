"""Device choice and seeding, shared by every estimator (and by ``baselines`` for k-NN on torch)."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything", "seed_worker"]


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
    return dev


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy, torch (CPU and every CUDA device) and return a seeded
    :class:`torch.Generator` for samplers.

    With ``deterministic=True`` also: ``torch.use_deterministic_algorithms(True, warn_only=True)``,
    ``cudnn.deterministic=True``, ``cudnn.benchmark=False`` and ``CUBLAS_WORKSPACE_CONFIG`` set
    (needed by cuBLAS for reproducible matmuls). DataLoader workers are seeded through
    :func:`seed_worker` (pass it as ``worker_init_fn``) and the returned generator.
    Global pooling in the engine uses plain reductions, so deterministic mode never trips on
    adaptive-pooling backward kernels.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if seed < 0 or seed >= 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
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
