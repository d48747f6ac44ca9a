"""Multi-label targets through the one ensemble (``TextCNNEnsemble`` on ``CNNEnsemble``): the
members' probabilities averaged, ``threshold="auto"`` picked on the averaged probabilities of the
shared validation split, the fitted target form returned, the thresholds in the artifact and used
in a fresh process, and a tampered manifest refused."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from seqcnn.engine import multilabel as ml
from seqcnn.engine.checkpoint import CheckpointError, config_checksum
from seqcnn.text import TextCNNClassifier, TextCNNEnsemble

from .test_multilabel import LABELS, ML, data, indicator, make_multilabel  # noqa: F401 (data: the fixture)


@pytest.fixture(scope="module")
def ensemble(data):
    (X, Y), (Xv, Yv) = data
    recipe = TextCNNClassifier(**ML, threshold="auto")
    return TextCNNEnsemble(recipe, n_members=2, random_state=0, verbose=0).fit(X, Y, validation_data=(Xv, Yv))


def test_label_lists_in_label_tuples_out_with_thresholds_of_the_mean(ensemble, data):
    (X, _), (Xv, Yv) = data
    assert ensemble.target_type_ == ml.SEQUENCES and list(ensemble.classes_) == sorted(LABELS)
    P = ensemble.predict_proba(Xv)
    np.testing.assert_allclose(P, np.mean([c.predict_proba(Xv) for c in ensemble.estimators_], axis=0))
    # the ensemble's thresholds are chosen on its own averaged probabilities, not a member's
    np.testing.assert_allclose(ensemble.threshold_, ml.best_thresholds(indicator(Yv, ensemble.classes_), P))
    pred = ensemble.predict(X[:10])
    assert isinstance(pred, list) and all(isinstance(p, tuple) for p in pred)
    D = ml.decide(ensemble.predict_proba(X[:10]), ensemble.threshold_)
    assert pred == [tuple(ensemble.classes_[row]) for row in D]
    assert ensemble.predict_top_k(X[:4], 2).shape == (4, 2)
    assert ensemble.val_score_ == pytest.approx(ensemble.score(Xv, Yv))
    assert len(ensemble.member_val_scores_) == 2
    assert ensemble.score(X, make_multilabel(150)[1]) > 0.5  # the keywords are learnable


def test_indicator_in_indicator_out_and_fixed_threshold(data):
    (X, Y), _ = data
    recipe = TextCNNClassifier(**{**ML, "max_epochs": 2}, threshold=0.3)
    ens = TextCNNEnsemble(recipe, n_members=2, random_state=0, verbose=0).fit(X, indicator(Y))
    assert ens.target_type_ == ml.INDICATOR
    np.testing.assert_array_equal(ens.threshold_, np.full(3, 0.3))
    pred = ens.predict(X[:7])
    assert isinstance(pred, np.ndarray) and pred.shape == (7, 3)
    np.testing.assert_array_equal(pred, (ens.predict_proba(X[:7]) >= 0.3).astype(pred.dtype))


def test_auto_without_a_validation_split_uses_one_half(data):
    (X, Y), _ = data
    recipe = TextCNNClassifier(**{**ML, "max_epochs": 1}, threshold="auto", validation_fraction=0.0)
    with pytest.warns(UserWarning, match="threshold='auto' needs a validation split"):
        ens = TextCNNEnsemble(recipe, n_members=2, random_state=0, verbose=0).fit(X, Y)
    np.testing.assert_array_equal(ens.threshold_, np.full(3, 0.5))
    assert ens.val_score_ is None


def test_saved_thresholds_are_used_in_a_fresh_process(ensemble, tmp_path):
    ensemble.save(tmp_path / "ens")
    manifest = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    assert manifest["target"]["type"] == ml.SEQUENCES
    np.testing.assert_allclose(manifest["target"]["threshold"], ensemble.threshold_)
    texts = ["good funny", "bad joke great", "the plot", ""]
    code = textwrap.dedent(f"""
        import json, sys
        from seqcnn.text import load_text_model
        ens = load_text_model({str(tmp_path / 'ens')!r})
        texts = json.loads(sys.argv[1])
        print(json.dumps({{"pred": [list(p) for p in ens.predict(texts)], "thr": ens.threshold_.tolist(),
                          "proba": ens.predict_proba(texts).tolist()}}))
    """)
    out = subprocess.run([sys.executable, "-c", code, json.dumps(texts)], capture_output=True, text=True,
                         timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(got["thr"], ensemble.threshold_)
    np.testing.assert_allclose(got["proba"], ensemble.predict_proba(texts), atol=1e-6)
    assert got["pred"] == [list(p) for p in ensemble.predict(texts)]


@pytest.mark.parametrize("target", [None, {"type": "multilabel-sequences", "threshold": [0.5, 2.0, 0.5]},
                                    {"type": "multilabel-indicator", "threshold": [0.5, 0.5, 0.5]}])
def test_a_tampered_target_entry_is_refused(ensemble, tmp_path, target):
    ensemble.save(tmp_path / "ens")
    mpath = tmp_path / "ens" / "ensemble.json"
    manifest = json.loads(mpath.read_text())
    if target is None:
        del manifest["target"]
    else:
        manifest["target"] = target
    manifest["config_sha256"] = config_checksum(manifest)  # re-stamped: only the target check can refuse it
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="target"):
        TextCNNEnsemble.load(tmp_path / "ens")


def test_explain_gives_the_ngrams_of_every_predicted_label(ensemble):
    texts = ["the good funny plot", "the plot"]
    out = ensemble.explain(texts, top_k=3)
    pred = ensemble.predict(texts)
    P = ensemble.predict_proba(texts)
    for res, labels, p in zip(out, pred, P):
        got = [d["label"] for d in res["labels"]]
        # every predicted label, most probable first (the most probable one when none is predicted)
        want = sorted(labels, key=lambda lab: -p[list(ensemble.classes_).index(lab)]) or \
            [ensemble.classes_[int(np.argmax(p))]]
        assert got == list(want)
        assert res["label"] == ensemble.classes_[int(np.argmax(p))]
        for d in res["labels"]:
            assert d["probability"] == pytest.approx(p[list(ensemble.classes_).index(d["label"])])
            assert 1 <= len(d["ngrams"]) <= 3
    # one member alone: the ensemble's averaged contribution of a window is the member's / K
    single = TextCNNEnsemble(ensemble.estimators_[0], n_members=1, verbose=0)
    single._adopt([ensemble.estimators_[0]])
    single.threshold_ = ensemble.estimators_[0].threshold_
    mine = single.explain(texts[:1])[0]
    theirs = ensemble.estimators_[0].explain(texts[:1])[0]
    assert [g["ngram"] for g in mine["ngrams"]] == [g["ngram"] for g in theirs["ngrams"]]
    np.testing.assert_allclose([g["contribution"] for g in mine["ngrams"]],
                               [g["contribution"] for g in theirs["ngrams"]], rtol=1e-6)


def test_bad_multilabel_targets_are_the_members_errors(data):
    (X, _), _ = data
    with pytest.raises(ValueError, match="y"):
        TextCNNEnsemble(TextCNNClassifier(**ML), n_members=2, verbose=0).fit(X[:3], [[], [], []])


@pytest.mark.parametrize("k", [0, 4, 2.0, "2", True, None])
def test_predict_top_k_out_of_range_or_wrong_type_is_refused(ensemble, k):
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 3\]"):
        ensemble.predict_top_k(["good"], k)


def test_empty_input_gives_empty_multilabel_outputs(ensemble):
    assert ensemble.predict_proba([]).shape == (0, 3)
    assert ensemble.predict([]) == []
    assert ensemble.predict_top_k([], 2).shape == (0, 2)
