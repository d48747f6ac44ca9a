"""Parameter counts of every registry entry against torchvision's, the papers' and the seeds'
numbers. Models are built on the meta device (no memory, no initialisation cost)."""
import pytest
import torch

import vision

from ._zoo import meta_model

# (name, kwargs, expected parameters)
GOLDEN = [
    # torchvision's counts
    ("resnet18", {}, 11_689_512),
    ("resnet34", {}, 21_797_672),
    ("resnet50", {}, 25_557_032),
    ("resnet101", {}, 44_549_160),
    ("resnet152", {}, 60_192_808),
    ("vgg11", {}, 132_863_336),
    ("vgg13", {}, 133_047_848),
    ("vgg16", {}, 138_357_544),
    ("vgg19", {}, 143_667_240),
    ("wide_resnet50_2", {}, 68_883_240),
    # the seed's AlexNet table, LeNet-5 with full C3 connections
    ("alexnet", {}, 62_378_344),
    ("lenet5", {"num_classes": 10, "in_channels": 1}, 61_706),
    # VGG config C = D minus three 3×3→1×1 swaps
    ("vgg16_c", {}, 133_638_952),
    ("vgg11_lrn", {}, 132_863_336),  # LRN has no parameters
    # He et al. §4.2 CIFAR ResNets (option A shortcuts) at 10 classes
    ("resnet20", {"num_classes": 10}, 269_722),
    ("resnet32", {"num_classes": 10}, 464_154),
    ("resnet44", {"num_classes": 10}, 658_586),
    ("resnet56", {"num_classes": 10}, 853_018),
    ("resnet110", {"num_classes": 10}, 1_727_962),
    # WRN-28-10 at 10 classes: the 36.5 M of Zagoruyko & Komodakis, Table 2
    ("wrn28_10", {"num_classes": 10}, 36_479_194),
    # computed from the papers' layer tables (see the arithmetic tests below)
    ("zfnet", {}, 62_357_608),
    ("googlenet", {}, 6_998_552),
    ("nin", {}, 7_595_176),
    ("preact_resnet18", {}, 11_687_848),
    ("preact_resnet34", {}, 21_796_008),
    ("preact_resnet50", {}, 25_549_480),
]


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def build(name, **kw):
    return meta_model(name, **kw)


def test_golden_table_covers_every_registry_entry():
    assert sorted({g[0] for g in GOLDEN}) == vision.list_models()


@pytest.mark.parametrize("name, kw, expected", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_parameter_count(name, kw, expected):
    assert n_params(build(name, **kw)) == expected


def test_alexnet_conv1_is_55x55x96_with_34944_parameters():
    m = build("alexnet")
    conv1 = m.features[0]
    assert n_params(conv1) == 34_944 == (11 * 11 * 3) * 96 + 96
    from vision.models._common import trace_shapes

    shapes = trace_shapes([("features", m.features)], 3, (227, 227))
    assert shapes[0][1][1:] == (96, 55, 55)
    assert m.feature_shape == (256, 6, 6)


def test_alexnet_two_towers_has_fewer_parameters():
    one, two = build("alexnet"), build("alexnet", groups=2)
    # conv2, conv4, conv5 see half of the input maps
    saved = (96 * 25 * 256 + 384 * 9 * 384 + 384 * 9 * 256) // 2
    assert n_params(one) - n_params(two) == saved


def test_vgg_configurations_match_table_2_in_millions():
    # Simonyan & Zisserman Table 2: A, A-LRN 133; B 133; C 134; D 138; E 144 (millions)
    expected = {"vgg11": 133, "vgg11_lrn": 133, "vgg13": 133, "vgg16_c": 134, "vgg16": 138, "vgg19": 144}
    for name, millions in expected.items():
        assert round(n_params(build(name)) / 1e6) == millions, name


def test_vgg16_c_differs_from_d_by_three_1x1_swaps():
    swap = lambda c: (9 - 1) * c * c  # 3×3 → 1×1 keeps the bias
    assert n_params(build("vgg16")) - n_params(build("vgg16_c")) == swap(256) + 2 * swap(512)


def test_zfnet_count_from_its_layer_table():
    convs = (3 * 49 * 96 + 96) + (96 * 25 * 256 + 256) + (256 * 9 * 384 + 384) + (384 * 9 * 384 + 384) \
        + (384 * 9 * 256 + 256)
    fcs = (256 * 6 * 6 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    assert n_params(build("zfnet")) == convs + fcs


def test_googlenet_aux_heads_add_two_classifiers():
    main, aux = build("googlenet"), build("googlenet", aux_logits=True)
    head = lambda c: (c * 128 + 128) + (128 * 4 * 4 * 1024 + 1024) + (1024 * 1000 + 1000)
    assert n_params(aux) - n_params(main) == head(512) + head(528)


def test_lenet5_count_layer_by_layer():
    m = build("lenet5", num_classes=10, in_channels=1)
    assert [n_params(x) for x in m.features if n_params(x)] == [156, 2_416, 48_120]
    assert n_params(m.pre_logits) + n_params(m.fc) == 10_164 + 850


def test_resnet_v1_and_v15_have_equal_parameters():
    assert n_params(build("resnet50", variant="v1")) == n_params(build("resnet50")) == 25_557_032


def test_wrn_dropout_switch_adds_no_parameters_and_is_present():
    m = build("wrn28_10", num_classes=10, dropout=0.3)
    assert n_params(m) == 36_479_194
    assert any(isinstance(x, torch.nn.Dropout) and x.p == 0.3 for x in m.modules())
    assert not any(isinstance(x, torch.nn.Dropout) for x in build("wrn28_10", num_classes=10).modules())
