"""``seqcnn signal train|predict``: train a time-series CNN on ``.ts`` files and predict.

    seqcnn signal train --train NAME_TRAIN.ts --test NAME_TEST.ts --arch resnet --out DIR \
        [--epochs N] [--seed S] [--set KEY=VALUE] [--force] [--json]
    seqcnn signal predict --model DIR FILE.ts [--json]

``train`` writes the run folder of :mod:`seqcnn.cli_common`: ``DIR/model/`` (the artifact:
model.safetensors + config.json), ``DIR/metrics.json`` (accuracy, balanced accuracy, macro-F1,
per-class scores over the full label list, confusion matrix — for train, and dev/test when
given —, protocol: file hashes, seed, epochs, validation split, best epoch, run id) and
``DIR/confusion_matrix.png``. The dev and test files are read and checked (labels, channels,
lengths) before training. A CNN picks its best epoch on ``--dev`` when given (passed to ``fit``
as ``validation_data``; else on ``--validation-fraction`` of ``--train``); the test file is only
scored, never used for training or for choosing the epoch.
"""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from seqcnn.cli_common import (METRICS_JSON, MODEL_DIR, Reporter, add_train_flags, apply_settings, check_labels,
                               check_out, parse_settings, prediction_record, print_predictions, reading,
                               write_run)
from seqcnn.engine.metrics import classification_metrics, json_scalar

__all__ = ["register", "cmd_train", "cmd_predict", "check_series", "load_model"]


ARCHS = ["fcn", "resnet", "inception", "inceptiontime", "minirocket"]

# estimator parameter → the flag that sets it (error messages name the flag)
FLAGS = {"max_epochs": "--epochs", "batch_size": "--batch-size", "random_state": "--seed",
         "validation_fraction": "--validation-fraction", "normalize": "--normalize", "missing": "--missing",
         "n_filters": "--n-filters", "depth": "--depth", "device": "--device", "arch": "--arch"}


def register(subparsers) -> None:
    p = subparsers.add_parser("signal", help="time-series classification (FCN, ResNet1D, InceptionTime, MiniRocket)",
                              description="Time-series classification with 1D CNNs (or MiniRocket) on .ts files.")
    sub = p.add_subparsers(dest="signal_command", metavar="{train,predict}")
    sub.required = True

    t = sub.add_parser("train", help="train on NAME_TRAIN.ts, score on NAME_TEST.ts, save a run folder",
                       description="Train on a .ts, UCR .tsv or .arff file. --out, every --set, and the --dev/--test files (their "
                                   "labels, channel counts and series lengths) are checked before the first epoch.")
    add_train_flags(t, train_help="training data (.ts, sktime/aeon format)", epochs=100,
                    test_help="test data (.ts); checked before training, scored only, never trained on",
                    dev_help="development data (.ts): a CNN picks its best epoch on it (instead of "
                             "--validation-fraction of --train); scored with the final model")
    t.add_argument("--arch", default="resnet", choices=ARCHS,
                   help="a CNN (fcn, resnet, inception, inceptiontime = 5 Inception nets) or minirocket "
                        "(random convolutional features + ridge; --epochs and the CNN flags do not apply)")
    t.add_argument("--batch-size", type=int, default=None,
                   help="default: min(N_train // 10, 16), at least 2 (the authors' rule)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--validation-fraction", type=float, default=0.1,
                   help="share of TRAIN held out to pick the best epoch; 0: the papers' protocol "
                        "(lr halved on a training-loss plateau, lowest-training-loss weights kept)")
    t.add_argument("--normalize", default="auto", choices=["auto", "series", "dataset", "none"],
                   help="auto (default): per-series z-norm for one channel, training-set statistics per channel "
                        "for several; series; dataset; none")
    t.add_argument("--missing", default="raise", choices=["raise", "interpolate"],
                   help="missing values (? or NaN): raise (default) or interpolate linearly")
    t.add_argument("--n-filters", type=int, default=None, help="width override (small models for quick runs)")
    t.add_argument("--depth", type=int, default=None)
    t.add_argument("--device", default="auto")
    t.set_defaults(func=cmd_train)

    q = sub.add_parser("predict", help="predict the labels of a .ts file with a saved model",
                       description="One label per line (accuracy on stderr when the file has labels), or with "
                                   '--json one JSON object per series: {"input", "index", "label", "probabilities"}.')
    q.add_argument("--model", required=True, help="the training output directory (or its model/ folder)")
    q.add_argument("file", help="series to classify (.ts)")
    q.add_argument("--json", action="store_true", help="JSON lines: label and probabilities per series")
    q.set_defaults(func=cmd_predict)


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read(path, flag, *, labelled=True, missing="raise"):
    """``(X, y)`` of a .ts / UCR .tsv / .arff file (:func:`seqcnn.data.read_series_dataset`);
    NaN padding at the ends is dropped, a NaN inside a series is refused or interpolated
    (``missing``) naming its line."""
    from seqcnn.data import read_series_dataset

    with reading(flag, path):
        X, y = read_series_dataset(path, missing=missing)
    if labelled and y is None:
        raise ValueError(f"{flag} {path}: the file has no class labels (@classLabel false)")
    return X, y


