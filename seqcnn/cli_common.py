"""The one command-line skeleton behind ``seqcnn text|signal|vision train|predict``.

Every modality's ``train`` gets the same flags from :func:`add_train_flags` (``--train``,
``--dev``, ``--test``, ``--out``, ``--epochs``, ``--quiet``, ``--set KEY=VALUE``, ``--force``,
``--json``) and the same run folder from :func:`write_run`::

    OUT/model/                 the artifact (model.safetensors + config.json)
    OUT/metrics.json           metrics of every evaluated split, the protocol, and "run_id"
    OUT/confusion_matrix.png   of the last evaluated split (test, else dev, else train);
                               label_f1.png (F1 per label) instead for a multi-label model
    OUT/run.json               what the run holds (written by the checkpoint module)

written through :func:`seqcnn.engine.checkpoint.write_run_dir`, so a run is replaced as a
whole or not at all, and the model's ``config.json`` and ``metrics.json`` carry the same
``run_id``. Everything a run needs is checked before the first epoch: the output
location (:func:`check_out`), every ``--set`` key and value (:func:`apply_settings`), and the
labels of the dev/test files (:func:`check_labels`). A picture that cannot be drawn is a warning,
never a lost run (:func:`draw_safely`). ``predict --json`` prints one JSON object per input
with the same keys in every modality (:func:`prediction_record`).
"""
from __future__ import annotations

import json
import re
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from seqcnn.engine.metrics import format_metrics, json_scalar, plot_confusion_matrix, plot_label_f1

__all__ = ["add_train_flags", "parse_settings", "apply_settings", "check_recipe", "check_out", "check_labels",
           "check_file", "reading", "Reporter", "write_run", "draw_safely", "prediction_record", "print_predictions",
           "main_split", "CONFUSION_PNG", "METRICS_JSON", "MODEL_DIR"]

MODEL_DIR = "model"
METRICS_JSON = "metrics.json"
CONFUSION_PNG = "confusion_matrix.png"
LABEL_F1_PNG = "label_f1.png"  # multi-label runs: per-label F1 bars instead of the confusion matrix


# ---------------------------------------------------------------------------- flags
def add_train_flags(p, *, train_help: str, epochs: int, dev_help: str | None = None,
                    test_help: str | None = None, set_help: str | None = None, test: bool = True,
                    train_aliases=()) -> None:
    """Add the flags every ``seqcnn MODALITY train`` shares to the argparse parser ``p``.

    ``test=False`` leaves ``--test`` to the caller (text puts it in a group with ``--cv``);
    ``train_aliases`` are older names of ``--train`` (vision's ``--data``)."""
    p.add_argument("--train", *train_aliases, dest="train", required=True, help=train_help)
    p.add_argument("--dev", default=None,
                   help=dev_help or "development data: read and checked before training, then scored")
    if test:
        p.add_argument("--test", default=None,
                       help=test_help or "test data: read and checked before training, scored once with the "
                                         "final model, never trained on")
    p.add_argument("--out", required=True,
                   help=f"run folder to write: {MODEL_DIR}/ (the artifact), {METRICS_JSON}, {CONFUSION_PNG}. "
                        "Must be new, or a run of seqcnn (replaced only with --force); anything else is refused")
    p.add_argument("--epochs", type=int, default=epochs, help=f"training epochs (default {epochs})")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help=set_help or "an estimator parameter (repeatable); VALUE is read as JSON, else as a "
                                    "string (--set dropout=0.3 --set optimizer=adam); unknown keys are refused "
                                    "before training")
    p.add_argument("--force", action="store_true", help="replace an existing seqcnn run at --out")
    p.add_argument("--json", action="store_true",
                   help="print the final metrics as one JSON object on stdout (tables go to stderr)")


