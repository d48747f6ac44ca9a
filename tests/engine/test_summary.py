"""summary(): unique parameters, MACs, activation memory and receptive fields, pinned by golden
examples, by hand-computed numbers and by an empirical gradient check."""
from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from seqcnn.engine.shapes import receptive_field
from seqcnn.engine.summary import LayerRow, Summary, summary


# --------------------------------------------------------------------------- receptive field: golden
def test_three_stacked_3x3_convs_have_receptive_field_7():
    net = nn.Sequential(*[m for _ in range(3) for m in (nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())])
    s = summary(net, (4, 16, 16))
    assert s.receptive_field == 7
    assert s.receptive_field_per_dim == (7, 7)
    assert [r.receptive_field for r in s.rows if r.kind == "Conv2d"] == [3, 5, 7]


def test_kernel_2_with_dilations_1_2_4_has_receptive_field_8():
    net = nn.Sequential(*[nn.Conv1d(2, 2, 2, dilation=d) for d in (1, 2, 4)])
    s = summary(net, (2, 32))
    assert s.receptive_field == 8
    assert s.rows[-1].output_shape == (1, 2, 32 - 7)


def test_strided_layers_multiply_the_jump():
    # AlexNet conv1 11/4 then pool 3/2: 11 then 11 + 2·4 = 19
    net = nn.Sequential(nn.Conv2d(3, 8, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2))
    s = summary(net, (3, 227, 227))
    assert [r.receptive_field for r in s.rows] == [11, 11, 19]
    assert s.rows[0].output_shape == (1, 8, 55, 55)
    assert s.rows[-1].output_shape == (1, 8, 27, 27)


def test_receptive_field_is_the_max_over_parallel_branches():
    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.narrow = nn.Conv1d(1, 2, 3, padding=1)
            self.wide = nn.Sequential(nn.Conv1d(1, 2, 5, padding=2), nn.Conv1d(2, 2, 5, padding=2))
            self.mix = nn.Conv1d(4, 1, 1)

        def forward(self, x):
            return self.mix(torch.cat([self.narrow(x), self.wide(x)], dim=1))

    s = summary(TwoBranches(), (1, 40))
    assert s.receptive_field == 9  # wide branch 5 + 4; the 1×1 mix keeps it
    assert s.rows[-1].name == "mix" and s.rows[-1].receptive_field == 9


def test_residual_shortcut_propagates_through_the_add():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
            self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
            self.after = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            y = x + self.conv2(F.relu(self.conv1(x)))
            return self.after(F.relu(y))

    s = summary(Residual(), (2, 12, 12))
    assert s.receptive_field == 7


def test_global_pooling_ends_the_spatial_extent():
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.AvgPool2d(6), nn.Flatten(), nn.Linear(4, 2)  # 8×8 → 6×6 → global 1×1
    )
    s = summary(net, (3, 8, 8))
    assert s.receptive_field == 3  # the conv, not the window that covers everything
    assert s.rows[1].receptive_field is None
    net2 = nn.Sequential(nn.Conv2d(3, 4, 5), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    assert summary(net2, (3, 16, 16)).receptive_field == 5


def test_adaptive_pool_that_divides_the_input_acts_like_a_plain_pool():
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.AdaptiveMaxPool2d((4, 4)))
    s = summary(net, (1, 8, 8))
    assert s.rows[-1].receptive_field == 3 + 1  # 2×2 / 2 window
    identity = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.AdaptiveAvgPool2d((8, 8)))
    assert summary(identity, (1, 8, 8)).receptive_field == 3


def test_rectangular_kernels_report_per_dimension_and_the_max():
    net = nn.Sequential(nn.Conv2d(1, 2, (3, 7)), nn.Conv2d(2, 2, (3, 1), stride=(2, 1)), nn.MaxPool2d((2, 1)))
    s = summary(net, (1, 20, 20))
    assert s.receptive_field_per_dim == (5 + 2, 7)
    assert s.receptive_field == 7


def test_custom_pool_leaf_without_torch_pool_falls_back_to_its_kernel_size():
    class HandPool1d(nn.Module):  # windows built with Tensor.unfold, not F.max_pool1d
        def __init__(self, kernel_size, stride):
            super().__init__()
            self.kernel_size, self.stride = kernel_size, stride

        def forward(self, x):
            return x.unfold(-1, self.kernel_size, self.stride).amax(-1)

    net = nn.Sequential(nn.Conv1d(1, 1, 3), HandPool1d(2, 2), nn.Conv1d(1, 1, 3))
    s = summary(net, (1, 30))
    assert [r.receptive_field for r in s.rows] == [3, 4, 8]


