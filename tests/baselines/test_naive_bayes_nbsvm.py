"""Naive Bayes on the right features and NBSVM (Wang & Manning 2012)."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from baselines import NBSVM, SeriesFeaturizer, default_baselines, word_ngrams

TEXTS = ["a good and moving film", "great acting , good story", "a moving , great film",
         "a bad and boring film", "awful acting , bad story", "a boring , awful film"]
LABELS = ["pos", "pos", "pos", "neg", "neg", "neg"]


def test_naive_bayes_log_probabilities_stay_finite_on_very_long_documents():
    long_doc = " ".join(["good"] * 50_000 + ["bad"] * 49_000 + ["film"] * 20_000)
    for name in ("mnb", "mnb-bi", "bnb"):
        model = default_baselines("text")[name].fit(TEXTS, LABELS)
        logp = model.predict_log_proba([long_doc, ""])
        assert np.all(np.isfinite(logp)), name
        assert np.allclose(np.exp(logp).sum(1), 1.0)
    assert np.all(np.isfinite(NBSVM().fit(TEXTS, LABELS).decision_function([long_doc])))


def test_multinomial_nb_is_only_fed_non_negative_features():
    for name, model in default_baselines("text").items():
        if isinstance(getattr(model, "steps", [[None, None]])[-1][1], MultinomialNB):
            feats = model[:-1].fit_transform(TEXTS)
            assert feats.min() >= 0, name
    signal = default_baselines("signal")["gnb"]
    assert isinstance(signal[-1], GaussianNB)  # z-normalised series are negative: Gaussian, not multinomial
    with pytest.raises(ValueError, match="Negative"):
        make_pipeline(SeriesFeaturizer(), MultinomialNB()).fit(np.random.default_rng(0).normal(size=(4, 5)), [0, 1, 0, 1])


def test_empty_documents_are_zero_rows_and_an_all_empty_corpus_raises():
    texts = TEXTS + [""]
    labels = LABELS + ["neg"]
    for model in (NBSVM(), default_baselines("text")["mnb"]):
        model.fit(texts, labels)
        assert model.predict([""])[0] in {"pos", "neg"}  # documented: an empty document gets the bias/prior
    with pytest.raises(ValueError, match="X"):
        NBSVM().fit(["", " ", ""], ["a", "b", "a"])
    with pytest.raises(ValueError, match="vocabulary"):
        default_baselines("text")["mnb"].fit(["", ""], ["a", "b"])


def test_nbsvm_bad_input():
    with pytest.raises(ValueError, match=r"1 class \('pos'\)"):
        NBSVM().fit(TEXTS, ["pos"] * 6)
    with pytest.raises(ValueError, match="inconsistent"):
        NBSVM().fit(TEXTS, LABELS[:5])
    with pytest.raises(ValueError, match="Negative"):
        NBSVM().fit(np.array([[1.0, -1.0], [0.0, 2.0]]), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        NBSVM().fit(np.array([[1.0, np.nan], [0.0, 2.0]]), [0, 1])
    with pytest.raises(ValueError, match="beta"):
        NBSVM(beta=2.0).fit(TEXTS, LABELS)
    with pytest.raises(TypeError, match="X"):
        NBSVM().fit(TEXTS, LABELS).predict(np.ones((2, 3)))


def test_nbsvm_log_count_ratio_and_interpolation_follow_wang_manning():
    F = np.array([[2, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 3], [0, 1, 0, 1]], dtype=float)
    y = np.array([1, 1, 0, 0])
    m = NBSVM(alpha=1.0, beta=0.25, C=1.0, random_state=0).fit(F, y)
    f_hat = (F > 0).astype(float)
    p = 1.0 + f_hat[y == 1].sum(0)
    q = 1.0 + f_hat[y == 0].sum(0)
    r = np.log((p / p.sum()) / (q / q.sum()))
    np.testing.assert_allclose(m.r_[0], r)
    svm = LinearSVC(C=1.0, max_iter=10000, random_state=0).fit(f_hat * r, y)
    w = svm.coef_.ravel()
    np.testing.assert_allclose(m.coef_[0], 0.75 * np.abs(w).mean() + 0.25 * w, rtol=1e-6)
    np.testing.assert_allclose(m.decision_function(F), f_hat @ (r * m.coef_[0]) + svm.intercept_[0], rtol=1e-6)
    pure = NBSVM(beta=1.0, random_state=0).fit(F, y)  # β = 1: the plain SVM on x ⊙ r
    np.testing.assert_allclose(pure.decision_function(F), svm.decision_function(f_hat * r), rtol=1e-6)


def test_nbsvm_on_raw_strings_and_sparse_features_agree():
    vec = word_ngrams((1, 2), "binary")
    F = vec.fit_transform(TEXTS)
    a = NBSVM(random_state=0).fit(TEXTS, LABELS)
    b = NBSVM(random_state=0).fit(sp.csr_matrix(F), LABELS)
    np.testing.assert_allclose(a.decision_function(TEXTS), b.decision_function(F), rtol=1e-6)
    assert list(a.predict(["good moving story", "boring awful story"])) == ["pos", "neg"]


def test_nbsvm_multiclass_is_one_vs_rest_with_labels_as_given():
    texts = TEXTS + ["what time is it", "when is the film", "what is the time"]
    labels = LABELS + ["question"] * 3
    labels = np.array(labels, dtype=object)
    m = NBSVM().fit(texts, labels)
    assert m.decision_function(texts).shape == (9, 3) and m.r_.shape[0] == 3
    pred = m.predict(texts)
    assert (pred == labels).mean() == 1.0
    assert "question" in list(pred)
