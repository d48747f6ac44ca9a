"""TextCNNEnsemble: soft vote of K TextCNNClassifiers on one validation split, one artifact."""
import json
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

import seqcnn
from seqcnn.engine.checkpoint import CheckpointError
from seqcnn.text import TextCNNClassifier, TextCNNEnsemble, load_text_model
from seqcnn.text.ensemble import member_seed

from tests.sklearn_helpers import DATA_FREE_CHECKS, run_data_free_check

from .conftest import TINY, make_corpus

RECIPE = TextCNNClassifier(**{**TINY, "max_epochs": 3, "batch_size": 10})


# string input: scikit-learn's data-based checks skip themselves (see test_estimator.py); the
# data-free ones run, the data contract is pinned by the tests below on string data
@parametrize_with_checks([TextCNNEnsemble(RECIPE, n_members=2, verbose=0)])
def test_sklearn_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_corpus(160)
    return TextCNNEnsemble(RECIPE, n_members=3, random_state=4, verbose=0).fit(X, y)


def test_probabilities_are_the_members_mean_and_labels_come_back(fitted):
    texts = ["", "good", "zzz qqq", "the movie was very bad", "a great story"]
    proba = fitted.predict_proba(texts)
    members = [m.predict_proba(texts) for m in fitted.estimators_]
    assert proba.shape == (5, 2) and np.allclose(proba.sum(1), 1)
    np.testing.assert_allclose(proba, np.mean(members, 0))
    assert list(fitted.predict(texts)) == list(fitted.classes_[proba.argmax(1)])
    assert set(fitted.predict(texts)) <= {"pos", "neg"} and isinstance(fitted.predict(["good"])[0], str)
    assert fitted.predict_proba([]).shape == (0, 2)
    with pytest.raises(TypeError, match="X"):
        fitted.predict_proba([1.0, 2.0])


def test_members_are_seeded_apart_and_share_one_validation_split(fitted):
    seeds = [m.random_state for m in fitted.estimators_]
    assert seeds == [member_seed(4, k) for k in range(3)] == [4, 1004, 2004]
    assert len(fitted.member_val_scores_) == 3 and 0 <= fitted.val_score_ <= 1
    # the members differ (their seeds do), and each picked its own best epoch on the shared split
    w = [m.module_.fc.weight.detach().numpy() for m in fitted.estimators_]
    assert not np.allclose(w[0], w[1])


def test_member_zero_is_the_single_network_of_the_same_seed():
    X, y = make_corpus(120)
    single = TextCNNClassifier(**{**TINY, "max_epochs": 3, "batch_size": 10, "random_state": 7}).fit(X, y)
    ens = TextCNNEnsemble(RECIPE, n_members=2, random_state=7, verbose=0).fit(X, y)
    texts = make_corpus(40, seed=5)[0]
    np.testing.assert_allclose(ens.estimators_[0].predict_proba(texts), single.predict_proba(texts), atol=1e-6)
    assert ens.estimators_[0].best_epoch_ == single.best_epoch_


def test_learns_the_synthetic_task():
    X, y = make_corpus(200)
    Xt, yt = make_corpus(200, seed=1)
    ens = TextCNNEnsemble(TextCNNClassifier(**{**TINY, "max_epochs": 8, "batch_size": 10}), n_members=3,
                          random_state=0, verbose=0).fit(X, y)
    assert ens.score(Xt, yt) > 0.9


def test_given_validation_data_is_used_by_every_member():
    X, y = make_corpus(80)
    Xv, yv = make_corpus(30, seed=3)
    ens = TextCNNEnsemble(RECIPE, n_members=2, random_state=0, verbose=0).fit(X, y, validation_data=(Xv, yv))
    for m in ens.estimators_:
        assert all("val_acc" in h for h in m.history_)
    assert ens.val_score_ == pytest.approx(ens.score(Xv, yv))


def test_bad_input_and_parameters():
    X, y = make_corpus(40)
    with pytest.raises(NotFittedError):
        TextCNNEnsemble(RECIPE).predict(["a"])
    for k in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="n_members"):
            TextCNNEnsemble(RECIPE, n_members=k, verbose=0).fit(X, y)
    with pytest.raises(TypeError, match="TextCNNClassifier"):
        TextCNNEnsemble(estimator="kim", verbose=0).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        TextCNNEnsemble(RECIPE, n_members=2, verbose=0).fit(["a b", "c d"], ["x", "x"])
    with pytest.raises(ValueError, match="inconsistent"):
        TextCNNEnsemble(RECIPE, n_members=2, verbose=0).fit(X, y[:-1])
    with pytest.raises(TypeError, match="X"):
        TextCNNEnsemble(RECIPE, n_members=2, verbose=0).fit("one string", ["a"])
    with pytest.raises(ValueError, match="empty"):
        TextCNNEnsemble(RECIPE, n_members=2, verbose=0).fit([], [])
    with pytest.raises(FileNotFoundError):
        load_text_model("no/such/model")
    for device in (0, ["cpu"]):
        with pytest.raises(TypeError, match="device string"):
            TextCNNEnsemble(RECIPE, n_members=2, verbose=0, device=device).fit(X, y)


