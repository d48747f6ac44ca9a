"""The networks: exact "same" padding, InceptionTime's structure, masking, any length >= 1."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from seqcnn.signal.models import (FCN, InceptionModule1D, InceptionNet, InceptionTime, ResNet1D, build_model,
                                  masked_max_pool_same)

ARCHS = ["fcn", "resnet", "inception", "inceptiontime"]


def tiny(arch, in_channels=1, num_classes=3):
    kw = dict(n_filters=4, n_members=2)
    if arch in ("inception", "inceptiontime"):
        kw.update(depth=3, n_filters=2)
    return build_model(arch, in_channels, num_classes, **kw).eval()


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 41), length=st.integers(1, 200))
def test_same_padding_keeps_length_for_any_kernel_through_the_conv_path(k, length):
    torch.manual_seed(0)
    x = torch.randn(1, 2, length)
    fcn = FCN(2, 2, filters=(2,), kernel_sizes=(k,), min_length=1).eval()
    res = ResNet1D(2, 2, filters=(2,), kernel_sizes=(k, k), min_length=1).eval()
    inc = InceptionModule1D(2, n_filters=2, kernel_sizes=(k, max(1, k // 2), max(1, k // 4))).eval()
    with torch.no_grad():
        assert fcn.feature_maps(x).shape[-1] == length
        assert res.feature_maps(x).shape[-1] == length
        assert inc(x).shape == (1, 8, length)
        # the padded conv equals torch's own padding='same' when it has one (odd kernels)
        conv = fcn.blocks[0].conv
        if k % 2 == 1:
            ref = nn.functional.conv1d(x, conv.weight, conv.bias, padding="same")
            torch.testing.assert_close(conv(x), ref)


def test_inception_module_has_three_parallel_convs_plus_a_pool_branch_and_4nf_channels():
    m = InceptionModule1D(128, n_filters=32)
    assert len(m.branches) == 3
    assert [b.kernel_size[0] for b in m.branches] == [40, 20, 10]
    assert all(b.in_channels == 32 for b in m.branches)  # they all read the bottleneck, in parallel
    assert m.pool_conv.kernel_size == (1,) and m.pool_conv.in_channels == 128  # max-pool → 1×1 on the input
    assert m.out_channels == 128 and m.bn.num_features == 128
    assert m(torch.randn(2, 128, 30)).shape == (2, 128, 30)


def test_bottleneck_is_absent_on_univariate_input_and_present_on_multivariate():
    uni = InceptionNet(1, 2)
    multi = InceptionNet(3, 2)
    assert uni.inceptions[0].bottleneck is None
    assert all(m.bottleneck is not None for m in uni.inceptions[1:])  # later modules see 128 channels
    b = multi.inceptions[0].bottleneck
    assert isinstance(b, nn.Conv1d) and b.kernel_size == (1,) and (b.in_channels, b.out_channels) == (3, 32)


def test_inceptiontime_has_depth_six_with_a_residual_every_three_modules():
    net = InceptionNet(1, 2)
    assert len(net.inceptions) == 6
    assert sorted(int(k) for k in net.shortcuts) == [2, 5]
    sc = net.shortcuts["2"]
    assert sc.conv.kernel_size == (1,) and (sc.conv.in_channels, sc.conv.out_channels) == (1, 128)
    assert isinstance(sc.bn, nn.BatchNorm1d)
    assert net.shortcuts["5"].conv.in_channels == 128
    assert net.head.in_features == 128


def test_inceptiontime_arch_is_an_ensemble_of_five_networks_averaging_probabilities():
    ens = build_model("inceptiontime", 1, 3, n_filters=2, depth=3)
    single = build_model("inception", 1, 3, n_filters=2, depth=3)
    assert isinstance(ens, InceptionTime) and len(ens.members) == 5
    assert isinstance(single, InceptionNet)
    ens.eval()
    x = torch.randn(4, 1, 20)
    with torch.no_grad():
        mean_p = torch.stack([torch.softmax(m(x), 1) for m in ens.members]).mean(0)
        torch.testing.assert_close(torch.softmax(ens(x), 1), mean_p)


def test_models_take_n_c_l_and_n_l_input_and_pool_over_time():
    net = tiny("fcn")
    x = torch.randn(3, 17)
    with torch.no_grad():
        torch.testing.assert_close(net(x), net(x[:, None, :]))
        maps = net.forward_features(x[:, None, :])  # the map before global pooling (registry interface)
        assert maps.shape == (3, net.num_features, 17)
        assert net.forward_head(maps, pre_logits=True).shape == (3, net.num_features)


@pytest.mark.parametrize("arch", ARCHS)
def test_a_series_gets_the_same_output_alone_and_batched_with_a_longer_one(arch):
    torch.manual_seed(1)
    net = tiny(arch, in_channels=2)
    short, long_ = torch.randn(1, 2, 6), torch.randn(1, 2, 40)
    x = torch.zeros(2, 2, 40)
    x[0, :, :6] = short[0]
    x[1] = long_[0]
    mask = torch.zeros(2, 40, dtype=torch.bool)
    mask[0, :6] = True
    mask[1] = True
    with torch.no_grad():
        torch.testing.assert_close(net(x, mask)[0], net(short)[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(net(x, mask)[1], net(long_)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_length_one_series_train_and_predict_without_nan(arch):
    net = tiny(arch)
    net.train()
    out = net(torch.randn(1, 1, 1))  # batch norm in training mode, one step: padded to min_length
    out.sum().backward()
    net.eval()
    with torch.no_grad():
        assert torch.isfinite(net(torch.randn(3, 1, 1))).all()


def test_masked_max_pool_never_picks_padding_or_the_border():
    x = torch.tensor([[[-5.0, -4.0, -3.0, 100.0]]])
    mask = torch.tensor([[True, True, True, False]])
    out = masked_max_pool_same(x, mask)
    assert out.tolist() == [[[-4.0, -3.0, -3.0, 0.0]]]


def test_cam_layer_names_a_submodule_producing_the_feature_maps():
    for arch in ["fcn", "resnet", "inception"]:
        net = tiny(arch)
        seen = {}
        layer = dict(net.named_modules())[net.cam_layer]
        layer.register_forward_hook(lambda mod, inp, out: seen.setdefault("out", out))
        x = torch.randn(2, 1, 12)
        with torch.no_grad():
            maps = net.feature_maps(x)
        torch.testing.assert_close(seen["out"], maps)


def test_build_model_rejects_unknown_arch():
    with pytest.raises(ValueError, match="arch"):
        build_model("lstm", 1, 2)


def test_class_activation_map_of_a_bare_ensemble_averages_its_members():
    import numpy as np

    from seqcnn.signal import class_activation_map

    torch.manual_seed(0)
    net = build_model("inceptiontime", 1, 2, n_filters=2, depth=3, n_members=3).eval()
    series = np.sin(np.linspace(0, 6, 25))
    x = torch.as_tensor(series, dtype=torch.float32)[None, None]
    with torch.no_grad():
        raw = torch.stack([(m.head.weight[1][:, None] * m.feature_maps(x)[0]).sum(0) for m in net.members]).mean(0)
    raw = raw.double().numpy()
    cam = class_activation_map(net, series, target=1)
    np.testing.assert_allclose(cam, (raw - raw.min()) / (raw.max() - raw.min()), atol=1e-6)
