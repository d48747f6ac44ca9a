"""fit leaves the process alone: global RNG states, os.environ and cudnn flags are the same after
fit as before it, and a seeded fit gives the same model whatever the global state was."""
import os
import random

import numpy as np
import pytest
import torch

from seqcnn.engine.device import cudnn_benchmark, isolated_rng
from seqcnn.signal import SignalCNNClassifier
from tests.engine._tiny import TinyCNNClassifier


def _data(n=40, length=16, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length)).astype(np.float32)
    y = (X[:, :4].mean(axis=1) > 0).astype(int)
    return X, y


def _global_state():
    return (torch.get_rng_state().clone(), np.random.get_state(), random.getstate(), dict(os.environ),
            torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)


def _same_state(a, b):
    assert torch.equal(a[0], b[0])
    assert a[1][0] == b[1][0] and np.array_equal(a[1][1], b[1][1]) and a[1][2:] == b[1][2:]
    assert a[2] == b[2]
    assert a[3] == b[3]
    assert a[4:] == b[4:]


def _weights(est):
    return torch.cat([p.detach().flatten() for p in est.module_.state_dict().values() if p.is_floating_point()])


@pytest.mark.parametrize("make", [
    lambda: TinyCNNClassifier(max_epochs=2, random_state=3),
    lambda: SignalCNNClassifier("fcn", max_epochs=2, n_filters=4, batch_size=8, random_state=3, verbose=0,
                                device="cpu"),
    lambda: SignalCNNClassifier("inceptiontime", max_epochs=1, n_filters=2, depth=1, n_members=2,
                                kernel_sizes=(3,), batch_size=8, random_state=3, verbose=0, device="cpu"),
], ids=["tiny", "fcn", "inceptiontime"])
def test_fit_leaves_global_state_alone_and_ignores_it(make):
    _check_isolated(make, *_data())


def _texts():
    X = ["good movie", "bad film", "great plot", "awful acting", "fine cast", "dull story"] * 4
    return X, np.array([1, 0, 1, 0, 1, 0] * 4)


def _images():
    rng = np.random.default_rng(0)
    return rng.random((12, 3, 16, 16)).astype(np.float32), np.arange(12) % 2


def test_text_and_image_fits_are_isolated_too():
    from seqcnn.text import TextCNNClassifier
    from vision import ImageCNNClassifier

    _check_isolated(lambda: TextCNNClassifier(num_filters=4, embedding_dim=8, max_epochs=2, batch_size=4,
                                              verbose=0, random_state=1, device="cpu"), *_texts())
    _check_isolated(lambda: ImageCNNClassifier("resnet20", model_kwargs={"width": 0.25}, max_epochs=1,
                                               batch_size=4, verbose=0, random_state=1, device="cpu"), *_images())


def _check_isolated(make, X, y):
    make().fit(X, y)  # warm-up: torch sets TORCHINDUCTOR_CACHE_DIR itself on a lazy first import
    torch.manual_seed(123)
    np.random.seed(5)
    random.seed(9)
    before = _global_state()
    a = make().fit(X, y)
    _same_state(before, _global_state())
    # a different global state gives the same seeded model
    torch.manual_seed(999)
    torch.rand(17)
    np.random.seed(1)
    b = make().fit(X, y)
    assert torch.equal(_weights(a), _weights(b))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_isolated_rng_seeds_and_restores():
    torch.manual_seed(0)
    state = torch.get_rng_state().clone()
    with isolated_rng(7):
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), state)
    with isolated_rng(7):
        assert torch.equal(torch.rand(3), first)
    with pytest.raises(TypeError, match="seed"):
        with isolated_rng("7"):
            pass


def test_cudnn_benchmark_is_restored():
    previous = torch.backends.cudnn.benchmark
    with cudnn_benchmark(not previous):
        assert torch.backends.cudnn.benchmark is (not previous)
    assert torch.backends.cudnn.benchmark is previous
