"""The one model registry: every modality listed and built through it, the same outer interface
(forward == forward_head(forward_features)) on every registered network, routing of settings."""
import pytest
import torch

import vision
from seqcnn.engine import registry
from seqcnn.engine.registry import create_model, list_models, pre_logit_features, register_model, routed_kwargs
from tests.vision.test_models_forward import SMALL

# tiny inputs per registered name: (kwargs, inputs)
_IDS = torch.tensor([[5, 6, 7, 8, 9, 0, 0], [3, 4, 5, 0, 0, 0, 0]])
TEXT = {
    "kim": dict(vocab_size=12, num_classes=3, embedding_dim=6, filter_sizes=(2, 3), num_filters=4),
    "char": dict(vocab_size=12, num_classes=3, input_length=130, num_filters=4, fc_dim=8),
    "dpcnn": dict(vocab_size=12, num_classes=3, embedding_dim=6, num_filters=4, num_blocks=2),
}
SIGNAL = {
    "fcn": dict(n_filters=4), "resnet1d": dict(n_filters=4),
    "inception": dict(n_filters=2, depth=3, kernel_sizes=(5, 3)),
    "inceptiontime": dict(n_filters=2, depth=3, kernel_sizes=(5, 3), n_members=2),
}


def _case(name):
    if name in TEXT:
        return create_model(name, **TEXT[name]), (_IDS,)
    if name in SIGNAL:
        x = torch.randn(3, 2, 11)
        mask = torch.arange(11)[None, :] < torch.tensor([11, 7, 3])[:, None]
        return create_model(name, in_channels=2, num_classes=3, **SIGNAL[name]), (x * mask[:, None], mask)
    c, size, kw = SMALL[name]
    return create_model(name, num_classes=3, in_channels=c, input_size=size, **kw), (torch.randn(2, c, size, size),)


def test_every_modality_is_registered():
    assert list_models("text") == ["char", "dpcnn", "kim"]
    assert list_models("signal") == ["fcn", "inception", "inceptiontime", "resnet1d"]
    assert list_models("vision") == vision.list_models()
    assert sorted(list_models()) == sorted(list_models("text") + list_models("signal") + list_models("vision"))
    assert list_models("signal", "incep*") == ["inception", "inceptiontime"]


def test_tiny_settings_cover_the_registry():
    assert sorted(list_models()) == sorted([*TEXT, *SIGNAL, *SMALL])


@pytest.mark.parametrize("name", sorted(list_models()))
def test_forward_is_head_of_features(name):
    """Every registered network, in eval mode: forward(x) == forward_head(forward_features(x)),
    and forward_head(..., pre_logits=True) is the (N, F) vector the classifier reads."""
    torch.manual_seed(0)
    model, inputs = _case(name)
    model.eval()
    with torch.no_grad():
        out = model(*inputs)
        feats = model.forward_features(*inputs)
        head = model.forward_head(feats, False, *inputs[1:])
        pre = model.forward_head(feats, True, *inputs[1:])
    assert out.shape == (inputs[0].shape[0], 3)
    torch.testing.assert_close(head, out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pre_logit_features(model, *inputs), pre)
    assert pre.dim() == 2 and pre.shape[0] == inputs[0].shape[0]
    if isinstance(getattr(model, "fc", None), torch.nn.Linear):  # the classifier reads the pre-logit vector
        torch.testing.assert_close(model.fc(pre), out, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["kim", "dpcnn"])
def test_text_max_over_time_heads_pool_the_map(name):
    """Kim's CNN and DPCNN: the map is pre-pooling (N, F, L'), padding-only windows at −inf, and
    the head's pre-logit vector is its masked max-over-time (a padding-only row pools to 0)."""
    model, (ids,) = _case(name)
    ids = torch.cat([ids, torch.zeros(1, ids.shape[1], dtype=ids.dtype)])  # a row of padding only
    model.eval()
    with torch.no_grad():
        feats = model.forward_features(ids)
        pre = model.forward_head(feats, pre_logits=True)
        logits = model(ids)
    assert feats.dim() == 3 and feats.shape[:2] == (3, model.num_features) and feats.shape[2] > 1
    assert torch.isneginf(feats[2]).all() and not torch.isneginf(feats[0]).all()
    # the max over each row's finite positions, 0 where there is none
    ref = torch.tensor([[float(row[torch.isfinite(row)].max()) if torch.isfinite(row).any() else 0.0
                         for row in sample] for sample in feats])
    torch.testing.assert_close(pre, ref)
    assert torch.all(pre[2] == 0)
    torch.testing.assert_close(logits, model.fc(pre))


@pytest.mark.parametrize("name", sorted(SIGNAL) + ["char", "kim", "dpcnn", "resnet20"])
def test_forward_features_is_the_map_before_global_pooling(name):
    model, inputs = _case(name)
    with torch.no_grad():
        feats = model.eval().forward_features(*inputs)
    assert feats.dim() == inputs[0].dim() if name not in TEXT else feats.dim() == 3
    if name in SIGNAL:
        assert feats.shape[-1] == inputs[0].shape[-1]  # full length, padded steps zero
        assert torch.all(feats[2, :, 3:] == 0)


def test_unknown_and_duplicate_names():
    with pytest.raises(ValueError, match="resnet1d"):
        create_model("resnet1e")
    with pytest.raises(ValueError, match="already registered"):
        register_model(lambda **kw: None, modality="signal", name="fcn")
    with pytest.raises(ValueError, match="modality"):
        list_models("audio")
    with pytest.raises(ValueError, match="modality"):
        register_model(lambda **kw: None, modality="audio", name="x")


def test_register_and_unregister():
    @register_model(modality="signal", name="_tmp_net")
    def _tmp_net(in_channels=1, num_classes=2):
        return torch.nn.Linear(in_channels, num_classes)

    try:
        assert "_tmp_net" in list_models("signal") and "_tmp_net" not in list_models("vision")
        assert create_model("_tmp_net", in_channels=3).in_features == 3
    finally:
        registry.unregister_model("_tmp_net")
    assert "_tmp_net" not in list_models()


def test_routed_kwargs_passes_what_the_builder_takes_and_checks_user_keys():
    settings = {"n_filters": 8, "depth": None, "n_members": 5, "kernel_sizes": None}
    assert routed_kwargs("fcn", settings) == {"n_filters": 8, "depth": None, "kernel_sizes": None}
    assert routed_kwargs("inceptiontime", settings)["n_members"] == 5
    assert routed_kwargs("fcn", settings, {"min_length": 8})["min_length"] == 8
    assert routed_kwargs("fcn", settings, {"n_filters": 2})["n_filters"] == 2  # user value wins
    with pytest.raises(TypeError, match="model_kwargs.*'fcn'.*bottleneck"):
        routed_kwargs("fcn", settings, {"bottleneck": 3})
    with pytest.raises(TypeError, match="model_kwargs must be a dict"):
        routed_kwargs("fcn", settings, [("a", 1)])
    # builders taking **kw (the image zoo) accept their own switches
    assert routed_kwargs("resnet20", {}, {"width": 0.5}) == {"width": 0.5}
