"""Supervised fastText (Joulin et al. 2017, "Bag of Tricks for Efficient Text Classification")
as a scikit-learn estimator on raw strings.

``FastTextClassifier`` writes the training texts to a temporary file in fastText's
``__label__K text`` format, trains with the ``fasttext`` package's ``train_supervised`` (the
optional extra ``pip install "seqcnn[fasttext]"``, which installs the ``fasttext-wheel``
binary wheel; importing this module does not import it) and predicts every label's
probability line by line. Texts are whitespace-split by fastText itself; line breaks inside a
text become spaces, and the text is lower-cased unless ``lowercase=False``.

NaN: fastText's SGD can diverge on small or tiny data sets with a high learning rate, and its
trainer then stops with ``RuntimeError("Encountered NaN.")``. The estimator catches that (and
a model whose training-set probabilities are not finite), halves ``lr`` and trains again, at
most ``max_retries`` times, with a ``UserWarning`` naming the learning rates tried; the rate
that worked is ``lr_`` and the retries ``n_retries_``. When every try fails it raises
:class:`FastTextNaNError` (a ``ValueError``) naming ``lr`` and the tries.
"""
from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from seqcnn.data.checks import check_labels, check_strings
from seqcnn.data import MissingExtraError

__all__ = ["FastTextClassifier", "FastTextNaNError", "MissingExtraError"]


class FastTextNaNError(ValueError):
    """fastText's training diverged (NaN) at every learning rate tried."""


def _import_fasttext():
    try:
        import fasttext
    except ImportError as exc:
        raise MissingExtraError("FastTextClassifier needs the optional extra: pip install \"seqcnn[fasttext]\" "
                                f"(the fasttext module is not installed: {exc})") from exc
    return fasttext


def _line(text: str, lowercase: bool) -> str:
    text = " ".join(text.split())  # one line: fastText reads one example per line
    return text.lower() if lowercase else text