def test_functional_calls_inside_a_container_get_their_own_rows():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 2, 3))
            self.head = nn.Conv1d(4, 1, 1)  # a child, so Functional is a container, not a leaf

        def forward(self, x):
            return self.head(F.max_pool1d(F.conv1d(x, self.weight, padding=1), 2))

    s = summary(Functional(), (2, 10))
    assert [(r.name, r.kind) for r in s.rows] == [
        ("Functional.conv1d", "conv1d"), ("Functional.max_pool1d", "max_pool1d"), ("head", "Conv1d")
    ]
    assert s.rows[0].params == 24 and s.total_params == 24 + 5
    assert s.rows[0].macs == 4 * 10 * 2 * 3
    assert s.receptive_field == 4
    assert s.activation_elements == 20 + 40 + 20 + 5


def test_a_leaf_module_calling_functions_is_one_row_with_their_macs():
    class OwnConv(nn.Module):  # a leaf (no children) with its own weight
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 2, 3))

        def forward(self, x):
            return F.conv1d(F.pad(x, (0, 2)), self.weight)

    s = summary(OwnConv(), (2, 10))
    assert len(s.rows) == 1 and s.rows[0].category == "conv"
    assert s.rows[0].macs == 10 * 4 * 2 * 3 and s.rows[0].params == 24
    assert s.receptive_field == 3


# --------------------------------------------------------------------------- receptive field: empirical
def _gradient_span(net, shape, dims):
    """Input span (per spatial dim) with non-zero gradient for the centre output unit (all channels)."""
    x = torch.rand(1, *shape, dtype=torch.float64, requires_grad=True) + 0.5
    x.retain_grad()
    y = net(x)
    centre = tuple(s // 2 for s in y.shape[2:])
    y[(0, slice(None)) + centre].sum().backward()
    nz = x.grad[0].abs().sum(0) > 0
    spans = []
    for d in range(dims):
        other = tuple(i for i in range(dims) if i != d)
        idx = torch.nonzero(nz.any(dim=other) if other else nz).flatten()
        spans.append(int(idx.max() - idx.min() + 1))
    return tuple(spans)


def _positive(net):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.abs() + 0.1)
    return net.double()


def _summary_if_it_fits(net, size):
    """The summary, or (hypothesis ``assume``) skip a drawn chain whose strides and dilations
    shrink the input below a kernel (e.g. three stride-2 pools, then a dilated 4×4 conv)."""
    from seqcnn.engine.summary import InputSizeError

    try:
        return summary(net, size, dtype=torch.float64)
    except InputSizeError:
        assume(False)


@st.composite
def chain(draw, dims):
    layers, c = [], 1
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(1, 4))
        s = draw(st.integers(1, 2))
        d = draw(st.integers(1, 3))
        if draw(st.booleans()):
            out = draw(st.integers(1, 3))
            conv = nn.Conv1d if dims == 1 else nn.Conv2d
            layers += [conv(c, out, k, stride=s, dilation=d), nn.ReLU()]
            c = out
        else:
            pool = nn.AvgPool1d if dims == 1 else nn.AvgPool2d
            layers.append(pool(k, stride=s))
    return layers


@settings(max_examples=20, deadline=None)
@given(layers=chain(1))
def test_receptive_field_equals_span_of_nonzero_gradient_1d(layers):
    net = _positive(nn.Sequential(*layers))
    s = _summary_if_it_fits(net, (1, 120))
    assert s.receptive_field is not None
    assert _gradient_span(net, (1, 120), 1) == (s.receptive_field,)


@settings(max_examples=10, deadline=None)
@given(layers=chain(2))
def test_receptive_field_equals_span_of_nonzero_gradient_2d(layers):
    net = _positive(nn.Sequential(*layers))
    s = _summary_if_it_fits(net, (1, 70, 70))
    assert _gradient_span(net, (1, 70, 70), 2) == s.receptive_field_per_dim


