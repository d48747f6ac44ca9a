"""Artifacts: safetensors + JSON, atomic writes, clear errors on corrupt/tampered/new-format files."""
import hashlib
import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcnn.engine.checkpoint import (FORMAT_VERSION, CheckpointError, config_checksum, flatten_state,
                                      load_artifact, read_config, save_artifact, unflatten_state, write_config)


def _save(tmp_path):
    path = tmp_path / "art"
    save_artifact(path, {"w": torch.arange(6.0).reshape(2, 3)}, {"arch": "x", "labels": ["a", "b"]})
    return path


def test_roundtrip_and_versions(tmp_path):
    path = _save(tmp_path)
    tensors, config = load_artifact(path)
    assert torch.equal(tensors["w"], torch.arange(6.0).reshape(2, 3))
    assert config["arch"] == "x" and config["format_version"] == FORMAT_VERSION
    assert {"seqcnn", "torch"} <= set(config["versions"])


def test_overwrite_is_atomic_and_leaves_no_temporaries(tmp_path):
    path = _save(tmp_path)
    save_artifact(path, {"w": torch.zeros(1)}, {"arch": "y"}, overwrite=True)
    assert load_artifact(path)[1]["arch"] == "y"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_failed_write_keeps_the_old_artifact(tmp_path):
    path = _save(tmp_path)
    with pytest.raises(TypeError):
        save_artifact(path, {"w": "not a tensor"}, {"arch": "z"}, overwrite=True)
    assert load_artifact(path)[1]["arch"] == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_artifact(tmp_path / "none")
    path = _save(tmp_path)
    (path / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_artifact(path)


def test_truncated_weights_are_named(tmp_path):
    path = _save(tmp_path)
    w = path / "model.safetensors"
    w.write_bytes(w.read_bytes()[:20])
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_artifact(path)


def test_deleted_weights_checksum_is_an_error_not_a_pass(tmp_path):
    path = _save(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    del cfg["weights_sha256"]
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="config.json.*weights_sha256"):
        load_artifact(path)


def test_corrupt_config_and_missing_key(tmp_path):
    path = _save(tmp_path)
    (path / "config.json").write_text('{"arch": ')
    with pytest.raises(CheckpointError, match="config.json"):
        load_artifact(path)
    (path / "config.json").write_text('{"arch": "x"}')
    with pytest.raises(CheckpointError, match="format_version"):
        load_artifact(path)


def test_newer_format_is_refused(tmp_path):
    path = _save(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    cfg["format_version"] = FORMAT_VERSION + 1
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="newer"):
        load_artifact(path)


def test_config_must_be_json(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_artifact(tmp_path / "a", {}, {"f": object()})


def test_nested_state_roundtrip_without_pickle():
    state = {"state": {0: {"step": torch.tensor(3.0), "buf": torch.ones(2)}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}], "best": float("inf")}
    tensors, skel = flatten_state(state)
    json.dumps(skel)
    back = unflatten_state(json.loads(json.dumps(skel)), tensors)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999) and 0 in back["state"]
    assert torch.equal(back["state"][0]["buf"], torch.ones(2)) and back["best"] == float("inf")


# ---------------------------------------------------------------------------- integrity (format 2)
def _tamper(path, edit):
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    edit(cfg)
    cfg_path.write_text(json.dumps(cfg))


def _save_labelled(tmp_path):
    path = tmp_path / "art"
    save_artifact(path, {"w": torch.zeros(2)}, {"classes": ["neg", "pos"], "params": {"n_filters": 100, "lr": 1.0}})
    return path


@pytest.mark.parametrize("edit, words", [
    (lambda c: c["classes"].reverse(), r"config.json.*checksum mismatch.*'classes'"),
    (lambda c: c["params"].update(n_filters=50), r"config.json.*'params.n_filters'"),
    (lambda c: c.update(added=1), r"config.json.*'added' \(added\)"),
    (lambda c: c.pop("params"), r"config.json.*'params' \(removed\)"),
    (lambda c: c.pop("config_sha256"), r"config.json.*lacks its 'config_sha256'"),
    (lambda c: c.pop("weights_sha256"), r"config.json.*'weights_sha256'"),
    (lambda c: c.update(config_sha256=None), r"config.json.*lacks its 'config_sha256'"),
])
def test_tampered_config_is_refused_naming_file_and_field(tmp_path, edit, words):
    path = _save_labelled(tmp_path)
    _tamper(path, edit)
    with pytest.raises(CheckpointError, match=words):
        load_artifact(path)


