"""Supervised fastText (``baselines.FastTextClassifier``) on MR and TREC, on the same splits as
``benchmarks/pretrained_contextual.py`` (MR: one seeded stratified 90/10 split; TREC: the given
split), with two fixed settings chosen before looking at any result: fastText's defaults
(lr 0.1, 5 epochs, dim 100) and its tutorial's setting for small data (lr 1.0, 25 epochs); word
bigrams in both. Needs ``pip install "seqcnn[fasttext]"``.

Usage: python benchmarks/fasttext_text.py [--data-dir ../shared/data] [--seed 0]
Writes benchmarks/results/pretrained/fasttext.json and prints one JSON line per run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {"fasttext (defaults: lr 0.1, 5 epochs)": {},
            "fasttext (tutorial: lr 1.0, 25 epochs)": {"lr": 1.0, "epoch": 25}}


def main(argv=None) -> int:
    from baselines import FastTextClassifier
    from benchmarks.pretrained_contextual import _cpu_name, _load

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    meta = {"command": "python benchmarks/fasttext_text.py " + " ".join(sys.argv[1:]),
            "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": f"{_cpu_name()}, {os.cpu_count()} cores", "load_average_at_start": round(os.getloadavg()[0], 1)}
    records = []
    for name in ("TREC", "MR"):
        Xtr, ytr, Xte, yte = _load(Path(args.data_dir), name, args.seed)
        for label, kw in SETTINGS.items():
            t = time.perf_counter()
            clf = FastTextClassifier(random_state=args.seed, **kw).fit(Xtr, ytr)
            fit_s = time.perf_counter() - t
            t = time.perf_counter()
            acc = float(np.mean(clf.predict(Xte) == np.asarray(yte)))
            rec = {"dataset": name, "model": label, "accuracy": round(100 * acc, 2), "fit_s": round(fit_s, 1),
                   "predict_s": round(time.perf_counter() - t, 2), "n_retries": clf.n_retries_, **meta}
            records.append(rec)
            print(json.dumps(rec), flush=True)
    out = ROOT / "benchmarks" / "results" / "pretrained" / "fasttext.json"
    out.write_text(json.dumps({"records": records}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
