"""Registry-driven smoke test: every zoo model runs forward and backward at a small size, and the
shape checks (fail early naming the layer, the small-input warning) hold."""
import warnings

import pytest
import torch

import vision
from vision.models._common import SmallInputWarning

# small but valid settings per model: (input channels, size, kwargs)
SMALL = {
    "lenet5": (1, 32, {}),
    "alexnet": (3, 67, {"fc_width": 64}),
    "zfnet": (3, 64, {"fc_width": 64}),
    "vgg11": (3, 32, {"width": 0.125, "fc_width": 32}),
    "vgg11_lrn": (3, 32, {"width": 0.125, "fc_width": 32}),
    "vgg13": (3, 32, {"width": 0.125, "fc_width": 32}),
    "vgg16_c": (3, 32, {"width": 0.125, "fc_width": 32}),
    "vgg16": (3, 32, {"width": 0.125, "fc_width": 32}),
    "vgg19": (3, 32, {"width": 0.125, "fc_width": 32}),
    "nin": (3, 32, {"variant": "cifar"}),
    "googlenet": (3, 64, {}),
    "resnet18": (3, 64, {"width": 0.125}),
    "resnet34": (3, 64, {"width": 0.125}),
    "resnet50": (3, 64, {"width": 0.125}),
    "resnet101": (3, 64, {"width": 0.125}),
    "resnet152": (3, 64, {"width": 0.125}),
    "resnet20": (3, 16, {"width": 0.5}),
    "resnet32": (3, 16, {"width": 0.5}),
    "resnet44": (3, 16, {"width": 0.5}),
    "resnet56": (3, 16, {"width": 0.5}),
    "resnet110": (3, 16, {"width": 0.25}),
    "preact_resnet18": (3, 32, {"width": 0.125, "stem": "cifar"}),
    "preact_resnet34": (3, 64, {"width": 0.125}),
    "preact_resnet50": (3, 64, {"width": 0.125}),
    "wide_resnet50_2": (3, 64, {"width": 0.125}),
    "wrn28_10": (3, 16, {"width": 0.05, "dropout": 0.3}),
}


def test_small_settings_cover_the_registry():
    assert sorted(SMALL) == vision.list_models()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_backward_smoke(name):
    c, size, kw = SMALL[name]
    torch.manual_seed(0)
    model = vision.create_model(name, num_classes=5, in_channels=c, input_size=size, **kw)
    x = torch.randn(2, c, size, size)
    model.train()
    out = model(x)
    assert out.shape == (2, 5)
    out.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        feats = model.forward_features(x)
        assert feats.dim() == 4
        assert model.forward_head(feats, pre_logits=True).shape == (2, model.num_features)
        assert torch.allclose(model.forward_head(feats), model(x), atol=1e-5)


def test_googlenet_aux_heads_only_in_training():
    torch.manual_seed(0)
    m = vision.create_model("googlenet", num_classes=4, aux_logits=True, input_size=128)
    x = torch.randn(2, 3, 128, 128)
    main, aux1, aux2 = m.train()(x)
    assert main.shape == aux1.shape == aux2.shape == (2, 4)
    assert m.eval()(x).shape == (2, 4)
    # the engine weighs the auxiliary losses 0.3 (paper §5)
    from seqcnn.engine.train import Trainer

    t = Trainer(device="cpu", verbose=0, aux_weight=0.3)
    y = torch.tensor([0, 1])
    import torch.nn.functional as F

    loss = t._per_sample_loss((main, aux1, aux2), y)
    expected = F.cross_entropy(main, y, reduction="none") + 0.3 * (
        F.cross_entropy(aux1, y, reduction="none") + F.cross_entropy(aux2, y, reduction="none"))
    assert torch.allclose(loss, expected, atol=1e-5)


def test_googlenet_uses_real_5x5_convs_and_no_batch_norm():
    m = vision.create_model("googlenet", input_size=64)
    kernels = {mod.kernel_size for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)}
    assert (5, 5) in kernels
    assert not any(isinstance(mod, torch.nn.BatchNorm2d) for mod in m.modules())
    assert sum(isinstance(mod, torch.nn.LocalResponseNorm) for mod in m.modules()) == 2


