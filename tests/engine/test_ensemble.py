"""The engine's one ensemble: any CNN estimator as members, one member-seed rule, one shared
validation split, averaged probabilities, one artifact."""
import numpy as np
import pytest
from sklearn.base import clone

from seqcnn.engine.ensemble import CNNEnsemble, member_seed
from seqcnn.signal import SignalCNNClassifier
from tests.engine._tiny import TinyCNNClassifier


def _data(n=40, length=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length)).astype(np.float32)
    y = np.where(np.arange(n) % 2 == 0, "up", "down")
    X[y == "up", 2:6] += 1.5
    return X, y


def test_member_seed_rule():
    assert [member_seed(7, k) for k in range(3)] == [7, 1007, 2007]


def test_members_are_seeded_apart_and_average():
    X, y = _data()
    recipe = TinyCNNClassifier(max_epochs=3, validation_fraction=0.2)
    ens = CNNEnsemble(recipe, n_members=3, random_state=5, verbose=0).fit(X, y)
    assert [m.random_state for m in ens.estimators_] == [5, 1005, 2005]
    np.testing.assert_allclose(ens.predict_proba(X), np.mean([m.predict_proba(X) for m in ens.estimators_], 0))
    assert set(ens.predict(X)) <= {"up", "down"} and ens.val_score_ is not None
    # member 0 is the single network of the same seed
    single = clone(recipe).set_params(random_state=5).fit(X, y)
    np.testing.assert_allclose(ens.estimators_[0].predict_proba(X), single.predict_proba(X), atol=1e-6)


def test_signal_members_save_and_load(tmp_path):
    X, y = _data()
    recipe = SignalCNNClassifier("fcn", n_filters=4, max_epochs=1, batch_size=8, verbose=0, device="cpu")
    ens = CNNEnsemble(recipe, n_members=2, random_state=0, verbose=0).fit(X, y)
    loaded = CNNEnsemble.load(ens.save(tmp_path / "ens"))
    assert isinstance(loaded.estimators_[0], SignalCNNClassifier)
    np.testing.assert_allclose(loaded.predict_proba(X), ens.predict_proba(X), atol=1e-6)


def test_bad_parameters():
    X, y = _data()
    with pytest.raises(TypeError, match="needs an estimator"):
        CNNEnsemble(verbose=0).fit(X, y)
    with pytest.raises(ValueError, match="n_members"):
        CNNEnsemble(TinyCNNClassifier(), n_members=0).fit(X, y)
    with pytest.raises(TypeError, match="CNNClassifierBase"):
        CNNEnsemble(object(), verbose=0).fit(X, y)


def test_member_networks_of_one_module_follow_the_same_seed_rule():
    """InceptionTime's members (one module) are trained with member_seed(seed, m)."""
    X, y = _data()
    clf = SignalCNNClassifier("inceptiontime", n_filters=2, depth=1, kernel_sizes=(3,), n_members=2, max_epochs=2,
                              batch_size=8, verbose=0, device="cpu", random_state=4).fit(X, y)
    assert [row["member"] for row in clf.history_] == [1, 1, 2, 2] and len(clf.best_epoch_) == 2
