"""The registry: names from the design, decorator semantics, create_model's argument checks."""
import inspect

import pytest
import torch

import vision
from vision.models import classic, googlenet, nin, resnet
from vision.registry import _REGISTRY, register_model

DESIGN_NAMES = [
    "lenet5", "alexnet", "zfnet", "vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19", "nin",
    "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet20", "resnet32",
    "resnet44", "resnet56", "resnet110", "preact_resnet18", "preact_resnet34", "preact_resnet50",
    "wide_resnet50_2", "wrn28_10",
]


def test_every_design_name_is_registered():
    assert sorted(DESIGN_NAMES) == vision.list_models()


def test_every_public_builder_is_registered():
    builders = []
    for mod in (classic, googlenet, nin, resnet):
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not name.startswith("_") and "num_classes" in inspect.signature(fn).parameters:
                builders.append(name)
    assert builders, "no builders found"
    missing = [b for b in builders if b not in vision.list_models()]
    assert not missing


def test_every_builder_docstring_names_its_source():
    for name in vision.list_models():
        doc = _REGISTRY[name].__doc__ or ""
        assert any(tok in doc for tok in ("19", "20")), f"{name} docstring cites no paper year"


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        @register_model(name="resnet18")
        def another_resnet18(num_classes=1000, in_channels=3, input_size=None, **kw):  # pragma: no cover
            return None


def test_register_model_bare_and_named_then_cleanup():
    @register_model
    def _tmp_model_for_test(num_classes=1000, in_channels=3, input_size=None, **kw):
        return torch.nn.Linear(1, num_classes)

    try:
        assert "_tmp_model_for_test" in vision.list_models()
        assert vision.create_model("_tmp_model_for_test", num_classes=3).out_features == 3
    finally:
        _REGISTRY.pop("_tmp_model_for_test")


def test_list_models_pattern_filters():
    assert vision.list_models("resnet1*") == ["resnet101", "resnet110", "resnet152", "resnet18"]
    assert vision.list_models("vgg*") == ["vgg11", "vgg11_lrn", "vgg13", "vgg16", "vgg16_c", "vgg19"]


def test_unknown_name_suggests_close_names():
    with pytest.raises(ValueError, match="resnet50"):
        vision.create_model("resnet5O")


@pytest.mark.parametrize("kw, exc", [({"num_classes": 0}, ValueError), ({"num_classes": 2.0}, TypeError),
                                     ({"in_channels": 0}, ValueError)])
def test_create_model_rejects_bad_sizes(kw, exc):
    with pytest.raises(exc, match=next(iter(kw))):
        vision.create_model("resnet20", **kw)


def test_models_have_the_timm_outer_interface():
    m = vision.create_model("resnet20", num_classes=7, width=0.25)
    x = torch.randn(2, 3, 32, 32)
    feats = m.forward_features(x)
    assert feats.dim() == 4
    pre = m.forward_head(feats, pre_logits=True)
    assert pre.shape == (2, m.num_features)
    assert m.forward_head(feats).shape == (2, m.num_classes) == (2, 7)
