"""The scikit-learn classifier base shared by every CNN estimator (text, signal, image).

A subclass writes ``__init__`` (storing its arguments verbatim, nothing else) and the hooks
below; the base owns the classifier contract: label encoding (any hashable labels come back as
given), input checks, seeding, the stratified validation split carved from the training data,
class weights, the training loop, batched prediction, ``save``/``load`` through the checkpoint
module and ``features`` (pre-logit features, e.g. "CNN features + SVM"; not named
``transform`` because scikit-learn would then treat every classifier as a transformer).

Hooks (see each method's docstring):
``_validate_X``, ``_take``, ``_fit_preprocessing``, ``_make_dataset``, ``_collate``,
``_batch_sampler``, ``_build_module``, ``_trainer_kwargs``, ``_get_state``/``_set_state``,
and optionally ``_fit_network`` (e.g. to train an ensemble) and ``_params_for_save``.

Parameters the base reads when the subclass defines them (with these defaults otherwise):
``batch_size=32, max_epochs=10, optimizer="adam", lr=None, validation_fraction=0.1,
class_weight=None, device="auto", random_state=None, verbose=1, patience=None``, and for
multi-label targets ``threshold=0.5, pos_weight=None, min_labels=0``.

``fit(X, y, validation_data=None)``: ``validation_data=(X_val, y_val)`` is a given development
set that picks the best epoch (and the ``threshold="auto"`` values) instead of a
``validation_fraction`` carved out of ``X``; it is training-side data (never pass the test set).
Preprocessing (vocabulary, normalisation statistics) is learned from ``X`` and ``X_val``
together, as it is from all of ``X`` when the split is carved out of it.

Multi-label targets (:mod:`seqcnn.engine.multilabel`): an indicator matrix ``(n, L)`` or a
list of label lists. The network then has L independent sigmoid outputs trained with binary
cross-entropy (``pos_weight``: None, ``"balanced"``, one weight per label); the best epoch is
the one with the lowest validation loss; ``predict_proba`` gives ``(n, L)`` independent
probabilities and ``predict`` the fitted target form (decisions ``proba >= threshold``;
``threshold="auto"`` picks one threshold per label maximising F1 on the validation split,
stored in the artifact; ``min_labels=m`` gives every row at least its ``m`` most probable
labels; ``0``: a row may get none). ``predict_top_k(X, k)`` ranks the labels of both kinds.
"""
from __future__ import annotations

import importlib
import json

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .checkpoint import CheckpointError, load_artifact, load_state_dict_checked, save_artifact
from . import multilabel as ml
from .device import isolated_rng, resolve_device
from .metrics import json_scalar
from .registry import pre_logit_features
from .train import Trainer, compute_class_weight, default_collate_fn

__all__ = ["CNNClassifierBase", "LabelRankingMixin", "encode_labels", "decode_labels", "validate_class_targets"]

_DEFAULTS = {
    "batch_size": 32,
    "max_epochs": 10,
    "optimizer": "adam",
    "lr": None,
    "validation_fraction": 0.1,
    "class_weight": None,
    "device": "auto",
    "random_state": None,
    "verbose": 1,
    "patience": None,
    "threshold": 0.5,
    "pos_weight": None,
    "min_labels": 0,
}

_REGISTRY: dict[str, type] = {}
_ALLOWED_PREFIXES = ("seqcnn.", "vision.", "baselines.")


def encode_labels(classes: np.ndarray) -> dict:
    """``classes_`` → JSON (dtype kept, so ints come back as ints and strings as strings)."""
    classes = np.asarray(classes)
    values = classes.tolist()
    if classes.dtype.kind == "O":
        for v in values:
            if not isinstance(v, (str, int, float, bool)):
                raise TypeError(f"cannot save class label {v!r} of type {type(v).__name__}: labels "
                                "must be str, int, float or bool to be stored in config.json")
        return {"dtype": "object", "values": values}
    if classes.dtype.kind not in "biufU":
        raise TypeError(f"cannot save class labels of dtype {classes.dtype}")
    return {"dtype": classes.dtype.str, "values": values}


