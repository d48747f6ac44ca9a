"""``CNNEnsemble``: K copies of one CNN estimator that differ only in their seed, trained on one
validation split, class probabilities averaged — the one ensemble of the project.

Member-seed rule (:func:`member_seed`): member ``k`` of an ensemble seeded ``s`` is seeded
``s + 1000·k``, so member 0 is exactly the single network of the same ``random_state``. The
ensemble draws one validation split from the training data, as the member would draw its own
(the member estimator's ``_split`` with the ensemble's seed), and every member keeps its best
epoch on that split; ``validation_data=(X_val, y_val)`` replaces the split. An ensemble held in
one module (InceptionTime inside :class:`~seqcnn.signal.SignalCNNClassifier`, one artifact) is
trained by :func:`fit_member_networks` with the same seed rule and shared split.

The artifact is one directory: ``ensemble.json`` (classes, member folders, validation scores)
and one ordinary member artifact per member (``member_00/`` …), written atomically as a whole.
Nothing is unpickled on load.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .checkpoint import CheckpointError, read_config, recover_interrupted_save, write_config, write_dir_atomically
from . import multilabel as ml
from .estimator import CNNClassifierBase, LabelRankingMixin, decode_labels, encode_labels

__all__ = ["CNNEnsemble", "member_seed", "fit_member_networks", "MANIFEST"]

MANIFEST = "ensemble.json"


def member_seed(seed: int, k: int) -> int:
    """``random_state`` of member ``k`` of an ensemble seeded ``seed`` (member 0: ``seed``)."""
    return int(seed) + 1000 * int(k)


def fit_member_networks(est, members, train_ds, val_ds, y_train, seed: int, *, collate_fn=None,
                        batch_sampler=None) -> tuple[list[dict], list]:
    """Train the member networks of one module (an ensemble held in one artifact, such as
    InceptionTime) one after the other, on the same training data and validation split.

    Member ``m`` is trained with ``torch.manual_seed(member_seed(seed, m))`` and a trainer seeded
    the same (own dropout and shuffling, own best epoch); call it inside the estimator's
    ``fit`` (under :func:`~seqcnn.engine.device.isolated_rng`), which leaves the process's state
    alone. ``est`` is the estimator (its ``_make_trainer`` gives the recipe). Returns the
    history rows (each with a ``member`` key, from 1) and each member's best epoch."""
    history, best = [], []
    for m, member in enumerate(members):
        seed_m = member_seed(seed, m) % (2**32)
        torch.manual_seed(seed_m)
        trainer = est._make_trainer(seed_m, y_train, desc=f"{type(est).__name__} member {m + 1}/{len(members)}")
        for row in trainer.fit(member, train_ds, val_ds, collate_fn=collate_fn, batch_sampler=batch_sampler):
            history.append({**row, "member": m + 1})
        best.append(trainer.best_epoch)
        member.eval()
    return history, best


def _jsonable_seed(rs):
    return int(rs) if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool) else None


def _rows(X, idx):
    """Rows ``idx`` of raw input: an array indexed, any other sequence as a list."""
    if isinstance(X, np.ndarray):
        return X[idx]
    X = list(X)
    return [X[i] for i in idx]


