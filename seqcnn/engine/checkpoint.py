"""One artifact per model: a directory holding ``model.safetensors`` and ``config.json``.

``config.json`` carries everything predict needs (architecture, label map, preprocessing state)
plus the format version and the library/torch versions that wrote it. Training checkpoints add
``training.safetensors`` (optimiser and scheduler tensors, RNG state) and ``training.json``.

Safety rules: nothing is ever unpickled (safetensors + JSON only); every write goes to a
temporary sibling directory that is renamed into place, so a crash never leaves a half-written
artifact under the final name; a truncated, corrupt or tampered file, a missing key or a config
from a newer format raises :class:`CheckpointError` (a ``ValueError``) naming the file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

__all__ = [
    "FORMAT_VERSION",
    "CheckpointError",
    "save_artifact",
    "load_artifact",
    "read_config",
    "write_dir_atomically",
    "save_training_state",
    "load_training_state",
    "flatten_state",
    "unflatten_state",
]

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
TRAIN_WEIGHTS = "training.safetensors"
TRAIN_CONFIG = "training.json"


class CheckpointError(ValueError):
    """A checkpoint is missing a file or key, is corrupt, was tampered with, or is too new."""


def _versions() -> dict:
    from seqcnn import __version__

    return {"seqcnn": __version__, "torch": torch.__version__.split("+")[0]}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _contiguous(tensors: dict) -> dict:
    out = {}
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"tensors[{k!r}] must be a torch.Tensor, got {type(v).__name__}")
        out[k] = v.detach().to("cpu").contiguous()
    return out


def write_dir_atomically(path, writer) -> None:
    """Run ``writer(tmpdir)`` then move ``tmpdir`` to ``path`` (replacing an existing artifact);
    also for artifacts made of several artifacts (an ensemble's folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        writer(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_pair(directory: Path, weights_name: str, config_name: str, tensors: dict, config: dict) -> None:
    from safetensors.torch import save_file

    weights = directory / weights_name
    save_file(_contiguous(tensors), str(weights))
    config = dict(config)
    config["format_version"] = FORMAT_VERSION
    config["versions"] = _versions()
    config["weights_sha256"] = _sha256(weights)
    with open(directory / config_name, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def read_config(cfg_path) -> dict:
    """A JSON object with an integer ``format_version`` this seqcnn understands (the config of an
    artifact, or a manifest that groups artifacts); :class:`CheckpointError` otherwise."""
    cfg_path = Path(cfg_path)
    try:
        with open(cfg_path, encoding="utf-8") as f:
            config = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{str(cfg_path)!r} is not valid JSON (corrupt or truncated): {exc}") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{str(cfg_path)!r} must hold a JSON object")
    version = config.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{str(cfg_path)!r} has no integer 'format_version' key")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(cfg_path)!r} was written with format version {version}, newer than this seqcnn "
            f"understands ({FORMAT_VERSION}); upgrade seqcnn to load it"
        )
    return config


def _read_pair(directory: Path, weights_name: str, config_name: str) -> tuple[dict, dict]:
    from safetensors.torch import load_file

    directory = Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f"checkpoint directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint path {str(directory)!r} is not a directory")
    cfg_path, w_path = directory / config_name, directory / weights_name
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint file {str(p)!r} is missing")
    config = read_config(cfg_path)
    expected = config.get("weights_sha256")
    if expected is not None and _sha256(w_path) != expected:
        raise CheckpointError(
            f"{str(w_path)!r} does not match the checksum recorded in {config_name} "
            "(the file was truncated, corrupted or modified)"
        )
    try:
        tensors = load_file(str(w_path))
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{str(w_path)!r} is not a valid safetensors file: {exc}") from exc
    return tensors, config


def save_artifact(path, tensors: dict, config: dict) -> Path:
    """Write ``tensors`` (name → tensor) and the JSON-able ``config`` as one artifact directory.

    The write is atomic: readers see either the old artifact or the complete new one.
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        json.dumps(config)
    except TypeError as exc:
        raise TypeError(f"config must be JSON-serialisable: {exc}") from exc
    path = Path(path)
    write_dir_atomically(path, lambda d: _write_pair(d, WEIGHTS, CONFIG, tensors, config))
    return path


def load_artifact(path) -> tuple[dict, dict]:
    """Read an artifact written by :func:`save_artifact`; returns ``(tensors, config)``."""
    return _read_pair(Path(path), WEIGHTS, CONFIG)


def flatten_state(state, prefix: str = "") -> tuple[dict, object]:
    """Split a nested state (dicts/lists of tensors and JSON values) into a flat dict of tensors
    and a JSON skeleton in which each tensor is replaced by ``{"__tensor__": key}``.

    This is how optimiser and scheduler ``state_dict()``s are saved without pickle.
    """
    tensors: dict = {}

    def walk(obj, key):
        if isinstance(obj, torch.Tensor):
            tensors[key] = obj
            return {"__tensor__": key}
        if isinstance(obj, dict):
            return {"__dict__": [[walk_key(k), walk(v, f"{key}.{k}")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            return {"__list__": [walk(v, f"{key}.{i}") for i, v in enumerate(obj)],
                    "tuple": isinstance(obj, tuple)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        raise TypeError(f"cannot serialise state entry {key!r} of type {type(obj).__name__}")

    def walk_key(k):
        if isinstance(k, (bool, int, float, str)) or k is None:
            return k
        raise TypeError(f"cannot serialise state key {k!r}")

    skeleton = walk(state, prefix or "state")
    return tensors, skeleton


def unflatten_state(skeleton, tensors: dict):
    """Inverse of :func:`flatten_state`."""
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            key = skeleton["__tensor__"]
            if key not in tensors:
                raise CheckpointError(f"training checkpoint lacks tensor {key!r}")
            return tensors[key]
        if "__dict__" in skeleton:
            return {k: unflatten_state(v, tensors) for k, v in skeleton["__dict__"]}
        if "__list__" in skeleton:
            items = [unflatten_state(v, tensors) for v in skeleton["__list__"]]
            return tuple(items) if skeleton.get("tuple") else items
        raise CheckpointError(f"unexpected entry in training state: {sorted(skeleton)}")
    return skeleton


def save_training_state(path, model_tensors: dict, state: dict, meta: dict) -> Path:
    """Write a resumable training checkpoint: model weights and config-like ``meta`` in
    ``model.safetensors``/``config.json``, and ``state`` (optimiser, scheduler, RNG, history,
    best weights) in ``training.safetensors``/``training.json``. Atomic as a whole."""
    t_tensors, skeleton = flatten_state(state, "train")

    def writer(d):
        _write_pair(d, WEIGHTS, CONFIG, model_tensors, meta)
        _write_pair(d, TRAIN_WEIGHTS, TRAIN_CONFIG, t_tensors, {"state": skeleton})

    path = Path(path)
    write_dir_atomically(path, writer)
    return path


def load_training_state(path) -> tuple[dict, dict, dict]:
    """Read a checkpoint written by :func:`save_training_state`: ``(model_tensors, state, meta)``."""
    path = Path(path)
    model_tensors, meta = _read_pair(path, WEIGHTS, CONFIG)
    t_tensors, t_config = _read_pair(path, TRAIN_WEIGHTS, TRAIN_CONFIG)
    if "state" not in t_config:
        raise CheckpointError(f"{str(path / TRAIN_CONFIG)!r} lacks the 'state' key")
    return model_tensors, unflatten_state(t_config["state"], t_tensors), meta
