"""One artifact per model: a directory holding ``model.safetensors`` and ``config.json``.

``config.json`` carries everything predict needs (architecture, label map, preprocessing state)
plus the format version, the library/torch versions that wrote it, an optional ``run_id`` and two
checksums: ``weights_sha256`` (of ``model.safetensors``) and ``config_sha256`` (of the config's
own canonical JSON, see :func:`config_checksum`). Training checkpoints add
``training.safetensors`` (optimiser and scheduler tensors, RNG state) and ``training.json``.

Safety rules (``docs/safety.md`` says them in full):

* nothing is ever unpickled (safetensors + JSON only);
* a save never removes or hides what it did not write: the output path must be missing, an
  empty folder, or (with ``overwrite=True``) a seqcnn artifact / run folder holding nothing
  else; anything else raises :class:`OutputError` and is left untouched;
* every write goes to a temporary sibling ``.NAME.tmp-<pid>-<rand>`` that is swapped in by
  renames (old → ``.NAME.old-<pid>-<rand>``, tmp → NAME, old deleted); a killed save leaves
  either the whole old or the whole new folder, and its leftovers are removed (or the backup
  restored) by the next save into, or load from, the same parent once that process is gone;
* final folders get mode ``0o777 & ~umask``, files ``0o666 & ~umask``;
* a truncated, corrupt or tampered file, a missing key or checksum, or a config from a newer
  format raises :class:`CheckpointError` (a ``ValueError``) naming the file (and the field).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch

__all__ = [
    "FORMAT_VERSION",
    "CheckpointError",
    "OutputError",
    "save_artifact",
    "load_artifact",
    "load_state_dict_checked",
    "read_config",
    "write_config",
    "config_checksum",
    "stamp_run_id",
    "check_output_path",
    "write_dir_atomically",
    "write_run_dir",
    "new_run_id",
    "clean_leftovers",
    "recover_interrupted_save",
    "save_training_state",
    "load_training_state",
    "flatten_state",
    "unflatten_state",
]

FORMAT_VERSION = 2
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
TRAIN_WEIGHTS = "training.safetensors"
TRAIN_CONFIG = "training.json"
MANIFEST = "ensemble.json"
RUN_JSON = "run.json"
ARTIFACT_FILES = frozenset({WEIGHTS, CONFIG, TRAIN_WEIGHTS, TRAIN_CONFIG})
_CHECKSUM_KEYS = ("config_sha256", "config_fields_sha256")
_KINDS = ("artifact", "run", "checkpoint")

#: Test hook: when set, called as ``_STEP_HOOK(step, path)`` at each step of a save to ``path``
#: ("tmp_written", "old_renamed", "new_in_place") so a test can kill the process there.
_STEP_HOOK = None

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?P<pid>\d+)-(?P<rand>[0-9a-f]+)$")  # secrets.token_hex


class CheckpointError(ValueError):
    """A checkpoint is missing a file, key or checksum, is corrupt, was tampered with, or is too new."""


class OutputError(ValueError):
    """An output path cannot be written without losing something (or cannot be written at all)."""


def _step(name: str, path: Path) -> None:
    if _STEP_HOOK is not None:
        _STEP_HOOK(name, path)


def _versions() -> dict:
    from seqcnn import __version__

    return {"seqcnn": __version__, "torch": torch.__version__.split("+")[0]}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _digest(obj) -> str:
    return hashlib.sha256(_canonical(obj)).hexdigest()


def _field_digests(config: dict) -> dict:
    """sha256 of every top-level value, and of every value one level down in a dict
    (``"params.n_filters"``), so a mismatch can name the field that changed."""
    out = {}
    for k, v in config.items():
        if k in _CHECKSUM_KEYS:
            continue
        out[k] = _digest(v)
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = _digest(v2)
    return out


def config_checksum(config: dict) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of ``config`` without its
    ``config_sha256`` key."""
    return _digest({k: v for k, v in config.items() if k != "config_sha256"})


def _contiguous(tensors: dict) -> dict:
    out = {}
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"tensors[{k!r}] must be a torch.Tensor, got {type(v).__name__}")
        out[k] = v.detach().to("cpu").contiguous()
    return out


