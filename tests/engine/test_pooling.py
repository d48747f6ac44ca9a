"""Tests for seqcnn.engine.pooling: the pooling catalogue, stochastic pooling against the seed's
worked 4×4 example, masked global / max-over-time pooling and k-max pooling."""
from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from seqcnn.engine.layers import (
    POOL_KINDS,
    GlobalAvgPool,
    GlobalMaxPool,
    KMaxPool,
    MaskedMaxOverTime,
    StochasticPool1d,
    StochasticPool2d,
    conv_window_mask,
    dynamic_k,
    kmax_pool,
    make_pool,
    masked_max_over_time,
)

# The seed 004 example: a 4×4 activation map pooled by 2×2 windows, stride 2.
SEED_MAP = torch.tensor([[5.0, 3.0, 0.0, 3.0],
                         [4.0, 0.0, 9.0, 4.0],
                         [2.0, 4.0, 1.0, 2.0],
                         [1.0, 3.0, 2.0, 3.0]]).view(1, 1, 4, 4)
# The seed's probability table p (per window, each window sums to 1).
SEED_P = {
    (0, 0): {5: Fraction(5, 12), 3: Fraction(3, 12), 4: Fraction(4, 12), 0: Fraction(0)},
    (0, 1): {0: Fraction(0), 3: Fraction(3, 16), 9: Fraction(9, 16), 4: Fraction(4, 16)},
    (1, 0): {2: Fraction(2, 10), 4: Fraction(4, 10), 1: Fraction(1, 10), 3: Fraction(3, 10)},
    (1, 1): {1: Fraction(1, 8), 2: Fraction(2, 8) + Fraction(2, 8), 3: Fraction(3, 8)},
}


# ----------------------------------------------------------------------------- stochastic pooling


def test_stochastic_pool_eval_is_the_probability_weighted_average_of_the_seed_example():
    pool = StochasticPool2d(2).eval()
    out = pool(SEED_MAP)[0, 0]
    expected = []
    for (i, j), probs in SEED_P.items():
        expected.append(float(sum(p * v for v, p in probs.items())))
    # 50/12, 106/16, 30/10, 18/8
    assert expected == pytest.approx([50 / 12, 106 / 16, 3.0, 18 / 8])
    torch.testing.assert_close(out.flatten(), torch.tensor(expected), atol=1e-6, rtol=0)


def test_stochastic_pool_samples_with_the_seed_probabilities():
    n = 10000
    gen = torch.Generator().manual_seed(0)
    pool = StochasticPool2d(2, generator=gen).train()
    out = pool(SEED_MAP.expand(n, 1, 4, 4))  # (n, 1, 2, 2): n independent draws per window
    for (i, j), probs in SEED_P.items():
        draws = out[:, 0, i, j]
        for value, p in probs.items():
            freq = (draws == value).double().mean().item()
            assert freq == pytest.approx(float(p), abs=0.02), (i, j, value)
        assert sum(float((draws == v).double().mean()) for v in probs) == pytest.approx(1.0)


def test_stochastic_pool_seed_example_output_is_a_possible_draw():
    # the seed's sampled output [[4, 9], [3, 2]]: every entry has a positive probability
    for (i, j), v in zip(SEED_P, [4, 9, 3, 2]):
        assert SEED_P[(i, j)][v] > 0


def test_stochastic_pool_is_reproducible_under_a_generator_and_manual_seed():
    x = torch.rand(4, 3, 8, 8)
    a = StochasticPool2d(2, generator=torch.Generator().manual_seed(7))(x)
    b = StochasticPool2d(2, generator=torch.Generator().manual_seed(7))(x)
    assert torch.equal(a, b)
    torch.manual_seed(3)
    c = StochasticPool2d(2)(x)
    torch.manual_seed(3)
    d = StochasticPool2d(2)(x)
    assert torch.equal(c, d)


def test_stochastic_pool_training_picks_a_window_member_and_grads_only_it():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 6, 6).requires_grad_(True)
    y = StochasticPool2d(3).train()(x)
    assert y.shape == (2, 3, 2, 2)
    y.sum().backward()
    g = x.grad.view(2, 3, 2, 3, 2, 3).permute(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 9)
    assert torch.equal(g.sum(-1), torch.ones(2, 3, 2, 2))  # one element per window gets gradient 1
    xw = x.detach().view(2, 3, 2, 3, 2, 3).permute(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 9)
    torch.testing.assert_close((xw * g).sum(-1), y.detach())


