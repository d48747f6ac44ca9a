"""Convolution as a matrix product: im2col, conv_as_matmul and the dense conv matrix vs torch."""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from seqcnn.engine.im2col import conv_as_matmul, conv_matrix, im2col

PROPERTY = settings(max_examples=50, deadline=None)


@st.composite
def conv_problem(draw, dims):
    groups = draw(st.sampled_from([1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    n = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    # a spatial size large enough for the dilated kernel
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 12)) for k, p, d in zip(kernel, padding, dilation)
    )
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return dict(groups=groups, c_in=c_in, c_out=c_out, n=n, kernel=kernel, stride=stride, padding=padding,
                dilation=dilation, size=size, bias=bias, seed=seed)


def _tensors(p, dtype=torch.float64):
    g = torch.Generator().manual_seed(p["seed"])
    x = torch.randn(p["n"], p["c_in"], *p["size"], generator=g, dtype=dtype)
    w = torch.randn(p["c_out"], p["c_in"] // p["groups"], *p["kernel"], generator=g, dtype=dtype)
    b = torch.randn(p["c_out"], generator=g, dtype=dtype) if p["bias"] else None
    return x, w, b


@PROPERTY
@given(p=conv_problem(1))
def test_conv_as_matmul_equals_f_conv1d(p):
    x, w, b = _tensors(p)
    kw = dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"])
    torch.testing.assert_close(conv_as_matmul(x, w, b, **kw), F.conv1d(x, w, b, **kw), atol=1e-5, rtol=1e-5)


@PROPERTY
@given(p=conv_problem(2))
def test_conv_as_matmul_equals_f_conv2d(p):
    x, w, b = _tensors(p)
    kw = dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"])
    torch.testing.assert_close(conv_as_matmul(x, w, b, **kw), F.conv2d(x, w, b, **kw), atol=1e-5, rtol=1e-5)


def test_conv_as_matmul_float32_within_1e_5():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 13, 11, generator=g)
    w = torch.randn(6, 2, 3, 3, generator=g)
    b = torch.randn(6, generator=g)
    got = conv_as_matmul(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    expected = F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel, dilation", [(3, 1), (4, 1), (2, 3), (5, 2)])
def test_conv_as_matmul_same_padding_matches_torch_same(kernel, dilation):
    x = torch.randn(2, 3, 17, dtype=torch.float64)
    w = torch.randn(4, 3, kernel, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = F.conv1d(x, w, padding="same", dilation=dilation)
    got = conv_as_matmul(x, w, padding="same", dilation=dilation)
    assert got.shape == x.shape[:1] + (4, 17)
    torch.testing.assert_close(got, expected)
    x2 = torch.randn(1, 2, 9, 8, dtype=torch.float64)
    w2 = torch.randn(3, 2, kernel, kernel + 1, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected2 = F.conv2d(x2, w2, padding="same", dilation=dilation)
    torch.testing.assert_close(conv_as_matmul(x2, w2, padding="same", dilation=dilation), expected2)


def test_conv_as_matmul_keeps_gradients():
    x = torch.randn(1, 2, 8, requires_grad=True)
    w = torch.randn(3, 2, 3, requires_grad=True)
    conv_as_matmul(x, w, padding=1).sum().backward()
    x2, w2 = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    F.conv1d(x2, w2, padding=1).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(w.grad, w2.grad)


# --------------------------------------------------------------------------- im2col
@PROPERTY
@given(p=conv_problem(2))
def test_im2col_2d_equals_f_unfold(p):
    x, _, _ = _tensors(p)
    cols = im2col(x, p["kernel"], p["stride"], p["padding"], p["dilation"])
    expected = F.unfold(x, p["kernel"], dilation=p["dilation"], padding=p["padding"], stride=p["stride"])
    torch.testing.assert_close(cols, expected, atol=0, rtol=0)


def test_im2col_1d_shape_and_columns_are_the_windows():
    x = torch.arange(10.0).reshape(1, 1, 10)
    cols = im2col(x, 3, stride=2, padding=1)
    # (N, C·k, L_out) with L_out = floor((10 + 2 − 3)/2) + 1 = 5
    assert cols.shape == (1, 3, 5)
    assert cols[0, :, 0].tolist() == [0.0, 0.0, 1.0]  # left zero pad, x0, x1
    assert cols[0, :, 1].tolist() == [1.0, 2.0, 3.0]
    assert cols[0, :, 4].tolist() == [7.0, 8.0, 9.0]


def test_im2col_1d_matches_2d_unfold_on_a_height_one_image():
    x = torch.randn(2, 3, 15)
    cols = im2col(x, 4, stride=2, padding=2, dilation=2)
    expected = F.unfold(x[:, :, None, :], (1, 4), dilation=(1, 2), padding=(0, 2), stride=(1, 2))
    torch.testing.assert_close(cols, expected, atol=0, rtol=0)


# --------------------------------------------------------------------------- dense conv matrix
def test_conv_matrix_reproduces_the_seed_3x3_input_2x2_kernel_example():
    k1, k2, k3, k4 = 1.0, 2.0, 3.0, 4.0
    m = conv_matrix(torch.tensor([[k1, k2], [k3, k4]]), (3, 3))
    expected = torch.tensor(
        [
            [k1, k2, 0, k3, k4, 0, 0, 0, 0],
            [0, k1, k2, 0, k3, k4, 0, 0, 0],
            [0, 0, 0, k1, k2, 0, k3, k4, 0],
            [0, 0, 0, 0, k1, k2, 0, k3, k4],
        ]
    )
    torch.testing.assert_close(m, expected)
    x = torch.arange(1.0, 10.0)  # x1..x9
    # first output: k1·x1 + k2·x2 + k3·x4 + k4·x5
    assert (m @ x)[0].item() == k1 * 1 + k2 * 2 + k3 * 4 + k4 * 5
    torch.testing.assert_close((m @ x).reshape(2, 2), F.conv2d(x.reshape(1, 1, 3, 3), m.new_tensor([[[[1.0, 2], [3, 4]]]]))[0, 0])


@settings(max_examples=30, deadline=None)
@given(p=conv_problem(2))
def test_conv_matrix_times_flattened_input_equals_f_conv2d(p):
    p = dict(p, groups=1, n=1, c_in=min(p["c_in"], 2), c_out=min(p["c_out"], 2), size=tuple(min(s, 7) for s in p["size"]))
    p["size"] = tuple(max(s, d * (k - 1) + 1 - 2 * q) for s, k, d, q in zip(p["size"], p["kernel"], p["dilation"], p["padding"]))
    x, w, _ = _tensors(p)
    m = conv_matrix(w, p["size"], p["stride"], p["padding"], p["dilation"])
    expected = F.conv2d(x, w, stride=p["stride"], padding=p["padding"], dilation=p["dilation"])
    assert m.shape == (expected[0].numel(), x[0].numel())
    torch.testing.assert_close(m @ x[0].flatten(), expected[0].flatten())


def test_conv_matrix_1d_with_stride_padding_dilation_equals_f_conv1d():
    x = torch.randn(2, 10, dtype=torch.float64)
    w = torch.randn(3, 2, 4, dtype=torch.float64)
    m = conv_matrix(w, 10, stride=2, padding=3, dilation=2)
    expected = F.conv1d(x[None], w, stride=2, padding=3, dilation=2)[0]
    torch.testing.assert_close(m @ x.flatten(), expected.flatten())


def test_conv_matrix_of_a_bare_1d_kernel_is_banded_toeplitz():
    m = conv_matrix(torch.tensor([1.0, 2.0, 3.0]), 5)
    expected = torch.tensor([[1.0, 2, 3, 0, 0], [0, 1, 2, 3, 0], [0, 0, 1, 2, 3]])
    torch.testing.assert_close(m, expected)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, exc, name",
    [
        ((2, 3), (4, 3, 3), {}, ValueError, "x"),
        ((1, 2, 3, 4, 5), (4, 2, 3, 3, 3), {}, ValueError, "x"),
        ((1, 3, 10), (4, 3, 3, 3), {}, ValueError, "weight"),
        ((1, 3, 10), (4, 2, 3), {}, ValueError, "channel"),
        ((1, 4, 10), (4, 2, 3), dict(groups=3), ValueError, "groups"),
        ((1, 4, 10), (6, 1, 3), dict(groups=4), ValueError, "groups"),
        ((1, 3, 10), (4, 3, 3), dict(groups=0), ValueError, "groups"),
        ((1, 3, 10), (4, 3, 3), dict(stride=0), ValueError, "stride"),
        ((1, 3, 10), (4, 3, 3), dict(padding=-1), ValueError, "padding"),
        ((1, 3, 10), (4, 3, 3), dict(padding="full"), ValueError, "padding"),
        ((1, 3, 10), (4, 3, 3), dict(padding="same", stride=2), ValueError, "stride"),
        ((1, 3, 10), (4, 3, 3), dict(dilation=1.5), TypeError, "dilation"),
        ((1, 3, 10, 10), (4, 3, 3, 3), dict(stride=(1, 1, 1)), ValueError, "stride"),
        ((1, 3, 2), (4, 3, 5), {}, ValueError, "kernel_size"),
    ],
)
def test_conv_as_matmul_rejects_bad_input_naming_the_argument(x_shape, w_shape, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        conv_as_matmul(torch.zeros(x_shape), torch.zeros(w_shape), **kwargs)


def test_conv_as_matmul_rejects_non_tensors_and_bad_bias():
    with pytest.raises(TypeError, match="x"):
        conv_as_matmul([[1.0]], torch.zeros(1, 1, 1))
    with pytest.raises(TypeError, match="weight"):
        conv_as_matmul(torch.zeros(1, 1, 3), [[[1.0]]])
    with pytest.raises(ValueError, match="bias"):
        conv_as_matmul(torch.zeros(1, 1, 3), torch.zeros(2, 1, 1), bias=torch.zeros(3))


def test_im2col_and_conv_matrix_reject_bad_input():
    with pytest.raises(ValueError, match="x"):
        im2col(torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="kernel_size"):
        im2col(torch.zeros(1, 1, 5), 0)
    with pytest.raises(ValueError, match="weight"):
        conv_matrix(torch.zeros(1, 1, 1, 1, 1), (3, 3))
    with pytest.raises(ValueError, match="input_size"):
        conv_matrix(torch.zeros(2, 2), (3, 3, 3))
    with pytest.raises(ValueError, match="kernel_size"):
        conv_matrix(torch.zeros(3, 3), (2, 2))
