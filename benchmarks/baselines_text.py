"""MR (movie-review sentence polarity) 10-fold CV for the text baselines, beside Wang & Manning.

Data: ``<data-dir>/text/rt-polarity.all``, one ``LABEL sentence`` per line (Latin-1; contains the
byte 0x85, so lines are split on b"\\n" only). The original is the sentence polarity dataset v1.0
of Pang & Lee (2005), http://www.cs.cornell.edu/people/pabo/movie-review-data/
(rt-polaritydata.tar.gz); the one-file version with labels is the one of Kim (2014),
https://github.com/yoonkim/CNN_sentence. Reference accuracies: Wang & Manning (2012), Table 2, RT-s:
MNB-uni 77.9, MNB-bi 79.0, NBSVM-uni 78.1, NBSVM-bi 79.4.

Usage: python benchmarks/baselines_text.py [--data-dir ../shared/data] [--folds 10]
           [--models mnb-uni,mnb-bi,nbsvm-bi,knn,svm-linear,svm-string] [--slow-folds 10]
Prints a table and writes benchmarks/results/baselines_text.{csv,json}.
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE = {"mnb-uni": 77.9, "mnb-bi": 79.0, "nbsvm-bi": 79.4}
SLOW = {"svm-string", "knn-levenshtein"}


def read_mr(path: Path):
    """Tiny local reader: Latin-1, split on b"\\n" only (never str.splitlines, 0x85 is inside lines)."""
    texts, labels = [], []
    for raw in path.read_bytes().split(b"\n"):
        line = raw.rstrip(b"\r").decode("latin-1")
        if not line.strip():
            continue
        label, _, text = line.partition(" ")
        texts.append(text)
        labels.append(int(label))
    return texts, np.array(labels)


def make_models():
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from baselines import NBSVM, KernelSVM, KNNClassifier, word_ngrams

    return {
        "mnb-uni": lambda: make_pipeline(word_ngrams((1, 1), "binary"), MultinomialNB()),
        "mnb-bi": lambda: make_pipeline(word_ngrams((1, 2), "binary"), MultinomialNB()),
        "nbsvm-bi": lambda: NBSVM(ngram_range=(1, 2)),
        "knn": lambda: make_pipeline(word_ngrams((1, 1), "tfidf"), KNNClassifier(n_neighbors=15, metric="cosine")),
        "knn-levenshtein": lambda: KNNClassifier(n_neighbors=15, metric="levenshtein", n_jobs=-1),
        "svm-linear": lambda: make_pipeline(word_ngrams((1, 2), "tfidf"), LinearSVC(C=1.0)),
        "svm-string": lambda: KernelSVM(kernel="spectrum", p_range=(1, 5)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"),
                    help="folder holding text/rt-polarity.all (default ../shared/data)")
    ap.add_argument("--folds", type=int, default=10, help="how many of the 10 folds to run (default 10)")
    ap.add_argument("--slow-folds", type=int, default=None,
                    help="folds for the slow models (svm-string, knn-levenshtein); default = --folds")
    ap.add_argument("--models", default="mnb-uni,mnb-bi,nbsvm-bi,knn,svm-linear,svm-string")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    from sklearn.model_selection import StratifiedKFold

    texts, y = read_mr(Path(args.data_dir) / "text" / "rt-polarity.all")
    folds = list(StratifiedKFold(n_splits=10, shuffle=True, random_state=args.seed).split(texts, y))
    factories = make_models()
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in factories]
    if unknown:
        ap.error(f"unknown models {unknown}; choose from {sorted(factories)}")
    rows = []
    for name in names:
        n_folds = args.slow_folds if (name in SLOW and args.slow_folds is not None) else args.folds
        accs, fit_s, pred_s = [], [], []
        for k, (tr, te) in enumerate(folds[:n_folds]):
            model = factories[name]()
            t0 = time.perf_counter()
            model.fit([texts[i] for i in tr], y[tr])
            t1 = time.perf_counter()
            pred = model.predict([texts[i] for i in te])
            t2 = time.perf_counter()
            accs.append(float((pred == y[te]).mean()))
            fit_s.append(t1 - t0)
            pred_s.append(t2 - t1)
            print(f"  {name} fold {k}: acc {100 * accs[-1]:.2f}  fit {t1 - t0:.1f}s  predict {t2 - t1:.1f}s", flush=True)
        rows.append({"model": name, "folds": n_folds, "accuracy_mean": 100 * float(np.mean(accs)),
                     "accuracy_std": 100 * float(np.std(accs)), "fit_seconds_mean": float(np.mean(fit_s)),
                     "predict_seconds_mean": float(np.mean(pred_s)), "reference": REFERENCE.get(name),
                     "fold_accuracies": [100 * a for a in accs]})
    print()
    print(f"MR, stratified 10-fold CV (seed {args.seed}); accuracy in %")
    print(f"{'model':<16}{'folds':>6}{'acc':>8}{'± std':>8}{'fit s':>9}{'pred s':>9}{'W&M 2012':>10}")
    for r in rows:
        ref = "" if r["reference"] is None else f"{r['reference']:.1f}"
        print(f"{r['model']:<16}{r['folds']:>6}{r['accuracy_mean']:>8.2f}{r['accuracy_std']:>8.2f}"
              f"{r['fit_seconds_mean']:>9.1f}{r['predict_seconds_mean']:>9.2f}{ref:>10}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "seed": args.seed, "dataset": "MR rt-polarity.all", "n": len(texts)}
    (out / "baselines_text.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    with open(out / "baselines_text.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "fold_accuracies"])
        w.writeheader()
        for r in rows:
            w.writerow({k: v for k, v in r.items() if k != "fold_accuracies"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
