"""``seqcnn vision summary|train|predict|cam``.

    seqcnn vision summary resnet50 --input 3x224x224 [--num-classes 1000] [--set variant=v1]
    seqcnn vision train --train DIR --arch resnet20 --out RUN [--test DIR] [--epochs 30] [--size 32x32]
    seqcnn vision predict --model RUN IMAGE [IMAGE ...] [--top-k 1] [--json]
    seqcnn vision cam --model RUN IMAGE [--out cam.png] [--target LABEL]

``--train`` (also ``--data``), ``--dev`` and ``--test`` are folders with one sub-folder per
class, or CSV files in the MNIST layout (pixels then label per line, e.g. ``mnist_5k.csv.gz``).
``train`` writes the run folder of :mod:`seqcnn.cli_common` (``RUN/model/``, ``RUN/metrics.json``
with top-1 and, over more than 5 classes, top-5 accuracy, ``RUN/confusion_matrix.png``).
With ``--dev`` the best epoch is picked on it (``fit(..., validation_data=)``), else on
``--validation-fraction`` of ``--train``; ``--test`` is only scored.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from seqcnn.cli_common import (CONFUSION_PNG, METRICS_JSON, MODEL_DIR, Reporter, add_train_flags, apply_settings,
                               check_labels, check_out, parse_settings, prediction_record, print_predictions,
                               reading, write_run)
from seqcnn.engine.metrics import classification_metrics, json_scalar

__all__ = ["register", "parse_size", "parse_assignments"]


def parse_size(text: str, *, name: str = "--input") -> tuple:
    """``"3x224x224"`` → (3, 224, 224); ``"32x32"`` → (32, 32); ``"224"`` → (224,)."""
    try:
        parts = tuple(int(p) for p in str(text).lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"{name} must look like 3x224x224 or 32x32, got {text!r}") from None
    if not parts or any(p < 1 for p in parts):
        raise ValueError(f"{name} must hold positive sizes, got {text!r}")
    return parts


def parse_assignments(items) -> dict:
    """``["variant=v1", "width=0.5", "aux_logits=true"]`` → kwargs (JSON values where possible);
    :func:`seqcnn.cli_common.parse_settings`."""
    return parse_settings(items)


def register(subparsers) -> None:
    p = subparsers.add_parser("vision", help="image models: summaries, training, prediction, CAM",
                              description="Image CNNs: the paper-faithful zoo, training, prediction, CAM.")
    sub = p.add_subparsers(dest="vision_command", metavar="{summary,train,predict,cam,list}")
    sub.required = True

    s = sub.add_parser("summary", help="per-layer table: shapes, params, MACs, activations, receptive field")
    s.add_argument("arch", help="a registry name (seqcnn vision list)")
    s.add_argument("--input", default=None, help="CxHxW, e.g. 3x224x224 (default: the model's native size)")
    s.add_argument("--num-classes", type=int, default=None,
                   help="default: the model's own (1000 for the ImageNet models, 10 for LeNet-5 and the CIFAR nets)")
    s.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="architecture switches (variant=v1)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=_cmd_summary)

    ls = sub.add_parser("list", help="list the registered architectures")
    ls.add_argument("pattern", nargs="?", default=None)
    ls.set_defaults(func=_cmd_list)

    t = sub.add_parser("train", help="train ImageCNNClassifier on an image folder or an MNIST-layout CSV",
                       description="Train ImageCNNClassifier. Data: a folder with one sub-folder per class, or a "
                                   ".csv[.gz] (pixels, label per line). --out, every --set, and the --dev/--test "
                                   "data (labels, image shapes) are checked before the first epoch.")
    add_train_flags(t, epochs=30, train_aliases=("--data",),
                    train_help="training data: a folder of class sub-folders, or a .csv[.gz] (pixels, label)",
                    dev_help="development images: the best epoch is picked on them (instead of "
                             "--validation-fraction of --train); scored with the final model",
                    set_help="an ImageCNNClassifier parameter (--set momentum=0.8) or an architecture switch "
                             "(--set width=0.5, --set variant=v1); repeatable; VALUE is read as JSON, else as a "
                             "string; unknown keys are refused before training")
    t.add_argument("--arch", default="resnet20")
    t.add_argument("--size", default=None, help="resize images to HxW (needed when sizes differ)")
    t.add_argument("--grayscale", action="store_true", help="decode images as 1-channel")
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--optimizer", default="sgd")
    t.add_argument("--schedule", default="cosine", choices=["cosine", "plateau", "none"])
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--no-augment", action="store_true")
    t.add_argument("--zca", action="store_true")
    t.add_argument("--validation-fraction", type=float, default=0.1)
    t.add_argument("--device", default="auto")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--verbose", type=int, default=None, help="0 silent, 1 progress (default; 0 with --quiet)")
    t.set_defaults(func=_cmd_train)

    pr = sub.add_parser("predict", help="predict the class of image files with a saved model",
                        description="Per image: PATH, then the top-k labels and probabilities (tab-separated), or "
                                    'with --json one JSON object per image: {"input", "label", "probabilities"}.')
    pr.add_argument("--model", required=True, help="run folder written by `train` (or its model/)")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--top-k", type=int, default=1)
    pr.add_argument("--json", action="store_true", help="JSON lines: label and every class's probability")
    pr.set_defaults(func=_cmd_predict)

    c = sub.add_parser("cam", help="class activation map of an image (CAM, or Grad-CAM for FC heads)")
    c.add_argument("--model", required=True, help="run folder written by `train` (or its model/)")
    c.add_argument("image")
    c.add_argument("--out", default=None, help="overlay PNG (default: IMAGE stem + _cam.png)")
    c.add_argument("--target", default=None, help="class label (default: the predicted class)")
    c.add_argument("--force", action="store_true", help="replace an existing file at --out")
    c.set_defaults(func=_cmd_cam)


def _cmd_list(args) -> int:
    from vision.registry import list_models

    for name in list_models(args.pattern):
        print(name)
    return 0


def _cmd_summary(args) -> int:
    import torch

    from seqcnn.engine.summary import summary
    from vision.registry import model_entrypoint

    kw = parse_assignments(args.set)
    size = parse_size(args.input) if args.input else None
    if size is not None and len(size) != 3:
        raise ValueError(f"--input must be CxHxW, got {args.input!r}")
    if size:
        kw["in_channels"] = size[0]
    if args.num_classes is not None:
        if args.num_classes < 1:
            raise ValueError(f"--num-classes must be >= 1, got {args.num_classes}")
        kw["num_classes"] = args.num_classes
    builder = model_entrypoint(args.arch)  # the builder's own defaults (LeNet-5: 1 channel, 10 classes),
    try:
        with torch.device("meta"):         # not create_model's ImageNet ones; shapes only, no weights
            model = builder(input_size=size[1:] if size else None, **kw)
    except TypeError as exc:
        switches = {k: v for k, v in kw.items() if k not in ("in_channels", "num_classes")}
        if "keyword argument" not in str(exc) or not switches:
            raise
        given = " ".join(f"--set {k}={v}" for k, v in switches.items())
        raise ValueError(f"{given}: not an architecture switch of {args.arch} ({exc})") from None
    size = size or (model.in_channels, *model.input_size)
    s = summary(model, tuple(size))
    print(json.dumps(s.to_dict(), indent=1) if args.json else str(s))
    return 0


# ImageCNNClassifier parameter → the flag that sets it (error messages name the flag)
FLAGS = {"max_epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "optimizer": "--optimizer",
         "schedule": "--schedule", "weight_decay": "--weight-decay", "augment": "--no-augment", "zca": "--zca",
         "validation_fraction": "--validation-fraction", "device": "--device", "random_state": "--seed",
         "arch": "--arch"}


def _read_images(path, size, grayscale, flag):
    from seqcnn.data import read_image_folder, read_mnist_csv

    with reading(flag, path):
        if os.path.isdir(path):
            return read_image_folder(path, size=size, mode="L" if grayscale else "RGB")
        if str(path).endswith((".csv", ".csv.gz")):
            return read_mnist_csv(path)
    raise ValueError(f"{flag} must be a folder of class sub-folders or a .csv[.gz] file, got {path!r}")


def _settings(arch, settings):
    """Split ``--set`` into ImageCNNClassifier parameters and architecture switches."""
    from vision.estimator import ImageCNNClassifier

    params = ImageCNNClassifier().get_params(deep=False)
    own = {k: v for k, v in settings.items() if k in params}
    switches = {k: v for k, v in settings.items() if k not in params}
    return own, switches


def _check_switches(arch, switches, shape, n_classes):
    """Build the network on the meta device (no memory, no time): unknown switches or sizes that
    do not fit the architecture fail here, before training, naming the ``--set`` keys."""
    import torch

    from vision.estimator import ImageCNNClassifier
    from vision.registry import create_model

    c, h, w = shape
    try:
        with torch.device("meta"):
            create_model(arch, num_classes=int(n_classes), in_channels=int(c), input_size=(int(h), int(w)),
                         **switches)
    except (TypeError, ValueError) as exc:
        if not switches:
            raise
        given = " ".join(f"--set {k}={v}" for k, v in switches.items())
        if "keyword argument" in str(exc):
            valid = ", ".join(sorted(ImageCNNClassifier().get_params(deep=False)))
            raise ValueError(f"{given}: not an ImageCNNClassifier parameter ({valid}) nor an architecture switch "
                             f"of {arch} ({exc})") from None
        raise type(exc)(f"--arch {arch} with {given}: {exc}") from None


def _split_metrics(est, X, y) -> dict:
    import numpy as np

    from vision.estimator import top_k_accuracy

    proba = est.predict_proba(X)
    pred = est.classes_[np.argmax(proba, axis=1)]
    m = classification_metrics(np.asarray(y), pred, est.classes_)
    m["top5_accuracy"] = top_k_accuracy(y, proba, 5, classes=est.classes_) if len(est.classes_) > 5 else None
    return m


def _cmd_train(args) -> int:
    from vision.estimator import ImageCNNClassifier

    from vision.registry import model_entrypoint

    say = Reporter(args.json)
    out = check_out(args.out, force=args.force,
                    inputs={"--train": args.train, "--dev": args.dev, "--test": args.test})
    try:
        model_entrypoint(args.arch)
    except ValueError as exc:
        raise ValueError(f"--arch {args.arch}: {exc}") from None
    size = parse_size(args.size, name="--size") if args.size else None
    if size is not None and len(size) == 1:
        size = (size[0], size[0])
    if size is not None and len(size) != 2:
        raise ValueError(f"--size must be HxW (or one number), got {args.size!r}")
    settings = parse_settings(args.settings)
    own, switches = _settings(args.arch, settings)
    verbose = args.verbose if args.verbose is not None else (0 if (args.quiet or args.json) else 1)
    est = ImageCNNClassifier(args.arch, model_kwargs=switches or None, max_epochs=args.epochs,
                             batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                             schedule=None if args.schedule == "none" else args.schedule,
                             weight_decay=args.weight_decay, augment=not args.no_augment, zca=args.zca,
                             validation_fraction=args.validation_fraction, device=args.device,
                             random_state=args.seed, verbose=verbose)
    apply_settings(est, own, flags=FLAGS, extra_keys=tuple(switches))
    X, y = _read_images(args.train, size, args.grayscale, "--train")
    splits = {}
    for flag, path in (("--dev", args.dev), ("--test", args.test)):
        if path:
            Xo, yo = _read_images(path, size, args.grayscale, flag)
            if tuple(Xo.shape[1:]) != tuple(X.shape[1:]):
                raise ValueError(f"{flag} {path}: images are {'x'.join(map(str, Xo.shape[1:]))} (CxHxW), those of "
                                 f"--train {args.train} are {'x'.join(map(str, X.shape[1:]))}; pass --size HxW "
                                 f"(and --grayscale) to read both alike")
            check_labels(y, yo, flag=flag, path=path)
            splits[flag[2:]] = (path, Xo, yo)
    n_classes = len(set(y if not hasattr(y, "tolist") else y.tolist()))
    _check_switches(args.arch, est.model_kwargs or {}, X.shape[1:], n_classes)

    t0 = time.perf_counter()
    if "dev" in splits:
        est.fit(X, y, validation_data=splits["dev"][1:])
    else:
        est.fit(X, y)
    seconds = time.perf_counter() - t0
    last = est.history_[-1] if est.history_ else {}
    say.say(f"trained {args.arch} on {len(X)} images of shape {est.input_shape_}, {len(est.classes_)} classes; "
            f"last epoch: " + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float)))
    metrics = {"arch": args.arch, "epochs": args.epochs, "seed": args.seed, "settings": settings,
               "train_file": str(args.train), "n_train": len(X), "input_shape": list(est.input_shape_),
               "classes": [json_scalar(c) for c in est.classes_], "best_epoch": getattr(est, "best_epoch_", None),
               "epoch_selection": "best epoch on --dev" if "dev" in splits else
               "best validation epoch" if args.validation_fraction else "last epoch",
               "train_seconds": round(seconds, 3), "history": est.history_}
    metrics["train"] = _split_metrics(est, X, y)
    say.metrics("train", metrics["train"])
    for name, (path, Xo, yo) in splits.items():
        metrics[f"{name}_file"], metrics[f"n_{name}"] = str(path), len(Xo)
        metrics[name] = _split_metrics(est, Xo, yo)
        say.metrics(name, metrics[name])
    run_id = write_run(out, model=est, metrics=metrics, force=args.force)
    say.say(f"saved to {out} ({MODEL_DIR}/, {METRICS_JSON}, {CONFUSION_PNG}; run {run_id})")
    say.final(metrics)
    return 0


def _load_estimator(path):
    from vision.estimator import ImageCNNClassifier

    p = Path(path)
    if not (p / "config.json").exists() and (p / MODEL_DIR / "config.json").exists():
        p = p / MODEL_DIR
    return ImageCNNClassifier.load(p)


def _load_images(est, paths):
    import numpy as np

    from seqcnn.data import load_image

    c, h, w = est.input_shape_
    mode = "L" if c == 1 else "RGB"
    return np.stack([load_image(p, mode=mode, size=(h, w)) for p in paths])


def _cmd_predict(args) -> int:
    import numpy as np

    est = _load_estimator(args.model)
    X = _load_images(est, args.images)
    proba = est.predict_proba(X)
    if args.json:
        print_predictions(prediction_record(path, row, est.classes_) for path, row in zip(args.images, proba))
        return 0
    k = max(1, min(args.top_k, proba.shape[1]))
    for path, row in zip(args.images, proba):
        top = np.argsort(-row, kind="stable")[:k]
        print(path + "\t" + "\t".join(f"{est.classes_[i]}\t{row[i]:.4f}" for i in top))
    return 0


def _cmd_cam(args) -> int:
    import numpy as np

    from vision.pictures import class_activation_map

    est = _load_estimator(args.model)
    X = _load_images(est, [args.image])
    out = args.out or os.path.splitext(os.path.basename(args.image))[0] + "_cam.png"
    if os.path.isdir(out) or os.path.islink(out):
        raise ValueError(f"--out {out} is a {'folder' if os.path.isdir(out) else 'symbolic link'}; name a .png file")
    if os.path.lexists(out) and not args.force:
        raise ValueError(f"--out {out} already exists; pass --force to replace it, or choose another name")
    # --target is matched exactly against the classes (a number or its text: "42" is class 42)
    cam, info = class_activation_map(est, X[0], target=args.target, path=out, return_info=True)
    size = "x".join(map(str, info["feature_size"]))
    what = f"{info['method']} of class {json_scalar(info['label'])!r} on {info['layer']} ({size})"
    if info.get("flat"):
        print(f"wrote {out} ({what}; the map is flat: no region stands out)")
        return 0
    peak = np.unravel_index(int(np.argmax(cam)), cam.shape)
    print(f"wrote {out} ({what}; map {cam.shape[0]}x{cam.shape[1]}, peak at row {peak[0]}, col {peak[1]})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="vision")
    register(parser.add_subparsers(dest="modality"))
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
