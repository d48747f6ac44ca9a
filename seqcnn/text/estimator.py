"""``TextCNNClassifier``: raw strings in, labels out — Kim (2014)'s sentence CNN as a
scikit-learn estimator, with a character CNN (Zhang et al. 2015) and DPCNN (Johnson & Zhang
2017) behind ``arch``.

Defaults are Kim's ``kim2014`` recipe: Kim's tokenizer (lower-cased), ``min_freq=1``, 300-d
embeddings, 100 maps × widths (3, 4, 5), ReLU, masked max-over-time, dropout 0.5 in Kim's form
(no rescaling in training, × 0.5 at prediction), max-norm 3 on the output layer's weight rows
only, Adadelta (ρ 0.95, ε 1e-6, lr 1), batch 50, 25 epochs, 10 % of the training data held out
for validation and the weights of the best validation-accuracy epoch kept. Unknown pretrained words get U[−a, a], a matched to the pretrained variance.

Speed (see PERF.md): batches are length-bucketed and padded per batch; with
``optimizer="adadelta"`` the embedding gets sparse gradients and an exact lazy Adadelta
(:class:`~seqcnn.text.optim.LazyAdadelta`) updates only the rows a batch touches.
"""
from __future__ import annotations

import contextvars
import os
import warnings

import numpy as np
import torch

from seqcnn.engine.estimator import CNNClassifierBase
from seqcnn.engine.layers import DROPOUT_SCALINGS
from seqcnn.engine.train import Trainer

from .batching import BucketSampler, PadCollate, SequenceDataset, check_batch_memory
from .models import ARCHS, MODES, KimCNN
from .optim import lazy_adadelta
from .pipeline import TextPipeline
from .tokenize import callable_target

# the custom tokenizer handed to TextCNNClassifier.load, visible to _set_state during that call
_LOAD_CALLABLES: contextvars.ContextVar[dict] = contextvars.ContextVar("seqcnn_text_load_callables", default={})
from .vectors import KeyedVectors, as_keyed_vectors, build_embedding_matrix, load_vectors
from . import contextual

__all__ = ["TextCNNClassifier"]


def text_tags(tags):
    """scikit-learn tags of an estimator on raw strings: 1-D string input, seed-dependent results."""
    tags.input_tags.string = True
    tags.input_tags.two_d_array = False
    tags.non_deterministic = True
    return tags


def _check_top_k(top_k) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be an integer >= 1, got {top_k!r}")
    return int(top_k)


def _winning_windows(widths, win, left: int, n_tokens: int):
    """The token spans that won max-over-time: ``(bank j, filter f, width w, start, end)`` for
    every filter whose winning window (``win[j] = (values (F,), arg-max (F,))``, −1 where no
    window is valid) covers at least one of the ``n_tokens`` tokens; ``left`` is the padding
    before the first token."""
    for j, (w, (_vals, idx)) in enumerate(zip(widths, win)):
        for f in range(len(idx)):
            t = int(idx[f])
            if t < 0:
                continue
            start, end = max(t - left, 0), min(t - left + w, n_tokens)
            if end > start:
                yield j, f, w, start, end


def _top_groups(groups: dict, tokens: list, top_k: int) -> list:
    """The ``top_k`` windows of ``{(width, start, end): [contribution, filters]}`` by decreasing
    contribution, as :meth:`TextCNNClassifier.explain`'s ``ngrams`` entries."""
    items = sorted(groups.items(), key=lambda kv: -kv[1][0])[:top_k]
    return [{"ngram": " ".join(tokens[s:e]), "span": (s, e), "width": w, "contribution": v, "filters": n}
            for (w, s, e), (v, n) in items]


class _TrainValSampler:
    """The Trainer calls one batch sampler for training (shuffle=True) and validation
    (shuffle=False); route each call to the lengths of the right dataset."""

    def __init__(self, train_lengths, val_lengths=None, pool_factor=50):
        self.train = BucketSampler(train_lengths, pool_factor=pool_factor)
        self.val = BucketSampler(val_lengths) if val_lengths is not None else None

    def __call__(self, n, batch_size, shuffle, generator=None):
        if shuffle or self.val is None:
            return self.train(n, batch_size, shuffle, generator)
        return self.val(n, batch_size, shuffle, generator)


