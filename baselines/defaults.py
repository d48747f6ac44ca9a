"""Ready-made baselines per modality, and the size of a fitted baseline.

``default_baselines(modality)`` returns fresh, unfitted estimators keyed by short names; each takes
the same raw ``X`` as the CNN estimator of that modality (a list of strings; an array (N, L) /
(N, C, L) or a ragged list of series; an image array), so a comparison can run every model on the
same folds. Naive Bayes always sits on the right features: ``MultinomialNB`` on non-negative
n-gram counts, ``GaussianNB`` on real values (scikit-learn rejects negative values in
MultinomialNB).

Every default baseline also takes multi-label targets (an indicator matrix or a list of label
lists): NBSVM, :class:`~baselines.KNNClassifier` and :class:`~baselines.KernelSVM` natively,
the scikit-learn classifiers (Naive Bayes, ``LinearSVC``) as thin subclasses (``OvRMultinomialNB``
…) that fit the classifier itself on single-label targets (exactly as before) and one copy per
label (one-vs-rest) on multi-label ones.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import SVC, LinearSVC
from sklearn.utils.validation import check_is_fitted

from seqcnn.data import targets as ml

from .featurizers import ImageFeaturizer, SeriesFeaturizer, word_ngrams
from .knn import KNNClassifier
from .nbsvm import NBSVM
from .svm import KernelSVM

__all__ = ["default_baselines", "model_size", "MODALITIES", "OvRMultinomialNB", "OvRBernoulliNB", "OvRGaussianNB",
           "OvRLinearSVC"]

MODALITIES = ("text", "signal", "image")


class _OneVsRestOnMultilabel:
    """Mixin for a scikit-learn classifier ``_base``: single-label targets fit ``_base`` itself
    (unchanged behaviour); multi-label targets (an indicator matrix or a list of label lists)
    fit one ``_base`` per label (``OneVsRestClassifier``, kept in ``ovr_``), and ``predict``
    returns the fitted target form, ``predict_proba`` / ``decision_function`` ``(n, L)``."""

    _base = None

    def fit(self, X, y, *args, **kwargs):
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.utils.validation import _num_samples

        if y is not None and ml.is_multilabel_target(y):
            self.target_type_, self.classes_, Y = ml.encode_multilabel(y, _num_samples(X))
            self.ovr_ = OneVsRestClassifier(self._base(**self.get_params())).fit(X, Y.astype(np.int64))
            if hasattr(self.ovr_, "n_features_in_"):
                self.n_features_in_ = self.ovr_.n_features_in_
            return self
        self.target_type_, self.ovr_ = ml.MULTICLASS, None
        return super().fit(X, y, *args, **kwargs)

    def _multilabel(self) -> bool:
        return getattr(self, "ovr_", None) is not None

    def predict(self, X):
        if self._multilabel():
            return ml.decode_multilabel(self.target_type_, self.classes_, self.ovr_.predict(X))
        return super().predict(X)

    def predict_proba(self, X):
        return self.ovr_.predict_proba(X) if self._multilabel() else super().predict_proba(X)

    def predict_log_proba(self, X):
        if self._multilabel():
            with np.errstate(divide="ignore"):
                return np.log(self.ovr_.predict_proba(X))
        return super().predict_log_proba(X)


class OvRMultinomialNB(_OneVsRestOnMultilabel, MultinomialNB):
    """``MultinomialNB``, one per label on multi-label targets."""
    _base = MultinomialNB


class OvRBernoulliNB(_OneVsRestOnMultilabel, BernoulliNB):
    """``BernoulliNB``, one per label on multi-label targets."""
    _base = BernoulliNB


class OvRGaussianNB(_OneVsRestOnMultilabel, GaussianNB):
    """``GaussianNB``, one per label on multi-label targets."""
    _base = GaussianNB


class OvRLinearSVC(_OneVsRestOnMultilabel, LinearSVC):
    """``LinearSVC``, one per label on multi-label targets."""
    _base = LinearSVC

    def decision_function(self, X):
        return self.ovr_.decision_function(X) if self._multilabel() else super().decision_function(X)


def _pipeline(*steps) -> Pipeline:
    """``make_pipeline`` whose one-vs-rest step keeps its base's name (``multinomialnb``), so the
    documented parameter names (``multinomialnb__alpha``) keep working."""
    pipe = make_pipeline(*steps)
    pipe.steps = [(type(est)._base.__name__.lower() if isinstance(est, _OneVsRestOnMultilabel) else name, est)
                  for name, est in pipe.steps]
    return pipe


def _text():
    return {
        "mnb": _pipeline(word_ngrams((1, 1), "count"), OvRMultinomialNB()),
        "mnb-bi": _pipeline(word_ngrams((1, 2), "binary"), OvRMultinomialNB()),
        "bnb": _pipeline(word_ngrams((1, 1), "binary"), OvRBernoulliNB()),
        "nbsvm": NBSVM(ngram_range=(1, 2)),
        "knn-cosine": _pipeline(word_ngrams((1, 1), "tfidf"), KNNClassifier(n_neighbors=5, metric="cosine")),
        "knn-levenshtein": KNNClassifier(n_neighbors=5, metric="levenshtein"),
        "svm-linear": _pipeline(word_ngrams((1, 2), "tfidf"), OvRLinearSVC(C=1.0)),
        "svm-string": KernelSVM(kernel="spectrum", p_range=(1, 5)),
    }


def _signal():
    return {
        "gnb": _pipeline(SeriesFeaturizer(), OvRGaussianNB()),
        "knn-euclidean": _pipeline(SeriesFeaturizer(), KNNClassifier(n_neighbors=1, metric="euclidean")),
        "knn-dtw": KNNClassifier(n_neighbors=1, metric="dtw", window=0.1),
        "svm-rbf": _pipeline(SeriesFeaturizer(), KernelSVM(kernel="rbf")),
    }


def _image():
    return {
        "gnb": _pipeline(ImageFeaturizer(), OvRGaussianNB()),
        "knn-euclidean": _pipeline(ImageFeaturizer(), KNNClassifier(n_neighbors=5, metric="euclidean")),
        "svm-rbf": _pipeline(ImageFeaturizer(), KernelSVM(kernel="rbf")),
    }


def default_baselines(modality: str) -> dict[str, BaseEstimator]:
    """Named, unfitted baselines for ``"text"``, ``"signal"`` or ``"image"`` raw input.

    text: mnb (word unigram counts + MultinomialNB), mnb-bi (binarised uni+bigrams + MNB, Wang &
    Manning's MNB-bi), bnb (BernoulliNB), nbsvm (NBSVM-bi), knn-cosine (tf-idf, 5-NN cosine),
    knn-levenshtein (5-NN edit distance on the raw strings), svm-linear (tf-idf uni+bigrams +
    LinearSVC), svm-string (p = 1..5 spectrum-kernel SVM).
    signal: gnb, knn-euclidean (1-NN, the UCR baseline), knn-dtw (1-NN DTW with a 10 %
    Sakoe-Chiba band), svm-rbf — on resampled, z-normalised series (knn-dtw on the raw series).
    image: gnb, knn-euclidean (5-NN), svm-rbf — on flattened pixels in [0, 1].
    """
    builders = {"text": _text, "signal": _signal, "image": _image}
    if modality not in builders:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    return builders[modality]()


def model_size(estimator, *, with_unit: bool = False):
    """Size of a fitted baseline: stored samples (k-NN), support vectors (SVM; Nyström
    landmarks when approximated), or number of coefficients (linear models, NBSVM, Naive Bayes).

    Pipelines are measured by their final step. Returns an int, or ``(count, unit)`` with
    ``with_unit=True`` (unit: "samples", "support_vectors", "landmarks" or "coefficients").
    """
    est = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    check_is_fitted(est)
    if getattr(est, "ovr_", None) is not None:  # one per label (multi-label): their sizes together
        sizes = [model_size(e, with_unit=True) for e in est.ovr_.estimators_ if hasattr(e, "classes_")]
        count = sum(c for c, _ in sizes)
        return (int(count), sizes[0][1] if sizes else "coefficients") if with_unit else int(count)
    if isinstance(est, (KNNClassifier, KNeighborsClassifier)):
        count, unit = est.n_samples_fit_, "samples"
    elif isinstance(est, KernelSVM):
        count, unit = est.n_support_vectors_, ("landmarks" if est.approximate_ else "support_vectors")
    elif isinstance(est, SVC):
        count, unit = int(est.n_support_.sum()), "support_vectors"
    elif isinstance(est, NBSVM):
        count, unit = est.coef_.size + est.intercept_.size, "coefficients"
    elif isinstance(est, (MultinomialNB, BernoulliNB)):
        count, unit = est.feature_log_prob_.size + est.class_log_prior_.size, "coefficients"
    elif isinstance(est, GaussianNB):
        count, unit = est.theta_.size + est.var_.size + est.class_prior_.size, "coefficients"
    elif hasattr(est, "coef_"):
        count, unit = np.size(est.coef_) + np.size(getattr(est, "intercept_", 0)), "coefficients"
    else:
        raise TypeError(f"model_size does not know how to measure {type(est).__name__}")
    return (int(count), unit) if with_unit else int(count)
