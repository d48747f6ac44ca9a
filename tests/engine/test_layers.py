"""Tests for seqcnn.engine.layers: activations, convolutions with exact "same" padding, ConvBlock,
local response normalisation, mlpconv, weight initialisation and the re-exported catalogue."""
import importlib
import math
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from seqcnn.engine import layers
from seqcnn.engine.layers import (
    ACTIVATIONS,
    ConvBlock,
    LocalResponseNorm,
    MLPConv,
    SameConv,
    SameConv1d,
    SameConv2d,
    WeightScalingDropout,
    get_activation,
    init_weights,
    make_conv,
    make_dropout,
)

# ----------------------------------------------------------------------------- activations


@pytest.mark.parametrize(
    "name, cls",
    [("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU), ("leaky_relu", nn.LeakyReLU),
     ("prelu", nn.PReLU), ("elu", nn.ELU), ("gelu", nn.GELU), ("identity", nn.Identity), (None, nn.Identity),
     ("Leaky-ReLU", nn.LeakyReLU)],
)
def test_activation_by_name_returns_the_torch_module(name, cls):
    act = get_activation(name)
    assert isinstance(act, cls)
    assert act(torch.randn(2, 3, 4)).shape == (2, 3, 4)


def test_activation_keywords_reach_the_module():
    assert get_activation("leaky_relu", negative_slope=0.2).negative_slope == 0.2
    assert get_activation("elu", alpha=0.5).alpha == 0.5
    assert get_activation("prelu", num_parameters=4).weight.shape == (4,)


def test_activation_returns_fresh_instances():
    assert get_activation("prelu") is not get_activation("prelu")


def test_unknown_activation_raises_listing_choices():
    with pytest.raises(ValueError, match="activation") as info:
        get_activation("swishy")
    for name in ACTIVATIONS:
        assert name in str(info.value)


def test_activation_of_wrong_type_raises_type_error():
    with pytest.raises(TypeError, match="activation"):
        get_activation(3)


# ----------------------------------------------------------------------------- make_conv / same padding


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 41), length=st.integers(1, 200), d=st.integers(1, 4))
def test_same_padding_keeps_length_for_any_kernel_and_dilation(k, length, d):
    conv = make_conv(1, 2, 3, k, padding="same", dilation=d)
    x = torch.randn(1, 2, length)
    y = conv(x)
    assert y.shape == (1, 3, length)
    # torch's own padding="same" is the ground truth (same split: extra zero on the right)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch notes it copies the input for odd totals
        ref = F.conv1d(x, conv.weight, conv.bias, padding="same", dilation=d)
    torch.testing.assert_close(y, ref, atol=1e-5, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(kh=st.integers(1, 8), kw=st.integers(1, 8), h=st.integers(1, 20), w=st.integers(1, 20),
       d=st.integers(1, 3))
def test_same_padding_keeps_size_in_2d_even_kernels_included(kh, kw, h, w, d):
    conv = make_conv(2, 2, 2, (kh, kw), padding="same", dilation=d)
    x = torch.randn(1, 2, h, w)
    y = conv(x)
    assert y.shape == (1, 2, h, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = F.conv2d(x, conv.weight, conv.bias, padding="same", dilation=d)
    torch.testing.assert_close(y, ref, atol=1e-5, rtol=1e-5)


def test_same_padding_agrees_with_shapes_helper():
    from seqcnn.engine import shapes

    for k in range(1, 12):
        for d in range(1, 5):
            assert layers._same_pad(k, d) == tuple(shapes.same_padding(k, d))


def test_even_kernel_same_conv_pads_the_extra_zero_on_the_right():
    conv = make_conv(1, 1, 1, 4, padding="same", bias=False)
    assert conv.same_padding == (1, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    y = conv(torch.ones(1, 1, 6))
    # window j covers padded positions j..j+3 with 1 zero left and 2 zeros right
    assert y.flatten().tolist() == [3.0, 4.0, 4.0, 4.0, 3.0, 2.0]


def test_same_conv_is_a_conv_module_with_its_geometry():
    c1 = make_conv(1, 4, 8, 8, padding="same", dilation=2)
    assert isinstance(c1, nn.Conv1d) and isinstance(c1, SameConv1d)
    assert c1.kernel_size == (8,) and c1.stride == (1,) and c1.dilation == (2,)
    c2 = make_conv(2, 4, 8, 3, padding="same")
    assert isinstance(c2, nn.Conv2d) and isinstance(c2, SameConv2d)
    assert c2.padding == (1, 1) and c2.same_padding is None  # symmetric: done by the conv itself


def test_same_conv_factory_and_class_lookup():
    c = SameConv(3, 4, 4, dims=1)
    assert type(c) is SameConv1d and isinstance(c, SameConv) and isinstance(c, nn.Conv1d)
    assert c(torch.randn(2, 3, 9)).shape == (2, 4, 9)
    assert type(SameConv(3, 4, (2, 3))) is SameConv2d  # dims defaults to 2
    assert SameConv[1] is SameConv1d and SameConv[2] is SameConv2d
    with pytest.raises(ValueError, match="dims"):
        SameConv[3]  # noqa: B018
    with pytest.raises(ValueError, match="dims"):
        SameConv1d(3, 4, 3, dims=2)


def test_make_conv_with_integer_padding_is_a_plain_conv():
    c = make_conv(2, 3, 10, 5, stride=1, padding=2)
    assert type(c) is nn.Conv2d
    assert c(torch.randn(1, 3, 32, 32)).shape == (1, 10, 32, 32)
    assert sum(p.numel() for p in c.parameters()) == 760  # the seed's 5×5×3 × 10 example
    c1 = make_conv(1, 3, 4, 3, stride=2, padding=(1,))
    assert type(c1) is nn.Conv1d and c1(torch.randn(1, 3, 9)).shape == (1, 4, 5)


def test_make_conv_groups():
    c = make_conv(1, 4, 8, 3, padding="same", groups=4)
    assert c.weight.shape == (8, 1, 3)


@pytest.mark.parametrize(
    "kwargs, word",
    [(dict(dims=3), "dims"), (dict(dims=0), "dims"), (dict(stride=2, padding="same"), "stride"),
     (dict(padding="valid"), "padding"), (dict(kernel_size=0), "kernel_size"), (dict(padding=-1), "padding"),
     (dict(dilation=0), "dilation"), (dict(in_channels=0), "in_channels"), (dict(groups=3), "groups"),
     (dict(kernel_size=(3, 3, 3)), "kernel_size")],
)
def test_make_conv_bad_arguments_raise_value_error_naming_them(kwargs, word):
    args = dict(dims=2, in_channels=4, out_channels=8, kernel_size=3, stride=1, padding=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        make_conv(**args)


def test_make_conv_non_integer_kernel_raises_type_error():
    with pytest.raises(TypeError, match="kernel_size"):
        make_conv(1, 2, 2, 2.5)


# ----------------------------------------------------------------------------- ConvBlock


def test_conv_block_post_order_is_conv_bn_act_without_bias():
    blk = ConvBlock(3, 8, 3, dims=2, padding="same")
    assert list(dict(blk.named_children())) == ["conv", "norm", "act"]
    assert blk.conv.bias is None and isinstance(blk.norm, nn.BatchNorm2d) and blk.norm.num_features == 8
    assert blk(torch.randn(2, 3, 5, 6)).shape == (2, 8, 5, 6)


def test_conv_block_pre_order_is_bn_act_conv_over_input_channels():
    blk = ConvBlock(3, 8, 3, dims=1, padding=1, order="pre")
    assert list(dict(blk.named_children())) == ["norm", "act", "conv"]
    assert isinstance(blk.norm, nn.BatchNorm1d) and blk.norm.num_features == 3
    assert blk(torch.randn(2, 3, 7)).shape == (2, 8, 7)


def test_conv_block_bias_defaults_to_on_without_norm_and_can_be_forced():
    assert ConvBlock(3, 4, 1, norm=None).conv.bias is not None
    assert ConvBlock(3, 4, 1, norm="batch", bias=True).conv.bias is not None
    blk = ConvBlock(3, 4, 1, norm=None, activation=None)
    assert list(dict(blk.named_children())) == ["conv", "act"] and isinstance(blk.act, nn.Identity)


def test_conv_block_equals_its_parts_and_passes_gradients():
    torch.manual_seed(0)
    blk = ConvBlock(2, 4, 3, dims=1, padding="same", activation="tanh").eval()
    x = torch.randn(3, 2, 10, requires_grad=True)
    y = blk(x)
    torch.testing.assert_close(y, torch.tanh(blk.norm(blk.conv(x))))
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert all(p.grad is not None for p in blk.parameters())


@pytest.mark.parametrize("kwargs, word", [(dict(order="middle"), "order"), (dict(norm="layer"), "norm"),
                                          (dict(dims=3), "dims"), (dict(activation="nope"), "activation")])
def test_conv_block_bad_arguments_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ConvBlock(3, 4, 3, **kwargs)


# ----------------------------------------------------------------------------- LRN


def _lrn_paper(a, n=5, alpha=1e-4, beta=0.75, k=2.0):
    """b_i = a_i / (k + α Σ_{j=max(0, i−n/2)}^{min(C−1, i+n/2)} a_j²)^β, written channel by channel."""
    c = a.shape[1]
    out = torch.empty_like(a)
    for i in range(c):
        lo, hi = max(0, i - n // 2), min(c - 1, i + n // 2)
        s = (a[:, lo:hi + 1] ** 2).sum(dim=1)
        out[:, i] = a[:, i] / (k + alpha * s) ** beta
    return out


@pytest.mark.parametrize("alpha", [1e-4, 0.05])
def test_lrn_follows_alexnet_formula(alpha):
    torch.manual_seed(0)
    a = torch.randn(2, 9, 4, 5, dtype=torch.float64) * 3
    lrn = LocalResponseNorm(alpha=alpha)
    torch.testing.assert_close(lrn(a), _lrn_paper(a, alpha=alpha), atol=1e-10, rtol=1e-8)


def test_lrn_defaults_are_alexnets_and_alpha_is_not_divided_by_size():
    lrn = LocalResponseNorm()
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2.0)
    a = torch.randn(1, 8, 3, 3) * 10
    plain_torch = nn.LocalResponseNorm(5, alpha=0.05, beta=0.75, k=2.0)(a)  # torch's α/n convention
    assert not torch.allclose(LocalResponseNorm(alpha=0.05)(a), plain_torch)
    torch.testing.assert_close(LocalResponseNorm(alpha=0.01)(a), plain_torch)  # 0.05 / 5


def test_lrn_works_on_1d_and_rejects_2d_input():
    a = torch.rand(2, 6, 11, dtype=torch.float64)
    torch.testing.assert_close(LocalResponseNorm(alpha=0.1)(a), _lrn_paper(a, alpha=0.1))
    with pytest.raises(ValueError):
        LocalResponseNorm()(torch.randn(2, 6))


# ----------------------------------------------------------------------------- dropout


def test_weight_scaling_dropout_zeroes_without_rescaling_in_training():
    torch.manual_seed(0)
    x = torch.rand(200, 50) + 0.5
    d = WeightScalingDropout(0.3).train()
    out = d(x)
    kept = out != 0
    assert torch.equal(out[kept], x[kept])  # kept units are NOT divided by 1 − p
    assert abs(kept.float().mean().item() - 0.7) < 0.02


def test_weight_scaling_dropout_scales_at_evaluation_and_matches_the_training_mean():
    torch.manual_seed(1)
    x = torch.rand(4, 7, dtype=torch.float64)
    d = WeightScalingDropout(0.5)
    d.eval()
    torch.testing.assert_close(d(x), 0.5 * x)
    d.train()
    mean = torch.stack([d(x) for _ in range(4000)]).mean(0)
    torch.testing.assert_close(mean, d.eval()(x), atol=0.03, rtol=0)


def test_weight_scaling_dropout_with_p_zero_is_the_identity():
    x = torch.randn(3, 5)
    for mode in (True, False):
        assert torch.equal(WeightScalingDropout(0.0).train(mode)(x), x)


def test_the_two_dropout_forms_differ_only_by_the_next_layers_scale():
    """Linear(W) after Kim's form = Linear((1 − p)·W) after inverted dropout, in evaluation and on
    the same training mask: the reason a max-norm limit means different things under the two."""
    torch.manual_seed(2)
    p, x = 0.5, torch.randn(6, 10, dtype=torch.float64)
    kim, inv = nn.Linear(10, 3).double(), nn.Linear(10, 3).double()
    with torch.no_grad():
        inv.weight.copy_((1 - p) * kim.weight)
        inv.bias.copy_(kim.bias)
    torch.testing.assert_close(kim(WeightScalingDropout(p).eval()(x)), inv(nn.Dropout(p).eval()(x)))
    mask = torch.bernoulli(torch.full_like(x, 1 - p))
    torch.testing.assert_close(kim(x * mask), inv(x * mask / (1 - p)))


@pytest.mark.parametrize("p", [1.0, -0.1, True, "0.5", None])
def test_dropout_probability_out_of_range_raises(p):
    with pytest.raises(ValueError, match="dropout probability"):
        WeightScalingDropout(p)
    with pytest.raises(ValueError, match="dropout probability"):
        make_dropout(p, "train")


def test_make_dropout_picks_the_form_and_rejects_unknown_scalings():
    assert type(make_dropout(0.5)) is nn.Dropout
    assert isinstance(make_dropout(0.5, "test"), WeightScalingDropout)
    with pytest.raises(ValueError, match="scaling"):
        make_dropout(0.5, "inverted")


# ----------------------------------------------------------------------------- MLPConv


def test_mlpconv_is_kxk_then_1x1_convs_each_followed_by_relu():
    m = MLPConv(3, (192, 160, 96), kernel_size=5, padding=2)
    convs = [x for x in m.modules() if isinstance(x, nn.Conv2d)]
    relus = [x for x in m.modules() if isinstance(x, nn.ReLU)]
    assert [c.kernel_size for c in convs] == [(5, 5), (1, 1), (1, 1)]
    assert len(relus) == 3 and not any(isinstance(x, nn.BatchNorm2d) for x in m.modules())
    assert m.out_channels == 96
    assert sum(p.numel() for p in m.parameters()) == (3 * 25 * 192 + 192) + (192 * 160 + 160) + (160 * 96 + 96)
    y = m(torch.randn(2, 3, 32, 32))
    assert y.shape == (2, 96, 32, 32) and (y >= 0).all()


def test_mlpconv_batch_norm_flag_and_1d():
    m = MLPConv(4, (8, 8), kernel_size=3, stride=2, dims=1, batch_norm=True)
    assert sum(isinstance(x, nn.BatchNorm1d) for x in m.modules()) == 2
    assert m(torch.randn(2, 4, 11)).shape == (2, 8, 5)


# ----------------------------------------------------------------------------- init_weights


def test_kaiming_init_uses_fan_out_for_convs_and_resets_norms():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(16, 64, 3), nn.BatchNorm2d(64), nn.Linear(400, 300))
    with torch.no_grad():
        model[1].weight.fill_(3.0)
        model[1].bias.fill_(2.0)
    assert init_weights(model, "kaiming") is model
    fan_out = 64 * 9
    assert model[0].weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.1)
    assert model[2].weight.std().item() == pytest.approx(math.sqrt(2 / 400), rel=0.1)
    assert (model[0].bias == 0).all() and (model[2].bias == 0).all()
    assert (model[1].weight == 1).all() and (model[1].bias == 0).all()


def test_xavier_and_normal_init():
    torch.manual_seed(0)
    lin = nn.Linear(300, 200)
    init_weights(lin, "glorot", nonlinearity="linear")
    bound = math.sqrt(6 / (300 + 200))
    assert lin.weight.abs().max().item() <= bound + 1e-7
    assert lin.weight.abs().max().item() > 0.9 * bound
    init_weights(lin, "normal")
    assert lin.weight.std().item() == pytest.approx(0.01, rel=0.1)


def test_init_weights_bad_scheme_or_nonlinearity_raise():
    with pytest.raises(ValueError, match="scheme"):
        init_weights(nn.Linear(2, 2), "orthogonalish")
    with pytest.raises(ValueError, match="nonlinearity"):
        init_weights(nn.Linear(2, 2), "kaiming", nonlinearity="swish")
    with pytest.raises(TypeError, match="module"):
        init_weights("not a module")


def test_init_weights_zero_init_residual_zeroes_last_bn_gamma():
    from seqcnn.engine.layers import Bottleneck, ResidualBlock

    model = nn.Sequential(ResidualBlock(8, 8, dims=1), Bottleneck(32, 8, dims=1))
    init_weights(model, zero_init_residual=True)
    assert (model[0].norms[-1].weight == 0).all() and (model[1].bn3.weight == 0).all()
    assert (model[0].norms[0].weight == 1).all()


# ----------------------------------------------------------------------------- the catalogue


def test_every_name_in_all_resolves_from_layers():
    for name in layers.__all__:
        assert getattr(layers, name) is not None, name
    with pytest.raises(AttributeError):
        layers.not_a_layer  # noqa: B018


def test_submodules_import_in_any_order():
    """layers re-exports pooling/blocks lazily, so importing either submodule first has no cycle."""
    names = ["seqcnn.engine.layers", "seqcnn.engine.pooling", "seqcnn.engine.blocks"]
    pkg = sys.modules["seqcnn.engine"]
    saved = {n: sys.modules[n] for n in names if n in sys.modules}
    saved_attrs = {n: getattr(pkg, n.rsplit(".", 1)[1]) for n in names if hasattr(pkg, n.rsplit(".", 1)[1])}
    try:
        for first in ("seqcnn.engine.blocks", "seqcnn.engine.pooling"):
            for n in names:
                sys.modules.pop(n, None)
            importlib.import_module(first)
            fresh = importlib.import_module("seqcnn.engine.layers")
            assert fresh.ResidualBlock.__module__ == "seqcnn.engine.blocks"
            assert fresh.StochasticPool2d.__module__ == "seqcnn.engine.pooling"
    finally:
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)
        for n, mod in saved_attrs.items():
            setattr(pkg, n.rsplit(".", 1)[1], mod)


def test_summary_sees_same_convs_as_convs_with_their_receptive_field():
    from seqcnn.engine.summary import summary

    model = nn.Sequential(*[make_conv(1, 1 if d == 1 else 4, 4, 2, padding="same", dilation=d) for d in (1, 2, 4)])
    s = summary(model, (1, 50))
    assert s.receptive_field == 8  # 1 + (2−1)·(1 + 2 + 4)
    assert s.total_params == sum(p.numel() for p in model.parameters())
