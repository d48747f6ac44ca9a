"""NBSVM: a linear SVM on Naive-Bayes log-count-ratio scaled features (Wang & Manning 2012,
"Baselines and Bigrams: Simple, Good Sentiment and Topic Classification", ACL).

For binarised n-gram indicators f̂ (N, V) and labels y ∈ {+1, −1}:
    p = α + Σ_{i: y_i = +1} f̂_i,  q = α + Σ_{i: y_i = −1} f̂_i,  r = log((p/‖p‖₁) / (q/‖q‖₁)),
a linear SVM (L2-regularised squared hinge, LIBLINEAR through ``LinearSVC``; or logistic regression)
is trained on x̃ = f̂ ⊙ r, and its weights are interpolated towards their mean magnitude,
    w' = (1 − β)·w̄ + β·w,  w̄ = ‖w‖₁/|V|   (β = 0.25 in the paper),
which trades the SVM against the MNB-like solution. The whole decision function follows the
interpolation: the mean-magnitude model w̄·(r·f̂) has no bias, so the SVM's bias b enters with the
SVM's share, b' = β·b, and
    f(x) = (1 − β)·w̄·(r·f̂) + β·(w·(r ⊙ f̂) + b) = (r ⊙ f̂)·w' + β·b.
Keeping b at full size beside a β-shrunk w makes the bias outweigh the few features of a short
text (a phrase of 1–4 words is then mostly given the majority class). ``fit_intercept=False``
trains the SVM with no bias at all, as the authors' own code does (LIBLINEAR ``-s 1`` without
``-B``). Several classes: one-vs-rest, one r and one SVM per class; ``predict`` takes the largest
decision value (ties → first class). Multi-label targets (an indicator matrix or a list of label
lists, :mod:`seqcnn.engine.multilabel`): one r and one SVM per label, a label predicted where
its decision value is > 0, ``predict`` returning the fitted target form; a label that is
present in every training example (or in none) gets a constant decision (+1 / −1).
Input: raw strings (tokenised here with ``CountVectorizer``) or a non-negative feature matrix.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_array, check_is_fitted

from seqcnn.data.checks import check_labels, check_strings, is_string_input
from seqcnn.data import targets as ml

__all__ = ["NBSVM", "TOKEN_PATTERN"]

TOKEN_PATTERN = r"(?u)\b\w+\b|[^\w\s]"  # words of any length, and each punctuation mark


class NBSVM(ClassifierMixin, BaseEstimator):
    """NBSVM of Wang & Manning (2012) on raw strings or on a non-negative feature matrix.

    Parameters
    ----------
    ngram_range : (int, int), default=(1, 2)
        Word n-grams when X is raw strings (NBSVM-bi).
    alpha : float, default=1.0
        Smoothing of the log-count ratio.
    beta : float, default=0.25
        Interpolation weight of the SVM solution.
    C : float, default=1.0
    classifier : {"svm", "logreg"}, default="svm"
    binarize : bool, default=True
        Use presence indicators f̂ = 1[f > 0] (as the paper).
    lowercase : bool, default=True
    token_pattern : str, default=TOKEN_PATTERN
    fit_intercept : bool, default=True
        Learn an SVM bias (entering the decision function as β·b); False: no bias, as the authors'
        LIBLINEAR runs.
    max_iter : int, default=10000
    random_state : int or None, default=None
        Seed of LIBLINEAR's coordinate-descent order (results vary at solver tolerance otherwise).
    """

    def __init__(self, ngram_range=(1, 2), alpha=1.0, beta=0.25, C=1.0, classifier="svm", binarize=True,
                 lowercase=True, token_pattern=TOKEN_PATTERN, fit_intercept=True, max_iter=10000, random_state=None):
        self.ngram_range = ngram_range
        self.alpha = alpha
        self.beta = beta
        self.C = C
        self.classifier = classifier
        self.binarize = binarize
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        return tags

    def _features(self, X, *, fitting: bool):
        if is_string_input(X) or (isinstance(X, (list, tuple)) and len(X) and isinstance(X[0], str)):
            texts = check_strings(X, "X")
            if fitting:
                self.vectorizer_ = CountVectorizer(ngram_range=tuple(self.ngram_range), lowercase=self.lowercase,
                                                   token_pattern=self.token_pattern, binary=self.binarize)
                try:
                    F = self.vectorizer_.fit_transform(texts)
                except ValueError as exc:
                    raise ValueError(f"X gives an empty vocabulary (every document is empty or has no tokens): {exc}") from exc
                self.n_features_in_ = None
            else:
                if self.vectorizer_ is None:
                    raise TypeError("X is a list of strings but the model was fitted on a feature matrix")
                F = self.vectorizer_.transform(texts)
            return sp.csr_matrix(F, dtype=np.float64)
        F = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64, input_name="X")
        if fitting:
            self.vectorizer_ = None
            self.n_features_in_ = F.shape[1]
        else:
            if self.vectorizer_ is not None:
                raise TypeError("X is a feature matrix but the model was fitted on raw strings")
            if F.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {F.shape[1]} features, but NBSVM is expecting {self.n_features_in_} features as input")
        if (F.data if sp.issparse(F) else F).min(initial=0.0) < 0:
            raise ValueError("Negative values in data passed to NBSVM (X): features must be non-negative counts")
        F = sp.csr_matrix(F)
        if self.binarize:
            F = F.copy()
            F.data = (F.data > 0).astype(np.float64)
            F.eliminate_zeros()
        return F

    def _check_params(self):
        if self.classifier not in ("svm", "logreg"):
            raise ValueError(f"classifier must be 'svm' or 'logreg', got {self.classifier!r}")
        if not (np.isscalar(self.alpha) and self.alpha > 0):
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        if not (np.isscalar(self.beta) and 0 <= self.beta <= 1):
            raise ValueError(f"beta must be in [0, 1], got {self.beta!r}")

    def _log_count_ratio(self, F, positive):
        p = self.alpha + np.asarray(F[positive].sum(0)).ravel()
        q = self.alpha + np.asarray(F[~positive].sum(0)).ravel()
        return np.log((p / p.sum()) / (q / q.sum()))

    def _tasks(self, y, n):
        """The positive mask of each binary task (sets ``classes_`` and ``target_type_``)."""
        if y is not None and ml.is_multilabel_target(y):
            self.target_type_, self.classes_, Y = ml.encode_multilabel(y, n)
            return [Y[:, j] > 0 for j in range(Y.shape[1])]
        y = check_labels(y, n)
        self.target_type_ = ml.MULTICLASS
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has 1 class ({self.classes_[:1].tolist()[0]!r}): NBSVM needs at least two classes")
        return [y_enc == c for c in ([1] if len(self.classes_) == 2 else range(len(self.classes_)))]

    def fit(self, X, y):
        """Fit on raw strings (list) or a non-negative (N, V) matrix; ``y`` any hashable labels,
        or multi-label targets (an indicator matrix or a list of label lists)."""
        self._check_params()
        F = self._features(X, fitting=True)
        r, coef, intercept, n_iter = [], [], [], []
        for positive in self._tasks(y, F.shape[0]):
            if positive.all() or not positive.any():  # a multi-label column without both classes
                r.append(np.zeros(F.shape[1]))
                coef.append(np.zeros(F.shape[1]))
                intercept.append(1.0 if positive.all() else -1.0)
                continue
            r_c = self._log_count_ratio(F, positive)
            Xr = F @ sp.diags(r_c)
            if self.classifier == "svm":
                clf = LinearSVC(C=self.C, fit_intercept=bool(self.fit_intercept), max_iter=self.max_iter,
                                random_state=self.random_state)
            else:
                clf = LogisticRegression(C=self.C, solver="liblinear", fit_intercept=bool(self.fit_intercept),
                                         max_iter=self.max_iter, random_state=self.random_state)
            clf.fit(Xr, positive.astype(int))
            w = clf.coef_.ravel()
            w_bar = np.abs(w).mean()
            r.append(r_c)
            n_iter.append(int(np.max(clf.n_iter_)))
            coef.append((1 - self.beta) * w_bar + self.beta * w)
            b = float(np.ravel(clf.intercept_)[0]) if self.fit_intercept else 0.0
            intercept.append(self.beta * b)  # the bias follows the interpolation: β·b
        self.r_ = np.array(r)  # (n_tasks, V)
        self.coef_ = np.array(coef)  # (n_tasks, V) interpolated weights in the r-scaled space
        self.intercept_ = np.array(intercept)  # (n_tasks,) β·b, the bias of the interpolated model
        self.n_iter_ = max(n_iter, default=0)
        return self

    def decision_function(self, X):
        """(N,) for two classes (positive = ``classes_[1]``), else (N, n_classes) one-vs-rest;
        (N, L) for multi-label targets."""
        check_is_fitted(self, "coef_")
        F = self._features(X, fitting=False)
        scores = np.column_stack([F @ (r * w) + b for r, w, b in zip(self.r_, self.coef_, self.intercept_)])
        multi = getattr(self, "target_type_", ml.MULTICLASS) != ml.MULTICLASS
        return scores.ravel() if len(self.classes_) == 2 and not multi else scores

    def predict(self, X):
        s = self.decision_function(X)
        if getattr(self, "target_type_", ml.MULTICLASS) != ml.MULTICLASS:
            return ml.decode_multilabel(self.target_type_, self.classes_, s > 0)
        idx = (s > 0).astype(int) if s.ndim == 1 else np.argmax(s, axis=1)
        return self.classes_[idx]
