"""``TextCNNEnsemble``: K sentence CNNs trained on one validation split, probabilities averaged.

Kim's single network is noisy from seed to seed (MR: ±1.2 points, TREC: ±0.9); averaging the
class probabilities of K networks that differ only in their seed gains about a point on MR,
TREC and SST-2 (``seqcnn compare --config configs/kim_trec.toml --models textcnn-ensemble``
measures it with this class). Every
member is a complete :class:`~seqcnn.text.TextCNNClassifier` run: the ensemble draws one
validation split from the training data (as the member would draw its own, so member 0 is
exactly the single network of the same ``random_state``), every member keeps its best epoch on
that split, and member ``k`` is seeded ``random_state + 1000·k``.

The artifact is one directory: ``ensemble.json`` (format version, classes, member folders,
validation scores) and one ordinary ``TextCNNClassifier`` artifact per member
(``member_00/`` …), written atomically as a whole. Nothing is unpickled on load.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from seqcnn.engine.checkpoint import (CheckpointError, read_config, recover_interrupted_save, write_config,
                                     write_dir_atomically)
from seqcnn.engine.estimator import decode_labels, encode_labels
from seqcnn.engine.metrics import json_scalar

from .estimator import TextCNNClassifier, _check_top_k, _top_groups, text_tags

__all__ = ["TextCNNEnsemble", "member_seed", "load_text_model"]

MANIFEST = "ensemble.json"


def member_seed(seed: int, k: int) -> int:
    """``random_state`` of member ``k`` of an ensemble seeded ``seed`` (member 0: ``seed``)."""
    return int(seed) + 1000 * int(k)


class TextCNNEnsemble(ClassifierMixin, BaseEstimator):
    """Soft vote of ``n_members`` :class:`TextCNNClassifier` networks on raw strings.

    Parameters
    ----------
    estimator : the member recipe (default ``TextCNNClassifier(verbose=verbose)``, Kim's
        ``kim2014``); cloned per member, its ``random_state`` replaced by
        ``member_seed(random_state, k)``.
    n_members : K ≥ 1 (K = 1 is the single network).
    random_state : int seed of member 0 and of the validation split (None: drawn at random).
    verbose : 0 silent; 1 one line per member (the members print their own progress when the
        recipe's ``verbose`` is on).
    device : None (the recipe's own ``device``) or a torch device string (``"cpu"``, ``"cuda:1"``)
        that replaces it for every member when fitting (the fitted members keep it).

    Attributes after ``fit``: ``estimators_`` (the members), ``classes_``, ``val_score_`` (the
    ensemble's accuracy on the shared validation split, None without one) and
    ``member_val_scores_`` (each member's).
    """

    def __init__(self, estimator=None, n_members=5, random_state=None, verbose=1, device=None):
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def __sklearn_tags__(self):
        return text_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------ fit
    def _recipe(self) -> TextCNNClassifier:
        base = TextCNNClassifier(verbose=self.verbose) if self.estimator is None else self.estimator
        if not isinstance(base, TextCNNClassifier):
            raise TypeError(f"estimator must be a TextCNNClassifier, got {type(base).__name__}")
        if self.device is not None:
            if not isinstance(self.device, str):
                raise TypeError(f"device must be None or a device string such as 'cpu' or 'cuda:0', "
                                f"got {type(self.device).__name__}")
            base = clone(base).set_params(device=self.device)
        return base

    def fit(self, X, y, validation_data=None):
        """Train the members on raw texts ``X`` and labels ``y``; ``validation_data=(X_dev, y_dev)``
        replaces the held-out split (never pass the test set)."""
        k = self.n_members
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"n_members must be an integer >= 1, got {k!r}")
        base = self._recipe()
        X = base._validate_X(X, fitting=True)
        y = base._validate_y(y, len(X))
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({json_scalar(classes[0])!r}); a classifier needs at least 2 classes")
        seed = clone(base).set_params(random_state=self.random_state)._seed()  # the estimators' own rule
        if validation_data is None:
            # the split a single network with random_state=seed draws for itself
            tr, va = clone(base).set_params(random_state=seed)._split(y_enc.reshape(-1).astype(np.int64), seed)
            if va is not None:
                validation_data = ([X[i] for i in va], np.asarray(y)[va])
                X, y = [X[i] for i in tr], np.asarray(y)[tr]
        members = []
        for m in range(int(k)):
            if self.verbose:
                print(f"member {m + 1}/{k} (random_state {member_seed(seed, m)})", flush=True)
            clf = clone(base).set_params(random_state=member_seed(seed, m))
            members.append(clf.fit(X, y, validation_data=validation_data))
        self._adopt(members)
        self.val_score_, self.member_val_scores_ = None, []
        if validation_data is not None:
            Xv, yv = validation_data
            yv = np.asarray(yv)
            probas = [c.predict_proba(Xv) for c in members]
            self.member_val_scores_ = [float(np.mean(self.classes_[p.argmax(1)] == yv)) for p in probas]
            self.val_score_ = float(np.mean(self.classes_[np.mean(probas, 0).argmax(1)] == yv))
        return self

    def _adopt(self, members) -> None:
        classes = members[0].classes_
        for c in members[1:]:
            if list(c.classes_) != list(classes):
                raise ValueError("ensemble members disagree on the classes")
        self.estimators_ = members
        self.classes_ = classes

    # ------------------------------------------------------------------ predict
    def _check_fitted(self):
        check_is_fitted(self, ["estimators_", "classes_"])

    def predict_proba(self, X):
        """Mean of the members' class probabilities, ``(n_texts, n_classes)``."""
        self._check_fitted()
        X = self.estimators_[0]._validate_X(X, fitting=False)
        return np.mean([c.predict_proba(X) for c in self.estimators_], axis=0)

    def predict(self, X):
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def explain(self, texts, top_k=5):
        """Which n-grams decided each prediction: as :meth:`TextCNNClassifier.explain`, with each
        window's contribution averaged over the members (its contribution to the mean of the
        members' logits for the ensemble's predicted class; a window that only some members
        chose counts 0 for the others). ``probability`` is the ensemble's."""
        self._check_fitted()
        top_k = _check_top_k(top_k)
        texts = self.estimators_[0]._validate_X(texts, fitting=False)
        proba = self.predict_proba(texts)
        per_member = [list(c._ngram_contributions(texts)) for c in self.estimators_]
        K = len(self.estimators_)
        out = []
        for i, text in enumerate(texts):
            c = int(np.argmax(proba[i]))
            merged: dict = {}
            for rows in per_member:
                for key, (v, n) in rows[i][3][c].items():
                    acc = merged.setdefault(key, [0.0, 0])
                    acc[0] += v / K
                    acc[1] += n
            toks = per_member[0][i][1]
            out.append({"text": text, "tokens": toks, "label": self.classes_[c], "probability": float(proba[i, c]),
                        "ngrams": _top_groups(merged, toks, top_k)})
        return out

    def top_ngrams(self, texts, per_filter=5):
        """Each member's :meth:`TextCNNClassifier.top_ngrams`, every entry tagged ``member``."""
        self._check_fitted()
        out = []
        for m, c in enumerate(self.estimators_):
            out.extend({"member": m, **row} for row in c.top_ngrams(texts, per_filter=per_filter))
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = False, *, run_id: str | None = None):
        """One artifact directory: ``ensemble.json`` (with its ``config_sha256``) + one
        ``TextCNNClassifier`` artifact per member; returns its absolute path. Atomic as a whole;
        an existing seqcnn artifact is replaced only with ``overwrite=True``, anything else at
        ``path`` raises :class:`~seqcnn.engine.checkpoint.OutputError`. ``run_id`` is stored in
        the manifest and in every member's ``config.json``."""
        self._check_fitted()
        if run_id is not None and not isinstance(run_id, str):
            raise TypeError(f"run_id must be a str or None, got {type(run_id).__name__}")
        names = [f"member_{m:02d}" for m in range(len(self.estimators_))]

        def write(tmp: Path) -> None:
            for name, c in zip(names, self.estimators_):
                c.save(tmp / name, run_id=run_id)
            manifest = {"estimator": "seqcnn.text.TextCNNEnsemble",
                        "members": names, "classes": encode_labels(self.classes_),
                        "params": {"n_members": len(names), "random_state": _jsonable_seed(self.random_state),
                                   "verbose": self.verbose},
                        "val_score": self.val_score_, "member_val_scores": self.member_val_scores_}
            if run_id is not None:
                manifest["run_id"] = run_id
            write_config(tmp / MANIFEST, manifest)

        return write_dir_atomically(path, write, overwrite=overwrite)

    @classmethod
    def load(cls, path, *, tokenizer=None):
        """Rebuild a saved ensemble (``tokenizer=func`` as for :meth:`TextCNNClassifier.load`)."""
        path = Path(path)
        recover_interrupted_save(path)
        mpath = path / MANIFEST
        if not mpath.is_file():
            if (path / "config.json").is_file():
                raise CheckpointError(f"{path} holds a single TextCNNClassifier, not an ensemble: "
                                      "load it with TextCNNClassifier.load (or seqcnn.text.load_text_model)")
            raise FileNotFoundError(f"{mpath} is missing: not a TextCNNEnsemble artifact")
        manifest = read_config(mpath)
        names = manifest.get("members")
        if (not isinstance(names, list) or not names
                or not all(isinstance(n, str) and n.startswith("member_") and "/" not in n and "\\" not in n
                           for n in names)):
            raise CheckpointError(f"{mpath}: 'members' must be a non-empty list of member_NN folder names")
        if "classes" not in manifest:
            raise CheckpointError(f"{mpath} lacks the 'classes' key")
        members = [TextCNNClassifier.load(path / n, tokenizer=tokenizer) for n in names]
        params = manifest.get("params") or {}
        ens = cls(estimator=clone(members[0]).set_params(random_state=None), n_members=len(members),
                  random_state=params.get("random_state"), verbose=params.get("verbose", 1))
        ens._adopt(members)
        if list(ens.classes_) != list(decode_labels(manifest["classes"])):
            raise CheckpointError(f"{mpath}: the members' classes differ from the manifest's")
        ens.val_score_ = manifest.get("val_score")
        ens.member_val_scores_ = manifest.get("member_val_scores") or []
        return ens


def _jsonable_seed(rs):
    return int(rs) if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool) else None


def load_text_model(path, *, tokenizer=None):
    """Load what ``seqcnn text train`` wrote: a :class:`TextCNNEnsemble` artifact (``ensemble.json``)
    or a :class:`TextCNNClassifier` one (``config.json``); the training output folder (holding
    ``model/``) is accepted too."""
    p = Path(path)
    recover_interrupted_save(p)
    if not (p / MANIFEST).exists() and not (p / "config.json").exists() and (p / "model").is_dir():
        p = p / "model"
    if (p / MANIFEST).exists():
        return TextCNNEnsemble.load(p, tokenizer=tokenizer)
    return TextCNNClassifier.load(p, tokenizer=tokenizer)