def test_receptive_field_of_a_dilated_strided_2d_net_equals_gradient_span():
    net = _positive(
        nn.Sequential(
            nn.Conv2d(1, 3, (3, 5), stride=(2, 1), dilation=(1, 2)), nn.ReLU(),
            nn.AvgPool2d(2), nn.Conv2d(3, 2, 3, dilation=2),
        )
    )
    s = summary(net, (1, 60, 60), dtype=torch.float64)
    assert _gradient_span(net, (1, 60, 60), 2) == s.receptive_field_per_dim
    expected = (receptive_field([(3, 2, 1), (2, 2), (3, 1, 2)]), receptive_field([(5, 1, 2), (2, 2), (3, 1, 2)]))
    assert s.receptive_field_per_dim == expected


# --------------------------------------------------------------------------- parameters
def test_tied_weights_are_counted_once():
    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 8)
            self.conv = nn.Conv1d(8, 8, 3, padding=1)
            self.out = nn.Linear(8, 50, bias=False)
            self.out.weight = self.embed.weight  # tied

        def forward(self, ids):
            h = self.conv(self.embed(ids).transpose(1, 2)).transpose(1, 2)
            return self.out(h)

    model = TiedLM()
    s = summary(model, (12,), dtype=torch.long)
    assert s.total_params == 50 * 8 + (8 * 8 * 3 + 8)
    assert sum(r.params for r in s.rows) == s.total_params
    rows = {r.name: r for r in s.rows}
    assert rows["embed"].params == 400 and rows["out"].params == 0
    assert rows["out"].macs == 12 * 8 * 50  # the tied layer still computes


def test_shared_module_called_twice_gives_two_rows_but_one_parameter_count():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 2, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    s = summary(Twice(), (2, 10))
    assert [r.name for r in s.rows] == ["conv", "conv"]
    assert [r.params for r in s.rows] == [14, 0]
    assert s.total_params == 14
    assert s.receptive_field == 5
    assert s.total_macs == 2 * (2 * 10 * 2 * 3)


def test_frozen_parameters_are_not_trainable():
    net = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
    net[0].weight.requires_grad_(False)
    s = summary(net, (5,), dtype=torch.long)
    assert s.total_params == 40 + 10
    assert s.trainable_params == 10
    assert s.non_trainable_params == 40


# --------------------------------------------------------------------------- MACs
def test_macs_of_a_3x3_64_to_64_conv_on_56x56_is_115_6_million():
    s = summary(nn.Conv2d(64, 64, 3, padding=1, bias=False), (64, 56, 56))
    assert s.total_macs == 56 * 56 * 64 * 64 * 9 == 115_605_504
    assert s.flops == 2 * s.total_macs


def test_grouped_and_depthwise_conv_macs_divide_by_groups():
    s = summary(nn.Conv2d(8, 16, 3, groups=4, bias=False), (8, 10, 10))
    assert s.total_macs == (8 * 8 * 16) * (8 // 4) * 9
    dw = summary(nn.Conv1d(6, 6, 5, groups=6), (6, 20))
    assert dw.total_macs == (16 * 6) * 1 * 5


def test_linear_macs_include_leading_dimensions():
    s = summary(nn.Linear(10, 3), (7, 10))  # (N, 7, 10) → (N, 7, 3)
    assert s.total_macs == 7 * 10 * 3


def test_transposed_conv_macs_count_input_positions():
    s = summary(nn.ConvTranspose1d(4, 2, 3, stride=2), (4, 10))
    assert s.total_macs == (4 * 10) * 2 * 3
    assert s.rows[0].output_shape == (1, 2, 21)


def test_macs_and_activations_are_per_example_whatever_the_batch_size():
    net = nn.Sequential(nn.Conv1d(2, 3, 3), nn.MaxPool1d(2))
    one = summary(net, (2, 16))
    four = summary(net, (2, 16), batch_size=4)
    assert one.total_macs == four.total_macs == 14 * 3 * 2 * 3
    assert one.activation_elements == four.activation_elements
    assert four.rows[0].output_shape == (4, 3, 14)


def test_small_vgg_like_net_matches_hand_computed_params_macs_activations():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 32), nn.ReLU(), nn.Dropout(), nn.Linear(32, 10),
    )
    s = summary(net, (3, 16, 16))
    params = (27 * 8 + 8) + (72 * 8 + 8) + (72 * 16 + 16) + (256 * 32 + 32) + (32 * 10 + 10)
    macs = 16 * 16 * 8 * 27 + 16 * 16 * 8 * 72 + 8 * 8 * 16 * 72 + 256 * 32 + 32 * 10
    acts = 3 * 256 + 8 * 256 + 8 * 256 + 8 * 64 + 16 * 64 + 16 * 16 + 32 + 10
    assert s.total_params == params == sum(p.numel() for p in net.parameters())
    assert s.total_macs == macs
    assert s.activation_elements == acts
    assert s.receptive_field == receptive_field([3, 3, (2, 2), 3, (2, 2)]) == 12  # 3, 5, 6, 10, 12
    assert [r.activation_elements for r in s.rows if r.kind == "ReLU"] == [0, 0, 0, 0]