class TextCNNClassifier(CNNClassifierBase):
    """Sentence classifier on raw strings.

    Parameters
    ----------
    mode : ``"rand"`` | ``"static"`` | ``"non-static"`` | ``"multichannel"`` (Kim's variants;
        the last three start from ``embeddings``), or ``"contextual"`` /
        ``"contextual-multichannel"``: the input is the frozen ``encoder``'s hidden states
        (``encoder_layers``) per word piece, alone or beside a trainable embedding channel
        (:mod:`seqcnn.text.contextual`).
    filter_sizes, num_filters : filter widths and maps per width (KimCNN).
    embedding_dim : word-vector size (taken from ``embeddings`` when given).
    dropout : on the pooled features (and the FC layers of CharCNN).
    max_norm : L2 limit of each output-layer weight row (None: off).
    batch_size, max_epochs, optimizer, lr, patience : the training recipe; ``optimizer`` is
        ``"adadelta"`` (lazy sparse Adadelta, ρ 0.95, ε 1e-6, lr 1), ``"adam"``, ``"sgd"``,
        ``"adamw"`` or ``callable(model) -> Optimizer``.
    embeddings : None, a path to word2vec/GloVe/fastText vectors, a named source
        (``"glove-6b-50d"``, ``"minilm-l6"``: optional extras, see :mod:`seqcnn.text.vectors`), a
        :class:`~seqcnn.text.vectors.KeyedVectors`, or a dict word → vector.
    encoder : None, or ``"minilm-l6"`` for the contextual modes (required there, refused elsewhere).
    encoder_layers : which of the encoder's hidden states make the contextual channel:
        ``"mean"`` (default: the average of its transformer layers' outputs, 1..6 for MiniLM-L6),
        ``"last"`` (the last layer's, what the model card pools), a layer index (0 = the
        embedding layer's output, -1 = the last) or a list of indices to average. Only with
        the contextual modes.
    tokenizer : ``"kim"``, ``"whitespace"``, ``"char"``, ``"wordpiece"``, ``"bpe"`` or a callable.
    min_freq, oov : vocabulary threshold; unknown words → ``<unk>`` or dropped.
    validation_fraction : share of the training data held out to pick the best epoch (highest
        validation accuracy; of tied epochs the later one, as Kim's ``val_perf >= best_val_perf``;
        a tie also resets ``patience``).
    class_weight : None, ``"balanced"`` or a dict label → weight.
    device, random_state, verbose : as everywhere in seqcnn.
    arch : ``"kim"`` (default), ``"char"`` (Zhang et al. 2015 small, on characters) or
        ``"dpcnn"`` (Johnson & Zhang 2017).
    lowercase : None (tokenizer default: on), or bool (off for TREC: ``preset="trec"`` in the CLI).
    max_size : vocabulary size cap.
    max_len : token cap per text (default 1014, Zhang et al.'s character-CNN input length; about
        20× the longest sentence of MR, SST or TREC, so no benchmark text is cut): longer texts
        are truncated to their first ``max_len`` tokens, at fit and at predict alike (the
        fitted pipeline and the artifact keep the cap; a loaded model predicts with the cap it
        was trained with — ``None`` for models saved before this default). ``None``: no cap.
        Before each training and prediction run, the largest batch (``batch_size`` texts padded
        to the longest one) is checked against the free memory; a batch that cannot fit is
        refused (:class:`~seqcnn.text.batching.BatchMemoryError`, a ``ValueError`` naming
        ``batch_size`` and ``max_len``) instead of being allocated.
    extend_vocab : add words of the pretrained table to the vocabulary (False, True, or an int:
        the first that many words of the file) so test words unseen in training keep their vectors.
    unknown_init : ``"auto"`` (a = sqrt(3·var) of the pretrained values) or a number (Kim: 0.25).
    tokenizer_kwargs : e.g. ``{"vocab_size": 8000}`` for sub-word tokenizers.
    fused : compute the conv banks with one fused matrix product (faster; same function).
    char_length : CharCNN input length (paper: 1014).
    dpcnn_blocks : DPCNN downsampling blocks.
    bucket_pool : training batches are drawn length-bucketed: the shuffled training set is cut
        into pools of ``bucket_pool × batch_size`` texts, each pool sorted by length and cut into
        batches (less padding, faster). ``1`` gives plain random batches, as in Kim's code.
    dropout_scaling : ``"auto"`` (default: ``"test"`` for ``arch="kim"``, ``"train"`` for the
        others), ``"train"`` (PyTorch's inverted dropout: kept units ÷ (1 − p) in training) or
        ``"test"`` (Kim's code: no rescaling in training, features × (1 − p) at prediction;
        :class:`~seqcnn.engine.layers.WeightScalingDropout`). Same expected function; with
        ``"test"`` the output layer's weights are Kim's, so ``max_norm=3`` is his limit (with
        ``"train"`` it allows twice his norm) and Adadelta's steps on them are his. Measured on MR
        (10 folds): validation +0.46 ± 0.22, test +1.01 ± 0.48 points for ``"test"``.
    threshold, pos_weight, min_labels : multi-label targets only (``y`` an indicator matrix or a
        list of label lists; :mod:`seqcnn.engine.multilabel`): ``threshold`` is the decision
        threshold on each label's probability (a number, one per label, or ``"auto"``: per label,
        the F1-best threshold on the validation split, stored in the artifact); ``pos_weight``
        weighs each label's positive examples in the binary cross-entropy (None, ``"balanced"``
        = negatives/positives, or one weight per label); ``min_labels=1`` gives a text with no
        label above threshold its most probable label (default 0: it gets none).
    model_kwargs : dict of further arguments of the ``arch`` builder in the model registry
        (:mod:`seqcnn.text.zoo`, e.g. ``{"fc_dim": 512}`` for ``"char"``), checked against its
        parameters (``TypeError`` naming an unknown key); a key that is also a parameter above
        takes the ``model_kwargs`` value. The same routing as the signal and image estimators.

    ``fit(X, y, validation_data=None)``: ``validation_data=(X_dev, y_dev)`` (e.g. SST-2's dev
    split) picks the best epoch instead of a ``validation_fraction`` carved out of ``X``. It is
    training-side data: never pass the test set there. Multi-label models keep the epoch of the
    lowest validation loss.
    """

    # artifacts from before an option: inverted dropout; the contextual channel was the last layer
    _load_defaults = {"dropout_scaling": "train", "encoder_layers": "last"}

    def __init__(self, mode="rand", filter_sizes=(3, 4, 5), num_filters=100, embedding_dim=300, dropout=0.5,
                 max_norm=3.0, batch_size=50, max_epochs=25, optimizer="adadelta", embeddings=None,
                 tokenizer="kim", min_freq=1, oov="unk", validation_fraction=0.1, class_weight=None,
                 device="auto", random_state=None, verbose=1, *, arch="kim", lr=None, patience=None,
                 lowercase=None, max_size=None, max_len=1014, extend_vocab=False, unknown_init="auto",
                 tokenizer_kwargs=None, fused=True, char_length=1014, dpcnn_blocks=6,
                 bucket_pool=50, dropout_scaling="auto", threshold=0.5, pos_weight=None, min_labels=0, encoder=None,
                 encoder_layers="mean", model_kwargs=None):
        self.mode = mode
        self.filter_sizes = filter_sizes
        self.num_filters = num_filters
        self.embedding_dim = embedding_dim
        self.dropout = dropout
        self.max_norm = max_norm
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.optimizer = optimizer
        self.embeddings = embeddings
        self.tokenizer = tokenizer
        self.min_freq = min_freq
        self.oov = oov
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.arch = arch
        self.lr = lr
        self.patience = patience
        self.lowercase = lowercase
        self.max_size = max_size
        self.max_len = max_len
        self.extend_vocab = extend_vocab
        self.unknown_init = unknown_init
        self.tokenizer_kwargs = tokenizer_kwargs
        self.fused = fused
        self.char_length = char_length
        self.dpcnn_blocks = dpcnn_blocks
        self.bucket_pool = bucket_pool
        self.dropout_scaling = dropout_scaling
        self.threshold = threshold
        self.pos_weight = pos_weight
        self.min_labels = min_labels
        self.encoder = encoder
        self.encoder_layers = encoder_layers
        self.model_kwargs = model_kwargs

    # ------------------------------------------------------------------ sklearn tags
    def __sklearn_tags__(self):
        return text_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        fs = self.filter_sizes
        if isinstance(fs, (int, np.integer)):
            fs = (int(fs),)
        try:
            fs = tuple(int(w) for w in fs)
        except (TypeError, ValueError):
            raise ValueError(f"filter_sizes must be a sequence of positive ints, got {self.filter_sizes!r}") from None
        if not fs or min(fs) < 1:
            raise ValueError(f"filter_sizes must be a non-empty sequence of positive ints, got {self.filter_sizes!r}")
        for name in ("num_filters", "embedding_dim", "batch_size", "max_epochs", "bucket_pool"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.dropout_scaling, str) or self.dropout_scaling not in ("auto",) + DROPOUT_SCALINGS:
            raise ValueError(f"dropout_scaling must be one of {('auto',) + DROPOUT_SCALINGS}, "
                             f"got {self.dropout_scaling!r}")
        if self.max_norm is not None and not (isinstance(self.max_norm, (int, float)) and self.max_norm > 0):
            raise ValueError(f"max_norm must be None or a positive number, got {self.max_norm!r}")
        if self.oov not in ("unk", "drop"):
            raise ValueError(f"oov must be 'unk' or 'drop', got {self.oov!r}")
        ml = self.max_len
        if ml is not None and (isinstance(ml, bool) or not isinstance(ml, (int, np.integer)) or ml < 1):
            raise ValueError(f"max_len must be None (no cap) or an integer >= 1, got {ml!r}")
        contextual.check_params(self)  # encoder=, the contextual modes, word-piece sources
        return fs

    def _validate_X(self, X, *, fitting: bool):
        if isinstance(X, str):
            raise TypeError("X must be a sequence of strings (one per document), not a single string")
        if hasattr(X, "iloc") and hasattr(X, "columns"):
            if X.shape[1] != 1:
                raise ValueError(f"X must be a 1-D sequence of strings; got a DataFrame with {X.shape[1]} columns")
            X = X.iloc[:, 0]
        if isinstance(X, np.ndarray):
            if X.ndim == 2 and X.shape[1] == 1:
                X = X[:, 0]
            if X.ndim != 1:
                raise ValueError(f"X must be a 1-D sequence of strings (one per document); got an array of "
                                 f"shape {X.shape}")
        try:
            X = list(X)
        except TypeError:
            raise TypeError(f"X must be a sequence of strings, got {type(X).__name__}") from None
        for i, t in enumerate(X):
            if not isinstance(t, str):
                raise TypeError(f"X must contain strings (raw text); X[{i}] is {type(t).__name__} "
                                f"({str(t)[:40]!r})")
        if fitting and len(X) == 0:
            raise ValueError("X is empty: fit needs at least one text (0 samples given)")
        return X

    # ------------------------------------------------------------------ preprocessing
    def _fit_preprocessing(self, X, y_enc) -> None:
        self._check_params()
        tokenizer = self.tokenizer
        if self.arch == "char" and tokenizer == "kim":
            tokenizer = "char"
        tokenizer = contextual.prepare_fit(self, tokenizer)  # word-piece sources: their own tokenizer
        self.pipeline_ = TextPipeline(tokenizer, lowercase=self.lowercase, min_freq=self.min_freq,
                                      max_size=self.max_size, oov=self.oov,
                                      max_len=None if self.max_len is None else int(self.max_len),
                                      tokenizer_kwargs=self.tokenizer_kwargs)
        self.pipeline_.fit(X)
        self._init_matrix = None
        self.n_pretrained_found_ = 0
        self.unknown_a_ = None
        dim = int(self.embedding_dim)
        if self.embeddings is not None and self.arch != "char":
            kv = self._load_embeddings()
            dim = kv.dim
            mat, found, a = build_embedding_matrix(self.pipeline_.vocab, kv, a=self.unknown_init,
                                                   rng=self._seed())
            self._init_matrix = torch.from_numpy(mat)
            self.n_pretrained_found_, self.unknown_a_ = found, a
        elif self.mode not in ("rand", "contextual") and self.arch == "kim":
            warnings.warn(f"mode={self.mode!r} without embeddings: starting from random vectors", UserWarning,
                          stacklevel=3)
        self.embedding_dim_ = dim
        self.vocab_size_ = len(self.pipeline_.vocab)

    def _load_embeddings(self) -> KeyedVectors:
        # each word and its lower-cased form (build_embedding_matrix falls back to it)
        vocab = set(self.pipeline_.vocab.stoi) | {w.lower() for w in self.pipeline_.vocab.stoi}
        if isinstance(self.embeddings, (str, os.PathLike)):
            limit = self.extend_vocab if (not isinstance(self.extend_vocab, bool) and self.extend_vocab) else None
            if self.extend_vocab:
                # Extending the vocabulary needs the table's words: read the first `limit` records
                # (all when True) plus every training word further down the file.
                kv_all = load_vectors(self.embeddings, vocab=None, limit=limit)
                extra = load_vectors(self.embeddings, vocab=vocab) if limit is not None else kv_all
                words = list(dict.fromkeys(kv_all.words + extra.words))
                index = {**{w: kv_all.vectors[i] for i, w in enumerate(kv_all.words)},
                         **{w: extra.vectors[i] for i, w in enumerate(extra.words)}}
                kv = KeyedVectors(words, np.stack([index[w] for w in words]))
            else:
                kv = load_vectors(self.embeddings, vocab=vocab)
        else:
            kv = as_keyed_vectors(self.embeddings)
        if self.extend_vocab:
            words = kv.words if isinstance(self.extend_vocab, bool) else kv.words[: int(self.extend_vocab)]
            self.pipeline_.extend_vocab(words)
        return kv

    def _make_dataset(self, X, y_enc=None):
        if self.mode in contextual.CONTEXTUAL_MODES:
            return contextual.make_dataset(self, X, y_enc)
        return SequenceDataset(self.pipeline_.transform(X), y_enc)

    def _collate_fn(self) -> PadCollate:
        if self.arch == "char":
            return PadCollate(fixed_len=int(self.char_length))
        if self.arch == "dpcnn":
            return PadCollate(min_len=1)
        w = max(self._check_params())
        if self.mode in contextual.CONTEXTUAL_MODES:
            return contextual.collate_fn(self, w)
        return PadCollate(left=w - 1, right=w - 1, min_len=w)

    def _collate(self, items):
        return self._collate_fn()(items)

    def _sparse(self) -> bool:
        return isinstance(self.optimizer, str) and self.optimizer == "adadelta"

    def _dropout_scaling(self) -> str:
        """``dropout_scaling`` with ``"auto"`` resolved: Kim's form for his CNN, inverted otherwise."""
        if self.dropout_scaling == "auto":
            return "test" if self.arch == "kim" else "train"
        return self.dropout_scaling

    def _build_module(self, n_classes: int) -> torch.nn.Module:
        fs = self._check_params()
        init = getattr(self, "_init_matrix", None)
        if self.mode in contextual.CONTEXTUAL_MODES:
            module = contextual.build_module(self, n_classes, fs)
        else:  # kim, char, dpcnn from the model registry (seqcnn.text.zoo)
            from .zoo import build_text_module

            module = build_text_module(self, n_classes, fs, init)
        self._init_matrix = None  # the matrix now lives in the module
        return module

    def _trainer_kwargs(self) -> dict:
        # Kim's conv_net_sentence.py: `if val_perf >= best_val_perf` — a tie moves to the later epoch.
        kw = {"monitor": "val_acc", "varying_lengths": True, "ties": "later"}
        if self._sparse():
            kw["optimizer"] = lazy_adadelta(lr=1.0 if self.lr is None else float(self.lr))
        if self.max_norm is not None:
            kw["max_norm"] = {"fc.weight": float(self.max_norm)}
        return kw

    # ------------------------------------------------------------------ memory guard
    def _floats_per_position(self) -> int:
        """float32 values the network holds per padded position of one text (embedding,
        unfolded windows, feature maps): the memory guard's unit."""
        E = int(getattr(self, "embedding_dim_", None) or self.embedding_dim)
        F_ = int(self.num_filters)
        if self.arch == "char":
            return int(getattr(self, "vocab_size_", 70)) + 6 * F_
        if self.arch == "dpcnn":
            return E + 4 * F_
        fs = self._check_params()
        channels = 2 if self.mode == "multichannel" else 1
        return channels * E * (1 + (max(fs) if self.fused else 0)) + len(fs) * F_

    def _check_memory(self, ds, batch_size: int, training: bool) -> None:
        """Refuse (``BatchMemoryError``) when the largest batch of ``ds`` cannot fit."""
        if len(ds) == 0:
            return
        from seqcnn.engine.device import resolve_device

        collate = self._collate_fn()
        longest = int(ds.lengths.max())
        if collate.fixed_len is not None:
            padded = int(collate.fixed_len)
        else:
            padded = collate.left + max(longest, collate.min_len) + collate.right
        cap = getattr(getattr(self, "pipeline_", None), "max_len", self.max_len)
        check_batch_memory(min(int(batch_size), len(ds)), padded, self._floats_per_position(), training=training,
                           batch_size=int(self.batch_size), max_len=cap, device=resolve_device(self.device))

    def _fit_network(self, train_ds, val_ds, y_train, seed) -> None:
        self._check_memory(train_ds, int(self.batch_size), training=True)
        if val_ds is not None:
            self._check_memory(val_ds, int(self.batch_size), training=False)
        self.module_ = self._build_module(len(self.classes_))
        trainer = self._make_trainer(seed, y_train)
        sampler = _TrainValSampler(train_ds.lengths, None if val_ds is None else val_ds.lengths,
                                   pool_factor=int(self.bucket_pool))
        self.history_ = trainer.fit(self.module_, train_ds, val_ds, collate_fn=self._collate_fn(),
                                    batch_sampler=sampler)
        self.best_epoch_ = trainer.best_epoch
        self.module_.eval()

    def _predict_logits(self, X) -> torch.Tensor:
        ds = self._make_dataset(X)
        self._check_memory(ds, max(int(self.batch_size), 256), training=False)
        trainer = Trainer(device=self.device, verbose=0, batch_size=max(int(self.batch_size), 256))
        return trainer.predict_logits(self.module_, ds, collate_fn=self._collate_fn(),
                                      batch_sampler=BucketSampler(ds.lengths))

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> dict:
        return {"pipeline": self.pipeline_.to_dict(), "vocab_size": self.vocab_size_,
                "embedding_dim": self.embedding_dim_, "n_pretrained_found": self.n_pretrained_found_,
                "unknown_a": self.unknown_a_, **contextual.get_state(self)}

    @classmethod
    def load(cls, path, *, tokenizer=None):
        """Rebuild a saved model. A model trained with a custom tokenizer function needs that
        function again (``tokenizer=func``, same module and name as when saved): the artifact
        stores only its name and never imports code."""
        callables = {}
        if tokenizer is not None:
            if not callable(tokenizer) or isinstance(tokenizer, str):
                raise TypeError(f"tokenizer must be the tokenizer function, got {type(tokenizer).__name__}")
            callables[callable_target(tokenizer)] = tokenizer
        token = _LOAD_CALLABLES.set(callables)
        try:
            est = super().load(path)
        finally:
            _LOAD_CALLABLES.reset(token)
        if tokenizer is not None:
            if est.pipeline_.tokenizer.kind != "callable":
                raise ValueError(f"{path} was not saved with a custom tokenizer; do not pass tokenizer=")
            est.tokenizer = tokenizer  # the parameter is the function again, so refitting works
        return est

    def _set_state(self, state: dict) -> None:
        self.pipeline_ = TextPipeline.from_dict(state["pipeline"], callables=_LOAD_CALLABLES.get())
        self.vocab_size_ = int(state["vocab_size"])
        self.embedding_dim_ = int(state["embedding_dim"])
        self.n_pretrained_found_ = state.get("n_pretrained_found", 0)
        self.unknown_a_ = state.get("unknown_a")
        contextual.set_state(self, state)  # refuses a different encoder
        self._init_matrix = None

    def _params_for_save(self) -> dict:
        params = self.get_params(deep=False)
        if params["embeddings"] is not None and not isinstance(params["embeddings"], str):
            params["embeddings"] = None  # the vectors are inside model.safetensors
        if isinstance(params["embeddings"], os.PathLike):
            params["embeddings"] = os.fspath(params["embeddings"])
        if callable(params["tokenizer"]):
            params["tokenizer"] = self.pipeline_.tokenizer.to_config()["target"]
        if callable(params["optimizer"]):
            params["optimizer"] = "custom"
        return params

    # ------------------------------------------------------------------ explanations
    def _kim_module(self) -> KimCNN:
        self._check_fitted()
        if not isinstance(self.module_, KimCNN):
            raise ValueError(f"explanations need arch='kim' (max-over-time n-gram filters), this model has "
                             f"arch={self.arch!r}")
        return self.module_

    def _winners(self, texts):
        """Per text: tokens, left padding, and per width (pooled (F,), window index (F,))."""
        module = self._kim_module().eval()
        texts = self._validate_X(texts, fitting=False)
        device = next(module.parameters()).device
        collate = self._collate_fn()
        for text in texts:
            ids, toks = self.pipeline_.encode_with_tokens(text)
            (batch,), _ = collate([(ids,)])
            with torch.no_grad():
                logits = module(batch.to(device))[0].float().cpu()
                win = [(v[0].cpu(), i[0].cpu()) for v, i in module.winners(batch.to(device))]
            yield text, toks, collate.left, logits, win

    def explain(self, texts, top_k=5):
        """Which n-grams decided each prediction (Kim's CNN only).

        Each filter contributes ``pooled activation × output weight`` to the predicted class's
        logit through the one window that won its max-over-time; contributions of filters that
        won the same window (same width and position) are summed.

        Returns one dict per text: ``text``, ``tokens``, ``label``, ``probability``, and
        ``ngrams`` — up to ``top_k`` dicts sorted by decreasing contribution, each with
        ``ngram`` (the tokens joined by spaces), ``span`` (start, end) token indices (end
        exclusive), ``width`` (the filter width) , ``contribution`` (to the logit) and
        ``filters`` (how many filters chose that window).

        Multi-label models: ``label``/``probability``/``ngrams`` are those of the most probable
        label, and ``labels`` lists every predicted label (``threshold``, ``min_labels``; the
        most probable one when none is predicted), most probable first, each a dict ``label``,
        ``probability``, ``ngrams`` (the n-grams behind that label's logit).
        """
        top_k = _check_top_k(top_k)
        out = []
        multilabel = self._multilabel()
        for text, toks, logits, groups in self._ngram_contributions(texts):
            c = int(torch.argmax(logits))
            proba = torch.sigmoid(logits.double()) if multilabel else torch.softmax(logits.double(), 0)
            res = {"text": text, "tokens": toks, "label": self.classes_[c], "probability": float(proba[c]),
                   "ngrams": _top_groups(groups[c], toks, top_k)}
            if multilabel:
                chosen = np.flatnonzero(self._decide(proba.numpy()[None, :])[0])
                chosen = sorted(chosen, key=lambda j: -float(proba[j])) or [c]
                res["labels"] = [{"label": self.classes_[j], "probability": float(proba[j]),
                                  "ngrams": _top_groups(groups[j], toks, top_k)} for j in chosen]
            out.append(res)
        return out

    def _ngram_contributions(self, texts):
        """Per text: ``(text, tokens, logits (C,), groups)``, where ``groups[c]`` maps each winning
        window ``(width, start, end)`` to ``[contribution to class c's logit, filters]``."""
        module = self._kim_module()
        W = module.output_weight().detach().float().cpu()
        F_ = module.num_filters
        for text, toks, left, logits, win in self._winners(texts):
            groups = [dict() for _ in range(W.shape[0])]
            contrib = [vals.double() * W[:, j * F_:(j + 1) * F_].double() for j, (vals, _) in enumerate(win)]  # (C, F)
            for j, f, w, start, end in _winning_windows(module.filter_sizes, win, left, len(toks)):
                for c, g in enumerate(groups):
                    acc = g.setdefault((w, start, end), [0.0, 0])
                    acc[0] += float(contrib[j][c, f])
                    acc[1] += 1
            yield text, toks, logits, groups

    def top_ngrams(self, texts, per_filter=5):
        """What each filter responds to over a corpus: for every filter, the ``per_filter``
        distinct n-grams with the highest max-over-time activation.

        Returns a list (one per filter, widths in order) of dicts ``filter`` (global index),
        ``width``, ``ngrams`` = list of ``(ngram, activation)``."""
        if isinstance(per_filter, bool) or not isinstance(per_filter, (int, np.integer)) or per_filter < 1:
            raise ValueError(f"per_filter must be an integer >= 1, got {per_filter!r}")
        module = self._kim_module()
        F_ = module.num_filters
        best = [dict() for _ in range(F_ * len(module.filter_sizes))]
        for _text, toks, left, _logits, win in self._winners(texts):
            for j, f, _w, start, end in _winning_windows(module.filter_sizes, win, left, len(toks)):
                ngram = " ".join(toks[start:end])
                d = best[j * F_ + f]
                d[ngram] = max(d.get(ngram, float("-inf")), float(win[j][0][f]))
        result = []
        for k, d in enumerate(best):
            top = sorted(d.items(), key=lambda kv: -kv[1])[:int(per_filter)]
            result.append({"filter": k, "width": module.filter_sizes[k // F_], "ngrams": top})
        return result
