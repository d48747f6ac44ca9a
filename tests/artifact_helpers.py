"""Shared test helpers for saved artifacts."""
import json

from seqcnn.engine.checkpoint import write_config


def as_saved_before(model, path, param: str):
    """Save ``model`` to ``path`` and remove ``param`` from its config.json, as an artifact
    written before that parameter existed; returns ``path``."""
    model.save(path)
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["params"][param]
    write_config(cfg_path, cfg)
    return path
