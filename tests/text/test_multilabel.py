"""Multi-label sentence classification: targets (indicator matrix, label lists), decisions
(threshold number / per label / "auto", min_labels, predict_top_k), the artifact in a fresh
process, every embedding mode and architecture, and bad input."""
import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from seqcnn.engine import multilabel as ml
from seqcnn.text import TextCNNClassifier

from .conftest import TINY

LABELS = ("pos", "neg", "fun")
KEYS = {"pos": ("good", "great"), "neg": ("bad", "awful"), "fun": ("funny", "joke")}
FILLER = ["the", "movie", "was", "a", "plot", "and", "it", "story"]


def make_multilabel(n=150, seed=0):
    """Texts holding 0-3 of the label keywords; label lists in LABELS order (some empty, some full)."""
    rng = np.random.default_rng(seed)
    X, Y = [], []
    for i in range(n):
        chosen = [lab for lab in LABELS if rng.random() < 0.4]
        if i % 10 == 0:
            chosen = []  # no-label rows
        if i % 10 == 1:
            chosen = list(LABELS)  # all-label rows
        words = list(rng.choice(FILLER, rng.integers(3, 8)))
        for lab in chosen:
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(KEYS[lab])))
        X.append(" ".join(words))
        Y.append(chosen)
    return X, Y


def indicator(Y, labels=LABELS):
    return np.array([[int(lab in row) for lab in labels] for row in Y])


ML = {**TINY, "embedding_dim": 16, "num_filters": 8, "max_epochs": 6, "optimizer": "adam", "lr": 0.01}


@pytest.fixture(scope="module")
def data():
    return make_multilabel(150), make_multilabel(40, seed=1)


@pytest.fixture(scope="module")
def fitted_lists(data):
    (X, Y), (Xv, Yv) = data
    return TextCNNClassifier(**ML, threshold="auto").fit(X, Y, validation_data=(Xv, Yv))


def test_label_lists_in_give_label_tuples_out(fitted_lists, data):
    (X, Y), _ = data
    clf = fitted_lists
    assert clf.target_type_ == ml.SEQUENCES and list(clf.classes_) == sorted(LABELS)
    pred = clf.predict(X[:20])
    assert isinstance(pred, list) and all(isinstance(p, tuple) for p in pred)
    assert all(set(p) <= set(LABELS) for p in pred)
    proba = clf.predict_proba(X[:20])
    assert proba.shape == (20, 3) and np.all((proba >= 0) & (proba <= 1))
    assert not np.allclose(proba.sum(1), 1)  # independent probabilities
    assert clf.threshold_.shape == (3,) and np.all((clf.threshold_ > 0) & (clf.threshold_ <= 1))
    assert clf.score(X, Y) > 0.5  # subset accuracy: keywords are easy


def test_indicator_in_gives_indicator_out(data):
    (X, Y), (Xv, Yv) = data
    clf = TextCNNClassifier(**ML).fit(X, indicator(Y), validation_data=(Xv, indicator(Yv)))
    assert clf.target_type_ == ml.INDICATOR and list(clf.classes_) == [0, 1, 2]
    pred = clf.predict(X[:10])
    assert isinstance(pred, np.ndarray) and pred.shape == (10, 3) and set(np.unique(pred)) <= {0, 1}
    # the best epoch of a multi-label model is the one with the lowest validation loss
    losses = [h["val_loss"] for h in clf.history_]
    assert clf.best_epoch_ == int(np.argmin(losses)) + 1
    # nested 0/1 lists are an indicator too (scikit-learn's type_of_target)
    clf2 = TextCNNClassifier(**{**ML, "max_epochs": 1}).fit(X, indicator(Y).tolist())
    assert clf2.target_type_ == ml.INDICATOR


def test_thresholds_and_min_labels_decide(fitted_lists):
    clf = fitted_lists
    texts = ["the movie was a plot", "good funny bad", ""]
    proba = clf.predict_proba(texts)
    auto = clf.predict(texts)
    assert auto == [tuple(clf.classes_[j] for j in range(3) if proba[i, j] >= clf.threshold_[j])
                    for i in range(3)]
    clf.set_params(threshold=1.0)
    try:
        assert clf.predict(texts) == [(), (), ()]  # a row may get no label
        clf.set_params(min_labels=1)
        top = clf.predict(texts)
        assert [t[0] for t in top] == [clf.classes_[np.argmax(p)] for p in proba]
        clf.set_params(threshold=0.0, min_labels=0)
        assert all(len(t) == 3 for t in clf.predict(texts))
        clf.set_params(threshold=[1.0, 0.0, 1.0])  # per label
        assert all(t == (clf.classes_[1],) for t in clf.predict(texts))
    finally:
        clf.set_params(threshold="auto", min_labels=0)


