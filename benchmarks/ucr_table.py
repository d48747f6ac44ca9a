"""UCR/UEA table: FCN, ResNet1D and InceptionTime on GunPoint, ItalyPowerDemand, ArrowHead and
BasicMotions, test accuracy (mean ± std over seeds) and train time beside the published numbers.

Data: ``NAME_TRAIN.ts`` / ``NAME_TEST.ts`` in the sktime/aeon format under ``--data-dir``
(default ``../shared/data``; the files are looked up in ``DATA_DIR/signals`` then ``DATA_DIR``).
Download the originals from https://timeseriesclassification.com (UCR/UEA archives, "ts"
format) if you do not have them.

Protocol (recorded in every CSV row): the archive's given train/test split; the network never
sees the test split (best epoch chosen on a stratified ``--validation-fraction`` of TRAIN; when
it is 0, the papers' protocol: learning rate halved after ``min(50, epochs // 10)`` (at least 5)
epochs without a lower *training* loss, min 1e-4, and the weights of the lowest training loss
kept — the ``selection`` column); per-series z-normalisation; Adam lr 1e-3; batch size as in
the authors' code unless ``--batch-size``: ``min(N_train // 10, 16)`` (at least 2) for FCN and
ResNet (dl-4-tsc), 64 for InceptionTime (hfawaz/InceptionTime; a training set smaller than 64 is
then one batch); ``--epochs`` epochs (the papers: 2000 for FCN, 1500 for ResNet/InceptionTime,
on GPUs). ``--proba-dir`` keeps each run's test probabilities (one ``.npz`` per run), from which
``ucr_ensemble.py`` assembles InceptionTime ensembles out of single networks trained in separate
processes, as the authors' ``nne.py`` does.
Rows are appended to ``--out`` (CSV) as runs finish, so a time-boxed run keeps what it did;
``--time-budget`` stops *starting* runs after that many seconds; ``--from-csv`` re-prints a
table from a CSV.

Published accuracies: FCN and ResNet from Fawaz et al. 2019 (dl-4-tsc, mean over runs),
InceptionTime (the 5-network ensemble) from hfawaz/InceptionTime (results-InceptionTime-128.csv, one
ensemble per data set), one Inception network from the same repository (results-inception-128.csv,
mean of its 5 runs); BasicMotions has none in those files.
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

PUBLISHED = {  # percent test accuracy
    "GunPoint": {"fcn": 100.0, "resnet": 99.1, "inceptiontime": 100.0},
    "ItalyPowerDemand": {"fcn": 96.1, "resnet": 96.3, "inceptiontime": 96.5},
    "ArrowHead": {"fcn": 84.3, "resnet": 84.5, "inceptiontime": 84.6},
    "BasicMotions": {},
}
# One Inception network (``arch="inception"``): mean over the 5 runs of hfawaz/InceptionTime's
# results-inception-128.csv (the runs its InceptionTime ensemble averages; ArrowHead std 2.8).
PUBLISHED_SINGLE = {"GunPoint": 100.0, "ItalyPowerDemand": 96.4, "ArrowHead": 84.7}
ARCH_NAMES = {"fcn": "FCN", "resnet": "ResNet1D", "inception": "InceptionTime (1 net)",
              "inceptiontime": "InceptionTime (5 nets)"}
FIELDS = ["dataset", "arch", "seed", "epochs", "batch_size", "validation_fraction", "selection",
          "best_epoch", "accuracy", "balanced_accuracy", "macro_f1", "train_s", "predict_s", "n_train", "n_test",
          "train_sha256", "test_sha256", "torch", "date"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _find(data_dir: Path, name: str, split: str) -> Path:
    for d in (data_dir / "signals", data_dir):
        p = d / f"{name}_{split}.ts"
        if p.exists():
            return p
    raise FileNotFoundError(f"{name}_{split}.ts not found under {data_dir}/signals or {data_dir} "
                            f"(download it from https://timeseriesclassification.com)")


def paper_batch_size(arch: str, n_train: int) -> int:
    """The authors' batch size: 64 for InceptionTime (Ismail Fawaz et al. 2020), else
    ``int(min(N / 10, 16))`` (dl-4-tsc, FCN and ResNet), at least 2."""
    if arch in ("inception", "inceptiontime"):
        return 64
    return max(2, min(n_train // 10, 16))


def proba_path(proba_dir: Path, row: dict) -> Path:
    """Where ``--proba-dir`` keeps the test probabilities of the run described by ``row`` (a CSV
    row: dataset, arch, epochs, batch_size, validation_fraction, seed)."""
    v = float(row["validation_fraction"] or 0)
    return Path(proba_dir) / (f"{row['dataset']}_{row['arch']}_e{row['epochs']}_b{row['batch_size']}_v{v:g}"
                              f"_s{row['seed']}.npz")


def check_csv_header(out: Path) -> bool:
    """True when ``out`` is missing or empty (a header is owed); raises ``ValueError`` when it
    holds rows with other columns than ``FIELDS`` (appending would misalign them)."""
    if not out.exists() or out.stat().st_size == 0:
        return True
    with open(out, newline="") as f:
        header = next(csv.reader(f), [])
    if header != FIELDS:
        raise ValueError(f"{out} has other columns ({', '.join(header)}); write to a new --out file")
    return False


def run_one(name, arch, seed, args, data_dir):
    import torch
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    from seqcnn.signal import SignalCNNClassifier, read_ts

    tr_path, te_path = _find(data_dir, name, "TRAIN"), _find(data_dir, name, "TEST")
    Xtr, ytr = read_ts(tr_path)
    Xte, yte = read_ts(te_path)
    bs = args.batch_size or paper_batch_size(arch, len(ytr))
    clf = SignalCNNClassifier(arch, max_epochs=args.epochs, batch_size=bs,
                              validation_fraction=args.validation_fraction, random_state=seed,
                              verbose=0, n_members=args.members)
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = clf.predict_proba(Xte)
    pred = clf.classes_[proba.argmax(axis=1)]
    predict_s = time.perf_counter() - t0
    best = clf.best_epoch_
    row = {
        "dataset": name, "arch": arch, "seed": seed, "epochs": args.epochs, "batch_size": bs,
        "validation_fraction": args.validation_fraction,
        "selection": "val_loss" if args.validation_fraction else "train_loss",
        "best_epoch": "/".join(str(b) for b in best) if isinstance(best, list) else best,
        "accuracy": accuracy_score(yte, pred), "balanced_accuracy": balanced_accuracy_score(yte, pred),
        "macro_f1": f1_score(yte, pred, average="macro"), "train_s": round(train_s, 2),
        "predict_s": round(predict_s, 2), "n_train": len(ytr), "n_test": len(yte),
        "train_sha256": _sha(tr_path), "test_sha256": _sha(te_path),
        "torch": torch.__version__.split("+")[0], "date": _dt.date.today().isoformat(),
    }
    if args.proba_dir:
        path = proba_path(args.proba_dir, row)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, proba=proba, classes=np.asarray(clf.classes_), y_test=np.asarray(yte),
                 train_s=train_s, best_epoch=np.asarray(best), seed=seed)
    return row


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _kept(row: dict) -> str:
    """Which epoch's weights were scored: CSVs written before the ``selection`` column kept the last."""
    frac = float(row["validation_fraction"] or 0)
    selection = row.get("selection") or ("val_loss" if frac else "last")
    return {"last": "last epoch", "train_loss": "min train loss",
            "val_loss": f"min val loss ({frac:.0%} of train)"}.get(selection, selection)


