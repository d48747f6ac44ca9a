"""Tests for seqcnn.engine.blocks: Inception module, basic / pre-activation / wide residual blocks
and bottlenecks, in 1D and 2D, with parameter counts computed by hand."""
import pytest
import torch
from torch import nn

from seqcnn.engine.layers import BasicBlock, Bottleneck, InceptionModule, ResidualBlock


def n_params(m, kind=None):
    return sum(p.numel() for name, p in m.named_parameters() if kind is None or name.endswith(kind))


def conv_weights(m):
    return sum(x.weight.numel() for x in m.modules() if isinstance(x, (nn.Conv1d, nn.Conv2d)))


def assert_all_params_get_gradients(m, x):
    m.train()
    x = x.clone().requires_grad_(True)
    m(x).square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for name, p in m.named_parameters():
        assert p.grad is not None, name


# ----------------------------------------------------------------------------- inception


def test_inception_3a_parameter_count():
    m = InceptionModule(192, 64, 96, 128, 16, 32, 32)
    # 1×1: 192·64 | 1×1 192·96 → 3×3 96·128·9 | 1×1 192·16 → 5×5 16·32·25 | pool → 1×1 192·32
    weights = 192 * 64 + 192 * 96 + 96 * 128 * 9 + 192 * 16 + 16 * 32 * 25 + 192 * 32
    biases = 64 + 96 + 128 + 16 + 32 + 32
    assert weights == 163_328  # the paper's table rounds this to "159K"
    assert conv_weights(m) == weights
    assert n_params(m) == weights + biases == 163_696
    assert m.out_channels == 256
    assert m(torch.randn(1, 192, 7, 7)).shape == (1, 256, 7, 7)


def test_inception_has_a_real_5x5_branch_and_relu_after_every_conv():
    m = InceptionModule(16, 4, 4, 8, 2, 4, 4)
    kernels = sorted(c.kernel_size for c in m.modules() if isinstance(c, nn.Conv2d))
    assert kernels == [(1, 1)] * 4 + [(3, 3), (5, 5)]
    assert sum(isinstance(x, nn.ReLU) for x in m.modules()) == 6
    assert not any(isinstance(x, nn.BatchNorm2d) for x in m.modules())
    pool = m.branch4[0]
    assert isinstance(pool, nn.MaxPool2d) and (pool.kernel_size, pool.stride, pool.padding) == (3, 1, 1)
    # the four branches run in parallel on the same input, concatenated on channels
    x = torch.randn(2, 16, 9, 9)
    torch.testing.assert_close(m(x), torch.cat([m.branch1(x), m.branch2(x), m.branch3(x), m.branch4(x)], 1))


def test_naive_inception_concatenates_the_pooled_input():
    m = InceptionModule(16, 4, None, 8, None, 2, None, naive=True)
    assert m.out_channels == 4 + 8 + 2 + 16
    x = torch.randn(2, 16, 7, 7)
    y = m(x)
    assert y.shape == (2, 30, 7, 7)
    torch.testing.assert_close(y[:, 14:], nn.functional.max_pool2d(x, 3, 1, 1))
    assert n_params(m) == (16 * 4 + 4) + (16 * 8 * 9 + 8) + (16 * 2 * 25 + 2)


def test_inception_in_1d_and_with_batch_norm():
    m = InceptionModule(8, 4, 4, 4, 2, 4, 4, dims=1, norm="batch")
    assert sum(isinstance(x, nn.BatchNorm1d) for x in m.modules()) == 6
    assert all(c.bias is None for c in m.modules() if isinstance(c, nn.Conv1d))
    assert_all_params_get_gradients(m, torch.randn(3, 8, 20))
    assert m(torch.randn(3, 8, 20)).shape == (3, 16, 20)


def test_inception_bad_arguments_raise():
    with pytest.raises(ValueError, match="dims"):
        InceptionModule(8, 4, 4, 4, 2, 4, 4, dims=3)
    with pytest.raises(ValueError, match="ch3x3red"):
        InceptionModule(8, 4, 0, 4, 2, 4, 4)


# ----------------------------------------------------------------------------- basic residual block


def test_basic_block_64_parameter_count_equals_torchvision():
    b = BasicBlock(64, 64)
    assert b.shortcut is None and b.expansion == 1 and b.out_channels == 64
    assert conv_weights(b) == 2 * 64 * 64 * 9 == 73_728
    assert n_params(b) == 73_728 + 2 * (2 * 64) == 73_984
    assert b(torch.randn(1, 64, 8, 8)).shape == (1, 64, 8, 8)


def test_projection_shortcut_when_shapes_change():
    b = ResidualBlock(64, 128, stride=2)
    assert isinstance(b.shortcut, nn.Sequential)
    conv, bn = b.shortcut
    assert conv.kernel_size == (1, 1) and conv.stride == (2, 2) and isinstance(bn, nn.BatchNorm2d)
    assert n_params(b) == 64 * 128 * 9 + 128 * 128 * 9 + 2 * 256 + 64 * 128 + 256
    assert b(torch.randn(2, 64, 9, 9)).shape == (2, 128, 5, 5)


