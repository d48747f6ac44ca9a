"""One way to route architecture settings: the documented parameters keep working and
``model_kwargs`` reaches the registry builder on the three CNN estimators."""
import numpy as np
import pytest
from sklearn.base import clone

from seqcnn.signal import SignalCNNClassifier
from vision import ImageCNNClassifier


def _series(n=24, length=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length)).astype(np.float32)
    y = np.arange(n) % 2
    X[y == 1, 3:6] += 2
    return X, y


def test_signal_documented_names_and_model_kwargs(tmp_path):
    X, y = _series()
    clf = SignalCNNClassifier("fcn", n_filters=4, max_epochs=1, batch_size=8, verbose=0, random_state=0,
                              device="cpu", model_kwargs={"min_length": 9}).fit(X, y)
    assert clf.module_.num_features == 4 and clf.module_.min_length == 9
    loaded = SignalCNNClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.model_kwargs == {"min_length": 9} and loaded.module_.min_length == 9
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    # model_kwargs wins over the parameter of the same name
    clf2 = clone(clf).set_params(model_kwargs={"n_filters": 2}).fit(X, y)
    assert clf2.module_.num_features == 2


def test_signal_unknown_model_kwarg_is_named_before_training():
    X, y = _series()
    with pytest.raises(TypeError, match="model_kwargs.*'fcn'.*'widht'"):
        SignalCNNClassifier("fcn", model_kwargs={"widht": 2}, verbose=0).fit(X, y)
    with pytest.raises(TypeError, match="model_kwargs must be a dict"):
        SignalCNNClassifier("fcn", model_kwargs=[1], verbose=0).fit(X, y)


def test_image_model_kwargs_reach_the_builder():
    rng = np.random.default_rng(0)
    X = rng.random((8, 3, 16, 16)).astype(np.float32)
    y = np.arange(8) % 2
    est = ImageCNNClassifier("resnet20", model_kwargs={"width": 0.25}, max_epochs=1, batch_size=4, verbose=0,
                             device="cpu", random_state=0).fit(X, y)
    assert est.module_.net.num_features == 16


def test_text_model_kwargs_reach_the_builder_and_unknown_keys_are_named(tmp_path):
    from seqcnn.text import TextCNNClassifier

    X = ["good movie", "bad film", "great plot", "awful acting"] * 5
    y = [1, 0, 1, 0] * 5
    clf = TextCNNClassifier(arch="char", num_filters=8, char_length=130, max_epochs=1, verbose=0, random_state=0,
                            model_kwargs={"fc_dim": 16}).fit(X, y)
    assert clf.module_.fc.in_features == 16
    loaded = TextCNNClassifier.load(clf.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    with pytest.raises(TypeError, match="'kim' takes no argument 'fc_dim'"):
        TextCNNClassifier(model_kwargs={"fc_dim": 16}, max_epochs=1, verbose=0).fit(X, y)
