"""``TextCNNEnsemble``: K sentence CNNs trained on one validation split, probabilities averaged.

The engine's :class:`~seqcnn.engine.ensemble.CNNEnsemble` with :class:`~seqcnn.text.TextCNNClassifier`
members: one validation split drawn from the training data (as the member would draw its own,
so member 0 is exactly the single network of the same ``random_state``), every member keeps its
best epoch on that split, member ``k`` is seeded ``random_state + 1000·k``. Averaging networks
that differ only in their seed reduces Kim's seed-to-seed noise (the measured gain is in
``docs/benchmarks.md`` and ``CHANGELOG.md``; ``seqcnn compare --config configs/kim_trec.toml
--models textcnn-ensemble`` measures it). Text adds ``explain`` and ``top_ngrams`` over the members.

The artifact is one directory: ``ensemble.json`` (format version, classes, member folders,
validation scores) and one ordinary ``TextCNNClassifier`` artifact per member
(``member_00/`` …), written atomically as a whole. Nothing is unpickled on load.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from seqcnn.engine.checkpoint import CheckpointError, recover_interrupted_save
from seqcnn.engine.ensemble import MANIFEST, CNNEnsemble, member_seed

from .estimator import TextCNNClassifier, _check_top_k, _top_groups, text_tags

__all__ = ["TextCNNEnsemble", "member_seed", "load_text_model"]


class TextCNNEnsemble(CNNEnsemble):
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

    member_class = TextCNNClassifier
    artifact_name = "seqcnn.text.TextCNNEnsemble"

    def __sklearn_tags__(self):
        return text_tags(super().__sklearn_tags__())

    def _default_estimator(self):
        return TextCNNClassifier(verbose=self.verbose)

    @classmethod
    def load(cls, path, *, tokenizer=None):
        """Rebuild a saved ensemble (``tokenizer=func`` as for :meth:`TextCNNClassifier.load`)."""
        path = Path(path)
        recover_interrupted_save(path)
        if not (path / MANIFEST).is_file() and (path / "config.json").is_file():
            raise CheckpointError(f"{path} holds a single TextCNNClassifier, not an ensemble: "
                                  "load it with TextCNNClassifier.load (or seqcnn.text.load_text_model)")
        return super().load(path, tokenizer=tokenizer)

    # ------------------------------------------------------------------ text extras
    def explain(self, texts, top_k=5):
        """Which n-grams decided each prediction: as :meth:`TextCNNClassifier.explain`, with each
        window's contribution averaged over the members (its contribution to the mean of the
        members' logits for the label; a window that only some members chose counts 0 for the
        others). ``probability`` is the ensemble's. Multi-label ensembles add ``labels``: every
        label the ensemble predicts (its ``threshold_``; the most probable one when none is),
        most probable first, each with the n-grams behind that label."""
        self._check_fitted()
        top_k = _check_top_k(top_k)
        texts = self.estimators_[0]._validate_X(texts, fitting=False)
        proba = self.predict_proba(texts)
        per_member = [list(c._ngram_contributions(texts)) for c in self.estimators_]
        K = len(self.estimators_)

        def ngrams(i, c):
            merged: dict = {}
            for rows in per_member:
                for key, (v, n) in rows[i][3][c].items():
                    acc = merged.setdefault(key, [0.0, 0])
                    acc[0] += v / K
                    acc[1] += n
            return _top_groups(merged, per_member[0][i][1], top_k)

        if self._multilabel():
            chosen_rows = self._decide(proba)
        out = []
        for i, text in enumerate(texts):
            c = int(np.argmax(proba[i]))
            res = {"text": text, "tokens": per_member[0][i][1], "label": self.classes_[c],
                   "probability": float(proba[i, c]), "ngrams": ngrams(i, c)}
            if self._multilabel():
                chosen = sorted(np.flatnonzero(chosen_rows[i]), key=lambda j: -float(proba[i, j])) or [c]
                res["labels"] = [{"label": self.classes_[j], "probability": float(proba[i, j]),
                                  "ngrams": ngrams(i, j)} for j in chosen]
            out.append(res)
        return out

    def top_ngrams(self, texts, per_filter=5):
        """Each member's :meth:`TextCNNClassifier.top_ngrams`, every entry tagged ``member``."""
        self._check_fitted()
        out = []
        for m, c in enumerate(self.estimators_):
            out.extend({"member": m, **row} for row in c.top_ngrams(texts, per_filter=per_filter))
        return out


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
