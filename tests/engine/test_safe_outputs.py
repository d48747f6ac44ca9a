"""Safe outputs: a save never removes or hides what it did not write; run folders; modes;
leftovers of killed saves; the check made before training."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqcnn.engine import checkpoint
from seqcnn.engine.checkpoint import (OutputError, check_output_path, clean_leftovers, load_artifact,
                                      recover_interrupted_save, save_artifact, save_training_state,
                                      write_config, write_dir_atomically, write_run_dir)

from ._tiny import TinyCNNClassifier


def snapshot(root):
    """Every file and folder under ``root``: relative path → bytes (folders → None)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for n in filenames:
            p = os.path.join(dirpath, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


def art(path, value=0.0, **config):
    return save_artifact(path, {"w": torch.full((2,), float(value))}, {"arch": "x", **config}, overwrite=True)


def run_writer(value, *, extra=None):
    def writer(tmp, run_id):
        save_artifact(tmp / "model", {"w": torch.full((2,), float(value))}, {"run_id": run_id})
        (tmp / "metrics.json").write_text(json.dumps({"run_id": run_id, "value": value}))
        (tmp / "confusion_matrix.png").write_bytes(b"\x89PNG fake")
        for name, data in (extra or {}).items():
            (tmp / name).write_bytes(data)
    return writer


# ---------------------------------------------------------------------------- what is at the path
def _user_folder(p):
    (p / "cats").mkdir(parents=True)
    (p / "cats" / "1.png").write_bytes(b"\x89PNG user picture")
    (p / "notes.txt").write_text("mine")


def _user_file(p):
    p.write_bytes(b"precious bytes")


def _artifact_plus_foreign(p):
    art(p)
    (p / "README.txt").write_text("my notes about this model")


def _symlink(p):
    target = p.parent / "real"
    target.mkdir()
    (target / "x.txt").write_text("x")
    os.symlink(target, p)


def _run_folder(p):
    write_run_dir(p, run_writer(1.0))


def _legacy_run(p):
    art(p / "model")
    (p / "metrics.json").write_text("{}")


def _ensemble_with_stray(p):
    p.mkdir()
    art(p / "member_00")
    write_config(p / "ensemble.json", {"members": ["member_00"], "classes": ["a"]})
    (p / "member_07").mkdir()


REFUSED_ALWAYS = [  # (setup, words the message must contain) — refused even with overwrite=True
    (_user_file, "a file"),
    (_user_folder, "not a seqcnn artifact"),
    (_artifact_plus_foreign, "README.txt"),
    (_symlink, "symbolic link"),
    (_run_folder, "run folder"),
    (_legacy_run, "without run.json"),
    (_ensemble_with_stray, "member_07"),
]


@pytest.mark.parametrize("setup, words", REFUSED_ALWAYS, ids=[s.__name__ for s, _ in REFUSED_ALWAYS])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_save_never_touches_what_it_did_not_write(tmp_path, setup, words, overwrite):
    target = tmp_path / "out"
    setup(target)
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=words) as info:
        save_artifact(target, {"w": torch.zeros(1)}, {"arch": "new"}, overwrite=overwrite)
    assert str(target) in str(info.value)
    with pytest.raises(OutputError, match=words):
        check_output_path(target, overwrite=overwrite)
    assert snapshot(tmp_path) == before  # byte for byte, and no temporaries left


def test_an_existing_artifact_needs_overwrite(tmp_path):
    target = art(tmp_path / "m", 1.0)
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=r"overwrite=True / --force"):
        save_artifact(target, {"w": torch.zeros(1)}, {"arch": "new"})
    assert snapshot(tmp_path) == before
    save_artifact(target, {"w": torch.zeros(1)}, {"arch": "new"}, overwrite=True)
    assert load_artifact(target)[1]["arch"] == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