def test_stochastic_pool_zero_windows_give_zero_without_nan_gradients():
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 0, 0] = 2.0
    x.requires_grad_(True)
    for mode in (True, False):
        pool = StochasticPool2d(2).train(mode)
        y = pool(x)
        assert y[0, 0, 0, 0].item() == 2.0 and (y.flatten()[1:] == 0).all()
        (g,) = torch.autograd.grad(y.sum(), x)
        assert torch.isfinite(g).all()


def test_stochastic_pool_never_samples_zero_elements():
    torch.manual_seed(1)
    x = torch.rand(64, 4, 8, 8) * (torch.rand(64, 4, 8, 8) > 0.6)
    y = StochasticPool2d(2).train()(x)
    nonzero_window = F.max_pool2d(x, 2) > 0
    assert (y[nonzero_window] > 0).all()


def test_stochastic_pool_rejects_negative_input_unless_clamped():
    x = torch.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="non-negative"):
        StochasticPool2d(2)(x)
    pool = StochasticPool2d(2, negative="clamp").eval()
    torch.testing.assert_close(pool(x), StochasticPool2d(2).eval()(x.clamp_min(0)))
    with pytest.raises(ValueError, match="negative"):
        StochasticPool2d(2, negative="abs")


def test_stochastic_pool_1d_and_padding():
    x = torch.tensor([[[1.0, 3.0, 0.0, 0.0, 2.0]]])
    pool = StochasticPool1d(2, padding=1).eval()
    # padded: 0 1 | 3 0 | 0 2 -> 1, 3, 2
    assert pool(x).flatten().tolist() == pytest.approx([1.0, 3.0, 2.0])
    assert StochasticPool1d(3, stride=1).train()(torch.rand(2, 3, 10)).shape == (2, 3, 8)


