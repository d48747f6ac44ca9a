"""Kernel SVM on vectors or raw strings: scikit-learn's SVC (libsvm) underneath.

The dual form of the lecture seed: the classifier only needs the kernel matrix K_X = k(X, X) to
fit and K_Y = k(Y, X) to predict. Vector kernels (``linear``, ``poly``, ``rbf``, ``sigmoid``) run
on standardised features (``StandardScaler``, without centring for sparse input); ``precomputed``
takes the Gram matrices themselves; the string kernels (``spectrum``, ``presence``,
``intersection`` on character p-grams, see :mod:`baselines.string_kernel`) take raw strings.

Exact kernel SVMs scale quadratically or worse in the number of samples (scikit-learn#13209,
#23524): above ``max_exact_samples`` (20,000) training samples the estimator warns and switches to
a Nyström approximation (Williams & Seeger 2001; ``n_components`` landmarks) followed by a
linear SVM (``LinearSVC``), unless ``exact=True``. For string kernels the Nyström map is built
here (landmark Gram, eigen-decomposition, K_nm·U·Λ^-1/2); for vector kernels scikit-learn's
``Nystroem`` is used. Accuracy always comes from ``predict``; ``decision_function`` is exposed for
ranking metrics (``predict_proba`` of libsvm may disagree with ``predict``, scikit-learn#13211).
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.kernel_approximation import Nystroem
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.utils.validation import check_is_fitted, validate_data

from seqcnn.data.checks import check_labels, check_strings
from seqcnn.data import targets as ml
from .string_kernel import KINDS as STRING_KERNELS
from .string_kernel import StringKernel

__all__ = ["KernelSVM"]

VECTOR_KERNELS = ("linear", "poly", "rbf", "sigmoid")
KERNELS = VECTOR_KERNELS + ("precomputed",) + STRING_KERNELS


class KernelSVM(ClassifierMixin, BaseEstimator):
    """Support vector classifier with vector, precomputed or string kernels.

    Parameters
    ----------
    kernel : {"linear", "poly", "rbf", "sigmoid", "precomputed", "spectrum", "presence",
        "intersection"}, default="rbf"
    C : float, default=1.0
    degree, gamma, coef0 : as in :class:`sklearn.svm.SVC` (vector kernels).
    p_range : (int, int), default=(1, 5)
        Character p-gram lengths of the string kernels.
    exact : bool, default=False
        Keep the exact SVC above ``max_exact_samples`` training samples (slow).
    max_exact_samples : int, default=20000
    n_components : int, default=1000
        Nyström landmarks when the approximation is used.
    class_weight : None, "balanced" or dict, default=None
    scale : bool, default=True
        Standardise features for vector kernels.
    cache_size : float, default=500
        libsvm kernel cache in MB.
    random_state : int or None, default=None
        Landmark choice of the Nyström approximation.
    """

    def __init__(self, kernel="rbf", C=1.0, degree=3, gamma="scale", coef0=0.0, p_range=(1, 5),
                 exact=False, max_exact_samples=20000, n_components=1000, class_weight=None,
                 scale=True, cache_size=500, random_state=None):
        self.kernel = kernel
        self.C = C
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.p_range = p_range
        self.exact = exact
        self.max_exact_samples = max_exact_samples
        self.n_components = n_components
        self.class_weight = class_weight
        self.scale = scale
        self.cache_size = cache_size
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.kernel in STRING_KERNELS:
            tags.input_tags.string = True
            tags.input_tags.two_d_array = False
        elif self.kernel == "precomputed":
            tags.input_tags.pairwise = True
        else:
            tags.input_tags.sparse = True
        return tags

    # -- helpers ------------------------------------------------------------------------------
    def _validate(self, X, *, reset):
        if self.kernel in STRING_KERNELS:
            return check_strings(X, "X")
        return validate_data(self, X, reset=reset, accept_sparse=["csr"], dtype=[np.float64, np.float32])

    def _gamma_value(self, X):
        if self.gamma == "scale":
            var = (X.multiply(X)).mean() - X.mean() ** 2 if sp.issparse(X) else X.var()
            return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return self.gamma

    def fit(self, X, y):
        """Fit on X: (N, F) array / sparse matrix, (N, N) Gram for ``precomputed``, or a list
        of strings for the string kernels. ``y``: any hashable labels, at least two classes."""
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {self.kernel!r}")
        X = self._validate(X, reset=True)
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        if y is not None and ml.is_multilabel_target(y):  # one-vs-rest: one SVM per label
            self.target_type_, self.classes_, Y = ml.encode_multilabel(y, n)
            y = Y.astype(np.int64)
        else:
            y = check_labels(y, n)
            self.target_type_ = ml.MULTICLASS
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(f"y has 1 class ({self.classes_[:1].tolist()[0]!r}): an SVM needs at least two classes")
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(f"kernel='precomputed' needs a square Gram matrix X (n, n) to fit, got shape {X.shape}")
        self.approximate_ = n > self.max_exact_samples and not self.exact
        if self.approximate_:
            warnings.warn(f"KernelSVM: {n} training samples > max_exact_samples={self.max_exact_samples}; "
                          f"using a Nyström approximation ({self.n_components} landmarks) + LinearSVC. "
                          "Pass exact=True to fit the exact SVC (time grows ~quadratically).", UserWarning)
        t0 = time.perf_counter()
        svc_kw = dict(C=self.C, class_weight=self.class_weight)
        if self.kernel in STRING_KERNELS:
            self.string_kernel_ = StringKernel(p_range=self.p_range, kind=self.kernel, normalize=True)
            if self.approximate_:
                self._fit_string_nystroem(X, y)
            else:
                K = self.string_kernel_.fit_transform(X)
                self.model_ = self._ovr(SVC(kernel="precomputed", cache_size=self.cache_size, **svc_kw)).fit(K, y)
        elif self.kernel == "precomputed":
            if self.approximate_:
                warnings.warn("kernel='precomputed' cannot be approximated here; fitting the exact SVC", UserWarning)
                self.approximate_ = False
            self.model_ = self._ovr(SVC(kernel="precomputed", cache_size=self.cache_size, **svc_kw)).fit(X, y)
        else:
            steps = [StandardScaler(with_mean=not sp.issparse(X))] if self.scale else []
            if self.approximate_:
                Xs = steps[0].fit_transform(X) if steps else X
                ny = Nystroem(kernel=self.kernel, gamma=self._gamma_value(Xs), degree=self.degree, coef0=self.coef0,
                              n_components=min(self.n_components, n), random_state=self.random_state)
                steps += [ny, LinearSVC(**svc_kw)]
            else:
                steps.append(SVC(kernel=self.kernel, degree=self.degree, gamma=self.gamma, coef0=self.coef0,
                                 cache_size=self.cache_size, **svc_kw))
            steps[-1] = self._ovr(steps[-1])
            self.model_ = make_pipeline(*steps).fit(X, y)
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _fit_string_nystroem(self, X, y):
        rng = np.random.default_rng(self.random_state)
        m = min(self.n_components, len(X))
        landmarks = [X[i] for i in np.sort(rng.choice(len(X), size=m, replace=False))]
        K_mm = self.string_kernel_.fit_transform(landmarks)
        w, U = np.linalg.eigh((K_mm + K_mm.T) / 2)
        keep = w > 1e-10 * max(w.max(), 1e-300)
        self.nystroem_map_ = U[:, keep] / np.sqrt(w[keep])  # features = K_nm · U Λ^-1/2
        feats = self.string_kernel_.transform(X) @ self.nystroem_map_
        self.model_ = self._ovr(LinearSVC(C=self.C, class_weight=self.class_weight)).fit(feats, y)

    def _multilabel(self) -> bool:
        return getattr(self, "target_type_", ml.MULTICLASS) != ml.MULTICLASS

    def _ovr(self, est):
        """``est``, or one-vs-rest copies of it (one per label) for multi-label targets."""
        if not self._multilabel():
            return est
        from sklearn.multiclass import OneVsRestClassifier

        return OneVsRestClassifier(est)

    def _model_input(self, X):
        check_is_fitted(self, "model_")
        X = self._validate(X, reset=False)
        if self.kernel in STRING_KERNELS:
            K = self.string_kernel_.transform(X)
            return K @ self.nystroem_map_ if self.approximate_ else K
        return X

    def decision_function(self, X):
        """Signed distances to the margin: (N,) for two classes, (N, n_classes) one-vs-rest;
        (N, L) for multi-label targets."""
        Z = self._model_input(X)
        return self.model_.decision_function(Z)

    def predict(self, X):
        """Class labels (as given in ``y``) from the SVM's own decision rule; for multi-label
        targets the fitted form (an indicator, or a list of label tuples), one SVM per label."""
        Z = self._model_input(X)
        if self._multilabel():
            return ml.decode_multilabel(self.target_type_, self.classes_, self.model_.predict(Z))
        return self.model_.predict(Z)

    @property
    def n_support_vectors_(self) -> int:
        """Stored support vectors (exact SVC), or landmarks of the Nyström approximation."""
        check_is_fitted(self, "model_")
        svc = self.model_[-1] if hasattr(self.model_, "steps") else self.model_
        if hasattr(svc, "estimators_"):  # one-vs-rest (multi-label): the SVMs' support vectors together
            return int(sum(getattr(e, "n_support_", np.zeros(1)).sum() for e in svc.estimators_))
        if isinstance(svc, SVC):
            return int(svc.n_support_.sum())
        return int(self.nystroem_map_.shape[0]) if self.kernel in STRING_KERNELS else int(self.model_[-2].components_.shape[0])