def _vgg16():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    head = [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 1000)]
    return nn.Sequential(*layers, *head)


def test_vgg16_on_the_meta_device_matches_the_seed_memory_table():
    with torch.device("meta"):  # shapes only: no 15 GMAC forward pass in the unit tests
        model = _vgg16()
    s = summary(model, (3, 224, 224))
    seed_table = [
        224 * 224 * 3,
        224 * 224 * 64, 224 * 224 * 64, 112 * 112 * 64,
        112 * 112 * 128, 112 * 112 * 128, 56 * 56 * 128,
        56 * 56 * 256, 56 * 56 * 256, 56 * 56 * 256, 28 * 28 * 256,
        28 * 28 * 512, 28 * 28 * 512, 28 * 28 * 512, 14 * 14 * 512,
        14 * 14 * 512, 14 * 14 * 512, 14 * 14 * 512, 7 * 7 * 512,
        4096, 4096, 1000,
    ]
    assert s.activation_elements == sum(seed_table) == 15_237_608  # "about 15.2M" per image
    assert [r.activation_elements for r in s.rows if r.activation_elements] == seed_table[1:]
    assert s.total_params == 138_357_544  # "138M"
    assert s.total_macs == 15_470_264_320  # 15.5 G MACs (≈ 31 GFLOPs)
    assert s.receptive_field == 212
    assert "138,357,544" in str(s)


class _Inception(nn.Module):
    """GoogLeNet's module: naive (reduce=None) or with 1×1 reductions (Szegedy et al. 2014)."""

    def __init__(self, c_in, c1, c3, c5, reduce3=None, reduce5=None, pool_proj=None):
        super().__init__()
        self.b1 = nn.Conv2d(c_in, c1, 1)
        self.b3 = nn.Sequential(*([nn.Conv2d(c_in, reduce3, 1)] if reduce3 else []),
                                nn.Conv2d(reduce3 or c_in, c3, 3, padding=1))
        self.b5 = nn.Sequential(*([nn.Conv2d(c_in, reduce5, 1)] if reduce5 else []),
                                nn.Conv2d(reduce5 or c_in, c5, 5, padding=2))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), *([nn.Conv2d(c_in, pool_proj, 1)] if pool_proj else []))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], dim=1)


def test_seed_naive_inception_module_costs_854m_ops():
    with torch.device("meta"):
        module = _Inception(256, 128, 192, 96)
    s = summary(module, (256, 28, 28))
    # the seed: [1x1,128] 28·28·128·1·1·256 + [3x3,192] 28·28·192·3·3·256 + [5x5,96] 28·28·96·5·5·256
    assert s.total_macs == 28 * 28 * (128 * 256 + 192 * 9 * 256 + 96 * 25 * 256) == 854_196_224
    assert s.output_shapes == ((1, 128 + 192 + 96 + 256, 28, 28),)
    assert s.receptive_field == 5


def test_seed_inception_with_1x1_reductions_costs_the_sum_of_its_listed_products():
    with torch.device("meta"):
        module = _Inception(256, 128, 192, 96, reduce3=64, reduce5=64, pool_proj=64)
    s = summary(module, (256, 28, 28))
    listed = 28 * 28 * (64 * 256 + 64 * 256 + 128 * 256 + 192 * 9 * 64 + 96 * 25 * 64 + 64 * 256)
    # the slide's own products add up to 271M (its printed total "358M" does not match them)
    assert s.total_macs == listed == 271_351_808


def test_googlenet_table_inception_3a_costs_128m_macs():
    with torch.device("meta"):
        module = _Inception(192, 64, 128, 32, reduce3=96, reduce5=16, pool_proj=32)
    s = summary(module, (192, 28, 28))
    assert s.output_shapes == ((1, 256, 28, 28),)
    assert round(s.total_macs / 1e6) == 128  # table: "128M" ops
    weights = s.total_params - (64 + 96 + 128 + 16 + 32 + 32)
    assert weights == 163_328 and int(weights / 1024) == 159  # table: "159K" (159.5 Ki weights, biases left out)