# ----------------------------------------------------------------------------- make_pool


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg", "lp", "stochastic", "global_avg", "global_max"])
def test_make_pool_shapes(kind, dims):
    shape = (2, 3, 12) if dims == 1 else (2, 3, 12, 10)
    x = torch.rand(shape)
    y = make_pool(kind, dims, 2)(x)
    if kind.startswith("global"):
        assert y.shape == (2, 3)
    else:
        assert y.shape == shape[:2] + tuple(s // 2 for s in shape[2:])


def test_make_pool_matches_torch_and_lp_is_l2():
    x = torch.rand(2, 3, 8, 8)
    torch.testing.assert_close(make_pool("max", 2, 3, 2, 1)(x), F.max_pool2d(x, 3, 2, 1))
    torch.testing.assert_close(make_pool("avg", 1, 3, 1)(x[..., 0]), F.avg_pool1d(x[..., 0], 3, 1))
    l2 = make_pool("lp", 2, 2)(x)
    ref = (x ** 2).view(2, 3, 4, 2, 4, 2).sum(dim=(3, 5)).sqrt()
    torch.testing.assert_close(l2, ref)


def test_make_pool_fractional_max_is_2d_only():
    torch.manual_seed(0)
    pool = make_pool("fractional_max", 2, 2)
    assert isinstance(pool, nn.FractionalMaxPool2d)
    assert pool(torch.rand(1, 2, 32, 32)).shape == (1, 2, 22, 22)  # 32 / √2
    assert make_pool("fractional_max", 2, 3, output_size=(5, 5))(torch.rand(1, 1, 16, 16)).shape == (1, 1, 5, 5)
    with pytest.raises(ValueError, match="dims"):
        make_pool("fractional_max", 1, 2)


@pytest.mark.parametrize("args, word", [(("median", 2), "kind"), (("max", 3), "dims"), (("lp", 2, 2, 2, 1), "padding"),
                                        (("max", 2, 0), "kernel_size")])
def test_make_pool_bad_arguments_raise(args, word):
    with pytest.raises(ValueError, match=word) as info:
        make_pool(*args)
    if word == "kind":
        assert all(k in str(info.value) for k in POOL_KINDS)


# ----------------------------------------------------------------------------- global pooling


def test_global_avg_pool_averages_valid_steps_only():
    x = torch.randn(3, 4, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    x[0, :, 3:] = 1e6  # padding garbage must not leak
    pool = GlobalAvgPool(1)
    out = pool(x, mask)
    torch.testing.assert_close(out[0], x[0, :, :3].mean(-1))
    torch.testing.assert_close(out[1], x[1].mean(-1))
    assert torch.equal(out[2], torch.zeros(4))
    torch.testing.assert_close(pool(x), x.mean(-1))


def test_global_pools_in_2d_with_and_without_mask():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(GlobalAvgPool(2)(x), x.mean(dim=(2, 3)))
    torch.testing.assert_close(GlobalMaxPool(2)(x), x.amax(dim=(2, 3)))
    mask = torch.zeros(2, 4, 5, dtype=torch.bool)
    mask[:, :2, :2] = True
    torch.testing.assert_close(GlobalAvgPool(2)(x, mask), x[:, :, :2, :2].mean(dim=(2, 3)))
    torch.testing.assert_close(GlobalMaxPool(2)(x, mask), x[:, :, :2, :2].amax(dim=(2, 3)))


def test_global_pool_has_deterministic_backward():
    prev = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        x = torch.randn(2, 3, 7, requires_grad=True)
        mask = torch.ones(2, 7, dtype=torch.bool)
        (GlobalAvgPool(1)(x, mask).sum() + GlobalMaxPool(1)(x).sum()).backward()
        assert x.grad is not None
    finally:
        torch.use_deterministic_algorithms(prev)
    assert not any("Adaptive" in type(m).__name__ for m in (GlobalAvgPool(2), GlobalMaxPool(2)))


@pytest.mark.parametrize("bad", [torch.ones(3, 5, dtype=torch.bool), torch.ones(2, 6, dtype=torch.bool),
                                 torch.ones(2, 1, 5, dtype=torch.bool)])
def test_mask_shape_mismatch_raises_naming_mask(bad):
    x = torch.randn(2, 4, 5)
    for fn in (GlobalAvgPool(1), GlobalMaxPool(1), MaskedMaxOverTime()):
        with pytest.raises(ValueError, match="mask"):
            fn(x, bad)


def test_float_mask_is_refused_and_wrong_dims_raise():
    with pytest.raises(TypeError, match="mask"):
        GlobalAvgPool(1)(torch.randn(2, 3, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="dims"):
        GlobalAvgPool(3)
    with pytest.raises(ValueError):
        GlobalAvgPool(1)(torch.randn(2, 3, 4, 4))


# ----------------------------------------------------------------------------- max-over-time


def test_padding_never_wins_max_over_time():
    x = torch.tensor([[[1.0, 2.0, 50.0, 60.0]], [[-3.0, -1.0, 0.0, 9.0]]])  # (2, 1, 4)
    mask = torch.tensor([[True, True, False, False], [True, True, True, False]])
    out = masked_max_over_time(x, mask)
    assert out.flatten().tolist() == [2.0, 0.0]
    assert masked_max_over_time(x).flatten().tolist() == [60.0, 9.0]  # unmasked: the pad would win


def test_all_padding_row_pools_to_exactly_zero_with_zero_gradient():
    x = torch.randn(2, 3, 5, requires_grad=True)
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 1] = True
    out = MaskedMaxOverTime()(x, mask)
    assert torch.equal(out[1], torch.zeros(3))
    out.sum().backward()
    assert torch.equal(x.grad[1], torch.zeros(3, 5))
    assert torch.equal(x.grad[0, :, 1], torch.ones(3)) and x.grad[0].sum().item() == 3.0


def test_max_over_time_gradient_flows_to_the_argmax_only():
    x = torch.tensor([[[1.0, 5.0, 5.0, 2.0]]], requires_grad=True)  # a tie: still one winner
    masked_max_over_time(x, torch.ones(1, 4, dtype=torch.bool)).sum().backward()
    assert x.grad.sum().item() == 1.0 and x.grad.max().item() == 1.0


def test_single_example_scores_the_same_alone_and_in_a_padded_batch():
    torch.manual_seed(0)
    emb_dim, width, filters = 6, 3, 5
    conv = nn.Conv1d(emb_dim, filters, width, padding=width - 1)  # Kim's w−1 zeros on each side
    with torch.no_grad():
        conv.weight.abs_()
        conv.bias.fill_(5.0)  # pad-only windows output exactly the bias: larger than any real window

    def encode(batch_emb, token_mask):
        h = torch.relu(conv(batch_emb * token_mask.unsqueeze(1)))  # padded embeddings are zero
        return masked_max_over_time(h, conv_window_mask(token_mask, width, padding=width - 1))

    short = -torch.rand(1, emb_dim, 3) - 0.1  # real windows: bias + something negative
    long = torch.randn(1, emb_dim, 30)
    alone = encode(short, torch.ones(1, 3, dtype=torch.bool))
    batch = torch.zeros(2, emb_dim, 30)
    batch[0, :, :3] = short[0]
    batch[1] = long[0]
    mask = torch.zeros(2, 30, dtype=torch.bool)
    mask[0, :3] = True
    mask[1] = True
    together = encode(batch, mask)
    torch.testing.assert_close(together[0], alone[0], atol=1e-6, rtol=0)
    # without the mask the padding windows (value = bias) do change the result
    h = torch.relu(conv(batch * mask.unsqueeze(1)))
    assert not torch.allclose(masked_max_over_time(h)[0], alone[0], atol=1e-6)


def _window_mask_reference(token_mask, k, p, s, d):
    n, length = token_mask.shape
    padded = [[False] * p + list(map(bool, row)) + [False] * p for row in token_mask.tolist()]
    l_out = (length + 2 * p - d * (k - 1) - 1) // s + 1
    return torch.tensor([[any(row[j * s + i * d] for i in range(k)) for j in range(l_out)] for row in padded],
                        dtype=torch.bool).view(n, l_out)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), length=st.integers(1, 12), k=st.integers(1, 6), p=st.integers(0, 5), s=st.integers(1, 3),
       d=st.integers(1, 2))
