"""Tiny stand-ins for the files the documentation's examples read, and the rewrites that make
those examples cheap (one epoch, two folds) without changing what they call.

The examples name the project's shared data (``../shared/data/...``); :func:`make_fixtures`
writes a few lines / series / images under the same relative names below a test folder, and
:func:`shrink` points the example at them.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

SHARED = "../shared/data"

_WORDS = {
    "0": ["how", "far", "distance", "miles", "long"],
    "1": ["who", "wrote", "person", "author", "name"],
    "2": ["what", "film", "thing", "object", "color"],
}


def _sentences(labels, n, rng):
    for i in range(n):
        label = labels[i % len(labels)]
        words = list(rng.choice(_WORDS[label], size=5)) + ["the", "a", "?"]
        rng.shuffle(words)
        yield f"{label} {' '.join(words)}"


def _write_ts(path: Path, n: int, rng, length: int = 40) -> None:
    lines = ["@problemName tiny", "@timeStamps false", "@missing false", "@univariate true",
             "@equalLength true", f"@seriesLength {length}", "@classLabel true 1 2", "@data"]
    t = np.linspace(0, 1, length)
    for i in range(n):
        label = 1 + i % 2
        x = np.sin(2 * np.pi * label * t) + 0.1 * rng.normal(size=length)
        lines.append(",".join(f"{v:.5f}" for v in x) + f":{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_fixtures(root: Path) -> Path:
    """Write the tiny data set files below ``root`` and return ``root``."""
    rng = np.random.default_rng(0)
    data = root / "data"
    (data / "text").mkdir(parents=True)
    (data / "signals").mkdir()
    (data / "images").mkdir()
    text = data / "text"
    text.joinpath("TREC.train.all").write_text("\n".join(_sentences(["0", "1", "2"], 60, rng)) + "\n")
    text.joinpath("TREC.test.all").write_text("\n".join(_sentences(["0", "1", "2"], 15, rng)) + "\n")
    text.joinpath("rt-polarity.all").write_text("\n".join(_sentences(["0", "1"], 40, rng)) + "\n")
    (root / "questions.txt").write_text("Who wrote Hamlet ?\nHow far is Denver ?\n")
    _write_ts(data / "signals" / "GunPoint_TRAIN.ts", 30, rng)
    _write_ts(data / "signals" / "GunPoint_TEST.ts", 10, rng)
    digits = []
    for i in range(40):
        img = rng.integers(0, 40, size=(28, 28))
        img[4 + (i % 2) * 12: 12 + (i % 2) * 12, 6:22] = 250          # class = where the bar is
        digits.append(",".join(map(str, img.ravel())) + f",{i % 2}")
    with gzip.open(data / "images" / "mnist_5k.csv.gz", "wt") as fh:
        fh.write("\n".join(digits) + "\n")
    from PIL import Image

    for c, cls in enumerate(["cat", "dog"]):
        folder = root / "images" / cls
        folder.mkdir(parents=True)
        for i in range(8):
            img = rng.integers(0, 60, size=(36, 36, 3), dtype=np.uint8)
            img[:, c * 18:(c + 1) * 18] += 150
            Image.fromarray(img).save(folder / f"{i:03d}.png")
    return root


_CNN_CELLS = ("textcnn-rand", "textcnn-char", "textcnn-dpcnn", "fcn", "resnet1d", "inception",
              "inceptiontime", "lenet5", "resnet20")


def shrink(code: str) -> str:
    """Point an example at the tiny fixtures and cut its budget: one epoch, two folds, two
    ensemble members, one job."""
    code = code.replace(SHARED, "data")
    code = re.sub(r"max_epochs(\s*[=:]\s*|\"\s*:\s*)\d+", lambda m: f"max_epochs{m.group(1)}1", code)
    code = re.sub(r"\bcv=\d+", "cv=2", code)
    code = re.sub(r"n_members=\d+", "n_members=2", code)
    return code


def shrink_command(argv: list[str]) -> list[str]:
    """The same for one ``seqcnn ...`` command line (already split into words)."""
    argv = [a.replace(SHARED, "data") for a in argv]
    out, i = [], 0
    flags = {"--epochs": "1", "--cv": "2", "--members": "2", "--n-jobs": "1"}
    while i < len(argv):
        if argv[i] in flags and i + 1 < len(argv):
            out += [argv[i], flags[argv[i]]]
            i += 2
            continue
        out.append(argv[i])
        i += 1
    if len(out) > 2 and out[1] in ("text", "signal", "vision") and out[2] == "train" \
            and "--epochs" not in out:
        out += ["--epochs", "1"]
    if len(out) > 1 and out[1] == "compare" and "--list" not in out:
        if "--cv" not in out:
            out += ["--cv", "2"]
        if "--models" in out:
            models = out[out.index("--models") + 1].split(",")
            for m in models:
                if m in _CNN_CELLS:
                    out += ["--set", f"{m}.max_epochs=1"]
        out.append("--quiet")
    return out