@pytest.mark.parametrize("make", ["missing", "missing_parents", "empty"])
def test_new_paths_and_empty_folders_are_written(tmp_path, make):
    target = tmp_path / "a" / "b" / "m" if make == "missing_parents" else tmp_path / "m"
    if make == "empty":
        target.mkdir()
    assert check_output_path(target) == target
    assert save_artifact(target, {"w": torch.ones(1)}, {"arch": "x"}) == target
    assert load_artifact(target)[1]["arch"] == "x"


def test_the_estimator_save_follows_the_same_rules(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 8)).astype(np.float32), np.arange(30) % 2
    clf = TinyCNNClassifier(max_epochs=1, random_state=0).fit(X, y)
    _user_folder(tmp_path / "imgs")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="not a seqcnn artifact"):
        clf.save(tmp_path / "imgs", overwrite=True)
    assert snapshot(tmp_path) == before
    clf.save(tmp_path / "m", run_id="r-1")
    with pytest.raises(OutputError, match="--force"):
        clf.save(tmp_path / "m")
    clf.save(tmp_path / "m", overwrite=True, run_id="r-2")
    assert load_artifact(tmp_path / "m")[1]["run_id"] == "r-2"
    np.testing.assert_array_equal(TinyCNNClassifier.load(tmp_path / "m").predict(X), clf.predict(X))


# ---------------------------------------------------------------------------- run folders
def test_run_folder_names_one_run_id_everywhere(tmp_path):
    out = tmp_path / "run"
    run_id = write_run_dir(out, run_writer(1.0))
    record = json.loads((out / "run.json").read_text())
    assert record["seqcnn_run"] == 1 and record["run_id"] == run_id and record["created"]
    assert record["files"] == ["confusion_matrix.png", "metrics.json", "model/config.json",
                               "model/model.safetensors"]
    assert json.loads((out / "metrics.json").read_text())["run_id"] == run_id
    assert load_artifact(out / "model")[1]["run_id"] == run_id


def test_run_folder_is_replaced_only_with_overwrite_and_as_a_whole(tmp_path):
    out = tmp_path / "run"
    first = write_run_dir(out, run_writer(1.0, extra={"old_only.png": b"1"}))
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="--force"):
        write_run_dir(out, run_writer(2.0))
    assert snapshot(tmp_path) == before
    second = write_run_dir(out, run_writer(2.0), overwrite=True)
    assert second != first
    assert not (out / "old_only.png").exists()  # nothing of the old run survives beside the new
    assert json.loads((out / "metrics.json").read_text())["value"] == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_run_folder_with_user_files_is_not_replaced(tmp_path):
    out = tmp_path / "run"
    write_run_dir(out, run_writer(1.0))
    (out / "my_analysis.ipynb").write_text("{}")
    (out / "model" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="my_analysis.ipynb.*model/notes.txt|model/notes.txt.*my_analysis"):
        write_run_dir(out, run_writer(2.0), overwrite=True)
    assert snapshot(tmp_path) == before