def _shape(X):
    """(channels, set of lengths) of ``read_ts``' X: an (N, C, L) array or a list of (C, Lᵢ)."""
    if isinstance(X, np.ndarray):
        return int(X.shape[1]), {int(X.shape[2])}
    return int(X[0].shape[0]), {int(x.shape[-1]) for x in X}


def check_series(train, other, *, flag: str, path, train_path) -> None:
    """``ValueError`` naming both files when ``other``'s series have another channel count than
    ``train``'s, or (when the training series share one length) another length."""
    (c0, l0), (c1, l1) = _shape(train), _shape(other)
    if c1 != c0:
        raise ValueError(f"{flag} {path}: its series have {c1} channel{'s' if c1 != 1 else ''}, those of "
                         f"--train {train_path} have {c0}")
    if len(l0) == 1 and l1 != l0:
        bad = sorted(l1 - l0)
        raise ValueError(f"{flag} {path}: series of length {', '.join(map(str, bad[:5]))}"
                         f"{' ...' if len(bad) > 5 else ''}, but every series of --train {train_path} has length "
                         f"{next(iter(l0))} (a model trained on one length is not meant for another)")


def _build(args, n_train: int):
    bs = args.batch_size or max(2, min(n_train // 10, 16))
    if args.arch == "minirocket":
        from .minirocket import MiniRocketClassifier

        clf = MiniRocketClassifier(random_state=args.seed, missing=args.missing, device=args.device)
        apply_settings(clf, parse_settings(args.settings), flags=FLAGS,
                       check=lambda: clf._transformer()._check_params())
        return clf, None
    else:
        from . import SignalCNNClassifier

        clf = SignalCNNClassifier(args.arch, max_epochs=args.epochs, batch_size=bs, random_state=args.seed,
                                  validation_fraction=args.validation_fraction,
                                  normalize=None if args.normalize == "none" else args.normalize,
                                  missing=args.missing, n_filters=args.n_filters, depth=args.depth,
                                  device=args.device, verbose=0 if (args.quiet or args.json) else 1)
    apply_settings(clf, parse_settings(args.settings), flags=FLAGS)
    return clf, bs


def cmd_train(args) -> int:
    say = Reporter(args.json)
    out = check_out(args.out, force=args.force,
                    inputs={"--train": args.train, "--dev": args.dev, "--test": args.test})
    settings = parse_settings(args.settings)
    X, y = _read(args.train, "--train", missing=args.missing)
    clf, bs = _build(args, len(y))
    splits = {}
    for flag, path in (("--dev", args.dev), ("--test", args.test)):
        if path:
            Xo, yo = _read(path, flag, missing=args.missing)
            check_series(X, Xo, flag=flag, path=path, train_path=args.train)
            check_labels(y, yo, flag=flag, path=path)
            splits[flag[2:]] = (path, Xo, yo)

    params = clf.get_params()
    n_series = len(X)
    epochs = params.get("max_epochs")
    print(f"training {args.arch} on {args.train}: {n_series} series, {len(np.unique(y))} classes"
          + (f", {epochs} epochs, batch {params.get('batch_size')}" if epochs is not None else "")
          + f", seed {args.seed}", file=sys.stderr)
    t0 = time.perf_counter()
    dev = splits.get("dev") if epochs is not None else None  # MiniRocket has no epochs to pick
    if dev is not None:
        clf.fit(X, y, validation_data=(dev[1], dev[2]))
    else:
        clf.fit(X, y)
    train_s = time.perf_counter() - t0
    vf = None if dev is not None else params.get("validation_fraction")
    report = {
        "arch": args.arch, "epochs": epochs, "batch_size": params.get("batch_size"), "seed": args.seed,
        "validation_fraction": vf, "settings": settings,
        "epoch_selection": (None if epochs is None else "best epoch on --dev" if dev is not None
                            else "best validation epoch" if vf
                            else "lowest training-loss epoch (the papers' protocol)"),
        "best_epoch": getattr(clf, "best_epoch_", None), "train_seconds": round(train_s, 3),
        "train_file": str(args.train), "train_sha256": _sha256(args.train), "n_train": n_series,
        "classes": [json_scalar(c) for c in clf.classes_],
    }
    report["train"] = classification_metrics(y, clf.predict(X), clf.classes_)
    say.metrics("train", report["train"])
    for name, (path, Xo, yo) in splits.items():
        m = classification_metrics(yo, clf.predict(Xo), clf.classes_)
        report.update({f"{name}_file": str(path), f"{name}_sha256": _sha256(path), f"n_{name}": len(yo), name: m})
        say.metrics(name, m)
    title = None
    if "test" in splits:
        title = f"{args.arch} on {Path(args.test).name}"
    run_id = write_run(out, model=clf, metrics=report, force=args.force, title=title)
    print(f"saved model to {out / MODEL_DIR} and metrics to {out / METRICS_JSON} (run {run_id})", file=sys.stderr)
    say.final(report)
    return 0


def load_model(path):
    """The estimator saved at ``path`` (a run folder or its ``model/``): a SignalCNNClassifier or
    a MiniRocketClassifier, as its ``config.json`` says."""
    from seqcnn.engine.checkpoint import read_config

    model_dir = Path(path)
    if not (model_dir / "config.json").exists() and (model_dir / MODEL_DIR / "config.json").exists():
        model_dir = model_dir / MODEL_DIR
    if not model_dir.exists():
        raise FileNotFoundError(f"--model {path}: no such folder")
    name = str(read_config(model_dir / "config.json").get("estimator", "")) \
        if (model_dir / "config.json").is_file() else ""
    if name.endswith("MiniRocketClassifier"):
        from .minirocket import MiniRocketClassifier

        return MiniRocketClassifier.load(model_dir)
    from . import SignalCNNClassifier

    return SignalCNNClassifier.load(model_dir)


def cmd_predict(args) -> int:
    clf = load_model(args.model)
    X, y = _read(args.file, "file", labelled=False, missing="keep")
    proba = clf.predict_proba(X)
    pred = clf.classes_[np.argmax(proba, axis=1)]
    if args.json:
        print_predictions(prediction_record(str(args.file), proba[i], clf.classes_, index=i)
                          for i in range(len(pred)))
    else:
        for p in pred:
            print(json_scalar(p))
    if y is not None:
        acc = float(np.mean(np.asarray(pred).astype(str) == np.asarray(y).astype(str)))
        print(f"accuracy {acc:.4f} (n = {len(y)})", file=sys.stderr)
    return 0
