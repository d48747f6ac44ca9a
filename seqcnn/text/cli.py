"""``seqcnn text train|predict|explain``.

train   : labelled file(s) → per-epoch progress, accuracy / macro-F1 / per-class table,
          ``metrics.json``, ``confusion_matrix.png`` and the model artifact in ``--out``.
predict : an artifact + a file (one text per line; ``-`` = stdin) → label and probabilities
          per line, or JSON lines with ``--json``.
explain : an artifact + a sentence → the winning n-grams, highlighted (ANSI colour on a
          terminal, [brackets] otherwise).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from seqcnn.engine.metrics import classification_metrics, json_scalar, plot_confusion_matrix

__all__ = ["register"]

PRESET_HELP = "kim2014 (Kim's recipe, lower-cased) or trec (the same, case kept)"


def register(subparsers) -> None:
    p = subparsers.add_parser("text", help="sentence classification with Kim-style CNNs",
                              description="Sentence classification with Kim-style CNNs (train, predict, explain).")
    sub = p.add_subparsers(dest="command", metavar="{train,predict,explain}")
    sub.required = True

    t = sub.add_parser("train", help="train a model on a labelled file",
                       description="Train a TextCNNClassifier. Files: 'LABEL sentence' lines (UTF-8 or Latin-1), "
                                   ".csv/.tsv/.jsonl with --text-column/--label-column, or a folder of class "
                                   "sub-folders of .txt files.")
    t.add_argument("--train", required=True, help="training data")
    t.add_argument("--dev", help="development data: picks the best epoch (default: 10%% of --train)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--test", help="test data, evaluated once with the final model")
    g.add_argument("--cv", type=int, help="k-fold stratified cross-validation on --train instead of a test file")
    t.add_argument("--out", required=True, help="output folder (artifact, metrics.json, confusion_matrix.png)")
    t.add_argument("--preset", choices=("kim2014", "trec"), default="kim2014", help=PRESET_HELP)
    t.add_argument("--mode", choices=("rand", "static", "non-static", "multichannel"), default="rand")
    t.add_argument("--arch", choices=("kim", "char", "dpcnn"), default="kim")
    t.add_argument("--vectors", help="pretrained vectors (word2vec .bin/.txt, GloVe, fastText .vec)")
    t.add_argument("--tokenizer", choices=("kim", "whitespace", "char", "wordpiece", "bpe"), default="kim")
    t.add_argument("--epochs", type=int, default=25)
    t.add_argument("--batch-size", type=int, default=50)
    t.add_argument("--embedding-dim", type=int, default=300)
    t.add_argument("--num-filters", type=int, default=100)
    t.add_argument("--filter-sizes", default="3,4,5", help="comma-separated widths (default 3,4,5)")
    t.add_argument("--optimizer", default="adadelta", choices=("adadelta", "adam", "sgd", "adamw"))
    t.add_argument("--lr", type=float, default=None)
    t.add_argument("--members", type=int, default=1,
                   help="K > 1: train K networks (seeds seed + 1000k) on one validation split and average "
                        "their probabilities (a TextCNNEnsemble; about +1 point on MR/TREC, K times the time)")
    t.add_argument("--dropout-scaling", choices=("auto", "train", "test"), default="auto",
                   help="auto (default): Kim's form (no rescaling in training, x 0.5 at prediction) for --arch kim, "
                        "PyTorch's inverted dropout (train) for the others")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto")
    t.add_argument("--text-column", default="text")
    t.add_argument("--label-column", default="label")
    t.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    t.set_defaults(func=_train)

    pr = sub.add_parser("predict", help="predict labels for texts with a saved model")
    pr.add_argument("--model", required=True, help="artifact folder written by 'seqcnn text train'")
    pr.add_argument("input", nargs="?", default="-", help="file with one text per line, or - for stdin")
    pr.add_argument("--json", action="store_true", help="JSON lines output")
    pr.set_defaults(func=_predict)

    ex = sub.add_parser("explain", help="show which n-grams decided a prediction")
    ex.add_argument("--model", required=True)
    ex.add_argument("text", nargs="+", help="the sentence (several arguments are joined by spaces)")
    ex.add_argument("--top-k", type=int, default=5)
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=_explain)


# ---------------------------------------------------------------------------- helpers
def _read(path, args):
    from .io import read_dataset

    return read_dataset(path, text_column=args.text_column, label_column=args.label_column)


def _build(args):
    from .estimator import TextCNNClassifier

    try:
        widths = tuple(int(w) for w in args.filter_sizes.split(","))
    except ValueError:
        raise ValueError(f"--filter-sizes must be comma-separated integers, got {args.filter_sizes!r}") from None
    if args.members < 1:
        raise ValueError(f"--members must be >= 1, got {args.members}")
    clf = TextCNNClassifier(
        mode=args.mode, arch=args.arch, embeddings=args.vectors, tokenizer=args.tokenizer,
        lowercase=(False if args.preset == "trec" else None), max_epochs=args.epochs, batch_size=args.batch_size,
        embedding_dim=args.embedding_dim, num_filters=args.num_filters, filter_sizes=widths,
        optimizer=args.optimizer, lr=args.lr, random_state=args.seed, device=args.device,
        dropout_scaling=args.dropout_scaling, verbose=0 if args.quiet else 1)
    if args.members == 1:
        return clf
    from .ensemble import TextCNNEnsemble

    return TextCNNEnsemble(clf, n_members=args.members, random_state=args.seed, verbose=0 if args.quiet else 1)


def _printclassification_metrics(name, m):
    print(f"\n{name}: accuracy {100 * m['accuracy']:.2f} %   macro-F1 {100 * m['macro_f1']:.2f} %   (n = {m['n']})")
    width = max(8, *(len(str(c["label"])) for c in m["per_class"]))
    print(f"  {'label':<{width}}  precision  recall     f1  support")
    for c in m["per_class"]:
        print(f"  {str(c['label']):<{width}}  {c['precision']:9.3f}  {c['recall']:6.3f}  {c['f1']:5.3f}  {c['support']:7d}")


# ---------------------------------------------------------------------------- commands
def _train(args) -> int:
    out = Path(args.out)
    X, y = _read(args.train, args)
    labels = sorted(set(y), key=str)
    metrics = {"train_file": str(args.train), "n_train": len(X), "preset": args.preset, "mode": args.mode,
               "arch": args.arch, "members": args.members}
    t0 = time.perf_counter()
    if args.cv:
        from sklearn.model_selection import StratifiedKFold

        if args.cv < 2:
            raise ValueError(f"--cv must be >= 2, got {args.cv}")
        Xa, ya = np.asarray(X, dtype=object), np.asarray(y, dtype=object)
        folds, preds = [], np.empty(len(ya), dtype=object)
        skf = StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.seed)
        for k, (tr, te) in enumerate(skf.split(Xa, ya)):
            print(f"fold {k + 1}/{args.cv}")
            clf = _build(args).fit(list(Xa[tr]), list(ya[tr]))
            preds[te] = clf.predict(list(Xa[te]))
            folds.append(float(np.mean(preds[te] == ya[te])))
        metrics["cv"] = {"folds": args.cv, "fold_accuracy": folds, "mean": float(np.mean(folds)),
                         "std": float(np.std(folds, ddof=1))}
        metrics["cv_pooled"] = classification_metrics(ya, preds, labels)
        _printclassification_metrics(f"{args.cv}-fold CV (pooled)", metrics["cv_pooled"])
        print(f"  fold accuracy: {100 * np.mean(folds):.2f} ± {100 * np.std(folds, ddof=1):.2f} %")
        print("final model: trained on all of --train")
    validation = _read(args.dev, args) if args.dev else None
    clf = _build(args)
    clf.fit(X, y, validation_data=validation)
    metrics["seconds"] = time.perf_counter() - t0
    if args.members == 1:
        metrics["best_epoch"] = clf.best_epoch_
        metrics["history"] = clf.history_
    else:  # per member; the validation accuracies on the shared split, the ensemble's beside them
        metrics["best_epoch"] = [m.best_epoch_ for m in clf.estimators_]
        metrics["history"] = [m.history_ for m in clf.estimators_]
        metrics["validation_accuracy"] = clf.val_score_
        metrics["member_validation_accuracy"] = clf.member_val_scores_
        if clf.val_score_ is not None:
            print(f"\nvalidation accuracy: ensemble {100 * clf.val_score_:.2f} %, members "
                  + ", ".join(f"{100 * v:.2f}" for v in clf.member_val_scores_) + " %")
    metrics["train"] = classification_metrics(y, clf.predict(X), labels)
    main_metrics = metrics["train"]
    _printclassification_metrics("train", metrics["train"])
    if validation is not None:
        metrics["dev"] = classification_metrics(validation[1], clf.predict(validation[0]), labels)
        _printclassification_metrics("dev", metrics["dev"])
        main_metrics = metrics["dev"]
    if args.test:
        Xt, yt = _read(args.test, args)
        metrics["test"] = classification_metrics(yt, clf.predict(Xt), sorted(set(labels) | set(yt), key=str))
        _printclassification_metrics("test", metrics["test"])
        main_metrics = metrics["test"]
    elif args.cv:
        main_metrics = metrics["cv_pooled"]
    out.mkdir(parents=True, exist_ok=True)
    model_dir = out / "model"
    clf.save(model_dir)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=json_scalar))
    plot_confusion_matrix(main_metrics["confusion_matrix"], main_metrics["labels"], out / "confusion_matrix.png",
                          title=f"accuracy {100 * main_metrics['accuracy']:.1f} %")
    print(f"\nwrote {model_dir}/ (artifact), {out / 'metrics.json'}, {out / 'confusion_matrix.png'}")
    return 0


def _load_model(path):
    from .ensemble import load_text_model

    return load_text_model(path)  # a single model or an ensemble; the training output folder too


def _predict(args) -> int:
    from .io import decode_bytes

    clf = _load_model(args.model)
    if args.input == "-":
        data = sys.stdin.buffer.read()
    else:
        if not Path(args.input).is_file():
            raise FileNotFoundError(f"input file {args.input!r} does not exist")
        data = Path(args.input).read_bytes()
    lines = decode_bytes(data).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    if not lines:
        return 0
    proba = clf.predict_proba(lines)
    classes = [json_scalar(c) for c in clf.classes_]
    for text, pr in zip(lines, proba):
        k = int(np.argmax(pr))
        if args.json:
            print(json.dumps({"text": text, "label": classes[k],
                              "probabilities": {str(c): float(v) for c, v in zip(classes, pr)}}, ensure_ascii=False))
        else:
            probs = " ".join(f"{c}:{v:.3f}" for c, v in zip(classes, pr))
            print(f"{classes[k]}\t{probs}\t{text}")
    return 0


def _highlight(tokens, ngrams, colour: bool) -> str:
    marks = [None] * len(tokens)
    for rank, g in enumerate(ngrams):
        for i in range(*g["span"]):
            if marks[i] is None:
                marks[i] = rank
    out, i = [], 0
    palette = ["\033[1;42m", "\033[1;43m", "\033[1;46m", "\033[1;45m", "\033[1;44m"]
    while i < len(tokens):
        if marks[i] is None:
            out.append(tokens[i])
            i += 1
            continue
        j = i
        while j < len(tokens) and marks[j] == marks[i]:
            j += 1
        chunk = " ".join(tokens[i:j])
        out.append(f"{palette[marks[i] % len(palette)]}{chunk}\033[0m" if colour else f"[{chunk}]")
        i = j
    return " ".join(out)


def _explain(args) -> int:
    clf = _load_model(args.model)
    text = " ".join(args.text)
    (res,) = clf.explain([text], top_k=args.top_k)
    if args.json:
        print(json.dumps({**res, "label": json_scalar(res["label"])}, ensure_ascii=False, default=json_scalar))
        return 0
    colour = sys.stdout.isatty()
    print(f"prediction: {res['label']} (p = {res['probability']:.3f})")
    if not res["tokens"]:
        print("(no tokens: the prediction rests on the biases alone, no n-gram to show)")
        return 0
    print(_highlight(res["tokens"], res["ngrams"], colour))
    for g in res["ngrams"]:
        print(f"  {g['contribution']:+.3f}  width {g['width']}  tokens {g['span'][0]}-{g['span'][1]}  "
              f"({g['filters']} filters)  {g['ngram']}")
    return 0
