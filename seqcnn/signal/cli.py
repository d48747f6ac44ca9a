"""``seqcnn signal train|predict``: train a time-series CNN on ``.ts`` files and predict.

    seqcnn signal train --train NAME_TRAIN.ts --test NAME_TEST.ts --arch resnet --out DIR \
        [--epochs N] [--seed S]
    seqcnn signal predict --model DIR FILE.ts [--json]

``train`` writes ``DIR/model/`` (the artifact: model.safetensors + config.json),
``DIR/metrics.json`` (accuracy, balanced accuracy, macro-F1, per-class scores over the full
label list, confusion matrix, protocol: file hashes, seed, epochs, validation split, best epoch)
and ``DIR/confusion_matrix.png``. The test file is only scored, never used for training or for
choosing the epoch.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from seqcnn.engine.metrics import classification_metrics, json_scalar, plot_confusion_matrix

__all__ = ["register", "cmd_train", "cmd_predict"]


def register(subparsers) -> None:
    p = subparsers.add_parser("signal", help="time-series classification (FCN, ResNet1D, InceptionTime)",
                              description="Time-series classification with 1D CNNs on .ts files.")
    sub = p.add_subparsers(dest="signal_command", metavar="{train,predict}")
    sub.required = True

    t = sub.add_parser("train", help="train on NAME_TRAIN.ts, score on NAME_TEST.ts, save an artifact")
    t.add_argument("--train", required=True, help="training data (.ts, sktime/aeon format)")
    t.add_argument("--test", default=None, help="test data (.ts); scored only, never trained on")
    t.add_argument("--arch", default="resnet", choices=["fcn", "resnet", "inception", "inceptiontime"])
    t.add_argument("--out", required=True, help="output directory")
    t.add_argument("--epochs", type=int, default=100)
    t.add_argument("--batch-size", type=int, default=None,
                   help="default: min(N_train // 10, 16), at least 2 (the authors' rule)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--validation-fraction", type=float, default=0.1,
                   help="share of TRAIN held out to pick the best epoch; 0: the papers' protocol "
                        "(lr halved on a training-loss plateau, lowest-training-loss weights kept)")
    t.add_argument("--normalize", default="series", choices=["series", "dataset", "none"])
    t.add_argument("--missing", default="raise", choices=["raise", "interpolate"])
    t.add_argument("--n-filters", type=int, default=None, help="width override (small models for quick runs)")
    t.add_argument("--depth", type=int, default=None)
    t.add_argument("--device", default="auto")
    t.add_argument("--quiet", action="store_true", help="no progress bars")
    t.set_defaults(func=cmd_train)

    q = sub.add_parser("predict", help="predict the labels of a .ts file with a saved model")
    q.add_argument("--model", required=True, help="the training output directory (or its model/ folder)")
    q.add_argument("file", help="series to classify (.ts)")
    q.add_argument("--json", action="store_true", help="print JSON with labels and probabilities")
    q.set_defaults(func=cmd_predict)


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def format_metrics(m: dict) -> str:
    lines = [f"accuracy           {m['accuracy']:.4f}",
             f"balanced accuracy  {m['balanced_accuracy']:.4f}" if m["balanced_accuracy"] is not None
             else "balanced accuracy  n/a",
             f"macro-F1           {m['macro_f1']:.4f}", "",
             f"{'class':>16} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>7}"]
    for row in m["per_class"]:
        lines.append(f"{str(row['label']):>16} {row['precision']:9.4f} {row['recall']:7.4f} {row['f1']:7.4f} "
                     f"{row['support']:7d}")
    return "\n".join(lines)


def cmd_train(args) -> int:
    from . import SignalCNNClassifier, read_ts

    X, y = read_ts(args.train)
    if y is None:
        raise ValueError(f"--train {args.train}: the file has no class labels (@classLabel false)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bs = args.batch_size or max(2, min(len(y) // 10, 16))
    clf = SignalCNNClassifier(args.arch, max_epochs=args.epochs, batch_size=bs, random_state=args.seed,
                              validation_fraction=args.validation_fraction,
                              normalize=None if args.normalize == "none" else args.normalize,
                              missing=args.missing, n_filters=args.n_filters, depth=args.depth,
                              device=args.device, verbose=0 if args.quiet else 1)
    n_series = len(X)
    print(f"training {args.arch} on {args.train}: {n_series} series, {len(np.unique(y))} classes, "
          f"{args.epochs} epochs, batch {bs}, seed {args.seed}", file=sys.stderr)
    t0 = time.perf_counter()
    clf.fit(X, y)
    train_s = time.perf_counter() - t0
    clf.save(out / "model")
    report = {
        "arch": args.arch, "epochs": args.epochs, "batch_size": bs, "seed": args.seed,
        "validation_fraction": args.validation_fraction,
        "epoch_selection": ("best validation epoch" if args.validation_fraction
                            else "lowest training-loss epoch (the papers' protocol)"),
        "best_epoch": clf.best_epoch_, "train_seconds": round(train_s, 3),
        "train_file": str(args.train), "train_sha256": _sha256(args.train), "n_train": n_series,
        "classes": [json_scalar(c) for c in clf.classes_],
    }
    if args.test:
        Xt, yt = read_ts(args.test)
        if yt is None:
            raise ValueError(f"--test {args.test}: the file has no class labels")
        pred = clf.predict(Xt)
        m = classification_metrics(yt, pred, clf.classes_)
        report.update(test_file=str(args.test), test_sha256=_sha256(args.test), n_test=len(yt), test=m)
        print(format_metrics(m))
        plot_confusion_matrix(m["confusion_matrix"], m["labels"], out / "confusion_matrix.png",
                              title=f"{args.arch} on {Path(args.test).name}")
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(out / "metrics.json")
    print(f"saved model to {out / 'model'} and metrics to {out / 'metrics.json'}", file=sys.stderr)
    return 0


def cmd_predict(args) -> int:
    from . import SignalCNNClassifier, read_ts

    model_dir = Path(args.model)
    if not (model_dir / "config.json").exists() and (model_dir / "model" / "config.json").exists():
        model_dir = model_dir / "model"
    clf = SignalCNNClassifier.load(model_dir)
    X, y = read_ts(args.file)
    proba = clf.predict_proba(X)
    pred = clf.classes_[np.argmax(proba, axis=1)]
    if args.json:
        rows = [{"index": i, "label": json_scalar(pred[i]),
                 "proba": {str(json_scalar(c)): float(proba[i, k]) for k, c in enumerate(clf.classes_)}}
                for i in range(len(pred))]
        out = {"predictions": rows}
        if y is not None:
            out["accuracy"] = float(np.mean(np.asarray(pred).astype(str) == np.asarray(y).astype(str)))
        print(json.dumps(out))
    else:
        for p in pred:
            print(json_scalar(p))
        if y is not None:
            acc = float(np.mean(np.asarray(pred).astype(str) == np.asarray(y).astype(str)))
            print(f"accuracy {acc:.4f}", file=sys.stderr)
    return 0