# --------------------------------------------------------------------------- text / long inputs
class _TextCNN(nn.Module):
    def __init__(self, vocab=30, dim=6, widths=(3, 4, 5), filters=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(dim, filters, w) for w in widths])
        self.fc = nn.Linear(filters * len(widths), 2)

    def forward(self, ids):
        x = self.embed(ids).transpose(1, 2)  # (N, E, L)
        pooled = [F.relu(conv(x)).amax(dim=-1) for conv in self.convs]  # max over time
        return self.fc(torch.cat(pooled, dim=1))


def test_embedding_text_cnn_with_long_input():
    s = summary(_TextCNN(), (20,), dtype=torch.long)
    assert s.input_shapes == ((1, 20),)
    rows = {r.name: r for r in s.rows}
    assert rows["embed"].output_shape == (1, 20, 6)
    assert rows["convs.2"].output_shape == (1, 4, 16)
    assert s.receptive_field == 5  # the widest filter; max-over-time is global
    assert s.total_params == 30 * 6 + sum(6 * 4 * w + 4 for w in (3, 4, 5)) + (12 * 2 + 2)
    assert s.total_macs == sum((20 - w + 1) * 4 * 6 * w for w in (3, 4, 5)) + 12 * 2


def test_float_input_to_an_embedding_model_is_a_clear_error_from_torch_not_a_silent_cast():
    with pytest.raises(RuntimeError):
        summary(_TextCNN(), (20,))


def test_multi_input_model_with_per_input_dtypes():
    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 3)
            self.conv = nn.Conv1d(3 + 2, 4, 3)

        def forward(self, ids, extra):
            return self.conv(torch.cat([self.embed(ids).transpose(1, 2), extra], dim=1))

    s = summary(TwoInputs(), ((9,), (2, 9)), dtype=(torch.long, torch.float32))
    assert s.input_shapes == ((1, 9), (1, 2, 9))
    assert s.input_elements == 9 + 18
    assert s.rows[-1].output_shape == (1, 4, 7)
    assert s.receptive_field == 3


def test_tensor_inputs_are_used_as_given():
    net = nn.Conv1d(2, 3, 3)
    s = summary(net, torch.zeros(5, 2, 11))
    assert s.batch_size == 5 and s.rows[0].output_shape == (5, 3, 9)


# --------------------------------------------------------------------------- state hygiene
def test_model_is_summarised_in_eval_mode_and_modes_are_restored():
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return x

    net = nn.Sequential(nn.Conv1d(1, 1, 3), nn.BatchNorm1d(1), Spy())
    net.train()
    net[1].eval()  # mixed modes must come back exactly
    stats = net[1].running_mean.clone()
    summary(net, (1, 10))
    assert seen == [(False, False)]
    assert net.training and net[0].training and not net[1].training and net[2].training
    torch.testing.assert_close(net[1].running_mean, stats)


def test_hooks_are_removed_and_modes_restored_even_when_forward_fails():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    net = nn.Sequential(nn.Conv1d(1, 1, 3), Broken())
    net.train()
    with pytest.raises(RuntimeError, match="boom"):
        summary(net, (1, 10))
    assert net.training
    for m in net.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
    # the model still works normally afterwards, outside any tracing mode
    net[0](torch.zeros(1, 1, 10))
    assert summary(nn.Sequential(nn.Conv1d(1, 1, 3)), (1, 10)).receptive_field == 3


# --------------------------------------------------------------------------- output formats
def test_str_prints_an_aligned_table_with_totals():
    s = summary(nn.Sequential(nn.Conv2d(3, 10, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)), (3, 32, 32))
    text = str(s)
    lines = text.splitlines()
    table = [ln for ln in lines if ln.startswith(("(input)", "0 ", "1 ", "2 ", "Layer"))]
    assert len(table) == 5 and len({len(ln.rstrip()) for ln in table[:1]}) == 1
    header = next(ln for ln in lines if ln.startswith("Layer"))
    assert all(len(ln) == len(header) for ln in table)
    assert "Total params: 760" in text
    assert "MACs" in text and "FLOPs = 2 × MACs" in text
    assert "MB" in text and "Receptive field: 6" in text


