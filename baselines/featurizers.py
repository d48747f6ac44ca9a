"""Featurisers that turn the raw input of each modality into fixed-length vectors.

- :func:`word_ngrams` / :func:`char_ngrams`: scikit-learn's own ``CountVectorizer`` /
  ``TfidfVectorizer`` configured for word n-grams (binary, counts or tf-idf) and character
  p-grams — always non-negative, so they can feed ``MultinomialNB``/``BernoulliNB``.
- :class:`SeriesFeaturizer`: raw series (N, L), (N, C, L) or a ragged list of (L_i,)/(C, L_i) →
  one fixed length (linear resampling or zero padding/truncation), per-series z-normalisation,
  flattened to (N, C·L) for vector models (or kept (N, C, L) with ``flatten=False``).
- :class:`ImageFeaturizer`: images (N, H, W), (N, H, W, C) or (N, C, H, W) → flat pixels scaled
  to [0, 1] (``scale="auto"`` divides by 255 when the training maximum exceeds 1), optional PCA.
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from seqcnn.data.checks import check_series
from .nbsvm import TOKEN_PATTERN

__all__ = ["word_ngrams", "char_ngrams", "SeriesFeaturizer", "ImageFeaturizer"]

WEIGHTINGS = ("binary", "count", "tfidf")


def _vectorizer(weighting, **kw):
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if weighting == "tfidf":
        return TfidfVectorizer(sublinear_tf=True, **kw)
    return CountVectorizer(binary=weighting == "binary", **kw)


def word_ngrams(ngram_range=(1, 1), weighting="count", *, lowercase=True, min_df=1,
                token_pattern=TOKEN_PATTERN):
    """Word n-gram features of raw strings: a scikit-learn vectorizer (sparse, non-negative).

    ``weighting``: "binary" (presence), "count" or "tfidf" (sublinear tf, l2-normalised rows).
    Empty documents give all-zero rows; a corpus with no token at all raises ``ValueError``.
    """
    return _vectorizer(weighting, ngram_range=tuple(ngram_range), lowercase=lowercase, min_df=min_df,
                       token_pattern=token_pattern)


def char_ngrams(p_range=(1, 5), weighting="count", *, lowercase=False, min_df=1):
    """Character p-gram features (scikit-learn ``analyzer="char"``, which folds runs of white
    space into one space) of raw strings."""
    return _vectorizer(weighting, analyzer="char", ngram_range=tuple(p_range), lowercase=lowercase, min_df=min_df)


def _resample(a: np.ndarray, length: int) -> np.ndarray:
    """Linear interpolation of (C, L) onto ``length`` evenly spaced points."""
    L = a.shape[1]
    if L == length:
        return a
    if L == 1:
        return np.repeat(a, length, axis=1)
    src = np.linspace(0.0, 1.0, L)
    dst = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(dst, src, ch) for ch in a])


class SeriesFeaturizer(TransformerMixin, BaseEstimator):
    """Raw (possibly ragged, possibly multivariate) series → fixed-length vectors.

    Parameters
    ----------
    length : "max", "min" or int, default="max"
        Target length; "max"/"min" are learnt from the training series.
    method : {"resample", "pad"}, default="resample"
        Linear resampling, or zero padding at the end / truncation.
    znorm : bool, default=True
        Per-series, per-channel z-normalisation (a constant channel becomes zeros), done before
        resizing so that padding stays at 0.
    flatten : bool, default=True
        Output (N, C·L) instead of (N, C, L).

    NaN or infinite values raise ``ValueError`` naming X.
    """

    def __init__(self, length="max", method="resample", znorm=True, flatten=True):
        self.length = length
        self.method = method
        self.znorm = znorm
        self.flatten = flatten

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags

    def fit(self, X, y=None):
        """Learn the target length and the number of channels."""
        if self.method not in ("resample", "pad"):
            raise ValueError(f"method must be 'resample' or 'pad', got {self.method!r}")
        series = check_series(X, "X")
        lengths = [s.shape[1] for s in series]
        if self.length == "max":
            self.length_ = int(max(lengths))
        elif self.length == "min":
            self.length_ = int(min(lengths))
        elif isinstance(self.length, numbers.Integral) and not isinstance(self.length, bool) and self.length >= 1:
            self.length_ = int(self.length)
        else:
            raise ValueError(f"length must be 'max', 'min' or a positive int, got {self.length!r}")
        self.n_channels_ = series[0].shape[0]
        self.n_features_in_ = lengths[0] if isinstance(X, np.ndarray) and X.ndim == 2 else None
        return self

    def transform(self, X):
        """(N, C·L) float64 (or (N, C, L) with ``flatten=False``)."""
        check_is_fitted(self, "length_")
        series = check_series(X, "X")
        if series[0].shape[0] != self.n_channels_:
            raise ValueError(f"X has {series[0].shape[0]} channels but the featuriser was fitted on {self.n_channels_}")
        if self.n_features_in_ is not None and isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but SeriesFeaturizer is expecting {self.n_features_in_} features as input")
        out = np.zeros((len(series), self.n_channels_, self.length_))
        for k, s in enumerate(series):
            if self.znorm:
                mu, sd = s.mean(1, keepdims=True), s.std(1, keepdims=True)
                s = np.where(sd > 1e-12, (s - mu) / np.where(sd > 1e-12, sd, 1.0), 0.0)
            if self.method == "resample":
                out[k] = _resample(s, self.length_)
            else:
                m = min(s.shape[1], self.length_)
                out[k, :, :m] = s[:, :m]
        return out.reshape(len(series), -1) if self.flatten else out


class ImageFeaturizer(TransformerMixin, BaseEstimator):
    """Images → flattened pixels in [0, 1], optionally projected by PCA.

    Parameters
    ----------
    channels : {"auto", "first", "last"}, default="auto"
        Layout of 4-D input: (N, C, H, W) or (N, H, W, C); "auto" takes channels-first when
        axis 1 has 1, 3 or 4 entries and the last axis does not. (Only the pixel order of the
        flattened vector depends on it.) 2-D input (N, F) is taken as already flat; 3-D as
        (N, H, W) grey images.
    scale : "auto", float or None, default="auto"
        Divide pixels by this; "auto" = 255 when the training maximum exceeds 1, else 1.
    n_components : int, float or None, default=None
        PCA components (``sklearn.decomposition.PCA``) after flattening.
    random_state : int or None, default=None
    """

    def __init__(self, channels="auto", scale="auto", n_components=None, random_state=None):
        self.channels = channels
        self.scale = scale
        self.n_components = n_components
        self.random_state = random_state

    def _flat(self, X):
        import scipy.sparse as sp

        if sp.issparse(X):
            raise TypeError("ImageFeaturizer: sparse input is not supported; pass a dense image array X")
        X = np.asarray(X)
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported: X must hold real pixel values")
        if X.dtype == object:
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"X must be a numeric image array, got dtype object: {exc}") from exc
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must be a numeric image array, got dtype {X.dtype}")
        if X.ndim >= 2 and X.size == 0 and X.shape[0] > 0:
            raise ValueError(f"X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if X.ndim == 1:
            raise ValueError(f"X must be 2-D or more, got shape {X.shape}. Reshape your data: X.reshape(1, -1) "
                             "for a single flat image")
        if X.ndim == 2:
            flat = X
        elif X.ndim == 3:
            flat = X.reshape(X.shape[0], -1)
        elif X.ndim == 4:
            if self.channels not in ("auto", "first", "last"):
                raise ValueError(f"channels must be 'auto', 'first' or 'last', got {self.channels!r}")
            first = self.channels == "first" or (
                self.channels == "auto" and X.shape[1] in (1, 3, 4) and X.shape[-1] not in (1, 3, 4))
            flat = (X if first else X.transpose(0, 3, 1, 2)).reshape(X.shape[0], -1)
        else:
            raise ValueError(f"X must have shape (N, F), (N, H, W), (N, H, W, C) or (N, C, H, W), got {X.shape}")
        flat = flat.astype(np.float64)
        if flat.shape[0] == 0:
            raise ValueError("X is empty: at least one image is required")
        if not np.all(np.isfinite(flat)):
            raise ValueError("X contains NaN or infinite pixel values")
        return flat

    def fit(self, X, y=None):
        flat = self._flat(X)
        self.n_features_in_ = flat.shape[1]
        if self.scale == "auto":
            self.scale_ = 255.0 if flat.max() > 1.0 else 1.0
        elif self.scale is None:
            self.scale_ = 1.0
        else:
            self.scale_ = float(self.scale)
        if self.n_components is not None:
            from sklearn.decomposition import PCA

            self.pca_ = PCA(n_components=self.n_components, random_state=self.random_state).fit(flat / self.scale_)
        else:
            self.pca_ = None
        return self

    def transform(self, X):
        check_is_fitted(self, "scale_")
        flat = self._flat(X)
        if flat.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {flat.shape[1]} features, but ImageFeaturizer is expecting {self.n_features_in_} features as input")
        flat = flat / self.scale_
        return self.pca_.transform(flat) if self.pca_ is not None else flat
