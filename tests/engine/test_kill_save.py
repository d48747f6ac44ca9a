"""Kill tests: a save over an old artifact or run is killed with SIGKILL at each step of the
swap; what is at the path afterwards is the whole old or the whole new, never a mix and never
nothing, and the next save cleans what the killed one left behind.

The steps (``checkpoint._STEP_HOOK`` is called with their names and the path being saved): "tmp_written" (the temporary
folder is complete, nothing moved yet), "old_renamed" (the old folder is renamed to its backup,
the new one not yet in place: the path is missing until a load or the next save restores the
backup), "new_in_place" (the new folder is in place, the backup not yet removed).
"""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from seqcnn.engine import checkpoint
from seqcnn.engine.checkpoint import load_artifact, save_artifact, write_run_dir

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

STEPS = {"tmp_written": "old", "old_renamed": "old", "new_in_place": "new"}
VALUE = {"old": 1.0, "new": 2.0}


def save_model(path, which, *, overwrite=True):
    save_artifact(path, {"w": torch.full((1000,), VALUE[which])}, {"which": which}, overwrite=overwrite)


def save_run(path, which, *, overwrite=True):
    def writer(tmp, run_id):
        save_artifact(tmp / "model", {"w": torch.full((1000,), VALUE[which])}, {"which": which, "run_id": run_id})
        (tmp / "metrics.json").write_text(json.dumps({"run_id": run_id, "which": which}))
        (tmp / f"{which}_only.png").write_bytes(which.encode())

    return write_run_dir(path, writer, overwrite=overwrite)


def killed_at(step, save, path, which):
    """Run ``save(path, which)`` in a forked child that SIGKILLs itself at ``step`` of the save to
    ``path`` (not of a save nested in it, such as a run's model)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            def hook(name, where):
                if name == step and where == path:
                    os.kill(os.getpid(), signal.SIGKILL)

            checkpoint._STEP_HOOK = hook
            save(path, which)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    return pid


def read_model(path):
    tensors, cfg = load_artifact(path)
    w = tensors["w"]
    assert torch.all(w == w[0]) and w.numel() == 1000  # one whole weights file
    assert float(w[0]) == VALUE[cfg["which"]]  # weights and config from the same save
    return cfg["which"]


def read_run(path):
    which = read_model(path / "model")  # restores the run folder if the kill left it missing
    run = json.loads((path / "run.json").read_text())
    metrics = json.loads((path / "metrics.json").read_text())
    cfg = json.loads((path / "model" / "config.json").read_text())
    assert run["run_id"] == metrics["run_id"] == cfg["run_id"]
    assert metrics["which"] == which
    assert sorted(run["files"]) == sorted(["metrics.json", "model/config.json", "model/model.safetensors",
                                           f"{which}_only.png"])
    other = "new" if which == "old" else "old"
    assert (path / f"{which}_only.png").is_file() and not (path / f"{other}_only.png").exists()
    return which


@pytest.mark.parametrize("kind, save, read", [("artifact", save_model, read_model), ("run", save_run, read_run)])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_killed_save_leaves_the_whole_old_or_the_whole_new(tmp_path, kind, save, read, step):
    path = tmp_path / "out"
    save(path, "old", overwrite=False)
    pid = killed_at(step, save, path, "new")
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert left and all(f"-{pid}-" in n for n in left)  # the leftovers carry the dead PID
    assert os.path.exists(path) == (step != "old_renamed")
    assert read(path) == STEPS[step]
    save(path, "new")  # the next save into the parent cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert read(path) == "new"


def test_a_kill_between_the_renames_in_a_fresh_interpreter_then_the_next_save_recovers(tmp_path):
    path = tmp_path / "run"
    save_run(path, "old", overwrite=False)
    code = textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        import torch
        from seqcnn.engine import checkpoint
        checkpoint._STEP_HOOK = lambda s, p: os.kill(os.getpid(), signal.SIGKILL) if s == "old_renamed" and p.name == "run" else None

        def writer(tmp, run_id):
            checkpoint.save_artifact(tmp / "model", {{"w": torch.full((1000,), 2.0)}}, {{"which": "new", "run_id": run_id}})
            (tmp / "metrics.json").write_text(json.dumps({{"run_id": run_id, "which": "new"}}))
            (tmp / "new_only.png").write_bytes(b"new")

        checkpoint.write_run_dir({str(path)!r}, writer, overwrite=True)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not path.exists()
    # no load in between: the next save into the parent restores the old run, then replaces it
    # (without overwrite it is refused, as the old run is there again)
    with pytest.raises(checkpoint.OutputError, match="--force"):
        save_run(path, "new", overwrite=False)
    assert read_run(path) == "old"
    save_run(path, "new")
    assert read_run(path) == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["run"]