def test_predict_top_k_ranks_labels(fitted_lists):
    clf = fitted_lists
    texts = ["good funny", "bad"]
    top = clf.predict_top_k(texts, 2)
    proba = clf.predict_proba(texts)
    assert top.shape == (2, 2)
    for i in range(2):
        assert list(top[i]) == [clf.classes_[j] for j in np.argsort(-proba[i])[:2]]
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 3\]"):
        clf.predict_top_k(texts, 4)
    with pytest.raises(ValueError, match="k must be"):
        clf.predict_top_k(texts, 0)


def test_predict_top_k_on_a_single_label_model():
    X, Y = make_multilabel(60)
    y = ["pos" if "pos" in row else "other" for row in Y]
    clf = TextCNNClassifier(**{**ML, "max_epochs": 1}).fit(X, y)
    top = clf.predict_top_k(X[:5], 2)
    assert top.shape == (5, 2) and list(top[:, 0]) == list(clf.predict(X[:5]))


def test_thresholds_saved_and_used_in_a_fresh_process(fitted_lists, tmp_path):
    clf = fitted_lists
    clf.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["target"]["type"] == ml.SEQUENCES
    assert np.allclose(config["target"]["threshold"], clf.threshold_)
    texts = ["good funny", "bad joke great", "the plot", ""]
    code = textwrap.dedent(f"""
        import json, sys
        from seqcnn.text import TextCNNClassifier
        clf = TextCNNClassifier.load({str(tmp_path / 'm')!r})
        texts = json.loads(sys.argv[1])
        print(json.dumps({{"pred": [list(p) for p in clf.predict(texts)], "thr": clf.threshold_.tolist(),
                          "proba": clf.predict_proba(texts).tolist()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code, json.dumps(texts)], capture_output=True, text=True,
                         timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert np.allclose(got["thr"], clf.threshold_)
    np.testing.assert_allclose(got["proba"], clf.predict_proba(texts), atol=1e-6)
    assert got["pred"] == [list(p) for p in clf.predict(texts)]


def test_a_label_never_in_training_is_kept_and_never_predicted(data):
    (X, Y), _ = data
    Yi = np.column_stack([indicator(Y), np.zeros(len(Y), dtype=int)])
    with pytest.warns(UserWarning, match="never occur in the training targets"):
        clf = TextCNNClassifier(**{**ML, "max_epochs": 2}, threshold=0.0).fit(X, Yi)
    assert clf.predict_proba(X[:5]).shape == (5, 4)
    pred = clf.predict(X)
    assert pred.shape == (len(X), 4) and pred[:, 3].sum() == 0 and pred[:, :3].all()


def test_no_label_and_all_label_rows(fitted_lists, data):
    """Rows with no label and rows with every label train as all-0 / all-1 targets, the model
    learns them apart, and the metrics count an empty prediction of an empty row as exact."""
    from seqcnn.data import targets
    from seqcnn.engine.metrics import multilabel_metrics

    (X, Y), (Xv, Yv) = data
    none_rows = [i for i, r in enumerate(Y) if not r]
    all_rows = [i for i, r in enumerate(Y) if len(r) == len(LABELS)]
    assert none_rows and all_rows
    for y in (Y, indicator(Y)):
        _, _, T = targets.encode_multilabel(y, len(X))
        assert not T[none_rows].any() and T[all_rows].all()
    clf = fitted_lists
    empty = [x for x, r in zip(Xv, Yv) if not r]
    full = [x for x, r in zip(Xv, Yv) if len(r) == len(LABELS)]
    n_empty = np.mean([len(p) for p in clf.predict(empty)])
    n_full = np.mean([len(p) for p in clf.predict(full)])
    assert n_empty < n_full  # keyword-free texts get fewer labels than texts with every keyword
    truth = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0]])
    m = multilabel_metrics(truth, np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0]]), list(LABELS))
    assert m["subset_accuracy"] == pytest.approx(2 / 3) and m["hamming_loss"] == pytest.approx(1 / 9)


def test_explain_gives_ngrams_per_predicted_label(fitted_lists):
    clf = fitted_lists
    clf.set_params(threshold=0.0)
    try:
        (res,) = clf.explain(["good funny movie"], top_k=2)
    finally:
        clf.set_params(threshold="auto")
    assert [e["label"] for e in res["labels"]] == sorted(clf.classes_, key=lambda c: -dict(
        zip(clf.classes_, clf.predict_proba(["good funny movie"])[0]))[c])
    for e in res["labels"]:
        assert 0 <= e["probability"] <= 1 and len(e["ngrams"]) <= 2


def test_pos_weight_balanced_and_per_label(data):
    (X, Y), _ = data
    for pw in ("balanced", [1.0, 2.0, 3.0], {"fun": 2.0}):
        clf = TextCNNClassifier(**{**ML, "max_epochs": 1}, pos_weight=pw).fit(X, Y)
        assert clf.predict_proba(X[:2]).shape == (2, 3)
    for bad in ("heavy", [1.0, -1.0, 1.0], [1.0, 2.0], {"nope": 1.0}):
        with pytest.raises(ValueError, match="pos_weight"):
            TextCNNClassifier(**ML, pos_weight=bad).fit(X, Y)
    with pytest.raises(ValueError, match="class_weight"):
        TextCNNClassifier(**ML, class_weight="balanced").fit(X, Y)


@pytest.mark.parametrize("mode,arch", [("rand", "kim"), ("static", "kim"), ("non-static", "kim"),
                                       ("multichannel", "kim"), ("rand", "char"), ("rand", "dpcnn"),
                                       ("non-static", "dpcnn")])
def test_every_embedding_mode_and_architecture(mode, arch, data):
    (X, Y), (Xv, Yv) = data
    vocab = {w for t in X + Xv for w in t.split()}
    rng = np.random.default_rng(0)
    vectors = {w: rng.normal(size=16).astype(np.float32) for w in sorted(vocab)} if mode != "rand" else None
    kw = {**ML, "max_epochs": 1, "mode": mode, "arch": arch, "embeddings": vectors, "threshold": "auto"}
    if arch == "char":
        kw["char_length"] = 130
    if arch == "dpcnn":
        kw["dpcnn_blocks"] = 1
    clf = TextCNNClassifier(**kw).fit(X[:60], Y[:60], validation_data=(Xv, Yv))
    pred = clf.predict(Xv[:5])
    assert len(pred) == 5 and clf.predict_proba(Xv[:5]).shape == (5, 3)


# --------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("y,match", [
    ([[0, 1, 1], [1, 0]] * 10, "repeats a label"),                      # a ragged indicator
    (np.array([[0, 2, 1], [1, 0, 0]] * 10), "not a binary indicator"),  # a non-binary matrix
    (np.array([[0.5, 1.0, 0.0], [1.0, 0.0, 0.0]] * 10), "not a binary indicator"),
    ([[] for _ in range(20)], "no label at all"),                      # empty label lists everywhere
    (np.zeros((20, 3), dtype=int), "no label at all"),
    ([["a"], None] * 10, "need one list"),
    ([["a", None], ["b"]] * 10, "hashable"),
    ([["a", 1], ["b"]] * 10, "mixes label kinds"),
])
def test_bad_targets_are_refused(y, match):
    X = [f"text {i}" for i in range(20)]
    with pytest.raises(ValueError, match=match):
        TextCNNClassifier(**ML).fit(X, y)


@pytest.mark.parametrize("threshold", [1.5, -0.1, "high", [0.5, 0.5], None, True, float("nan")])
def test_threshold_out_of_range_is_refused_before_training(threshold, data):
    (X, Y), _ = data
    with pytest.raises(ValueError, match="threshold"):
        TextCNNClassifier(**ML, threshold=threshold).fit(X, Y)


def test_min_labels_and_mismatched_lengths_are_refused(data):
    (X, Y), (Xv, Yv) = data
    with pytest.raises(ValueError, match="min_labels"):
        TextCNNClassifier(**ML, min_labels=4).fit(X, Y)
    with pytest.raises(ValueError, match="inconsistent"):
        TextCNNClassifier(**ML).fit(X, Y[:-1])
    with pytest.raises(ValueError, match="validation_data has labels not in the training targets"):
        TextCNNClassifier(**ML).fit(X, Y, validation_data=(Xv, [["zzz"]] * len(Xv)))
    with pytest.raises(ValueError, match="validation_data"):
        TextCNNClassifier(**ML).fit(X, Y, validation_data=(Xv, Yv[:-1]))
    with pytest.raises(ValueError, match="indicator matrix with 3 columns"):
        TextCNNClassifier(**ML).fit(X, indicator(Y), validation_data=(Xv, indicator(Yv)[:, :2]))


def test_auto_threshold_without_validation_split_warns_and_uses_half(data):
    (X, Y), _ = data
    with pytest.warns(UserWarning, match="threshold='auto' needs a validation split"):
        clf = TextCNNClassifier(**{**ML, "max_epochs": 1}, threshold="auto", validation_fraction=0.0).fit(X, Y)
    assert np.allclose(clf.threshold_, 0.5)


def test_single_label_behaviour_is_unchanged():
    """A single-label fit has no multi-label state, a softmax and no 'target' in its artifact."""
    X, Y = make_multilabel(60)
    y = ["pos" if "pos" in row else "other" for row in Y]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = TextCNNClassifier(**{**ML, "max_epochs": 1}).fit(X, y)
    assert clf.target_type_ == ml.MULTICLASS and np.allclose(clf.predict_proba(X).sum(1), 1)
    assert isinstance(clf.predict(X), np.ndarray)