def test_to_dict_is_json_serialisable_and_rows_are_dataclasses():
    s = summary(nn.Sequential(nn.Conv1d(2, 3, 3), nn.Flatten(), nn.Linear(3 * 8, 2)), (2, 10))
    assert isinstance(s, Summary) and all(isinstance(r, LayerRow) for r in s.rows)
    d = json.loads(json.dumps(s.to_dict()))
    assert d["total_params"] == s.total_params
    assert d["rows"][0]["output_shape"] == [1, 3, 8]
    assert d["rows"][0]["receptive_field"] == 3
    assert d["rows"][2]["receptive_field"] is None
    assert d["activation_bytes"] == 4 * s.activation_elements
    assert math.isclose(d["flops"], 2 * d["total_macs"])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "model, input_size, kwargs, exc, name",
    [
        ("not a model", (3, 8), {}, TypeError, "model"),
        (nn.Conv1d(3, 2, 3), (3, 0), {}, ValueError, "input_size"),
        (nn.Conv1d(3, 2, 3), (3, -8), {}, ValueError, "input_size"),
        (nn.Conv1d(3, 2, 3), (3, 8.0), {}, TypeError, "input_size"),
        (nn.Conv1d(3, 2, 3), "3x8", {}, TypeError, "input_size"),
        (nn.Conv1d(3, 2, 3), (3, 8), dict(batch_size=0), ValueError, "batch_size"),
        (nn.Conv1d(3, 2, 3), (3, 8), dict(batch_size=1.5), TypeError, "batch_size"),
        (nn.Conv1d(3, 2, 3), (3, 8), dict(dtype="float32"), TypeError, "dtype"),
        (nn.Conv1d(3, 2, 3), ((3, 8), (3, 8)), dict(dtype=(torch.float32,)), ValueError, "dtype"),
        (nn.Conv1d(3, 2, 3), (3, 8), dict(device="tpu"), ValueError, "device"),
    ],
)
def test_summary_rejects_bad_input_naming_the_argument(model, input_size, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        summary(model, input_size, **kwargs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_summary_on_cuda_uses_the_model_device():
    net = nn.Sequential(nn.Conv2d(3, 4, 3)).cuda()
    s = summary(net, (3, 8, 8))
    assert s.total_macs == 6 * 6 * 4 * 27


# ---------------------------------------------------------------- input sizes that do not fit
def test_batch_first_input_size_says_what_the_model_expects():
    from seqcnn.engine.summary import InputSizeError

    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    with pytest.raises(ValueError) as info:
        summary(net, (1, 3, 224, 224))  # torchinfo's habit: batch first
    msg = str(info.value)
    assert isinstance(info.value, InputSizeError) and isinstance(info.value, RuntimeError)
    assert "input_size=(1, 3, 224, 224)" in msg and "(1, 1, 3, 224, 224)" in msg
    assert "in_channels=3" in msg and "(3, H, W)" in msg
    assert "WITHOUT the batch dimension" in msg and "input_size=(3, 224, 224) works" in msg
    assert summary(net, (3, 224, 224)).total_params == 3 * 8 * 9 + 8 + 8 * 2 + 2  # the hint is right


@pytest.mark.parametrize("net, size, words, not_words", [
    (nn.Sequential(nn.Conv2d(3, 4, 3)), (1, 32, 32), ["in_channels=3", "(3, H, W)", "(1, 32, 32)"], ["works"]),
    (nn.Sequential(nn.Conv1d(2, 4, 3)), (1, 2, 50), ["in_channels=2", "(2, L)", "input_size=(2, 50) works"], []),
    (nn.Sequential(nn.Linear(50, 2)), (49,), ["in_features=50", "input_size=(50,)"], ["works"]),
    (nn.Sequential(nn.Embedding(10, 3)), (5,), ["token ids", "dtype=torch.long"], []),
])
def test_input_sizes_that_do_not_fit_name_the_first_layer(net, size, words, not_words):
    with pytest.raises(ValueError) as info:
        summary(net, size)
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    for w in not_words:
        assert w not in msg, (w, msg)
    assert "\n" not in msg


def test_errors_unrelated_to_the_input_shape_propagate_unchanged():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("a bug in the model")

    with pytest.raises(ValueError, match="^a bug in the model$"):
        summary(nn.Sequential(nn.Conv1d(1, 1, 3), Broken()), (1, 10))
