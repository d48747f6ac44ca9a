"""Artifacts: safetensors + JSON, atomic writes, clear errors on corrupt/tampered/new-format files."""
import json

import pytest
import torch

from seqcnn.engine.checkpoint import (FORMAT_VERSION, CheckpointError, flatten_state, load_artifact,
                                      save_artifact, unflatten_state)


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