class CNNEnsemble(LabelRankingMixin, ClassifierMixin, BaseEstimator):
    """Soft vote of ``n_members`` clones of a CNN estimator (any
    :class:`~seqcnn.engine.estimator.CNNClassifierBase` subclass), on the member's raw input.

    Parameters
    ----------
    estimator : the member recipe; cloned per member, its ``random_state`` replaced by
        ``member_seed(random_state, k)``. Subclasses may supply a default.
    n_members : K ≥ 1 (K = 1 is the single network).
    random_state : int seed of member 0 and of the validation split (None: drawn at random).
    verbose : 0 silent; 1 one line per member.
    device : None (the recipe's own ``device``) or a device string that replaces it for every member.

    Attributes after ``fit``: ``estimators_``, ``classes_``, ``val_score_`` (the ensemble's
    accuracy on the shared validation split, None without one), ``member_val_scores_``.
    """

    member_class: type = CNNClassifierBase
    artifact_name = "seqcnn.engine.CNNEnsemble"  # "estimator" field of ensemble.json

    def __init__(self, estimator=None, n_members=5, random_state=None, verbose=1, device=None):
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    # ------------------------------------------------------------------ fit
    def _default_estimator(self):
        raise TypeError(f"{type(self).__name__} needs an estimator (a {self.member_class.__name__})")

    def _recipe(self):
        base = self._default_estimator() if self.estimator is None else self.estimator
        if not isinstance(base, self.member_class):
            raise TypeError(f"estimator must be a {self.member_class.__name__}, got {type(base).__name__}")
        if self.device is not None:
            if not isinstance(self.device, str):
                raise TypeError(f"device must be None or a device string such as 'cpu' or 'cuda:0', "
                                f"got {type(self.device).__name__}")
            base = clone(base).set_params(device=self.device)
        return base

    def fit(self, X, y, validation_data=None):
        """Train the members on ``X``, ``y`` (labels, or multi-label targets: an indicator matrix
        or a list of label lists, as the member takes them); ``validation_data=(X_val, y_val)``
        replaces the held-out split (never pass the test set)."""
        k = self.n_members
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_members must be an integer >= 1, got {k!r}")
        base = self._recipe()
        n = len(base._validate_X(X, fitting=True))  # checks X; members get the raw rows
        probe = clone(base)
        y_enc = probe._encode_targets(y, n)  # the member's own target checks (labels or multi-label)
        multilabel = probe._multilabel()
        if not multilabel:
            y = probe.classes_[y_enc]  # the validated labels, checked once
        elif probe.target_type_ == ml.INDICATOR:  # sparse or DataFrame indicators: rows by position
            y = np.asarray(y.toarray() if hasattr(y, "toarray") else y)
        seed = clone(base).set_params(random_state=self.random_state)._seed()  # the estimators' own rule
        if validation_data is None:
            # the split a single network with random_state=seed draws for itself
            tr, va = clone(base).set_params(random_state=seed)._split(y_enc, seed)
            if va is not None:
                validation_data = (_rows(X, va), _rows(y, va))
                X, y = _rows(X, tr), _rows(y, tr)
        members = []
        for m in range(int(k)):
            if self.verbose:
                print(f"member {m + 1}/{k} (random_state {member_seed(seed, m)})", flush=True)
            clf = clone(base).set_params(random_state=member_seed(seed, m))
            members.append(clf.fit(X, y, validation_data=validation_data))
        self._adopt(members)
        self._fit_thresholds(base, validation_data)
        self._score_validation(validation_data)
        return self

    def _fit_thresholds(self, recipe, validation_data) -> None:
        """Multi-label only: ``threshold_`` (L,) applied to the averaged probabilities — the
        recipe's ``threshold``, or with ``"auto"`` the per-label F1-best thresholds of the
        *ensemble's* probabilities on the shared validation split (0.5 without one)."""
        if not self._multilabel():
            return
        L = len(self.classes_)
        t = ml.check_threshold(recipe._p("threshold"), L)
        if isinstance(t, str):
            if validation_data is None:
                t = np.full(L, 0.5)
            else:
                Xv, yv = validation_data
                t = ml.best_thresholds(ml.encode_like(self.target_type_, self.classes_, yv), self.predict_proba(Xv))
        self.threshold_ = np.asarray(t, dtype=np.float64)

    def _score_validation(self, validation_data) -> None:
        """``val_score_``: the ensemble's accuracy on the validation split (subset accuracy for
        multi-label targets), ``member_val_scores_`` each member's."""
        self.val_score_, self.member_val_scores_ = None, []
        if validation_data is None:
            return
        Xv, yv = validation_data
        if self._multilabel():
            self.member_val_scores_ = [float(c.score(Xv, yv)) for c in self.estimators_]
            self.val_score_ = float(self.score(Xv, yv))
            return
        yv = np.asarray(yv)
        probas = [c.predict_proba(Xv) for c in self.estimators_]
        self.member_val_scores_ = [float(np.mean(self.classes_[p.argmax(1)] == yv)) for p in probas]
        self.val_score_ = float(np.mean(self.classes_[np.mean(probas, 0).argmax(1)] == yv))

    def _adopt(self, members) -> None:
        classes = members[0].classes_
        kind = getattr(members[0], "target_type_", ml.MULTICLASS)
        for c in members[1:]:
            if list(c.classes_) != list(classes) or getattr(c, "target_type_", ml.MULTICLASS) != kind:
                raise ValueError("ensemble members disagree on the classes")
        self.estimators_ = members
        self.classes_ = classes
        self.target_type_ = kind

    # ------------------------------------------------------------------ predict
    def _check_fitted(self):
        check_is_fitted(self, ["estimators_", "classes_"])

    def predict_proba(self, X):
        """Mean of the members' class probabilities, ``(n_samples, n_classes)``."""
        self._check_fitted()
        if len(self.estimators_) > 1 and not isinstance(X, (np.ndarray, str, bytes)) and hasattr(X, "__iter__"):
            X = list(X)  # one pass per member over a generator-like input
        return np.mean([c.predict_proba(X) for c in self.estimators_], axis=0)

    def predict(self, X):
        """Labels of the highest mean probability; for multi-label targets the fitted form
        (mean probability ``>= threshold_``, the recipe's ``min_labels``), as the member's."""
        proba = self.predict_proba(X)
        if self._multilabel():
            return ml.decode_multilabel(self.target_type_, self.classes_, self._decide(proba))
        return self.classes_[np.argmax(proba, axis=1)]

    def _decide(self, proba) -> np.ndarray:
        """Multi-label decisions ``(N, L)`` bool for mean probabilities: ``threshold_``, the
        recipe's ``min_labels``, never a label unseen in training (as the member decides)."""
        first = self.estimators_[0]
        return ml.decide(proba, self.threshold_, ml.check_min_labels(first._p("min_labels"), len(self.classes_)),
                         getattr(first, "label_seen_", None))

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = False, *, run_id: str | None = None):
        """One artifact directory: ``ensemble.json`` (with its ``config_sha256``) + one member
        artifact per member; returns its absolute path. Atomic as a whole; an existing seqcnn
        artifact is replaced only with ``overwrite=True``, anything else at ``path`` raises
        :class:`~seqcnn.engine.checkpoint.OutputError`. ``run_id`` is stored in the manifest and
        in every member's ``config.json``."""
        self._check_fitted()
        if run_id is not None and not isinstance(run_id, str):
            raise TypeError(f"run_id must be a str or None, got {type(run_id).__name__}")
        names = [f"member_{m:02d}" for m in range(len(self.estimators_))]

        def write(tmp: Path) -> None:
            for name, c in zip(names, self.estimators_):
                c.save(tmp / name, run_id=run_id)
            manifest = {"estimator": self.artifact_name,
                        "members": names, "classes": encode_labels(self.classes_),
                        "params": {"n_members": len(names), "random_state": _jsonable_seed(self.random_state),
                                   "verbose": self.verbose},
                        "val_score": self.val_score_, "member_val_scores": self.member_val_scores_}
            if self._multilabel():
                manifest["target"] = {"type": self.target_type_, "threshold": self.threshold_.tolist()}
            if run_id is not None:
                manifest["run_id"] = run_id
            write_config(tmp / MANIFEST, manifest)

        return write_dir_atomically(path, write, overwrite=overwrite)

    @classmethod
    def _load_member(cls, path, **kwargs):
        return cls.member_class.load(path, **kwargs)

    @classmethod
    def load(cls, path, **member_kwargs):
        """Rebuild a saved ensemble; ``member_kwargs`` go to each member's ``load``."""
        path = Path(path)
        recover_interrupted_save(path)
        mpath = path / MANIFEST
        member = cls.member_class.__name__
        if not mpath.is_file():
            if (path / "config.json").is_file():
                raise CheckpointError(f"{path} holds a single {member}, not an ensemble: load it with {member}.load")
            raise FileNotFoundError(f"{mpath} is missing: not a {cls.__name__} artifact")
        manifest = read_config(mpath)
        names = manifest.get("members")
        if (not isinstance(names, list) or not names
                or not all(isinstance(n, str) and n.startswith("member_") and "/" not in n and "\\" not in n
                           for n in names)):
            raise CheckpointError(f"{mpath}: 'members' must be a non-empty list of member_NN folder names")
        if "classes" not in manifest:
            raise CheckpointError(f"{mpath} lacks the 'classes' key")
        members = [cls._load_member(path / n, **member_kwargs) for n in names]
        params = manifest.get("params") or {}
        ens = cls(estimator=clone(members[0]).set_params(random_state=None), n_members=len(members),
                  random_state=params.get("random_state"), verbose=params.get("verbose", 1))
        ens._adopt(members)
        if list(ens.classes_) != list(decode_labels(manifest["classes"])):
            raise CheckpointError(f"{mpath}: the members' classes differ from the manifest's")
        if ens._multilabel():
            target = manifest.get("target")
            if not isinstance(target, dict) or target.get("type") != ens.target_type_:
                raise CheckpointError(f"{mpath}: a multi-label ensemble needs a 'target' entry of the members' type")
            try:
                ens.threshold_ = ml.check_threshold(target.get("threshold"), len(ens.classes_), allow_auto=False)
            except (TypeError, ValueError) as exc:
                raise CheckpointError(f"{mpath}: bad 'target' thresholds ({exc})") from None
        ens.val_score_ = manifest.get("val_score")
        ens.member_val_scores_ = manifest.get("member_val_scores") or []
        return ens