def decode_labels(blob: dict) -> np.ndarray:
    if not isinstance(blob, dict) or "values" not in blob or "dtype" not in blob:
        raise CheckpointError("config.json has no valid 'classes' entry")
    dtype = object if blob["dtype"] == "object" else np.dtype(blob["dtype"])
    return np.array(blob["values"], dtype=dtype)


def _to_json(value):
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value):
    if isinstance(value, dict):
        if "__tuple__" in value:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {_from_json(k): _from_json(v) for k, v in value["__dict__"]}
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def validate_class_targets(y, n_samples: int, owner: str) -> np.ndarray:
    """Single-label class targets ``y`` as a 1-D array of ``n_samples`` entries, with
    scikit-learn's messages (``owner`` names the estimator when ``y`` is None); NaN/inf and
    continuous targets refused."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(f"X and y have inconsistent numbers of samples: X has {n_samples}, y has {len(y)}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity")
    check_classification_targets(y)
    return y


class LabelRankingMixin:
    """``predict_top_k`` and ``score`` over ``predict_proba`` / ``predict`` for single- and
    multi-label classifiers (the CNN estimators and :class:`~seqcnn.engine.ensemble.CNNEnsemble`):
    needs ``classes_``, ``target_type_`` (or none: single-label) and ``_check_fitted``."""

    def predict_top_k(self, X, k):
        """The ``k`` most probable labels of each example, most probable first: an array
        ``(N, k)`` of labels (single- and multi-label models alike). ``ValueError`` when ``k``
        is not an integer in ``[1, number of labels]``."""
        self._check_fitted()
        L = len(self.classes_)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= L:
            raise ValueError(f"k must be an integer in [1, {L}] (the number of labels), got {k!r}")
        proba = self.predict_proba(X)
        return self.classes_[ml.top_k_indices(proba, int(k))] if len(proba) else self.classes_[:0].reshape(0, int(k))

    def score(self, X, y, sample_weight=None):
        """Accuracy; for multi-label targets, subset accuracy (every label of a row right)."""
        if not self._multilabel():
            return super().score(X, y, sample_weight=sample_weight)
        from sklearn.metrics import accuracy_score

        Y = ml.encode_like(self.target_type_, self.classes_, y, "y")
        P = ml.encode_like(self.target_type_, self.classes_, self.predict(X), "predictions")
        return float(accuracy_score(Y, P, sample_weight=sample_weight))

    def _multilabel(self) -> bool:
        return getattr(self, "target_type_", ml.MULTICLASS) != ml.MULTICLASS


class CNNClassifierBase(LabelRankingMixin, ClassifierMixin, BaseEstimator):
    """Base class of the CNN estimators; see the module docstring for the hooks."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # ------------------------------------------------------------------ hooks
    def _validate_X(self, X, *, fitting: bool):
        """Check raw ``X`` and return it in the form the other hooks take."""
        raise NotImplementedError

    def _take(self, X, idx):
        """Rows ``idx`` (int array) of validated ``X``."""
        if isinstance(X, np.ndarray) or torch.is_tensor(X):
            return X[idx]
        return [X[i] for i in idx]

    def _fit_preprocessing(self, X, y_enc) -> None:
        """Learn preprocessing state (vocabulary, normalisation) from the training ``X``."""

    def _make_dataset(self, X, y_enc=None):
        """A dataset (indexable, with ``len``) of model-ready items; ``y_enc`` may be None."""
        raise NotImplementedError

    def _collate(self, items):
        """``items`` → ``(inputs_tuple, targets_or_None)``."""
        return default_collate_fn(items)

    _batch_sampler = None  # or a method (n, batch_size, shuffle, generator) -> list of index lists
    # parameters added after artifacts were first written: the value an artifact that lacks one
    # gets on load (the behaviour it was trained with), whatever the current default is
    _load_defaults: dict = {}

    def _build_module(self, n_classes: int) -> torch.nn.Module:
        raise NotImplementedError

    def _trainer_kwargs(self) -> dict:
        """Extra :class:`Trainer` arguments (schedule, max_norm, monitor, amp, ...)."""
        return {}

    def _get_state(self) -> dict:
        """JSON-able preprocessing state saved in ``config.json``."""
        return {}

    def _set_state(self, state: dict) -> None:
        """Restore what :meth:`_get_state` returned."""

    def _extra_tensors(self) -> dict:
        """Tensors besides the module's state to store in the artifact (restored through
        :meth:`_set_extra_tensors`)."""
        return {}

    def _set_extra_tensors(self, tensors: dict) -> None:
        pass

    def _params_for_save(self) -> dict:
        """Constructor parameters to store (JSON-able); override to drop or replace some."""
        return self.get_params(deep=False)

    # ------------------------------------------------------------------ helpers
    def _p(self, name):
        return getattr(self, name, _DEFAULTS.get(name))

    def _validate_y(self, y, n_samples: int) -> np.ndarray:
        return validate_class_targets(y, n_samples, type(self).__name__)

    def _seed(self) -> int:
        rs = self._p("random_state")
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool):
            return int(rs) % (2**32)
        return int(check_random_state(rs).randint(0, 2**31 - 1))

    def _split(self, y_enc: np.ndarray, seed: int):
        """Stratified train/validation indices from the training data only (never test data)."""
        n = len(y_enc)
        idx = np.arange(n)
        frac = self._p("validation_fraction")
        if frac is None or frac == 0:
            return idx, None
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {frac!r}")
        n_val = int(round(frac * n))
        if n_val < 1 or n - n_val < 2:
            return idx, None  # too little data to hold some back: train on everything
        if y_enc.ndim == 2:  # multi-label: a plain random split
            tr, va = train_test_split(idx, test_size=n_val, random_state=seed)
            return np.sort(tr), np.sort(va)
        n_classes = int(y_enc.max()) + 1
        counts = np.bincount(y_enc, minlength=n_classes)
        stratify = y_enc if (counts.min() >= 2 and n_val >= n_classes and n - n_val >= n_classes) else None
        tr, va = train_test_split(idx, test_size=n_val, random_state=seed, stratify=stratify)
        return np.sort(tr), np.sort(va)

    def _make_trainer(self, seed: int, y_train=None, **overrides) -> Trainer:
        kw = dict(optimizer=self._p("optimizer"), lr=self._p("lr"), max_epochs=self._p("max_epochs"),
                  batch_size=self._p("batch_size"), patience=self._p("patience"),
                  device=self._p("device"), verbose=self._p("verbose") or 0, seed=seed,
                  desc=type(self).__name__)
        if y_train is not None and self._multilabel():
            if self._p("class_weight") is not None:
                raise ValueError("class_weight applies to single-label targets; for multi-label targets use "
                                 "pos_weight (None, 'balanced' or one weight per label)")
            pw = ml.pos_weight_vector(self._p("pos_weight"), np.asarray(y_train), self.classes_)
            kw["multilabel"] = True
            kw["pos_weight"] = None if pw is None else torch.from_numpy(pw)
        elif y_train is not None:
            kw["class_weight"] = compute_class_weight(self._p("class_weight"), y_train, len(self.classes_),
                                                      self.classes_)
        kw.update(self._trainer_kwargs())
        if self._multilabel():  # accuracy is no guide to independent labels: the lowest validation loss
            if kw.get("monitor") == "val_acc":
                kw["monitor"], kw["ties"] = "val_loss", "earlier"
            elif kw.get("monitor") == "train_acc":
                kw["monitor"], kw["ties"] = "train_loss", "earlier"
        kw.update(overrides)
        return Trainer(**kw)

    def _check_fitted(self):
        check_is_fitted(self, ["classes_", "module_"])

    # ------------------------------------------------------------------ fit / predict
    def _encode_targets(self, y, n_samples: int) -> np.ndarray:
        """Set ``classes_`` and ``target_type_`` from ``y``; return the encoded targets (int
        class indices ``(n,)``, or a float32 indicator ``(n, L)`` for multi-label ``y``)."""
        if y is not None and ml.is_multilabel_target(y):
            self.target_type_, self.classes_, Y = ml.encode_multilabel(y, n_samples)
            self.label_seen_ = Y.sum(axis=0) > 0
            ml.check_threshold(self._p("threshold"), len(self.classes_))
            ml.check_min_labels(self._p("min_labels"), len(self.classes_))
            return Y
        y = self._validate_y(y, n_samples)
        self.target_type_ = ml.MULTICLASS
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has only one class ({json_scalar(self.classes_[0])!r}); a classifier needs at least 2 classes")
        return y_enc.astype(np.int64).reshape(-1)

    def _encode_validation(self, validation_data):
        """``validation_data=(X_val, y_val)`` → validated ``X_val`` and targets encoded like ``y``."""
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X_val, y_val)") from None
        X_val = self._validate_X(X_val, fitting=True)
        if self._multilabel():
            Y = ml.encode_like(self.target_type_, self.classes_, y_val, "validation_data")
            if len(Y) != len(X_val):
                raise ValueError(f"validation_data: X_val has {len(X_val)} examples but y_val has {len(Y)} targets")
            return X_val, Y
        if y_val is None or ml.is_multilabel_target(y_val):
            raise ValueError("validation_data: y_val must hold one label per example, like y")
        y_val = column_or_1d(np.asarray(y_val), warn=True)
        if len(y_val) != len(X_val):
            raise ValueError(f"validation_data: X_val has {len(X_val)} examples but y_val has {len(y_val)} labels")
        unseen = set(np.unique(y_val).tolist()) - set(self.classes_.tolist())
        if unseen:
            raise ValueError(f"validation_data has labels not in y: {sorted(map(str, unseen))[:5]}")
        return X_val, np.searchsorted(self.classes_, y_val).astype(np.int64)

    def _concat(self, X, X_val):
        """Validated ``X`` and ``X_val`` as one input (lists, arrays and tensors)."""
        if torch.is_tensor(X):
            return torch.cat([X, torch.as_tensor(X_val)])
        if isinstance(X, np.ndarray) and isinstance(X_val, np.ndarray) and X.ndim == X_val.ndim and X.ndim > 1:
            return np.concatenate([X, X_val])
        return list(X) + list(X_val)

    def fit(self, X, y, validation_data=None):
        """Fit on raw ``X`` and targets ``y``: labels (any hashable) or multi-label targets (an
        indicator matrix or a list of label lists; see the module docstring).

        ``validation_data=(X_val, y_val)``: a given development set picks the best epoch (and the
        ``threshold="auto"`` values) instead of a ``validation_fraction`` carved out of ``X``. It
        is training-side data: never pass the test set here."""
        X = self._validate_X(X, fitting=True)
        y_enc = self._encode_targets(y, len(X))
        seed = self._seed()
        if validation_data is None:
            self._fit_preprocessing(X, y_enc)
            train_idx, val_idx = self._split(y_enc, seed)
            X_tr, y_tr = self._take(X, train_idx), y_enc[train_idx]
            X_va = None if val_idx is None else self._take(X, val_idx)
            y_va = None if val_idx is None else y_enc[val_idx]
        else:
            X_va, y_va = self._encode_validation(validation_data)
            X_tr, y_tr = X, y_enc
            self._fit_preprocessing(self._concat(X, X_va), np.concatenate([y_enc, y_va]))
        train_ds = self._make_dataset(X_tr, y_tr)
        val_ds = None if X_va is None else self._make_dataset(X_va, y_va)
        with isolated_rng(seed):  # init, dropout, augmentation seeded; the process's RNG state untouched
            self._fit_network(train_ds, val_ds, y_tr, seed)
        if self._multilabel():
            self._fit_thresholds(X_va, y_va)
        return self

    def _fit_thresholds(self, X_val, Y_val) -> None:
        """``threshold_`` (L,): the ``threshold`` parameter, or with ``"auto"`` the per-label
        F1-best thresholds on the validation split (0.5 without one, with a warning)."""
        L = len(self.classes_)
        t = ml.check_threshold(self._p("threshold"), L)
        if isinstance(t, str):
            if X_val is None or len(X_val) == 0:
                import warnings

                warnings.warn("threshold='auto' needs a validation split (validation_fraction > 0 or "
                              "validation_data); using 0.5 for every label", UserWarning, stacklevel=3)
                t = np.full(L, 0.5)
            else:
                P = torch.sigmoid(self._predict_logits(X_val).double()).numpy()
                t = ml.best_thresholds(Y_val, P)
        self.threshold_ = np.asarray(t, dtype=np.float64)

    def _fit_network(self, train_ds, val_ds, y_train, seed) -> None:
        """Build ``module_`` and train it; sets ``history_`` and ``best_epoch_``."""
        self.module_ = self._build_module(len(self.classes_))
        trainer = self._make_trainer(seed, y_train)
        sampler = self._batch_sampler if callable(self._batch_sampler) else None
        self.history_ = trainer.fit(self.module_, train_ds, val_ds, collate_fn=self._collate,
                                    batch_sampler=sampler)
        self.best_epoch_ = trainer.best_epoch
        self.module_.eval()

    def _predict_logits(self, X) -> torch.Tensor:
        """Logits ``(N, K)`` on the CPU for validated ``X``."""
        trainer = Trainer(device=self._p("device"), verbose=0, batch_size=max(int(self._p("batch_size")), 256),
                          **{k: v for k, v in self._trainer_kwargs().items() if k in ("amp", "channels_last")})
        sampler = self._batch_sampler if callable(self._batch_sampler) else None
        return trainer.predict_logits(self.module_, self._make_dataset(X), collate_fn=self._collate,
                                      batch_sampler=sampler)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(N, K)``, columns in the order of ``classes_`` (rows sum to 1);
        for multi-label targets, independent label probabilities ``(N, L)``."""
        self._check_fitted()
        X = self._validate_X(X, fitting=False)
        if len(X) == 0:
            return np.zeros((0, len(self.classes_)))
        logits = self._predict_logits(X).double()
        if self._multilabel():
            return torch.sigmoid(logits).numpy()
        return torch.softmax(logits, dim=1).numpy()

    def predict_log_proba(self, X) -> np.ndarray:
        self._check_fitted()
        X = self._validate_X(X, fitting=False)
        if self._multilabel():
            return torch.nn.functional.logsigmoid(self._predict_logits(X).double()).numpy()
        return torch.log_softmax(self._predict_logits(X).double(), dim=1).numpy()

    def _decision_threshold(self) -> np.ndarray:
        """The per-label thresholds ``predict`` applies: the fitted ``threshold_`` when
        ``threshold="auto"``, else the current ``threshold`` parameter (settable after fit)."""
        t = ml.check_threshold(self._p("threshold"), len(self.classes_))
        if isinstance(t, str):
            return getattr(self, "threshold_", np.full(len(self.classes_), 0.5))
        return t

    def _decide(self, proba) -> np.ndarray:
        """Multi-label decisions ``(N, L)`` bool for probabilities ``proba``: the thresholds
        ``predict`` applies, ``min_labels``, never a label unseen in training."""
        return ml.decide(proba, self._decision_threshold(), ml.check_min_labels(self._p("min_labels"), len(self.classes_)),
                         getattr(self, "label_seen_", None))

    def predict(self, X):
        """Labels as given to ``fit``; for multi-label targets the fitted form: an indicator
        array ``(N, L)`` or a list of label tuples (``proba >= threshold``, ``min_labels``)."""
        proba = self.predict_proba(X)
        if self._multilabel():
            return ml.decode_multilabel(self.target_type_, self.classes_, self._decide(proba))
        return self.classes_[np.argmax(proba, axis=1)]

    def features(self, X) -> np.ndarray:
        """Pooled pre-logit features ``(N, F)``: the module's ``forward_head(forward_features(x),
        pre_logits=True)`` (:func:`~seqcnn.engine.registry.pre_logit_features`; for "CNN
        features + SVM" pipelines)."""
        self._check_fitted()
        if not hasattr(self.module_, "forward_features"):
            raise AttributeError(f"{type(self.module_).__name__} has no forward_features()")
        X = self._validate_X(X, fitting=False)
        device = resolve_device(self._p("device"))
        ds = self._make_dataset(X)
        module = self.module_.to(device).eval()
        outs = []
        with torch.no_grad():
            for start in range(0, len(ds), 256):
                inputs, _ = self._collate([ds[i] for i in range(start, min(len(ds), start + 256))])
                inputs = tuple(t.to(device) if torch.is_tensor(t) else t for t in inputs)
                feats = pre_logit_features(module, *inputs)
                outs.append(feats.reshape(feats.shape[0], -1).float().cpu())
        return torch.cat(outs).numpy() if outs else np.zeros((0, 0), dtype=np.float32)

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = False, *, run_id: str | None = None):
        """Write one artifact directory (``model.safetensors`` + ``config.json``) holding all
        that prediction on raw input needs; returns its absolute path. Atomic: a crash leaves
        any previous artifact intact.

        ``path`` must be new or an empty folder; an existing seqcnn artifact is replaced only
        with ``overwrite=True``; anything else raises :class:`~seqcnn.engine.checkpoint.OutputError`
        and is left untouched. ``run_id`` (from :func:`~seqcnn.engine.checkpoint.write_run_dir`)
        is stored in ``config.json`` as ``"run_id"``."""
        self._check_fitted()
        if run_id is not None and not isinstance(run_id, str):
            raise TypeError(f"run_id must be a str or None, got {type(run_id).__name__}")
        params = {}
        for k, v in self._params_for_save().items():
            enc = _to_json(v)
            try:
                json.dumps(enc)
            except TypeError as exc:
                raise TypeError(f"cannot save parameter {k}={v!r}: only JSON-able parameters are stored "
                                f"(override _params_for_save to replace it)") from exc
            params[k] = enc
        config = {
            "estimator": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": params,
            "classes": encode_labels(self.classes_),
            "state": _to_json(self._get_state()),
            "history": getattr(self, "history_", []),
            "best_epoch": getattr(self, "best_epoch_", None),
            "module": type(self.module_).__name__,
        }
        if run_id is not None:
            config["run_id"] = run_id
        if self._multilabel():
            config["target"] = {"type": self.target_type_, "threshold": self.threshold_.tolist(),
                                "label_seen": [bool(v) for v in self.label_seen_]}
        tensors = {f"module.{k}": v for k, v in self.module_.state_dict().items()}
        for k, v in self._extra_tensors().items():
            tensors[f"extra.{k}"] = v
        return save_artifact(path, tensors, config, overwrite=overwrite)

    @classmethod
    def load(cls, path):
        """Rebuild a fitted estimator from :meth:`save`'s artifact (no pickle involved)."""
        tensors, config = load_artifact(path)
        for key in ("estimator", "params", "classes", "state"):
            if key not in config:
                raise CheckpointError(f"{path}/config.json lacks the {key!r} key")
        name = config["estimator"]
        est_cls = _REGISTRY.get(name)
        if est_cls is None and isinstance(name, str) and name.startswith(_ALLOWED_PREFIXES):
            importlib.import_module(name.rsplit(".", 1)[0])
            est_cls = _REGISTRY.get(name)
        if est_cls is None:
            raise CheckpointError(f"{path}/config.json names an unknown estimator {name!r}")
        if not issubclass(est_cls, cls):
            raise CheckpointError(f"{path} holds a {est_cls.__name__}, not a {cls.__name__}")
        params = {**est_cls._load_defaults, **{k: _from_json(v) for k, v in config["params"].items()}}
        est = est_cls(**params)
        est.classes_ = decode_labels(config["classes"])
        est.target_type_ = ml.MULTICLASS
        target = config.get("target")
        if target is not None:
            if not isinstance(target, dict) or target.get("type") not in (ml.INDICATOR, ml.SEQUENCES):
                raise CheckpointError(f"{path}/config.json has an invalid 'target' entry")
            est.target_type_ = target["type"]
            est.threshold_ = ml.check_threshold(target.get("threshold"), len(est.classes_), allow_auto=False)
            est.label_seen_ = np.asarray(target.get("label_seen", [True] * len(est.classes_)), dtype=bool)
        est._set_state(_from_json(config["state"]))
        est.module_ = est._build_module(len(est.classes_))
        module_tensors = {k[len("module."):]: v for k, v in tensors.items() if k.startswith("module.")}
        load_state_dict_checked(est.module_, module_tensors, f"{path}/model.safetensors")
        est._set_extra_tensors({k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")})
        est.module_.eval()
        est.history_ = config.get("history", [])
        est.best_epoch_ = config.get("best_epoch")
        return est