def test_checksum_is_of_the_canonical_json(tmp_path):
    path = _save_labelled(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    body = {k: v for k, v in cfg.items() if k != "config_sha256"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert cfg["config_sha256"] == hashlib.sha256(canon).hexdigest() == config_checksum(cfg)
    # reformatting the file (indentation, key order) is not tampering
    (path / "config.json").write_text(json.dumps(dict(reversed(list(cfg.items()))), indent=7))
    assert load_artifact(path)[1]["classes"] == ["neg", "pos"]


def _format1(path, weights_checksum=True):
    from safetensors.torch import save_file

    path.mkdir()
    save_file({"w": torch.ones(3)}, str(path / "model.safetensors"))
    cfg = {"format_version": 1, "arch": "old", "versions": {"seqcnn": "0.1.0", "torch": "2.4"}}
    if weights_checksum:
        cfg["weights_sha256"] = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    (path / "config.json").write_text(json.dumps(cfg))


def test_format_1_artifacts_load_with_a_warning(tmp_path):
    _format1(tmp_path / "old")
    with pytest.warns(UserWarning, match="format version 1.*not covered by a checksum"):
        tensors, cfg = load_artifact(tmp_path / "old")
    assert cfg["arch"] == "old" and torch.equal(tensors["w"], torch.ones(3))
    _format1(tmp_path / "old2", weights_checksum=False)
    with pytest.warns(UserWarning), pytest.raises(CheckpointError, match="weights_sha256"):
        load_artifact(tmp_path / "old2")


def test_manifests_carry_the_same_checksum(tmp_path):
    write_config(tmp_path / "ensemble.json", {"members": ["member_00"], "classes": [1, 2]})
    assert read_config(tmp_path / "ensemble.json")["format_version"] == FORMAT_VERSION
    m = json.loads((tmp_path / "ensemble.json").read_text())
    m["classes"] = [2, 1]
    (tmp_path / "ensemble.json").write_text(json.dumps(m))
    with pytest.raises(CheckpointError, match="ensemble.json.*'classes'"):
        read_config(tmp_path / "ensemble.json")


def _tiny_fitted(tmp_path):
    import numpy as np

    from ._tiny import TinyCNNClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 8)).astype(np.float32), np.arange(30) % 2
    clf = TinyCNNClassifier(channels=4, max_epochs=1, random_state=0).fit(X, y)
    clf.save(tmp_path / "m")
    return TinyCNNClassifier, tmp_path / "m"


def test_an_edited_architecture_is_one_short_line(tmp_path):
    cls, path = _tiny_fitted(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    cfg["params"]["channels"] = 6
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="'params.channels'"):
        cls.load(path)
    write_config(path / "config.json", cfg)  # a crafted file with renewed checksums
    with pytest.raises(CheckpointError) as info:
        cls.load(path)
    msg = str(info.value)
    assert "model.safetensors does not match the saved architecture" in msg
    assert "module.conv.weight" not in msg and "conv.weight: saved (4, 1, 3), model (6, 1, 3)" in msg
    assert "\n" not in msg and len(msg) < 500 and info.value.__cause__ is None


_json_leaf = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8) \
    | st.floats(allow_nan=False, allow_infinity=False)
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text("abc.é", max_size=4), inner, max_size=3), max_leaves=8)
_keys = st.text("abcdefgh", min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.dictionaries(_keys, _json, min_size=1, max_size=5), data=st.data())
def test_any_changed_value_is_caught_and_named(tmp_path, config, data):
    p = tmp_path / "c.json"
    write_config(p, config)
    back = read_config(p)
    assert {k: back[k] for k in config} == json.loads(json.dumps(config))
    key = data.draw(st.sampled_from(sorted(config)))
    edited = json.loads(p.read_text())
    edited[key] = {"changed": edited[key]}
    p.write_text(json.dumps(edited, indent=1))
    with pytest.raises(CheckpointError, match=rf"c.json.*checksum mismatch.*'{key}[.']"):
        read_config(p)