def test_conv_window_mask_matches_brute_force_and_conv_length(data, length, k, p, s, d):
    if length + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="kernel_size"):
            conv_window_mask(torch.ones(1, length, dtype=torch.bool), k, p, s, d)
        return
    bits = data.draw(st.lists(st.booleans(), min_size=2 * length, max_size=2 * length))
    tm = torch.tensor(bits).view(2, length)
    got = conv_window_mask(tm, k, p, s, d)
    assert torch.equal(got, _window_mask_reference(tm, k, p, s, d))
    conv_len = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, length)).shape[-1]
    assert got.shape == (2, conv_len)


def test_conv_window_mask_bad_input_raises():
    with pytest.raises(TypeError, match="token_mask"):
        conv_window_mask([[True, False]], 2)
    with pytest.raises(ValueError, match="token_mask"):
        conv_window_mask(torch.ones(2, 3, 4, dtype=torch.bool), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        conv_window_mask(torch.ones(2, 3, dtype=torch.bool), 5)


def test_conv_window_mask_full_padding_is_kims():
    tm = torch.tensor([[True, True, False, False]])
    assert conv_window_mask(tm, 3, "full").tolist() == [[True, True, True, True, False, False]]
    assert torch.equal(conv_window_mask(tm, 3, "full"), conv_window_mask(tm, 3, 2))


# ----------------------------------------------------------------------------- k-max pooling


def _kmax_reference(values, k):
    top = sorted(range(len(values)), key=lambda i: -values[i])[:k]
    out = [values[i] for i in sorted(top)]
    return out + [0.0] * (k - len(out))


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=20, unique=True), k=st.integers(1, 25))
def test_kmax_keeps_the_k_largest_in_original_order(values, k):
    vals = [float(v) for v in values]
    x = torch.tensor(vals).view(1, 1, -1)
    out = KMaxPool(k)(x)
    assert out.shape == (1, 1, k)
    assert out.flatten().tolist() == _kmax_reference(vals, k)


def test_kmax_along_another_dim_and_gradient():
    x = torch.tensor([[3.0, 1.0], [1.0, 5.0], [4.0, 2.0]], requires_grad=True)  # (3, 2), pool dim 0
    y = kmax_pool(x, 2, dim=0)
    assert y.tolist() == [[3.0, 5.0], [4.0, 2.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]


def test_kmax_with_mask_ignores_padding_and_zero_fills():
    x = torch.tensor([[[1.0, 7.0, 3.0, 99.0, 98.0]]])
    mask = torch.tensor([[True, True, True, False, False]])
    assert KMaxPool(2)(x, mask).flatten().tolist() == [7.0, 3.0]
    assert KMaxPool(4)(x, mask).flatten().tolist() == [1.0, 7.0, 3.0, 0.0]
    with pytest.raises(ValueError, match="k"):
        KMaxPool(0)


def test_dynamic_k_follows_kalchbrenner_eq4():
    # s = 18, L = 3 conv layers, k_top = 3: k_1 = 12, k_2 = 6, k_3 = k_top (the paper's example)
    assert [dynamic_k(layer, 3, 18, 3) for layer in (1, 2, 3)] == [12, 6, 3]
    assert dynamic_k(1, 2, 3, 4) == 4
    with pytest.raises(ValueError, match="layer"):
        dynamic_k(3, 2, 10, 1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_pooling_on_cuda_matches_cpu():
    x = torch.rand(4, 3, 8, 8)
    mask = torch.rand(4, 8, 8) > 0.3
    pool = StochasticPool2d(2, generator=torch.Generator().manual_seed(0))  # CPU generator: falls back
    assert pool.train()(x.cuda()).shape == (4, 3, 4, 4)
    torch.testing.assert_close(pool.eval()(x.cuda()).cpu(), pool.eval()(x))
    torch.testing.assert_close(GlobalMaxPool(2)(x.cuda(), mask.cuda()).cpu(), GlobalMaxPool(2)(x, mask))
    torch.testing.assert_close(GlobalAvgPool(2)(x.cuda(), mask.cuda()).cpu(), GlobalAvgPool(2)(x, mask))
