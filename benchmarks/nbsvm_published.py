"""NBSVM-bi as Wang & Manning (2012) published it, before and after the bias fix, beside MNB-bi.

The fix: the interpolated NBSVM's decision function is (r ⊙ f̂)·w' + β·b with
w' = (1 − β)·w̄ + β·w; before it, the SVM's bias b was kept at full size beside the β-shrunk
weights, which on short texts outweighs a phrase's few features. The "before" column is that
old decision function, rebuilt exactly from the same fitted model (it adds (1 − β)·b back), so
both columns share one SVM per fold. "no bias" trains the SVM without a bias, as the authors'
LIBLINEAR runs did (``-s 1`` without ``-B``).

Data sets (``--data-dir``, default ``../shared/data``):
- MR: ``text/rt-polarity.all`` (Pang & Lee 2005 sentence polarity v1.0, one-file version of Kim
  2014, https://github.com/yoonkim/CNN_sentence), 10 seeded stratified folds. Wang & Manning
  Table 2 (RT-s): MNB-bi 79.0, NBSVM-bi 79.4.
- SST-phrases≤4: the phrases of 1–4 words in ``text/sst2.phrases.train`` (the GLUE SST-2 training
  phrases, https://gluebenchmark.com/tasks), an unbalanced set of short opinion phrases like
  MPQA (their MPQA figures: MNB-bi 86.3, NBSVM-bi 86.3; CR: 80.0 / 81.8 — other data, a level to
  compare with, not the same set), 10 seeded stratified folds.

Usage: python benchmarks/nbsvm_published.py [--data-dir ../shared/data] [--datasets MR,SST-phrases4]
           [--folds 10] [--seed 0]
Prints a table (mean ± standard deviation over folds, in %) and writes
benchmarks/results/nbsvm_published.{csv,json}.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE = {"MR": {"mnb-bi": 79.0, "nbsvm-bi": 79.4}}
COLUMNS = ["mnb-bi", "nbsvm-bi before", "nbsvm-bi", "nbsvm-bi no bias"]


def load(name: str, data_dir: Path):
    """(texts, labels) of one data set; labels as written in the file."""
    from seqcnn.data import read_labeled_lines

    if name == "MR":
        texts, labels = read_labeled_lines(data_dir / "text" / "rt-polarity.all", encoding="latin-1")
    elif name == "SST-phrases4":
        texts, labels = read_labeled_lines(data_dir / "text" / "sst2.phrases.train", encoding="utf-8")
        keep = [i for i, t in enumerate(texts) if 1 <= len(t.split()) <= 4]
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    else:
        raise ValueError(f"--datasets: unknown data set {name!r} (known: MR, SST-phrases4)")
    return np.array(texts, dtype=object), np.array(labels)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def before_fix_decision(model, texts) -> np.ndarray:
    """The decision function the NBSVM had before the fix: the SVM bias b at full size, not β·b."""
    b = model.intercept_[0] / model.beta
    return model.decision_function(texts) + (1 - model.beta) * b


def run_fold(train_texts, train_y, test_texts, test_y) -> dict[str, float]:
    from baselines import NBSVM, default_baselines

    acc = {}
    mnb = default_baselines("text")["mnb-bi"].fit(train_texts, train_y)
    acc["mnb-bi"] = float((mnb.predict(test_texts) == test_y).mean())
    nbsvm = NBSVM(ngram_range=(1, 2), random_state=0).fit(train_texts, train_y)
    acc["nbsvm-bi"] = float((nbsvm.predict(test_texts) == test_y).mean())
    before = nbsvm.classes_[(before_fix_decision(nbsvm, test_texts) > 0).astype(int)]
    acc["nbsvm-bi before"] = float((before == test_y).mean())
    no_bias = NBSVM(ngram_range=(1, 2), fit_intercept=False, random_state=0).fit(train_texts, train_y)
    acc["nbsvm-bi no bias"] = float((no_bias.predict(test_texts) == test_y).mean())
    return acc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                    help="folder holding text/rt-polarity.all and text/sst2.phrases.train (default ../shared/data)")
    ap.add_argument("--datasets", default="MR,SST-phrases4")
    ap.add_argument("--folds", type=int, default=10, help="how many of the 10 folds to run (default 10)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the stratified 10-fold split")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    if not 1 <= args.folds <= 10:
        ap.error(f"--folds must be in 1..10, got {args.folds}")

    from seqcnn.engine.folds import kfold_indices

    rows = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        texts, y = load(name, args.data_dir)
        folds = kfold_indices(y, 10, args.seed)  # compare's and seqcnn text train --cv's folds
        t0 = time.perf_counter()
        per_fold = [run_fold(list(texts[tr]), y[tr], list(texts[te]), y[te]) for tr, te in folds[:args.folds]]
        seconds = time.perf_counter() - t0
        majority = max(np.mean(y == c) for c in np.unique(y))
        for col in COLUMNS:
            accs = 100 * np.array([f[col] for f in per_fold])
            rows.append({"dataset": name, "model": col, "folds": len(per_fold), "n": len(y),
                         "majority": round(100 * majority, 2), "mean": round(float(accs.mean()), 2),
                         "std": round(float(accs.std(ddof=1)) if len(accs) > 1 else 0.0, 2),
                         "per_fold": [round(float(a), 2) for a in accs],
                         "reference": REFERENCE.get(name, {}).get(col),
                         "seconds_all_models": round(seconds, 1)})

    print(f"| data set | n | majority | {' | '.join(COLUMNS)} | Wang & Manning (NBSVM-bi) |")
    print("| --- | --- | --- |" + " --- |" * (len(COLUMNS) + 1))
    for name in dict.fromkeys(r["dataset"] for r in rows):
        cells = {r["model"]: r for r in rows if r["dataset"] == name}
        first = next(iter(cells.values()))
        ref = REFERENCE.get(name, {}).get("nbsvm-bi", "–")
        print(f"| {name} | {first['n']} | {first['majority']} | "
              + " | ".join(f"{cells[c]['mean']:.2f} ± {cells[c]['std']:.2f}" for c in COLUMNS) + f" | {ref} |")

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{_cpu_name()}, {os.cpu_count()} logical cores, {platform.system()}",
            "python": platform.python_version(), "command": " ".join(["python", "benchmarks/nbsvm_published.py"] + (argv or sys.argv[1:]))}
    (args.out / "nbsvm_published.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    with open(args.out / "nbsvm_published.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "per_fold"], extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