class FastTextClassifier(ClassifierMixin, BaseEstimator):
    """Supervised fastText: averaged word (and word n-gram) vectors → linear softmax.

    Parameters
    ----------
    lr : float, default=0.1
        Learning rate (fastText's default for supervised training).
    epoch : int, default=5
    dim : int, default=100
        Size of the word vectors.
    word_ngrams : int, default=2
        Longest word n-gram (2: bigrams, as in the paper's best rows).
    min_count : int, default=1
    minn, maxn : int, default=0
        Character n-gram lengths (0: none; supervised fastText's default).
    bucket : int, default=2_000_000
        Hash buckets for n-grams.
    loss : {"softmax", "ns", "hs", "ova"}, default="softmax"
    lowercase : bool, default=True
    thread : int, default=1
        Training threads (1 with a fixed ``random_state`` gives reproducible models).
    random_state : int or None, default=None
        fastText's ``seed`` and the seed of the line shuffle (None → 0, fastText's own default).
    shuffle : bool, default=True
        Write the training lines in a seeded random order. fastText reads its file in order and
        does not shuffle; on data stored class by class (MR: every negative review, then every
        positive one) its linearly decaying learning rate ends each epoch on one class and the
        model drifts to it (MR, lr 1.0 × 25 epochs: 50.9 % unshuffled against 75–76 % shuffled).
    max_retries : int, default=3
        Trainings with a halved ``lr`` after a NaN before giving up.
    verbose : int, default=0

    Attributes
    ----------
    classes_, lr_ (the learning rate that trained), n_retries_, model_ (the fastText model).
    """

    def __init__(self, lr=0.1, epoch=5, dim=100, word_ngrams=2, min_count=1, minn=0, maxn=0, bucket=2_000_000,
                 loss="softmax", lowercase=True, thread=1, random_state=None, shuffle=True, max_retries=3,
                 verbose=0):
        self.lr = lr
        self.epoch = epoch
        self.dim = dim
        self.word_ngrams = word_ngrams
        self.min_count = min_count
        self.minn = minn
        self.maxn = maxn
        self.bucket = bucket
        self.loss = loss
        self.lowercase = lowercase
        self.thread = thread
        self.random_state = random_state
        self.shuffle = shuffle
        self.max_retries = max_retries
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _check_params(self):
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float, np.number)) or not self.lr > 0:
            raise ValueError(f"lr must be a number > 0, got {self.lr!r}")
        for name in ("epoch", "dim", "word_ngrams", "min_count", "bucket", "thread"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        for name in ("minn", "maxn", "max_retries"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        if self.loss not in ("softmax", "ns", "hs", "ova"):
            raise ValueError(f"loss must be 'softmax', 'ns', 'hs' or 'ova', got {self.loss!r}")
        rs = self.random_state
        if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, np.integer)) or rs < 0):
            raise ValueError(f"random_state must be None or an integer >= 0, got {rs!r}")
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}")

    def _train(self, fasttext, path: str, lr: float):
        return fasttext.train_supervised(
            input=path, lr=float(lr), epoch=int(self.epoch), dim=int(self.dim), wordNgrams=int(self.word_ngrams),
            minCount=int(self.min_count), minn=int(self.minn), maxn=int(self.maxn), bucket=int(self.bucket),
            loss=self.loss, thread=int(self.thread), seed=int(self.random_state or 0), verbose=int(self.verbose))

    def fit(self, X, y):
        """Train on raw strings ``X`` (N,) and labels ``y`` (N,)."""
        self._check_params()
        fasttext = _import_fasttext()
        texts = check_strings(X, "X")
        y = check_labels(y, len(texts))
        classes, y_enc = np.unique(y, return_inverse=True)
        y_flat = y_enc.ravel()
        if len(classes) < 2:
            raise ValueError(f"y has 1 class ({classes.tolist()[0]!r}): FastTextClassifier needs at least two classes")
        lines = [_line(t, self.lowercase) for t in texts]
        order = np.random.default_rng(int(self.random_state or 0)).permutation(len(lines)) if self.shuffle \
            else np.arange(len(lines))
        fd, path = tempfile.mkstemp(prefix="seqcnn-fasttext-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for i in order:
                    fh.write(f"__label__{int(y_flat[i])} {lines[i]}\n")
            lr, tried = float(self.lr), []
            while True:
                tried.append(lr)
                try:
                    model = self._train(fasttext, path, lr)
                    ok = np.isfinite(self._proba(model, lines[:1000], len(classes))).all()
                except RuntimeError as exc:
                    if "nan" not in str(exc).lower():
                        raise
                    ok = False
                if ok:
                    break
                if len(tried) > int(self.max_retries):
                    raise FastTextNaNError(f"fastText training diverged (NaN) with lr={tried} "
                                           f"(max_retries={self.max_retries}); lower lr")
                lr /= 2.0
        finally:
            os.unlink(path)
        if len(tried) > 1:
            warnings.warn(f"fastText training hit NaN with lr={tried[:-1]}; trained with lr={lr}", UserWarning,
                          stacklevel=2)
        self.model_ = model
        self.classes_ = classes
        self.lr_ = lr
        self.n_retries_ = len(tried) - 1
        return self

    @staticmethod
    def _proba(model, lines, n_classes) -> np.ndarray:
        # One line at a time through the C++ binding: fasttext-wheel 0.9.2's batched
        # ``predict(list)`` repeats the top probability for every label, and its single-string
        # ``predict`` fails under NumPy 2 (``np.array(..., copy=False)``).
        out = np.zeros((len(lines), n_classes))
        for i, line in enumerate(lines):
            for p, lab in model.f.predict(line + "\n", -1, 0.0, "strict"):
                out[i, int(lab[len("__label__"):])] = p
        return out

    def predict_proba(self, X) -> np.ndarray:
        """(N, n_classes) probabilities, columns in ``classes_`` order (rows renormalised to sum 1)."""
        check_is_fitted(self, "model_")
        lines = [_line(t, self.lowercase) for t in check_strings(X, "X")]
        if not lines:
            return np.zeros((0, len(self.classes_)))
        p = self._proba(self.model_, lines, len(self.classes_))
        s = p.sum(axis=1, keepdims=True)
        return np.divide(p, s, out=np.full_like(p, 1.0 / p.shape[1]), where=s > 0)

    def predict(self, X) -> np.ndarray:
        """(N,) labels from ``classes_``."""
        proba = self.predict_proba(X)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]

    # the fastText model is a C++ object: pickled through its own binary format
    def __getstate__(self):
        state = dict(self.__dict__)
        model = state.pop("model_", None)
        if model is not None:
            fd, path = tempfile.mkstemp(prefix="seqcnn-fasttext-", suffix=".bin")
            os.close(fd)
            try:
                model.save_model(path)
                with open(path, "rb") as fh:
                    state["_model_bytes"] = fh.read()
            finally:
                os.unlink(path)
        return state

    def __setstate__(self, state):
        blob = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if blob is not None:
            fasttext = _import_fasttext()
            fd, path = tempfile.mkstemp(prefix="seqcnn-fasttext-", suffix=".bin")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                self.model_ = fasttext.load_model(path)
            finally:
                os.unlink(path)