def render(rows: list[dict], header: str = "") -> str:
    # One cell per protocol: rows that differ in epochs, batch size, validation split or epoch
    # selection are never averaged together (they show as separate lines).
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        protocol = (r["epochs"], r["batch_size"], r["validation_fraction"], r.get("selection", ""))
        cells.setdefault((r["dataset"], r["arch"], *protocol), []).append(r)
    lines = []
    if header:
        lines += [header, ""]
    lines.append("| data set | model | test accuracy % (mean ± std) | runs | epochs | batch | weights kept "
                 "| published % | train s / run |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (ds, arch, *_), rs in cells.items():
        acc = np.array([float(r["accuracy"]) for r in rs]) * 100
        tr = np.array([float(r["train_s"]) for r in rs])
        pub = PUBLISHED_SINGLE.get(ds) if arch == "inception" else PUBLISHED.get(ds, {}).get(arch)
        spread = f" ± {acc.std(ddof=1):.1f}" if len(acc) > 1 else ""
        epochs = sorted({str(r["epochs"]) for r in rs})
        lines.append(f"| {ds} | {ARCH_NAMES.get(arch, arch)} | {acc.mean():.1f}{spread} | {len(rs)} | "
                     f"{'/'.join(epochs)} | {rs[0]['batch_size']} | {_kept(rs[0])} | {'–' if pub is None else f'{pub:.1f}'} | "
                     f"{tr.mean():.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--datasets", default="GunPoint,ItalyPowerDemand,ArrowHead,BasicMotions")
    p.add_argument("--archs", default="fcn,resnet,inception",
                   help="comma list of fcn, resnet, inception (one network), inceptiontime (ensemble)")
    p.add_argument("--seeds", default="0,1,2", help="comma list of seeds")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--validation-fraction", type=float, default=0.1)
    p.add_argument("--members", type=int, default=5, help="ensemble size for inceptiontime")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (1 is much faster on a machine shared with other jobs)")
    p.add_argument("--time-budget", type=float, default=None, help="seconds; no new run starts after")
    p.add_argument("--out", default="ucr_results.csv")
    p.add_argument("--proba-dir", default=None,
                   help="also save each run's test probabilities here (for ucr_ensemble.py)")
    p.add_argument("--from-csv", default=None, help="only print the table of an existing CSV")
    args = p.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " \
              f"{'CUDA' if torch.cuda.is_available() else 'CPU'}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__.split('+')[0]}"
    if args.from_csv:
        print(render(read_rows(Path(args.from_csv))))
        return 0
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    datasets = [d for d in args.datasets.split(",") if d]
    archs = [a for a in args.archs.split(",") if a]
    out = Path(args.out)
    try:
        new = check_csv_header(out)
    except ValueError as e:
        p.error(str(e))
    start = time.perf_counter()
    rows = []
    with open(out, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        for seed in seeds:  # seeds outermost: a time-boxed run covers every cell once first
            for ds in datasets:
                for arch in archs:
                    if args.time_budget is not None and time.perf_counter() - start > args.time_budget:
                        print(f"time budget reached; skipped {ds}/{arch}/seed {seed}", file=sys.stderr)
                        continue
                    row = run_one(ds, arch, seed, args, Path(args.data_dir))
                    w.writerow(row)
                    f.flush()
                    rows.append(row)
                    print(f"{ds:18s} {arch:13s} seed {seed}: acc {row['accuracy']:.4f}  "
                          f"train {row['train_s']:.0f}s  best epoch {row['best_epoch']}", flush=True)
    header = (f"UCR/UEA table — {args.epochs} epochs (papers: 1500–2000), validation fraction "
              f"{args.validation_fraction}, seeds {seeds}; {machine}; {_dt.date.today().isoformat()}")
    print()
    print(render(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
