"""baselines.fasttext.FastTextClassifier: supervised fastText behind the optional extra."""
import importlib.util
import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from baselines.fasttext import FastTextClassifier, FastTextNaNError, MissingExtraError
from tests.sklearn_helpers import DATA_FREE_CHECKS, run_data_free_check

needs_fasttext = pytest.mark.skipif(importlib.util.find_spec("fasttext") is None,
                                    reason='needs pip install "seqcnn[fasttext]"')

POS = ["a wonderful moving film", "great acting and a lovely story", "i loved every minute", "brilliant and funny"]
NEG = ["a dull boring mess", "terrible acting and a stupid plot", "i hated every minute", "awful and tedious"]
X = POS * 5 + NEG * 5
Y = np.array(["pos"] * 20 + ["neg"] * 20)


def _ft(**kw):
    """Small hash table and vectors: fastText allocates bucket × dim floats per training."""
    return FastTextClassifier(**{"bucket": 10_000, "dim": 10, "random_state": 0, **kw})


def test_missing_extra_names_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "fasttext", None)
    with pytest.raises(MissingExtraError, match=r'pip install "seqcnn\[fasttext\]"'):
        FastTextClassifier().fit(X, Y)


def test_param_errors():
    with pytest.raises(ValueError, match="lr must be"):
        FastTextClassifier(lr=0).fit(X, Y)
    with pytest.raises(ValueError, match="loss must be"):
        FastTextClassifier(loss="hinge").fit(X, Y)
    with pytest.raises(ValueError, match="epoch must be"):
        FastTextClassifier(epoch=0).fit(X, Y)


@needs_fasttext
def test_fit_predict_labels_as_given_and_pickle():
    with pytest.raises(NotFittedError):
        _ft().predict(X)
    ints = np.where(Y == "pos", 3, -7)
    pred = _ft(epoch=25, lr=0.5).fit(X, ints).predict(X[:2] + X[-2:])
    assert pred.tolist() == [3, 3, -7, -7] and pred.dtype.kind == "i"
    clf = _ft(epoch=25, lr=0.5).fit(X, Y)
    assert clf.score(X, Y) == 1.0 and clf.n_retries_ == 0 and clf.lr_ == 0.5
    proba = clf.predict_proba(["loved it", "", "multi\nline text"])
    assert proba.shape == (3, 2) and np.allclose(proba.sum(1), 1)
    assert set(clf.predict(["boring"])) <= set(Y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()
    with pytest.raises(ValueError, match="at least two classes"):
        _ft().fit(X[:3], Y[:3])


@needs_fasttext
def test_nan_is_retried_with_a_lower_lr():
    with pytest.warns(UserWarning, match="hit NaN"):
        clf = _ft(lr=50.0, epoch=50, max_retries=8).fit(X[:6], ["a", "b"] * 3)
    assert clf.n_retries_ >= 1 and clf.lr_ < 50.0
    assert np.isfinite(clf.predict_proba(X)).all()
    with pytest.raises(FastTextNaNError, match="diverged"):
        _ft(lr=1e6, epoch=50, max_retries=1).fit(X[:6], ["a", "b"] * 3)


@needs_fasttext
def test_nan_probabilities_count_as_divergence(monkeypatch):
    calls = []
    real = FastTextClassifier._proba

    def fake(model, lines, n):
        calls.append(1)
        p = real(model, lines, n)
        return p * np.nan if len(calls) == 1 else p

    monkeypatch.setattr(FastTextClassifier, "_proba", staticmethod(fake))
    with pytest.warns(UserWarning, match="hit NaN"):
        clf = _ft().fit(X, Y)
    assert clf.n_retries_ == 1 and clf.lr_ == 0.05


def _weak_signal_corpus(n, rng):
    """Two sentiment-like classes: two cue words drawn 3:1 from the class's own cue list, ten
    shared filler words. Hard enough that the learning rate's schedule decides the result."""
    cues = {0: [f"good{i}" for i in range(200)], 1: [f"bad{i}" for i in range(200)]}
    filler = [f"w{i}" for i in range(3000)]

    def sentence(c):
        words = [cues[c if rng.random() < 0.75 else 1 - c][rng.integers(200)] for _ in range(2)]
        return " ".join(words + list(rng.choice(filler, 10)))

    return [sentence(0) for _ in range(n)] + [sentence(1) for _ in range(n)], np.repeat([0, 1], n)


@needs_fasttext
def test_training_lines_are_shuffled_so_class_sorted_data_learns():
    # Data stored class by class (as MR is) with the tutorial's lr 1.0 x 25 epochs: fastText
    # reads its file in order, so unshuffled it ends every epoch on one class.
    rng = np.random.default_rng(0)
    X_train, y_train = _weak_signal_corpus(4000, rng)
    X_test, y_test = _weak_signal_corpus(500, rng)
    kw = dict(lr=1.0, epoch=25, bucket=100_000, dim=20)
    shuffled = _ft(**kw).fit(X_train, y_train).score(X_test, y_test)
    in_order = _ft(shuffle=False, **kw).fit(X_train, y_train).score(X_test, y_test)
    assert shuffled >= 0.68 and shuffled - in_order >= 0.05, (shuffled, in_order)
    with pytest.raises(ValueError, match="shuffle must be"):
        _ft(shuffle="yes").fit(X, Y)


@pytest.mark.parametrize("name", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(name):
    # string input: scikit-learn's data-based checks skip it; the data contract is pinned above
    run_data_free_check(name, _ft())