# ---------------------------------------------------------------------------- modes
_umask_lock = threading.Lock()


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _apply_modes(root: Path) -> None:
    """Give ``root`` and everything under it the modes a plain ``mkdir``/``open`` would:
    folders ``0o777 & ~umask``, files ``0o666 & ~umask`` (symlinks are left alone)."""
    mask = _umask()
    dmode, fmode = 0o777 & ~mask, 0o666 & ~mask
    os.chmod(root, dmode)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, dmode)
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, fmode)


# ---------------------------------------------------------------------------- what is at a path
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _json_object(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _is_artifact_dir(path: Path) -> tuple[bool, list[str]]:
    """``(is_artifact, foreign_entries)`` for a single-model artifact folder."""
    cfg = _json_object(path / CONFIG)
    if cfg is None or not isinstance(cfg.get("format_version"), int) or not (path / WEIGHTS).is_file():
        return False, []
    foreign = sorted(e.name for e in path.iterdir() if e.name not in ARTIFACT_FILES or not e.is_file()
                     or e.is_symlink())
    return True, foreign


def _is_ensemble_dir(path: Path) -> tuple[bool, list[str]]:
    man = _json_object(path / MANIFEST)
    if man is None or not isinstance(man.get("format_version"), int):
        return False, []
    members = man.get("members") if isinstance(man.get("members"), list) else []
    foreign = []
    for e in path.iterdir():
        if e.name == MANIFEST and e.is_file() and not e.is_symlink():
            continue
        if e.name in members and e.is_dir() and not e.is_symlink():
            ok, inner = _is_artifact_dir(e)
            if ok:
                foreign.extend(f"{e.name}/{n}" for n in inner)
                continue
        foreign.append(e.name)
    return True, sorted(foreign)


def _run_files(path: Path) -> list[str]:
    """Relative POSIX paths of every file (and symlink) under ``path``, run.json excluded."""
    out = []
    for dirpath, dirnames, filenames in os.walk(path, onerror=_raise):
        rel = Path(dirpath).relative_to(path)
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                out.append((rel / d).as_posix())
                dirnames.remove(d)
        out.extend((rel / n).as_posix() for n in filenames)
    return sorted(p for p in out if p != RUN_JSON)


def _is_run_dir(path: Path) -> tuple[bool, list[str]]:
    run = _json_object(path / RUN_JSON)
    if run is None or run.get("seqcnn_run") != 1 or not isinstance(run.get("files"), list):
        return False, []
    listed = set(f for f in run["files"] if isinstance(f, str))
    return True, [f for f in _run_files(path) if f not in listed]


def _classify(path: Path) -> tuple[str, list[str]]:
    """``(what, foreign)``: what is at ``path`` — "missing", "empty", "artifact", "ensemble",
    "checkpoint", "run", "file", "link", "folder" (anything else) — and the entries that a
    seqcnn folder holds beside its own files."""
    if os.path.islink(path):
        return "link", []
    if not os.path.lexists(path):
        return "missing", []
    if not path.is_dir():
        return "file", []
    if not any(path.iterdir()):
        return "empty", []
    ok, foreign = _is_run_dir(path)
    if ok:
        return "run", foreign
    ok, foreign = _is_artifact_dir(path)
    if ok:
        cfg = _json_object(path / CONFIG) or {}
        kind = "checkpoint" if (path / TRAIN_CONFIG).is_file() and cfg.get("kind") == "training-checkpoint" \
            else "artifact"
        return kind, foreign
    ok, foreign = _is_ensemble_dir(path)
    if ok:
        return "ensemble", foreign
    if (path / "metrics.json").is_file() and (path / "model").is_dir():
        return "legacy-run", []
    return "folder", []


_WHAT = {"file": "a file", "link": "a symbolic link", "folder": "a folder that is not a seqcnn artifact or run",
         "artifact": "a seqcnn model artifact", "ensemble": "a seqcnn ensemble artifact",
         "checkpoint": "a seqcnn training checkpoint", "run": "a seqcnn run folder",
         "legacy-run": ("a run folder without run.json (written before seqcnn recorded what a run holds, or "
                        "with files added by hand), so seqcnn cannot tell its files from yours")}
_ACCEPTS = {"artifact": ("artifact", "ensemble"), "run": ("run",), "checkpoint": ("checkpoint",)}


def _list(names, limit=5) -> str:
    names = list(names)
    head = ", ".join(repr(n) for n in names[:limit])
    return head + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _raise(exc: OSError) -> None:
    raise exc


def _check_replaceable(path: Path, kind: str, overwrite: bool) -> str:
    try:
        what, foreign = _classify(path)
    except OSError as exc:
        raise OutputError(f"cannot tell what {str(path)!r} holds ({exc.strerror or exc}: "
                          f"{exc.filename or path}); it is left untouched") from exc
    if what in ("missing", "empty"):
        return what
    if what in _ACCEPTS[kind]:
        if foreign:
            raise OutputError(
                f"{str(path)!r} is {_WHAT[what]} but also holds files seqcnn did not write "
                f"({_list(foreign)}); it is left untouched, even with overwrite=True / --force: "
                "move those files or choose another path")
        if not overwrite and kind != "checkpoint":
            raise OutputError(f"{str(path)!r} already holds {_WHAT[what]}; pass overwrite=True / --force "
                              "to replace it, or choose another path")
        return what
    wanted = {"artifact": "a model artifact", "run": "a run folder", "checkpoint": "a training checkpoint"}[kind]
    raise OutputError(f"{str(path)!r} already exists and is {_WHAT[what]}, not {wanted}; seqcnn writes only to "
                      "a new path, an empty folder or its own output, and leaves this untouched, even with "
                      "overwrite=True / --force: choose another path")


def check_output_path(path, *, kind: str = "artifact", overwrite: bool = False) -> Path:
    """Check, before any work, that a save of ``kind`` ("artifact": a model; "run": a run
    folder) to ``path`` can succeed without losing anything; returns ``path`` as an absolute
    :class:`~pathlib.Path`. Writes nothing but a probe file (created and removed) in the
    nearest existing parent.

    Raises :class:`OutputError` naming the path when ``path`` is a file, a symlink, a folder
    with foreign content, a seqcnn artifact/run without ``overwrite=True``, when a parent is a
    file, or when the parent folder is not writable.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if str(path) == "":
        raise OutputError("the output path is empty")
    path = Path(os.path.abspath(path))
    what = _check_replaceable(path, kind, overwrite)
    if what != "missing":
        cwd = os.getcwd()
        if cwd == str(path) or cwd.startswith(str(path).rstrip(os.sep) + os.sep):
            raise OutputError(f"{str(path)!r} is the current folder (or holds it): a save replaces the whole "
                              "folder, so name a sub-folder (--out run1) instead")
    parent = path.parent
    while not os.path.lexists(parent):
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {str(path)!r}: the folder {str(parent)!r} is not writable")
    probe_name = f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        fd = os.open(parent / probe_name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        os.unlink(parent / probe_name)
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: creating a file in {str(parent)!r} failed "
                          f"({exc.strerror or exc})") from exc
    return path


# ---------------------------------------------------------------------------- leftovers
def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        try:
            p.unlink()
        except OSError:
            pass


def _recover(path: Path) -> bool:
    """If ``path`` is missing because a save was killed between its two renames, put the
    backup ``.NAME.old-<dead pid>-*`` back; returns whether something was restored."""
    if os.path.lexists(path) or not path.parent.is_dir():
        return False
    backups = []
    for e in path.parent.iterdir():
        m = _LEFTOVER.match(e.name)
        if m and m["what"] == "old" and m["name"] == path.name and not _pid_alive(int(m["pid"])):
            backups.append(e)
    for b in sorted(backups, key=lambda e: e.stat().st_mtime, reverse=True):
        if _classify(b)[0] not in ("empty", "artifact", "ensemble", "checkpoint", "run"):
            continue  # not something a seqcnn swap moves aside
        try:
            os.rename(b, path)
            return True
        except OSError:
            continue
    return False


def recover_interrupted_save(path) -> bool:
    """Make ``path`` (or the missing folder above it, e.g. the run folder above ``run/model``)
    whole again if a save was killed between its two renames: the intact previous version is
    renamed back from its ``.NAME.old-<dead pid>-*`` backup. Returns whether anything was
    restored. Loaders call it, so a reader never finds "nothing" after such a kill."""
    p = Path(os.path.abspath(path))
    restored = False
    while not os.path.lexists(p) and p != p.parent:
        restored = _recover(p) or restored
        if restored:
            break
        p = p.parent
    return restored


def clean_leftovers(parent) -> list[str]:
    """Remove what killed saves left in ``parent``: ``.NAME.tmp-<pid>-*`` and ``.NAME.old-<pid>-*``
    entries whose process ``pid`` is gone. A backup whose ``NAME`` is missing (the save died
    between its renames) is restored to ``NAME`` instead. Returns the names removed."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    entries = []
    for e in parent.iterdir():
        m = _LEFTOVER.match(e.name)
        if m and not _pid_alive(int(m["pid"])):
            entries.append((e, m))
    for e, m in entries:  # restore first: a missing NAME gets its backup back
        if m["what"] == "old":
            _recover(parent / m["name"])
    removed = []
    for e, m in entries:
        if os.path.lexists(e):
            _remove(e)
            removed.append(e.name)
    return removed


# ---------------------------------------------------------------------------- atomic folders
def _mkdir_tmp(path: Path) -> Path:
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            os.mkdir(tmp, 0o700)
            return tmp
        except FileExistsError:
            continue
    raise OutputError(f"could not create a temporary folder beside {str(path)!r}")


def _swap(tmp: Path, path: Path) -> None:
    """Move the finished ``tmp`` to ``path``; an existing ``path`` (checked replaceable) is
    renamed to a backup first and removed last."""
    if os.path.lexists(path):
        old = path.with_name(f".{path.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
        os.rename(path, old)
        _step("old_renamed", path)
        try:
            os.rename(tmp, path)
        except BaseException:
            os.rename(old, path)
            raise
        _step("new_in_place", path)
        _remove(old)
    else:
        os.rename(tmp, path)
        _step("new_in_place", path)


def _write_dir(path, writer, *, overwrite: bool, kind: str) -> Path:
    path = check_output_path(path, kind=kind, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(path.parent)
    tmp = _mkdir_tmp(path)
    try:
        writer(tmp)
        _apply_modes(tmp)
        _step("tmp_written", path)
        _check_replaceable(path, kind, overwrite)  # again: something may have appeared meanwhile
        _swap(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def write_dir_atomically(path, writer, *, overwrite: bool = False, kind: str = "artifact") -> Path:
    """Run ``writer(tmp_dir)`` to fill a new temporary sibling folder, then put it at ``path``.

    ``path`` must be missing or an empty folder, or — with ``overwrite=True`` — a seqcnn
    artifact of ``kind`` ("artifact": a model or an ensemble; "run": a run folder; "checkpoint":
    a training checkpoint, always replaced) holding nothing else; otherwise
    :class:`OutputError` is raised before ``writer`` runs and nothing is touched. Readers see
    the old folder or the complete new one; a failing ``writer`` leaves the old one intact.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    return _write_dir(path, writer, overwrite=overwrite, kind=kind)


def new_run_id() -> str:
    """A fresh run id: UTC time and 8 random hex digits (``20261203T031500Z-1a2b3c4d``)."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def _check_run_ids(tmp: Path, run_id: str) -> None:
    """Every ``metrics.json`` and every model config in the run must carry ``run_id``."""
    for rel in _run_files(tmp):
        name = rel.rsplit("/", 1)[-1]
        if name not in ("metrics.json", CONFIG, MANIFEST):
            continue
        obj = _json_object(tmp / rel)
        if obj is None:
            continue
        if obj.get("run_id") != run_id:
            raise ValueError(f"{rel} of the run carries run_id {obj.get('run_id')!r}, not {run_id!r}: "
                             "save the model with run_id=... and put it in metrics.json")


def write_run_dir(out, writer, *, overwrite: bool = False) -> str:
    """Write a run folder as a whole: ``writer(tmp_dir, run_id)`` fills a temporary sibling
    (``model/``, ``metrics.json``, pictures), then ``run.json`` (``{"seqcnn_run": 1, "run_id",
    "created", "files"}``) is added and the folder swapped in. Returns the run id.

    ``metrics.json`` and every model ``config.json``/``ensemble.json`` in the folder must carry
    the same ``"run_id"`` (save the model with ``run_id=run_id``); a ``ValueError`` otherwise.
    ``out`` follows :func:`write_dir_atomically`'s rules for kind "run": an existing run is
    replaced only with ``overwrite=True`` and only if it holds no files beyond its ``run.json``.
    """
    run_id = new_run_id()

    def fill(tmp: Path) -> None:
        writer(tmp, run_id)
        _check_run_ids(tmp, run_id)
        record = {"seqcnn_run": 1, "run_id": run_id,
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "files": _run_files(tmp)}
        (tmp / RUN_JSON).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")

    _write_dir(out, fill, overwrite=overwrite, kind="run")
    return run_id


# ---------------------------------------------------------------------------- configs
def write_config(cfg_path, config: dict) -> None:
    """Write ``config`` as JSON with ``format_version`` and its checksums (``config_sha256``
    over the canonical JSON, ``config_fields_sha256`` per field) filled in."""
    config = {k: v for k, v in config.items() if k not in _CHECKSUM_KEYS}
    config["format_version"] = FORMAT_VERSION
    config["config_fields_sha256"] = _field_digests(config)
    config["config_sha256"] = config_checksum(config)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def _changed_fields(config: dict) -> list[str]:
    """The fields whose per-field hash no longer matches: ``params.n_filters`` rather than
    ``params`` where a sub-key changed, ``'x' (removed)``/``'x' (added)`` for whole keys."""
    stored = config.get("config_fields_sha256")
    if not isinstance(stored, dict):
        return []
    now = _field_digests(config)
    out = []
    for k in sorted({k for k in (set(stored) | set(now)) if "." not in k}):
        if stored.get(k) == now.get(k):
            continue
        if k not in now:
            out.append(f"{k!r} (removed)")
        elif k not in stored:
            out.append(f"{k!r} (added)")
        else:
            subs = sorted(s for s in set(stored) | set(now) if s.startswith(k + ".") and stored.get(s) != now.get(s))
            out.extend(repr(x) for x in (subs or [k]))
    return out


def read_config(cfg_path) -> dict:
    """A JSON object with an integer ``format_version`` this seqcnn understands (the config of an
    artifact, or a manifest that groups artifacts), its ``config_sha256`` verified;
    :class:`CheckpointError` otherwise. Format-1 files (no config checksum) load with a
    ``UserWarning``."""
    cfg_path = Path(cfg_path)
    try:
        with open(cfg_path, encoding="utf-8") as f:
            config = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{str(cfg_path)!r} is not valid JSON (corrupt or truncated): {exc}") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{str(cfg_path)!r} must hold a JSON object")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{str(cfg_path)!r} has no integer 'format_version' key")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(cfg_path)!r} was written with format version {version}, newer than this seqcnn "
            f"understands ({FORMAT_VERSION}); upgrade seqcnn to load it"
        )
    if version < 2:
        warnings.warn(f"{str(cfg_path)!r} has format version {version}: its content is not covered by a "
                      "checksum (only the weights are); save it again to protect it", UserWarning, stacklevel=2)
        return config
    expected = config.get("config_sha256")
    if not isinstance(expected, str):
        raise CheckpointError(f"{str(cfg_path)!r} lacks its 'config_sha256' checksum (removed or tampered with)")
    if config_checksum(config) != expected:
        fields = _changed_fields(config)
        more = f" and {len(fields) - 5} more" if len(fields) > 5 else ""
        where = f" (changed: {', '.join(fields[:5])}{more})" if fields else ""
        raise CheckpointError(f"{str(cfg_path)!r} was modified after it was saved: checksum mismatch{where}")
    return config


def stamp_run_id(directory, run_id: str) -> None:
    """Put ``"run_id": run_id`` into the config of the artifact (or ensemble and all its
    members) at ``directory``, checksums renewed. Only for a folder still being written (a
    run's temporary folder): the rewrite is in place, not atomic."""
    directory = Path(directory)
    paths = []
    if (directory / MANIFEST).is_file():
        paths.append(directory / MANIFEST)
        paths.extend(sorted(directory.glob(f"*/{CONFIG}")))
    elif (directory / CONFIG).is_file():
        paths.append(directory / CONFIG)
    else:
        raise CheckpointError(f"{str(directory)!r} holds no seqcnn artifact to stamp")
    for p in paths:
        cfg = read_config(p)
        cfg["run_id"] = run_id
        write_config(p, cfg)


# ---------------------------------------------------------------------------- artifacts
def _write_pair(directory: Path, weights_name: str, config_name: str, tensors: dict, config: dict) -> None:
    from safetensors.torch import save_file

    weights = directory / weights_name
    save_file(_contiguous(tensors), str(weights))
    config = dict(config)
    config["versions"] = _versions()
    config["weights_sha256"] = _sha256(weights)
    write_config(directory / config_name, config)


def _read_pair(directory: Path, weights_name: str, config_name: str) -> tuple[dict, dict]:
    from safetensors.torch import load_file

    directory = Path(directory)
    if not os.path.lexists(directory):
        recover_interrupted_save(directory)
    if not directory.exists():
        raise FileNotFoundError(f"checkpoint directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint path {str(directory)!r} is not a directory")
    cfg_path, w_path = directory / config_name, directory / weights_name
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint file {str(p)!r} is missing")
    config = read_config(cfg_path)
    expected = config.get("weights_sha256")
    if not isinstance(expected, str):
        raise CheckpointError(f"{str(cfg_path)!r} lacks the 'weights_sha256' checksum of {weights_name} "
                              "(removed or tampered with)")
    if _sha256(w_path) != expected:
        raise CheckpointError(
            f"{str(w_path)!r} does not match the checksum recorded in {config_name} "
            "(the file was truncated, corrupted or modified)"
        )
    try:
        tensors = load_file(str(w_path))
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{str(w_path)!r} is not a valid safetensors file: {exc}") from exc
    return tensors, config


def save_artifact(path, tensors: dict, config: dict, *, overwrite: bool = False) -> Path:
    """Write ``tensors`` (name → tensor) and the JSON-able ``config`` as one artifact directory
    (checksums and format version added); returns the absolute path.

    The write is atomic: readers see either the old artifact or the complete new one. An
    existing artifact is replaced only with ``overwrite=True``; anything else at ``path``
    raises :class:`OutputError` (see :func:`write_dir_atomically`). A ``"run_id"`` in
    ``config`` is stored like any other key.
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        json.dumps(config)
    except TypeError as exc:
        raise TypeError(f"config must be JSON-serialisable: {exc}") from exc
    return write_dir_atomically(path, lambda d: _write_pair(d, WEIGHTS, CONFIG, tensors, config),
                                overwrite=overwrite)


def load_state_dict_checked(module: torch.nn.Module, tensors: dict, where) -> None:
    """``module.load_state_dict(tensors, strict=True)``, with any key or shape difference
    reported as one short :class:`CheckpointError` line naming ``where`` and the first few
    differences (not torch's full listing). A module with ``upgrade_state_dict(tensors)`` first
    renames the keys of artifacts saved by its earlier versions."""
    if callable(getattr(module, "upgrade_state_dict", None)):
        tensors = module.upgrade_state_dict(dict(tensors))
    own = module.state_dict()
    missing = [k for k in own if k not in tensors]
    unexpected = [k for k in tensors if k not in own]
    shapes = [f"{k}: saved {tuple(tensors[k].shape)}, model {tuple(own[k].shape)}"
              for k in own if k in tensors and tuple(tensors[k].shape) != tuple(own[k].shape)]
    problems = ([f"missing {_list(missing, 3)}"] if missing else []) \
        + ([f"unexpected {_list(unexpected, 3)}"] if unexpected else []) \
        + ([f"shape {'; '.join(shapes[:3])}" + (f" and {len(shapes) - 3} more" if len(shapes) > 3 else "")]
           if shapes else [])
    if problems:
        raise CheckpointError(f"{where} does not match the saved architecture ({' | '.join(problems)})")
    try:
        module.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise CheckpointError(f"{where} does not match the saved architecture "
                              f"({first[-1].strip() if first else type(exc).__name__})") from None


def load_artifact(path) -> tuple[dict, dict]:
    """Read an artifact written by :func:`save_artifact`; returns ``(tensors, config)``.
    Both checksums are verified. If ``path`` is missing because a save was killed between its
    renames, the intact previous artifact is restored first."""
    return _read_pair(Path(path), WEIGHTS, CONFIG)


def flatten_state(state, prefix: str = "") -> tuple[dict, object]:
    """Split a nested state (dicts/lists of tensors and JSON values) into a flat dict of tensors
    and a JSON skeleton in which each tensor is replaced by ``{"__tensor__": key}``.

    This is how optimiser and scheduler ``state_dict()``s are saved without pickle.
    """
    tensors: dict = {}

    def walk(obj, key):
        if isinstance(obj, torch.Tensor):
            tensors[key] = obj
            return {"__tensor__": key}
        if isinstance(obj, dict):
            return {"__dict__": [[walk_key(k), walk(v, f"{key}.{k}")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            return {"__list__": [walk(v, f"{key}.{i}") for i, v in enumerate(obj)],
                    "tuple": isinstance(obj, tuple)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        raise TypeError(f"cannot serialise state entry {key!r} of type {type(obj).__name__}")

    def walk_key(k):
        if isinstance(k, (bool, int, float, str)) or k is None:
            return k
        raise TypeError(f"cannot serialise state key {k!r}")

    skeleton = walk(state, prefix or "state")
    return tensors, skeleton


def unflatten_state(skeleton, tensors: dict):
    """Inverse of :func:`flatten_state`."""
    if isinstance(skeleton, dict):
        if "__tensor__" in skeleton:
            key = skeleton["__tensor__"]
            if key not in tensors:
                raise CheckpointError(f"training checkpoint lacks tensor {key!r}")
            return tensors[key]
        if "__dict__" in skeleton:
            return {k: unflatten_state(v, tensors) for k, v in skeleton["__dict__"]}
        if "__list__" in skeleton:
            items = [unflatten_state(v, tensors) for v in skeleton["__list__"]]
            return tuple(items) if skeleton.get("tuple") else items
        raise CheckpointError(f"unexpected entry in training state: {sorted(skeleton)}")
    return skeleton


def save_training_state(path, model_tensors: dict, state: dict, meta: dict) -> Path:
    """Write a resumable training checkpoint: model weights and config-like ``meta`` in
    ``model.safetensors``/``config.json``, and ``state`` (optimiser, scheduler, RNG, history,
    best weights) in ``training.safetensors``/``training.json``. Atomic as a whole.

    An existing training checkpoint at ``path`` is replaced (the trainer rewrites its own
    checkpoint every epoch); anything else there (a model, a run, a foreign folder or file)
    raises :class:`OutputError` and is left untouched."""
    t_tensors, skeleton = flatten_state(state, "train")
    meta = {"kind": "training-checkpoint", **meta}

    def writer(d):
        _write_pair(d, WEIGHTS, CONFIG, model_tensors, meta)
        _write_pair(d, TRAIN_WEIGHTS, TRAIN_CONFIG, t_tensors, {"state": skeleton})

    return write_dir_atomically(path, writer, overwrite=True, kind="checkpoint")


def load_training_state(path) -> tuple[dict, dict, dict]:
    """Read a checkpoint written by :func:`save_training_state`: ``(model_tensors, state, meta)``."""
    path = Path(path)
    model_tensors, meta = _read_pair(path, WEIGHTS, CONFIG)
    t_tensors, t_config = _read_pair(path, TRAIN_WEIGHTS, TRAIN_CONFIG)
    if "state" not in t_config:
        raise CheckpointError(f"{str(path / TRAIN_CONFIG)!r} lacks the 'state' key")
    return model_tensors, unflatten_state(t_config["state"], t_tensors), meta