def test_option_a_shortcut_is_parameter_free_subsample_and_zero_channels():
    b = ResidualBlock(16, 32, stride=2, shortcut="A")
    assert n_params(b.shortcut) == 0
    assert n_params(b) == 16 * 32 * 9 + 32 * 32 * 9 + 4 * 32
    x = torch.randn(2, 16, 8, 8)
    s = b.shortcut(x)
    assert s.shape == (2, 32, 4, 4)
    torch.testing.assert_close(s[:, :16], x[:, :, ::2, ::2])
    assert torch.equal(s[:, 16:], torch.zeros(2, 16, 4, 4))
    assert b(x).shape == (2, 32, 4, 4)
    s1 = ResidualBlock(4, 6, dims=1, stride=3, shortcut="A").shortcut(torch.randn(1, 4, 10))
    assert s1.shape == (1, 6, 4)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("preact", [False, True])
@pytest.mark.parametrize("shortcut", [None, "A", "conv"])
def test_residual_block_shapes_for_odd_and_even_kernels_and_lengths(dims, preact, shortcut):
    for length in (7, 8):
        for stride in (1, 2):
            kernels = (8, 5, 3) if dims == 1 else (3, 2)
            b = ResidualBlock(4, 6, kernels, stride=stride, dims=dims, preact=preact, shortcut=shortcut)
            shape = (2, 4, length) if dims == 1 else (2, 4, length, length + 1)
            out_spatial = tuple(-(-s // stride) for s in shape[2:])  # ceil(L / stride)
            assert b(torch.randn(shape)).shape == (2, 6) + out_spatial


def test_resnet1d_block_keeps_length_and_passes_gradients():
    b = ResidualBlock(1, 64, (8, 5, 3), dims=1)
    assert [c.kernel_size for c in b.convs] == [(8,), (5,), (3,)]
    assert b(torch.randn(2, 1, 37)).shape == (2, 64, 37)
    assert_all_params_get_gradients(b, torch.randn(2, 1, 37))


def test_post_activation_output_is_relu_and_preact_has_no_relu_after_add():
    torch.manual_seed(0)
    x = torch.randn(4, 8, 6, 6)
    post = ResidualBlock(8, 8).eval()
    assert (post(x) >= 0).all()
    pre = ResidualBlock(8, 8, preact=True).eval()
    assert (pre(x) < 0).any()
    assert isinstance(pre.norms[0], nn.BatchNorm2d) and pre.norms[0].num_features == 8


def test_preact_projection_has_no_batch_norm_and_sees_preactivated_input():
    b = ResidualBlock(8, 16, stride=2, preact=True).eval()
    assert isinstance(b.shortcut, nn.Conv2d)
    x = torch.randn(2, 8, 6, 6)
    with torch.no_grad():
        for c in b.convs:
            c.weight.zero_()
        expected = b.shortcut(torch.relu(b.norms[0](x)))
        torch.testing.assert_close(b(x), expected)


def test_wide_block_dropout_sits_between_the_convs_and_acts_in_training_only():
    torch.manual_seed(0)
    b = ResidualBlock(8, 8, preact=True, dropout=0.5)
    assert isinstance(b.dropout, nn.Dropout) and b.dropout.p == 0.5
    x = torch.randn(2, 8, 5, 5)
    b.eval()
    torch.testing.assert_close(b(x), b(x))
    b.train()
    assert not torch.allclose(b(x), b(x))
    with pytest.raises(ValueError, match="dropout"):
        ResidualBlock(8, 8, dropout=1.0)


def test_zero_init_last_makes_the_block_its_shortcut():
    x = torch.randn(2, 8, 5, 5)
    b = ResidualBlock(8, 8).eval()
    b.zero_init_last()
    torch.testing.assert_close(b(x), torch.relu(x))
    p = ResidualBlock(8, 8, preact=True).eval()
    p.zero_init_last()
    torch.testing.assert_close(p(x), x)


@pytest.mark.parametrize("kwargs, word", [
    (dict(shortcut="B2"), "shortcut"), (dict(shortcut="identity", stride=2), "identity"), (dict(dims=3), "dims"),
    (dict(stride=0), "stride"), (dict(kernel_sizes=()), "kernel_sizes"), (dict(kernel_sizes=(3, 0)), "kernel_sizes"),
])
def test_residual_block_bad_arguments_raise(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ResidualBlock(8, 8, **kwargs)
    with pytest.raises(ValueError, match="A"):
        ResidualBlock(8, 4, shortcut="A")


# ----------------------------------------------------------------------------- bottleneck


def test_bottleneck_256_to_64x4_parameter_count_equals_torchvision():
    b = Bottleneck(256, 64)
    assert b.out_channels == 256 and b.mid_channels == 64 and b.shortcut is None
    convs = 256 * 64 + 64 * 64 * 9 + 64 * 256
    bns = 2 * 64 + 2 * 64 + 2 * 256
    assert conv_weights(b) == convs == 69_632
    assert n_params(b) == convs + bns == 70_400
    assert b(torch.randn(1, 256, 7, 7)).shape == (1, 256, 7, 7)


def test_first_bottleneck_of_a_stage_projects():
    b = Bottleneck(64, 64)
    assert n_params(b) == 64 * 64 + 64 * 64 * 9 + 64 * 256 + 2 * (64 + 64 + 256) + 64 * 256 + 2 * 256  # 75,008
    assert n_params(b) == 75_008


def test_bottleneck_stride_position_v1_vs_v15():
    v15 = Bottleneck(256, 128, stride=2)
    v1 = Bottleneck(256, 128, stride=2, stride_on="1x1")
    assert v15.conv1.stride == (1, 1) and v15.conv2.stride == (2, 2)
    assert v1.conv1.stride == (2, 2) and v1.conv2.stride == (1, 1)
    x = torch.randn(1, 256, 9, 9)
    assert v15(x).shape == v1(x).shape == (1, 512, 5, 5)
    with pytest.raises(ValueError, match="stride_on"):
        Bottleneck(256, 128, stride_on="3x1")


def test_bottleneck_width_formula_matches_torchvision_wide_and_resnext():
    wide = Bottleneck(256, 64, base_width=128)  # wide_resnet50_2 layer1
    assert wide.mid_channels == 128 and wide.out_channels == 256
    assert conv_weights(wide) == 256 * 128 + 128 * 128 * 9 + 128 * 256
    rx = Bottleneck(256, 64, groups=32, base_width=4)  # resnext50_32x4d layer1
    assert rx.mid_channels == 128 and rx.conv2.groups == 32
    assert rx.conv2.weight.shape == (128, 4, 3, 3)


def test_bottleneck_1d_preact_and_zero_init_residual():
    b = Bottleneck(16, 4, dims=1, stride=2, preact=True)
    assert isinstance(b.shortcut, nn.Conv1d) and b.bn1.num_features == 16
    x = torch.randn(2, 16, 11)
    assert b(x).shape == (2, 16, 6)
    assert_all_params_get_gradients(b, x)
    z = Bottleneck(16, 4, dims=1, zero_init_residual=True).eval()
    assert (z.bn3.weight == 0).all()
    torch.testing.assert_close(z(x), torch.relu(x))
    e = Bottleneck(8, 4, expansion=2, dims=1)
    assert e.out_channels == 8 and e.expansion == 2 and e.shortcut is None


def test_all_blocks_pass_gradients_in_2d():
    assert_all_params_get_gradients(ResidualBlock(4, 8, stride=2, dropout=0.2), torch.randn(2, 4, 6, 6))
    assert_all_params_get_gradients(Bottleneck(8, 4, stride=2, stride_on="1x1"), torch.randn(2, 8, 6, 6))
    assert_all_params_get_gradients(InceptionModule(4, 2, 2, 2, 2, 2, 2), torch.randn(2, 4, 5, 5))


def test_residual_block_mask_and_bn_shortcut():
    """dims=1 with a mask: a short series alone equals the same series padded in a batch."""
    from seqcnn.engine.blocks import ResidualBlock

    torch.manual_seed(0)
    block = ResidualBlock(3, 3, (5, 3), dims=1, shortcut="bn").eval()
    assert isinstance(block.shortcut, torch.nn.BatchNorm1d)
    x = torch.randn(1, 3, 6)
    padded = torch.cat([x, torch.zeros(1, 3, 4)], dim=2)
    mask = torch.arange(10)[None, :] < 6
    with torch.no_grad():
        alone = block(x)
        batched = block(padded, mask)
    torch.testing.assert_close(batched[..., :6], alone)
    assert torch.all(batched[..., 6:] == 0)
    with pytest.raises(ValueError, match="shortcut='bn'"):
        ResidualBlock(3, 4, dims=1, shortcut="bn")


def test_inception_time_module_masks_padding():
    from seqcnn.engine.blocks import InceptionTimeModule

    torch.manual_seed(0)
    m = InceptionTimeModule(2, n_filters=2, kernel_sizes=(4, 3)).eval()
    assert m.out_channels == 6 and m.bottleneck is not None
    x = torch.randn(1, 2, 5)
    padded = torch.cat([x, torch.zeros(1, 2, 3)], dim=2)
    mask = torch.arange(8)[None, :] < 5
    with torch.no_grad():
        torch.testing.assert_close(m(padded, mask)[..., :5], m(x))