def test_device_replaces_the_recipes_and_the_default_recipe_follows_verbose(capsys):
    X, y = make_corpus(60)
    ens = TextCNNEnsemble(clone(RECIPE).set_params(device="auto"), n_members=2,
                          random_state=0, verbose=0, device="cpu").fit(X, y)
    assert {m.device for m in ens.estimators_} == {"cpu"} and ens.estimator.device == "auto"  # recipe untouched
    assert capsys.readouterr().out == ""
    assert TextCNNEnsemble(verbose=0)._recipe().verbose == 0  # no member progress bars from a silent ensemble
    assert TextCNNEnsemble(verbose=1)._recipe().verbose == 1


def test_clone_and_params():
    ens = TextCNNEnsemble(RECIPE, n_members=4, random_state=1)
    params = clone(ens).get_params()
    assert params["n_members"] == 4 and params["estimator__embedding_dim"] == 8
    assert seqcnn.TextCNNEnsemble is TextCNNEnsemble


def test_explain_averages_member_contributions(fitted):
    (res,) = fitted.explain(["the movie was very good"], top_k=3)
    assert res["label"] == fitted.predict(["the movie was very good"])[0]
    assert res["probability"] == pytest.approx(fitted.predict_proba(["the movie was very good"])[0].max())
    assert 1 <= len(res["ngrams"]) <= 3
    contribs = [g["contribution"] for g in res["ngrams"]]
    assert contribs == sorted(contribs, reverse=True)
    for g in res["ngrams"]:
        s, e = g["span"]
        assert g["ngram"] == " ".join(res["tokens"][s:e])
    # each window's value is the mean over members of their contributions to that class's logit
    c = list(fitted.classes_).index(res["label"])
    g = res["ngrams"][0]
    key = (g["width"], *g["span"])
    per = [dict(m._ngram_contributions(["the movie was very good"]).__next__()[3][c]) for m in fitted.estimators_]
    assert g["contribution"] == pytest.approx(np.mean([p.get(key, [0.0])[0] for p in per]))
    with pytest.raises(ValueError, match="top_k"):
        fitted.explain(["good"], top_k=0)
    rows = fitted.top_ngrams(["the movie was good", "bad plot"], per_filter=2)
    assert {r["member"] for r in rows} == {0, 1, 2} and len(rows) == 3 * 4 * 3


def test_save_then_load_in_a_subprocess_predicts_identically(fitted, tmp_path):
    texts = ["the movie was good", "", "awful plot", "unknown words only zzz"]
    path = tmp_path / "ens"
    fitted.save(path)
    assert (path / "ensemble.json").is_file() and (path / "member_02" / "config.json").is_file()
    expected = fitted.predict_proba(texts)
    code = textwrap.dedent(f"""
        import json, sys
        from seqcnn.text import load_text_model
        m = load_text_model({str(path)!r})
        print(type(m).__name__)
        print(json.dumps(m.predict_proba({texts!r}).tolist()))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "TextCNNEnsemble"
    np.testing.assert_allclose(np.array(json.loads(out[1])), expected, atol=1e-6)
    again = TextCNNEnsemble.load(path)
    assert again.val_score_ == fitted.val_score_ and len(again.estimators_) == 3
    assert again.get_params()["n_members"] == 3 and again.random_state == 4
    fitted.save(path, overwrite=True)  # overwriting an artifact is allowed (atomic replace)


def test_corrupt_tampered_or_wrong_artifacts_raise(fitted, tmp_path):
    path = tmp_path / "ens"
    fitted.save(path)
    single = tmp_path / "single"
    fitted.estimators_[0].save(single)
    with pytest.raises(CheckpointError, match="single TextCNNClassifier"):
        TextCNNEnsemble.load(single)
    assert isinstance(load_text_model(single), TextCNNClassifier)
    with pytest.raises(FileNotFoundError):
        TextCNNEnsemble.load(tmp_path / "nowhere")

    bad = tmp_path / "bad"
    shutil.copytree(path, bad)
    (bad / "ensemble.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        TextCNNEnsemble.load(bad)
    manifest = json.loads((path / "ensemble.json").read_text())
    for change, match in [({"format_version": 99}, "newer"), ({"members": ["../single"]}, "members"),
                          ({"members": []}, "members")]:
        (bad / "ensemble.json").write_text(json.dumps({**manifest, **change}))
        with pytest.raises(CheckpointError, match=match):
            TextCNNEnsemble.load(bad)
    (bad / "ensemble.json").write_text(json.dumps(manifest))
    shutil.rmtree(bad / "member_01")
    with pytest.raises(FileNotFoundError):
        TextCNNEnsemble.load(bad)
    shutil.copytree(path / "member_01", bad / "member_01")
    w = bad / "member_01" / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        TextCNNEnsemble.load(bad)


@pytest.mark.parametrize("name", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(name):
    run_data_free_check(name, TextCNNEnsemble(RECIPE, n_members=2, verbose=0))
