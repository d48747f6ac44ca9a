"""The estimator base: scikit-learn contract, labels, save/load, bad input."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqcnn.engine.checkpoint import CheckpointError, write_config

from ._tiny import TinyCNNClassifier

# Checks the tiny estimator is not expected to pass, with the reason.
EXPECTED_FAILED = {}


@parametrize_with_checks([TinyCNNClassifier(random_state=0)], expected_failed_checks=lambda e: EXPECTED_FAILED)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _data(n=80, length=12, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, length)).astype(np.float32) + 2.0 * y[:, None]
    return X, y


def test_labels_come_back_as_given():
    X, y = _data()
    names = np.array(["neg", "pos"])[y]
    clf = TinyCNNClassifier(random_state=0).fit(X, names)
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= {"neg", "pos"}
    assert list(clf.classes_) == ["neg", "pos"]
    assert clf.score(X, names) > 0.9


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TinyCNNClassifier().predict(np.zeros((2, 5)))


def test_one_class_raises():
    X, _ = _data(20)
    with pytest.raises(ValueError, match="only one class"):
        TinyCNNClassifier().fit(X, np.zeros(20))


def test_mismatched_lengths_raise():
    X, y = _data(20)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TinyCNNClassifier().fit(X, y[:-1])


def test_nan_in_X_raises():
    X, y = _data(20)
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TinyCNNClassifier().fit(X, y)


def test_validation_split_keeps_best_epoch_and_history():
    X, y = _data(100)
    clf = TinyCNNClassifier(validation_fraction=0.2, max_epochs=5, random_state=0).fit(X, y)
    assert len(clf.history_) == 5
    assert {"train_loss", "val_loss", "val_acc"} <= set(clf.history_[0])
    best = min(range(5), key=lambda i: clf.history_[i]["val_loss"]) + 1
    assert clf.best_epoch_ == best


def test_bad_validation_fraction_raises():
    X, y = _data(20)
    with pytest.raises(ValueError, match="validation_fraction"):
        TinyCNNClassifier(validation_fraction=1.5).fit(X, y)


def test_class_weight_balanced_and_dict():
    X, y = _data(60)
    TinyCNNClassifier(class_weight="balanced", max_epochs=2, random_state=0).fit(X, y)
    TinyCNNClassifier(class_weight={0: 1.0, 1: 3.0}, max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        TinyCNNClassifier(class_weight={7: 1.0}, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        TinyCNNClassifier(class_weight="heavy", max_epochs=1).fit(X, y)


def test_works_in_pipeline_gridsearch_and_cross_validate():
    X, y = _data(60)
    pipe = make_pipeline(FunctionTransformer(), TinyCNNClassifier(max_epochs=3, random_state=0))
    pipe.fit(X, y)
    gs = GridSearchCV(TinyCNNClassifier(max_epochs=2, random_state=0), {"channels": [2, 4]}, cv=2).fit(X, y)
    assert gs.best_params_["channels"] in (2, 4)
    res = cross_validate(TinyCNNClassifier(max_epochs=2, random_state=0), X, y, cv=2)
    assert len(res["test_score"]) == 2
    c = clone(TinyCNNClassifier(channels=3))
    assert c.channels == 3 and not hasattr(c, "module_")


def test_features_gives_pre_logit_features():
    X, y = _data(30)
    clf = TinyCNNClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert clf.features(X).shape == (30, 5)


def test_save_load_identical_predictions_in_fresh_process(tmp_path):
    X, y = _data(40)
    labels = np.array(["a", "b"])[y]
    clf = TinyCNNClassifier(max_epochs=3, random_state=0).fit(X, labels)
    clf.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "model.safetensors"]
    np.save(tmp_path / "X.npy", X)
    code = (
        "import sys, json, numpy as np; sys.path.insert(0, %r)\n"
        "from tests.engine._tiny import TinyCNNClassifier\n"
        "m = TinyCNNClassifier.load(%r)\n"
        "X = np.load(%r)\n"
        "print(json.dumps({'pred': m.predict(X).tolist(), 'proba': m.predict_proba(X).tolist()}))\n"
    ) % (str(__import__("pathlib").Path(__file__).parents[2]), str(tmp_path / "model"), str(tmp_path / "X.npy"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["pred"] == clf.predict(X).tolist()
    np.testing.assert_allclose(res["proba"], clf.predict_proba(X), atol=1e-6)


def test_load_restores_classes_and_params(tmp_path):
    X, y = _data(40)
    clf = TinyCNNClassifier(channels=3, max_epochs=2, random_state=0).fit(X, y + 10)
    clf.save(tmp_path / "m")
    back = TinyCNNClassifier.load(tmp_path / "m")
    assert back.classes_.dtype == clf.classes_.dtype and list(back.classes_) == [10, 11]
    assert back.get_params() == clf.get_params()


def test_load_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TinyCNNClassifier.load(tmp_path / "nope")


def test_load_tampered_weights_raises(tmp_path):
    X, y = _data(40)
    clf = TinyCNNClassifier(max_epochs=1, random_state=0).fit(X, y)
    clf.save(tmp_path / "m")
    w = tmp_path / "m" / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-3] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="model.safetensors"):
        TinyCNNClassifier.load(tmp_path / "m")


def test_load_wrong_estimator_class_raises(tmp_path):
    X, y = _data(40)
    TinyCNNClassifier(max_epochs=1, random_state=0).fit(X, y).save(tmp_path / "m")
    cfg = tmp_path / "m" / "config.json"
    blob = json.loads(cfg.read_text())
    blob["estimator"] = "os.system"
    write_config(cfg, blob)  # a crafted file with valid checksums
    with pytest.raises(CheckpointError, match="unknown estimator"):
        TinyCNNClassifier.load(tmp_path / "m")


def test_predictions_are_batched_and_repeatable():
    X, y = _data(50)
    clf = TinyCNNClassifier(max_epochs=2, random_state=0).fit(X, y)
    p1 = clf.predict_proba(X)
    p2 = clf.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_allclose(p1.sum(1), 1.0)
    assert isinstance(p1, np.ndarray) and not torch.is_tensor(p1)
