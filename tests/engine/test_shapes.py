"""Shape arithmetic: the lecture seeds' worked examples, torch as ground truth, bad input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from seqcnn.engine.shapes import (
    conv_output_size,
    conv_params,
    receptive_field,
    receptive_field_step,
    same_padding,
)

PROPERTY = settings(max_examples=50, deadline=None)


# --------------------------------------------------------------------------- seed worked examples
def test_seed_32x32x3_ten_5x5_filters_pad_2_keeps_32x32_and_has_760_params():
    assert conv_output_size((32, 32), 5, stride=1, padding=2) == (32, 32)
    assert conv_params(3, 10, (5, 5)) == 760  # (5·5·3 + 1) · 10
    conv = nn.Conv2d(3, 10, 5, padding=2)
    assert sum(p.numel() for p in conv.parameters()) == 760
    assert conv(torch.zeros(1, 3, 32, 32)).shape == (1, 10, 32, 32)


def test_seed_7x7_input_3x3_filter_strides_1_2_3():
    assert conv_output_size(7, 3, stride=1) == 5
    assert conv_output_size(7, 3, stride=2) == 3
    assert conv_output_size(7, 3, stride=3) == 2  # torch floors (7 − 3)/3 + 1 = 2.33
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(7, 3, stride=3, strict=True)
    assert conv_output_size(7, 3, stride=2, strict=True) == 3


def test_seed_7x7_with_3x3_and_border_1_keeps_7x7():
    assert conv_output_size((7, 7), (3, 3), padding=1) == (7, 7)


def test_seed_alexnet_conv1_227_11_stride_4_gives_55_and_pool_gives_27():
    assert conv_output_size(227, 11, stride=4) == 55
    assert conv_output_size(227, 11, stride=4, strict=True) == 55
    assert conv_output_size(55, 3, stride=2) == 27
    assert conv_params(3, 96, (11, 11)) == 34_944  # 11·11·3·96 + 96


def test_seed_alexnet_table_end_to_end():
    size = conv_output_size(227, 11, stride=4)  # CONV1 55
    size = conv_output_size(size, 3, stride=2)  # POOL1 27
    size = conv_output_size(size, 5, padding=2)  # CONV2 27
    size = conv_output_size(size, 3, stride=2)  # POOL2 13
    for _ in range(3):
        size = conv_output_size(size, 3, padding=1)  # CONV3-5 13
    assert size == 13
    assert conv_output_size(size, 3, stride=2) == 6  # POOL3


def test_seed_vgg_weights_per_layer():
    assert conv_params(3, 64, (3, 3), bias=False) == 1_728
    assert conv_params(64, 64, (3, 3), bias=False) == 36_864
    assert conv_params(256, 512, (3, 3), bias=False) == 1_179_648


def test_googlenet_table_conv1_7x7_stride_2_on_224_gives_112():
    assert conv_output_size(224, 7, stride=2, padding=3) == 112
    assert conv_output_size(112, 3, stride=2, padding=1) == 56


# --------------------------------------------------------------------------- torch as ground truth
@st.composite
def conv_case(draw, dims):
    size = tuple(draw(st.integers(1, 40)) for _ in range(dims))
    kernel = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 5)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 4)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    return size, kernel, stride, padding, dilation


def _torch_out_or_none(layer, x):
    try:
        return tuple(layer(x).shape[2:])
    except RuntimeError:
        return None


@PROPERTY
@given(case=conv_case(1))
def test_conv_output_size_matches_nn_conv1d(case):
    size, kernel, stride, padding, dilation = case
    layer = nn.Conv1d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    expected = _torch_out_or_none(layer, torch.zeros(1, 1, *size))
    if expected is None:
        with pytest.raises(ValueError, match="kernel_size"):
            conv_output_size(size[0], kernel[0], stride[0], padding[0], dilation[0])
    else:
        assert conv_output_size(size[0], kernel[0], stride[0], padding[0], dilation[0]) == expected[0]


@PROPERTY
@given(case=conv_case(2))
def test_conv_output_size_matches_nn_conv2d(case):
    size, kernel, stride, padding, dilation = case
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    expected = _torch_out_or_none(layer, torch.zeros(1, 1, *size))
    if expected is None:
        with pytest.raises(ValueError):
            conv_output_size(size, kernel, stride, padding, dilation)
    else:
        assert conv_output_size(size, kernel, stride, padding, dilation) == expected


@PROPERTY
@given(case=conv_case(1), ceil_mode=st.booleans())
def test_conv_output_size_matches_nn_maxpool1d(case, ceil_mode):
    size, kernel, stride, padding, dilation = case
    assume(padding[0] <= kernel[0] // 2)  # torch's own pooling limit
    layer = nn.MaxPool1d(kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    expected = _torch_out_or_none(layer, torch.zeros(1, 1, *size))
    if expected is None or expected[0] < 1:
        with pytest.raises(ValueError):
            conv_output_size(size[0], kernel[0], stride[0], padding[0], dilation[0], ceil_mode=ceil_mode)
    else:
        got = conv_output_size(size[0], kernel[0], stride[0], padding[0], dilation[0], ceil_mode=ceil_mode)
        assert got == expected[0]


@PROPERTY
@given(case=conv_case(2), ceil_mode=st.booleans())
def test_conv_output_size_matches_nn_maxpool2d(case, ceil_mode):
    size, kernel, stride, padding, dilation = case
    assume(all(p <= k // 2 for p, k in zip(padding, kernel)))
    layer = nn.MaxPool2d(kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    expected = _torch_out_or_none(layer, torch.zeros(1, 1, *size))
    if expected is None or min(expected) < 1:
        with pytest.raises(ValueError):
            conv_output_size(size, kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    else:
        assert conv_output_size(size, kernel, stride, padding, dilation, ceil_mode=ceil_mode) == expected


@PROPERTY
@given(
    cin=st.integers(1, 8), cout=st.integers(1, 8), groups=st.sampled_from([1, 2, 4]),
    kernel=st.tuples(st.integers(1, 5), st.integers(1, 5)), bias=st.booleans(),
)
def test_conv_params_matches_nn_conv2d_parameter_count(cin, cout, groups, kernel, bias):
    cin, cout = cin * groups, cout * groups
    layer = nn.Conv2d(cin, cout, kernel, groups=groups, bias=bias)
    assert conv_params(cin, cout, kernel, bias=bias, groups=groups) == sum(p.numel() for p in layer.parameters())


def test_conv_params_1d_int_kernel():
    assert conv_params(300, 100, 3) == 300 * 100 * 3 + 100  # Kim's trigram bank
    assert conv_params(4, 8, 3, groups=4, bias=False) == 8 * 1 * 3


# --------------------------------------------------------------------------- same padding
def test_same_padding_puts_the_extra_zero_on_the_right():
    assert same_padding(3) == (1, 1)
    assert same_padding(4) == (1, 2)
    assert same_padding(1) == (0, 0)
    assert same_padding(2, dilation=3) == (1, 2)
    assert same_padding(3, dilation=2) == (2, 2)
    assert same_padding((3, 4)) == ((1, 1), (1, 2))


@settings(max_examples=60, deadline=None)
@given(kernel=st.integers(1, 41), dilation=st.integers(1, 4), length=st.integers(1, 200))
def test_same_padding_keeps_the_length_for_any_kernel_and_dilation(kernel, dilation, length):
    left, right = same_padding(kernel, dilation)
    x = torch.randn(1, 1, length)
    w = torch.randn(1, 1, kernel)
    y = F.conv1d(F.pad(x, (left, right)), w, dilation=dilation)
    assert y.shape[-1] == length
    assert conv_output_size(length + left + right, kernel, dilation=dilation) == length


@settings(max_examples=25, deadline=None)
@given(kernel=st.integers(1, 9), dilation=st.integers(1, 3), length=st.integers(1, 30))
def test_same_padding_equals_torch_padding_same(kernel, dilation, length):
    left, right = same_padding(kernel, dilation)
    x = torch.randn(1, 2, length, dtype=torch.float64)
    w = torch.randn(3, 2, kernel, dtype=torch.float64)
    with warnings.catch_warnings():  # torch warns about the copy it makes for asymmetric padding
        warnings.simplefilter("ignore", UserWarning)
        expected = F.conv1d(x, w, padding="same", dilation=dilation)
    got = F.conv1d(F.pad(x, (left, right)), w, dilation=dilation)
    torch.testing.assert_close(got, expected)


# --------------------------------------------------------------------------- receptive field
def test_three_stacked_3x3_convs_see_7x7():
    assert receptive_field([3, 3, 3]) == 7
    assert receptive_field([(3, 1)] * 3) == 7


def test_kernel_2_with_dilations_1_2_4_sees_8():
    assert receptive_field([(2, 1, 1), (2, 1, 2), (2, 1, 4)]) == 8
    assert receptive_field([{"kernel_size": 2, "dilation": d} for d in (1, 2, 4)]) == 8


def test_receptive_field_of_alexnet_conv1_and_pool1_with_jump():
    # conv 11/4: rf 11, jump 4; pool 3/2: rf 11 + 2·4 = 19, jump 8
    assert receptive_field([(11, 4), (3, 2)], return_jump=True) == (19, 8)


def test_receptive_field_of_vgg16_features_is_212():
    convs = [3, 3, (2, 2), 3, 3, (2, 2), 3, 3, 3, (2, 2), 3, 3, 3, (2, 2), 3, 3, 3, (2, 2)]
    assert receptive_field(convs) == 212


def test_receptive_field_empty_chain_is_one_position():
    assert receptive_field([], return_jump=True) == (1, 1)


@PROPERTY
@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=6))
def test_receptive_field_closed_form_matches_recursion(layers):
    expected = 1 + sum((k - 1) * d * int(np.prod([s for _, s, _ in layers[:i]])) for i, (k, _, d) in enumerate(layers))
    assert receptive_field(layers) == expected
    rf, jump = 1, 1
    for k, s, d in layers:
        rf, jump = receptive_field_step(rf, jump, k, s, d)
    assert (rf, jump) == receptive_field(layers, return_jump=True)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        (dict(size=0, kernel_size=3), ValueError, "size"),
        (dict(size=-5, kernel_size=3), ValueError, "size"),
        (dict(size=7, kernel_size=0), ValueError, "kernel_size"),
        (dict(size=7, kernel_size=3, stride=0), ValueError, "stride"),
        (dict(size=7, kernel_size=3, padding=-1), ValueError, "padding"),
        (dict(size=7, kernel_size=3, dilation=0), ValueError, "dilation"),
        (dict(size=7.0, kernel_size=3), TypeError, "size"),
        (dict(size=True, kernel_size=3), TypeError, "size"),
        (dict(size=7, kernel_size=3.5), TypeError, "kernel_size"),
        (dict(size="7", kernel_size=3), TypeError, "size"),
        (dict(size=7, kernel_size=None), TypeError, "kernel_size"),
        (dict(size=3, kernel_size=5), ValueError, "kernel_size"),
        (dict(size=3, kernel_size=3, dilation=2), ValueError, "kernel_size"),
        (dict(size=(7, 7), kernel_size=(3, 3, 3)), ValueError, "kernel_size"),
        (dict(size=(7, 0), kernel_size=3), ValueError, "size"),
        (dict(size=7, kernel_size=3, strict=1), TypeError, "strict"),
    ],
)
def test_conv_output_size_rejects_bad_input_naming_the_argument(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        conv_output_size(**kwargs)


def test_kernel_larger_than_padded_input_raises_but_padding_can_rescue_it():
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_output_size(3, 5)
    assert conv_output_size(3, 5, padding=1) == 1


def test_numpy_integers_are_accepted():
    assert conv_output_size(np.int64(32), np.int32(5), padding=np.int64(2)) == 32


@pytest.mark.parametrize(
    "args, kwargs, exc, name",
    [
        ((3, 10, 5), dict(groups=2), ValueError, "groups"),
        ((4, 10, 5), dict(groups=4), ValueError, "groups"),
        ((0, 10, 5), {}, ValueError, "in_channels"),
        ((3, -1, 5), {}, ValueError, "out_channels"),
        ((3, 10, 0), {}, ValueError, "kernel_size"),
        ((3, 10, (5, 0)), {}, ValueError, "kernel_size"),
        ((3, 10, 2.5), {}, TypeError, "kernel_size"),
        ((3, 10, 5), dict(bias="yes"), TypeError, "bias"),
        ((3, 10, 5), dict(groups=0), ValueError, "groups"),
    ],
)
def test_conv_params_rejects_bad_input_naming_the_argument(args, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        conv_params(*args, **kwargs)


@pytest.mark.parametrize(
    "args, exc, name",
    [((0,), ValueError, "kernel_size"), ((3, 0), ValueError, "dilation"), ((2.0,), TypeError, "kernel_size"),
     ((False,), TypeError, "kernel_size")],
)
def test_same_padding_rejects_bad_input(args, exc, name):
    with pytest.raises(exc, match=name):
        same_padding(*args)


@pytest.mark.parametrize(
    "layers, exc",
    [([(3, 0)], ValueError), ([(0, 1)], ValueError), (["3"], TypeError), ([(3, 1, 1, 1)], TypeError),
     (3, TypeError), ([{"kernel": 3}], ValueError)],
)
def test_receptive_field_rejects_bad_layers(layers, exc):
    with pytest.raises(exc, match="layers"):
        receptive_field(layers)