def test_run_folder_refuses_foreign_content_and_artifacts(tmp_path):
    _user_folder(tmp_path / "imgs")
    art(tmp_path / "m")
    before = snapshot(tmp_path)
    for p, words in [(tmp_path / "imgs", "not a seqcnn artifact"), (tmp_path / "m", "model artifact")]:
        with pytest.raises(OutputError, match=words):
            write_run_dir(p, run_writer(1.0), overwrite=True)
        with pytest.raises(OutputError, match=words):
            check_output_path(p, kind="run", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_run_whose_files_miss_the_run_id_is_not_written(tmp_path):
    def writer(tmp, run_id):
        save_artifact(tmp / "model", {"w": torch.zeros(1)}, {})  # forgot run_id
        (tmp / "metrics.json").write_text(json.dumps({"run_id": run_id}))

    with pytest.raises(ValueError, match="model/config.json.*run_id"):
        write_run_dir(tmp_path / "run", writer)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_writer_leaves_the_old_run(tmp_path):
    out = tmp_path / "run"
    write_run_dir(out, run_writer(1.0))
    before = snapshot(tmp_path)

    def boom(tmp, run_id):
        (tmp / "metrics.json").write_text("{}")
        raise RuntimeError("training crashed")

    with pytest.raises(RuntimeError):
        write_run_dir(out, boom, overwrite=True)
    assert snapshot(tmp_path) == before


def test_stamp_run_id_renews_the_checksums(tmp_path):
    art(tmp_path / "m")
    checkpoint.stamp_run_id(tmp_path / "m", "abc")
    assert load_artifact(tmp_path / "m")[1]["run_id"] == "abc"


# ---------------------------------------------------------------------------- the check before training
def test_check_output_path_parent_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_path(tmp_path / "f" / "sub" / "m", kind="run")
    assert (tmp_path / "f").read_text() == "x"


def test_check_output_path_unwritable_parent(tmp_path, monkeypatch):
    real_open = os.open

    def refuse(path, *a, **k):
        if ".m.tmp-" in str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(checkpoint.os, "open", refuse)
    with pytest.raises(OutputError, match="creating a file in .* failed"):
        check_output_path(tmp_path / "m", kind="run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_check_output_path_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_path(ro / "m")
    finally:
        ro.chmod(0o700)


def test_check_output_path_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        check_output_path(tmp_path / "m", kind="model")
    with pytest.raises(TypeError, match="path"):
        check_output_path(3)
    assert issubclass(OutputError, ValueError)


# ---------------------------------------------------------------------------- modes
@pytest.mark.parametrize("umask, dmode, fmode", [(0o022, 0o755, 0o644), (0o002, 0o775, 0o664),
                                                 (0o077, 0o700, 0o600)])
def test_modes_follow_the_umask(tmp_path, umask, dmode, fmode):
    old = os.umask(umask)
    try:
        target = save_artifact(tmp_path / "m", {"w": torch.zeros(1)}, {})
        out = tmp_path / "run"
        write_run_dir(out, run_writer(1.0))
    finally:
        os.umask(old)
    for d in (target, out, out / "model"):
        assert d.stat().st_mode & 0o777 == dmode, d
    for f in (target / "config.json", target / "model.safetensors", out / "run.json", out / "metrics.json",
              out / "model" / "config.json"):
        assert f.stat().st_mode & 0o777 == fmode, f


# ---------------------------------------------------------------------------- leftovers
@pytest.fixture(scope="module")
def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_leftovers_of_dead_saves_are_cleaned_live_ones_and_lookalikes_kept(tmp_path, dead_pid):
    art(tmp_path / "m")
    dead = [f".m.tmp-{dead_pid}-ab12", f".m.old-{dead_pid}-cd34", f".other.tmp-{dead_pid}-00ff"]
    live = [f".m.tmp-{os.getpid()}-ee55", f".m.old-{os.getpid()}-ff66"]
    mine = [".m.tmp-notes", "m.tmp-123-ab", f".m.tmp-{dead_pid}", f".m.bak-{dead_pid}-ab12"]
    for name in dead + live + mine:
        (tmp_path / name).mkdir()
        (tmp_path / name / "x").write_text("x")
    (tmp_path / f".n.tmp-{dead_pid}-aa11").write_text("a probe file")
    dead.append(f".n.tmp-{dead_pid}-aa11")
    save_artifact(tmp_path / "fresh", {"w": torch.zeros(1)}, {})  # any save into the parent cleans
    names = {p.name for p in tmp_path.iterdir()}
    assert not names & set(dead)
    assert set(live + mine) <= names


def test_a_missing_artifact_is_restored_from_a_dead_saves_backup(tmp_path, dead_pid):
    art(tmp_path / "m", 7.0)
    os.rename(tmp_path / "m", tmp_path / f".m.old-{dead_pid}-ab12")  # as if killed between renames
    tensors, _ = load_artifact(tmp_path / "m")
    assert float(tensors["w"][0]) == 7.0 and (tmp_path / "m").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_live_saves_backup_is_not_restored(tmp_path):
    art(tmp_path / "m")
    os.rename(tmp_path / "m", tmp_path / f".m.old-{os.getpid()}-ab12")
    with pytest.raises(FileNotFoundError):
        load_artifact(tmp_path / "m")
    assert not recover_interrupted_save(tmp_path / "m")


def test_a_run_folder_is_restored_when_its_model_is_loaded(tmp_path, dead_pid):
    write_run_dir(tmp_path / "run", run_writer(3.0))
    os.rename(tmp_path / "run", tmp_path / f".run.old-{dead_pid}-ab12")
    assert float(load_artifact(tmp_path / "run" / "model")[0]["w"][0]) == 3.0
    assert (tmp_path / "run" / "metrics.json").is_file()


def test_clean_leftovers_restores_before_it_removes(tmp_path, dead_pid):
    art(tmp_path / "m", 5.0)
    os.rename(tmp_path / "m", tmp_path / f".m.old-{dead_pid}-ab12")
    (tmp_path / f".m.tmp-{dead_pid}-cd34").mkdir()
    assert clean_leftovers(tmp_path) == [f".m.tmp-{dead_pid}-cd34"]
    assert float(load_artifact(tmp_path / "m")[0]["w"][0]) == 5.0


# ---------------------------------------------------------------------------- training checkpoints
def test_training_checkpoints_replace_themselves_but_nothing_else(tmp_path):
    ck = tmp_path / "ck"
    for epoch in range(2):
        save_training_state(ck, {"w": torch.zeros(1)}, {"epoch": epoch}, {"epoch": epoch + 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
    art(tmp_path / "model")
    _user_folder(tmp_path / "imgs")
    before = snapshot(tmp_path)
    for p in (tmp_path / "model", tmp_path / "imgs"):
        with pytest.raises(OutputError):
            save_training_state(p, {"w": torch.zeros(1)}, {"epoch": 0}, {"epoch": 1})
    assert snapshot(tmp_path) == before


def test_write_dir_atomically_kind_is_checked(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        write_dir_atomically(tmp_path / "x", lambda d: None, kind="anything")


def test_the_trainer_refuses_a_foreign_checkpoint_dir_before_the_first_epoch(tmp_path):
    from seqcnn.engine.train import Trainer

    _user_folder(tmp_path / "imgs")
    before = snapshot(tmp_path)
    epochs = []
    model = torch.nn.Linear(3, 2)
    data = [(torch.randn(3), torch.tensor(i % 2)) for i in range(8)]
    tr = Trainer(max_epochs=2, verbose=0, device="cpu", checkpoint_dir=tmp_path / "imgs",
                 callbacks=[lambda t, e, logs: epochs.append(e)])
    for resume in (False, True):
        with pytest.raises(OutputError, match="imgs.*not a seqcnn artifact"):
            tr.fit(model, data, resume=resume)
    assert epochs == [] and snapshot(tmp_path) == before


def test_an_unreadable_folder_is_refused_untouched(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x").write_text("x")
    real = type(locked).iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(type(locked), "iterdir", iterdir)
    with pytest.raises(OutputError, match="cannot tell what .*locked.*Permission denied"):
        check_output_path(locked, overwrite=True)
    monkeypatch.undo()
    assert (locked / "x").read_text() == "x"


def test_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    for p in (".", str(tmp_path / "here")):
        with pytest.raises(OutputError, match="current folder"):
            save_artifact(p, {"w": torch.zeros(1)}, {})
    save_artifact("m", {"w": torch.zeros(1)}, {})  # a sub-folder is fine
    assert os.getcwd() == str(tmp_path / "here") and os.listdir(".") == ["m"]