def parse_settings(items) -> dict:
    """``["dropout=0.3", "optimizer=adam", "filter_sizes=[3,4]"]`` → ``{"dropout": 0.3, ...}``.

    Each value is parsed as JSON, else kept as the string; a later key wins."""
    out = {}
    for item in items or []:
        if not isinstance(item, str) or "=" not in item:
            raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ValueError(f"--set expects KEY=VALUE with a non-empty KEY, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key] = value
    return out


def _leading_name(message: str) -> str:
    """The parameter an error message is about: its first word (``"lr must be ..."``), or X of
    torch's ``"Invalid X value: ..."``."""
    torch_style = re.match(r"Invalid (\w+) value\b", message)
    return torch_style.group(1) if torch_style else message.split(" ", 1)[0].rstrip(":,")


def apply_settings(est, settings: dict, *, flags: dict | None = None, extra_keys=(), check=None):
    """Set ``settings`` (from :func:`parse_settings`) on the estimator ``est`` and check every
    parameter, before any training.

    An unknown key raises ``ValueError`` listing the valid ones (``est.get_params()`` plus
    ``extra_keys``, which the caller handles itself and which are skipped here). A bad value is
    reported by the estimator's own parameter check (``check()``, default ``est._check_params``
    when it has one), re-worded to name the flag it came from: ``--set KEY=VALUE`` for a
    setting, the flag in ``flags`` (parameter → flag) otherwise. The training recipe of a CNN
    estimator is checked too (:func:`check_recipe`)."""
    valid = sorted(est.get_params(deep=False))
    unknown = [k for k in settings if k not in valid and k not in extra_keys]
    if unknown:
        raise ValueError(f"--set: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"valid keys: {', '.join(sorted([*valid, *extra_keys]))}")
    own = {k: v for k, v in settings.items() if k in valid}
    if own:
        est.set_params(**own)
    check = check or getattr(est, "_check_params", None)
    try:
        if check is not None:
            check()
        check_recipe(est)
    except (ValueError, TypeError) as exc:
        name = _leading_name(str(exc))
        if name in own:
            value = own[name] if isinstance(own[name], str) else json.dumps(own[name])
            raise type(exc)(f"--set {name}={value}: {exc}") from None
        if flags and name in flags:
            raise type(exc)(f"{flags[name]}: {exc}") from None
        raise
    return est


def check_recipe(est) -> None:
    """Check the training recipe of a CNN estimator (one with ``_make_trainer``) as ``fit`` would,
    without data: ``validation_fraction`` in [0, 1), its :class:`~seqcnn.engine.train.Trainer`
    built (``max_epochs``, ``batch_size``, ``patience`` ...), and the optimizer and learning-rate
    schedule built on a one-weight stand-in model (``optimizer``, ``lr``, ``momentum``,
    ``weight_decay`` ...). Raises the library's own ``ValueError``/``TypeError``; other
    estimators pass unchecked."""
    make_trainer = getattr(est, "_make_trainer", None)
    if not callable(make_trainer) or not hasattr(est, "max_epochs"):
        return
    frac = getattr(est, "validation_fraction", None)
    if frac is not None and (isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 <= frac < 1):
        raise ValueError(f"validation_fraction must be in [0, 1), got {frac!r}")
    import torch

    from seqcnn.engine.train import build_optimizer, build_scheduler

    trainer = make_trainer(0)
    optimizer = build_optimizer(trainer.optimizer, torch.nn.Linear(1, 1), trainer.lr, **trainer.optimizer_kwargs)
    build_scheduler(trainer.schedule, optimizer, max_epochs=trainer.max_epochs, steps_per_epoch=1,
                    **trainer.schedule_kwargs)


def check_out(out, *, force: bool, inputs: dict | None = None) -> Path:
    """Refuse, before any work, an ``--out`` that cannot become a run folder (a file, a folder
    that is not a seqcnn run, an unwritable location, an existing run without ``--force``), or
    that lies inside one of the data folders ``inputs`` (flag → path; a run inside the training
    images would be read back as a class next time)."""
    from seqcnn.engine.checkpoint import check_output_path

    check_output_path(out, kind="run", overwrite=force)
    target = Path(out).resolve()
    for flag, path in (inputs or {}).items():
        if path and Path(path).is_dir():
            folder = Path(path).resolve()
            if target == folder or folder in target.parents:
                raise ValueError(f"--out {out} lies inside the data folder of {flag} ({path}); write the run "
                                 f"elsewhere so that the data stays as it is")
    return Path(out)


def check_file(path, flag: str) -> Path:
    """``path`` must exist and be a file (not a folder): ``FileNotFoundError``/``ValueError`` naming ``flag``."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{flag} {path}: no such file")
    if not p.is_file():
        raise ValueError(f"{flag} {path}: is a {'folder' if p.is_dir() else 'special file'}, expected a file")
    return p


@contextmanager
def reading(flag: str, path):
    """Errors raised while reading the data of ``flag`` (``--train``, ``--test`` ...) name the
    flag: ``--test data/t.txt:12: the record has no text`` (the path once; ``FileNotFoundError``
    for a missing path, ``ValueError`` for bad content)."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{flag} {path}: no such file or folder")
    try:
        yield
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(f"{flag}: {msg}" if str(path) in msg else f"{flag} {path}: {msg}") from exc


def _flat(labels):
    for lab in labels:
        if isinstance(lab, (list, tuple, set, frozenset)):
            yield from lab
        else:
            yield json_scalar(lab)


def check_labels(train_labels, labels, *, flag: str, path) -> None:
    """``ValueError`` listing (by name) the labels of ``labels`` (read from ``flag path``) that
    never occur in ``train_labels``: a model can only predict the classes it was trained on."""
    seen = set(_flat(train_labels))
    unseen = sorted({lab for lab in _flat(labels) if lab not in seen}, key=str)
    if unseen:
        shown = ", ".join(repr(v) for v in unseen[:10]) + (f" and {len(unseen) - 10} more" if len(unseen) > 10 else "")
        raise ValueError(f"{flag} {path}: {len(unseen)} label{'s' if len(unseen) > 1 else ''} never seen in "
                         f"--train: {shown} (the model can only predict the {len(seen)} training labels)")


# ---------------------------------------------------------------------------- output
class Reporter:
    """Human-readable lines: stdout normally, stderr with ``--json`` (stdout then holds only JSON)."""

    def __init__(self, as_json: bool = False):
        self.as_json = bool(as_json)

    @property
    def stream(self):
        return sys.stderr if self.as_json else sys.stdout

    def say(self, *parts) -> None:
        print(*parts, file=self.stream)

    def metrics(self, name: str, m: dict) -> None:
        print("\n" + format_metrics(m, name), file=self.stream)

    def final(self, metrics: dict) -> None:
        """With ``--json``: the metrics (as written to ``metrics.json``) as one JSON object on stdout."""
        if self.as_json:
            print(json.dumps(metrics, default=json_scalar, ensure_ascii=False))


def main_split(metrics: dict, order=("test", "dev", "cv_pooled", "train")):
    """``(name, metrics)`` of the split the run is judged on (and whose confusion matrix is drawn)."""
    for name in order:
        if metrics.get(name) is not None:
            return name, metrics[name]
    return None, None


def draw_safely(draw, *args, what: str = "a picture", **kwargs) -> bool:
    """Call ``draw(*args, **kwargs)``; any exception becomes a ``UserWarning`` (the run goes on).
    Returns whether the picture was drawn."""
    try:
        draw(*args, **kwargs)
        return True
    except Exception as exc:  # noqa: BLE001 — a picture never costs a run
        warnings.warn(f"{what} was not drawn ({type(exc).__name__}: {exc}); the model and "
                      f"{METRICS_JSON} are written all the same", UserWarning, stacklevel=2)
        return False


def _save_model(model, path: Path, run_id: str) -> None:
    """``model.save(path, run_id=run_id)``; an estimator whose ``save`` takes no ``run_id`` is
    saved, then stamped (:func:`seqcnn.engine.checkpoint.stamp_run_id`)."""
    import inspect

    if "run_id" in inspect.signature(model.save).parameters:
        model.save(path, run_id=run_id)
        return
    from seqcnn.engine.checkpoint import stamp_run_id

    model.save(path)
    stamp_run_id(path, run_id)


def write_run(out, *, model, metrics: dict, force: bool, title: str | None = None,
              order=("test", "dev", "cv_pooled", "train")) -> str:
    """Write the run folder ``out`` (model, ``metrics.json`` with ``"run_id"``, the confusion
    matrix of the first split of ``order`` in ``metrics``) as a whole; returns the run id.
    ``metrics`` gets ``"run_id"`` added."""
    from seqcnn.engine.checkpoint import write_run_dir

    def writer(tmp, run_id):
        tmp = Path(tmp)
        _save_model(model, tmp / MODEL_DIR, run_id)
        metrics["run_id"] = run_id
        (tmp / METRICS_JSON).write_text(json.dumps(metrics, indent=2, default=json_scalar, ensure_ascii=False)
                                        + "\n", encoding="utf-8")
        name, m = main_split(metrics, order)
        if m is not None and m.get("task") == "multilabel":  # per-label F1 bars instead of a confusion matrix
            draw_safely(plot_label_f1, m["per_class"], tmp / LABEL_F1_PNG,
                        title=title or f"{name}: macro-F1 {100 * m['macro_f1']:.1f} %", what=LABEL_F1_PNG)
        elif m is not None:
            head = title or f"{name}: accuracy {100 * m['accuracy']:.1f} %"
            draw_safely(plot_confusion_matrix, m["confusion_matrix"], m["labels"], tmp / CONFUSION_PNG,
                        title=head, what=CONFUSION_PNG)

    return write_run_dir(out, writer, overwrite=force)


# ---------------------------------------------------------------------------- predict
def prediction_record(input, proba_row, classes, **extra) -> dict:
    """The one ``predict --json`` shape: ``{"input": ..., "label": ..., "probabilities":
    {label: p}, **extra}``, labels as JSON values (``np.int64(3)`` → ``3``)."""
    classes = [json_scalar(c) for c in classes]
    row = np.asarray(proba_row, dtype=float)
    k = int(np.argmax(row))
    return {"input": input, "label": classes[k],
            "probabilities": {str(c): float(v) for c, v in zip(classes, row)}, **extra}


def print_predictions(records, *, file=None) -> None:
    """One JSON object per line (JSON lines) on ``file`` (default stdout)."""
    file = file or sys.stdout
    for r in records:
        print(json.dumps(r, ensure_ascii=False, default=json_scalar), file=file)