def test_alexnet_has_lrn_after_conv1_and_conv2_and_switch():
    from seqcnn.engine.layers import LocalResponseNorm

    m = vision.create_model("alexnet", input_size=67, fc_width=8)
    kinds = [type(x).__name__ for x in m.features]
    assert kinds[:8] == ["Conv2d", "ReLU", "MaxPool2d", "LocalResponseNorm", "Conv2d", "ReLU", "MaxPool2d",
                         "LocalResponseNorm"]
    assert isinstance(m.features[3], LocalResponseNorm) and m.features[3].alpha == 1e-4
    off = vision.create_model("alexnet", input_size=67, fc_width=8, lrn=False)
    assert not any(isinstance(x, torch.nn.LocalResponseNorm) for x in off.modules())


def test_resnet_v1_puts_the_stride_on_the_first_1x1():
    v1 = vision.create_model("resnet50", variant="v1", width=0.125, input_size=64)
    v15 = vision.create_model("resnet50", width=0.125, input_size=64)
    b1, b15 = v1.layer2[0], v15.layer2[0]
    assert b1.conv1.stride == (2, 2) and b1.conv2.stride == (1, 1)
    assert b15.conv1.stride == (1, 1) and b15.conv2.stride == (2, 2)


def test_cifar_resnet_uses_parameter_free_option_a_shortcuts():
    m = vision.create_model("resnet20", num_classes=10)
    first = m.features.stage2[0]
    assert first.shortcut is not None and sum(p.numel() for p in first.shortcut.parameters()) == 0
    widths = [getattr(m.features, f"stage{i}")[0].out_channels for i in (1, 2, 3)]
    assert widths == [16, 32, 64]


def test_kaiming_init_for_relu_convs():
    torch.manual_seed(0)
    m = vision.create_model("vgg16", input_size=32, fc_width=32)
    conv = m.features[2]  # 64 → 64, 3×3
    fan_out = conv.out_channels * 9
    assert conv.weight.std().item() == pytest.approx((2.0 / fan_out) ** 0.5, rel=0.05)
    assert torch.count_nonzero(conv.bias) == 0


# --------------------------------------------------------------------------- shape checks
def test_too_small_input_fails_early_naming_the_layer():
    with pytest.raises(ValueError, match=r"features\.30.*MaxPool2d"):
        vision.create_model("vgg16", input_size=16)
    with pytest.raises(ValueError, match=r"alexnet.*spatial size reaches 0 at layer 'features\.\d+'"):
        vision.create_model("alexnet", input_size=40)
    with pytest.raises(ValueError, match=r"zfnet.*layer 'features\.\d+'"):
        vision.create_model("zfnet", input_size=(224, 30))


def test_fc_head_is_sized_from_the_input_size():
    m = vision.create_model("vgg16", input_size=32, fc_width=16)
    assert m.pre_logits[1].in_features == 512 * 1 * 1
    m = vision.create_model("vgg11", input_size=(64, 96), width=0.125, fc_width=16)
    assert m.pre_logits[1].in_features == 64 * 2 * 3
    assert m(torch.randn(1, 3, 64, 96)).shape == (1, 1000)


def test_lenet5_pads_28px_digits_to_32():
    m = vision.create_model("lenet5", num_classes=10, in_channels=1, input_size=28)
    assert m.features[0].padding == (2, 2)
    assert m(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in m.parameters()) == 61_706


def test_imagenet_stem_warns_under_64_px():
    with pytest.warns(SmallInputWarning, match="under 64 px"):
        vision.create_model("resnet18", input_size=32, width=0.125)
    m = vision.create_model("resnet18", width=0.125).eval()
    with pytest.warns(SmallInputWarning):
        m(torch.randn(1, 3, 32, 32))


def test_cifar_models_do_not_warn_at_32_px():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallInputWarning)
        m = vision.create_model("resnet20", input_size=32)
        m(torch.randn(1, 3, 32, 32))
        vision.create_model("preact_resnet18", input_size=32, stem="cifar", width=0.125)


def test_wrong_input_channels_raise_value_error():
    m = vision.create_model("resnet20", width=0.25)
    with pytest.raises(ValueError, match="in_channels=3"):
        m(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        m(torch.randn(3, 32, 32))
