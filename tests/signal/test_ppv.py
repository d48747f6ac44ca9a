"""PPV pooling: the fused CPU loop (numba) and the torch version against the definition, and
MiniRocket's features equal whichever pools them."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import seqcnn.signal.ppv as ppv
from seqcnn.signal import MiniRocket
from seqcnn.signal.ppv import PPVPool, fused_available, ppv_reference


@st.composite
def pooling_problems(draw):
    k = draw(st.integers(1, 6))
    b = draw(st.integers(1, 5))
    w = draw(st.integers(1, 40))
    f = draw(st.integers(1, 11))  # around the loop's blocks of four biases
    seed = draw(st.integers(0, 2**31 - 1))
    lo = np.array([draw(st.integers(0, w - 1)) for _ in range(b)], dtype=np.int64)
    hi = np.array([draw(st.integers(int(a) + 1, w)) for a in lo], dtype=np.int64)
    rng = np.random.default_rng(seed)
    # values on a coarse grid so that many steps equal a bias exactly: ties never count
    conv = rng.integers(-4, 5, size=(k, b, w)).astype(np.float32) / 2
    biases = rng.integers(-4, 5, size=(k, f)).astype(np.float32) / 2
    return conv, biases, draw(st.integers(0, 1)), lo, hi


def _pool(conv, biases, first, lo, hi, fused):
    out = torch.full((conv.shape[1], conv.shape[0], biases.shape[1]), -1.0).transpose(0, 1)  # strided, like the features
    PPVPool("cpu", budget=64, fused=fused)(torch.from_numpy(conv), torch.from_numpy(biases), first, lo, hi, out)
    return out.numpy()


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "torch"])
@settings(max_examples=60, deadline=None)
@given(problem=pooling_problems())
def test_pooling_equals_the_definition_and_leaves_the_other_half_alone(fused, problem):
    if fused and not fused_available():
        pytest.skip("numba not importable")
    conv, biases, first, lo, hi = problem
    got = _pool(conv, biases, first, lo, hi, fused)
    want = ppv_reference(conv, biases, first, lo, hi)
    mine = np.arange(conv.shape[0]) % 2 == first
    np.testing.assert_allclose(got[mine], want[mine], rtol=1e-6, atol=0)
    assert (got[~mine] == -1).all()


def test_a_step_equal_to_the_bias_is_not_positive():
    conv = np.array([[[1.0, 2.0, 2.0, 3.0]]], dtype=np.float32)
    biases = np.array([[2.0, 0.0, 3.0, 2.5, 1.0]], dtype=np.float32)
    lo, hi = np.array([0]), np.array([4])
    for fused in [False] + ([True] if fused_available() else []):
        np.testing.assert_allclose(_pool(conv, biases, 0, lo, hi, fused)[0, 0], [0.25, 1.0, 0.0, 0.25, 0.75])


def test_fused_loop_is_refused_off_the_cpu():
    with pytest.raises(ValueError, match="CPU and numba"):
        PPVPool("cuda", budget=64, fused=True)


@pytest.mark.parametrize("shape", ["equal", "ragged", "multivariate"])
def test_minirocket_features_equal_with_either_pooling(shape, monkeypatch):
    rng = np.random.default_rng(3)
    if shape == "equal":
        X = rng.standard_normal((12, 1, 90)).astype(np.float32)
    elif shape == "ragged":
        X = [rng.standard_normal((1, int(n))).astype(np.float32) for n in rng.integers(3, 120, 15)]
    else:
        X = rng.standard_normal((10, 3, 64)).astype(np.float32)
    m = MiniRocket(num_features=840, random_state=0, batch_size=4).fit(X)
    first = m.transform(X)
    monkeypatch.setattr(ppv, "_FUSED", False)  # what a machine without numba runs (and CUDA)
    second = m.transform(X)
    np.testing.assert_allclose(first, second, rtol=1e-6, atol=0)
    assert fused_available() is False


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "torch"])
def test_bad_input_is_refused_with_what_is_wrong(fused):
    if fused and not fused_available():
        pytest.skip("numba not importable")
    pool = PPVPool("cpu", budget=64, fused=fused)
    conv, b = torch.zeros(2, 3, 5), torch.zeros(2, 4)
    out = torch.zeros(2, 3, 4)
    lo, hi = np.zeros(3, np.int64), np.full(3, 5)
    cases = [
        (dict(conv=conv.numpy()), TypeError, "torch tensors"),
        (dict(conv=conv[0]), ValueError, "conv must be"),
        (dict(conv=conv.double()), ValueError, "conv must be"),
        (dict(biases=torch.zeros(3, 4)), ValueError, "biases must be"),
        (dict(out=torch.zeros(2, 3, 5)), ValueError, "out must be"),
        (dict(first=2), ValueError, "first must be 0 or 1"),
        (dict(lo=lo[:2]), ValueError, "lo and hi must be"),
        (dict(hi=np.full(3, 5.0)), ValueError, "lo and hi must be"),
        (dict(hi=np.array([5, 5, 6])), ValueError, "0 <= lo < hi <= W"),
        (dict(lo=np.array([0, -1, 0])), ValueError, "0 <= lo < hi <= W"),
        (dict(lo=np.array([0, 5, 0])), ValueError, "0 <= lo < hi <= W"),  # an empty window
    ]
    for change, exc, words in cases:
        args = {**dict(conv=conv, biases=b, first=0, lo=lo, hi=hi, out=out), **change}
        with pytest.raises(exc, match=words):
            pool(**args)
    pool(conv, b, 0, lo, hi, out)  # the same arguments, unchanged, pool
    empty = torch.zeros(2, 0, 5)
    pool(empty, b, 1, lo[:0], hi[:0], torch.zeros(2, 0, 4))  # no series: nothing to do
