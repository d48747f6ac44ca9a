"""``seqcnn vision summary|train|predict|cam``.

    seqcnn vision summary resnet50 --input 3x224x224 [--num-classes 1000] [--set variant=v1]
    seqcnn vision train --data DIR --arch resnet20 --out DIR [--epochs 30] [--size 32x32]
    seqcnn vision predict --model DIR IMAGE [IMAGE ...] [--top-k 1]
    seqcnn vision cam --model DIR IMAGE [--out cam.png] [--target LABEL]

``--data`` is a folder with one sub-folder per class, or a CSV file in the MNIST layout
(pixels then label per line, e.g. ``mnist_5k.csv.gz``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

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
    """``["variant=v1", "width=0.5", "aux_logits=true"]`` → kwargs (JSON values where possible)."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


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

    t = sub.add_parser("train", help="train ImageCNNClassifier on an image folder or an MNIST-layout CSV")
    t.add_argument("--data", required=True, help="folder with one sub-folder per class, or a .csv[.gz] (pixels, label)")
    t.add_argument("--arch", default="resnet20")
    t.add_argument("--out", required=True, help="artifact directory to write")
    t.add_argument("--size", default=None, help="resize images to HxW (needed when sizes differ)")
    t.add_argument("--grayscale", action="store_true", help="decode images as 1-channel")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--optimizer", default="sgd")
    t.add_argument("--schedule", default="cosine", choices=["cosine", "plateau", "none"])
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--no-augment", action="store_true")
    t.add_argument("--zca", action="store_true")
    t.add_argument("--validation-fraction", type=float, default=0.1)
    t.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="architecture switches (width=0.5)")
    t.add_argument("--device", default="auto")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--verbose", type=int, default=1)
    t.set_defaults(func=_cmd_train)

    pr = sub.add_parser("predict", help="predict the class of image files with a saved model")
    pr.add_argument("--model", required=True, help="artifact directory written by `train`")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--top-k", type=int, default=1)
    pr.set_defaults(func=_cmd_predict)

    c = sub.add_parser("cam", help="class activation map of an image (CAM, or Grad-CAM for FC heads)")
    c.add_argument("--model", required=True)
    c.add_argument("image")
    c.add_argument("--out", default=None, help="overlay PNG (default: IMAGE stem + _cam.png)")
    c.add_argument("--target", default=None, help="class label (default: the predicted class)")
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
    with torch.device("meta"):             # not create_model's ImageNet ones; shapes only, no weights
        model = builder(input_size=size[1:] if size else None, **kw)
    size = size or (model.in_channels, *model.input_size)
    s = summary(model, tuple(size))
    print(json.dumps(s.to_dict(), indent=1) if args.json else str(s))
    return 0


def _read_training_data(path, size, grayscale):
    from vision.readers import read_image_folder, read_mnist_csv

    if os.path.isdir(path):
        return read_image_folder(path, size=size, mode="L" if grayscale else "RGB")
    if path.endswith((".csv", ".csv.gz")):
        return read_mnist_csv(path)
    raise ValueError(f"--data must be a folder of class sub-folders or a .csv[.gz] file, got {path!r}")


def _cmd_train(args) -> int:
    from vision.estimator import ImageCNNClassifier

    size = parse_size(args.size, name="--size") if args.size else None
    if size is not None and len(size) == 1:
        size = (size[0], size[0])
    X, y = _read_training_data(args.data, size, args.grayscale)
    est = ImageCNNClassifier(args.arch, model_kwargs=parse_assignments(args.set) or None, max_epochs=args.epochs,
                             batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                             schedule=None if args.schedule == "none" else args.schedule,
                             weight_decay=args.weight_decay, augment=not args.no_augment, zca=args.zca,
                             validation_fraction=args.validation_fraction, device=args.device,
                             random_state=args.seed, verbose=args.verbose)
    est.fit(X, y)
    est.save(args.out)
    last = est.history_[-1] if est.history_ else {}
    print(f"trained {args.arch} on {len(X)} images of shape {est.input_shape_}, {len(est.classes_)} classes; "
          f"last epoch: " + ", ".join(f"{k}={v:.4g}" for k, v in last.items() if isinstance(v, float)))
    print(f"saved to {args.out}")
    return 0


def _load_images(est, paths):
    import numpy as np

    from vision.readers import load_image

    c, h, w = est.input_shape_
    mode = "L" if c == 1 else "RGB"
    return np.stack([load_image(p, mode=mode, size=(h, w)) for p in paths])


def _cmd_predict(args) -> int:
    import numpy as np

    from vision.estimator import ImageCNNClassifier

    est = ImageCNNClassifier.load(args.model)
    X = _load_images(est, args.images)
    proba = est.predict_proba(X)
    k = max(1, min(args.top_k, proba.shape[1]))
    for path, row in zip(args.images, proba):
        top = np.argsort(-row, kind="stable")[:k]
        print(path + "\t" + "\t".join(f"{est.classes_[i]}\t{row[i]:.4f}" for i in top))
    return 0


def _cmd_cam(args) -> int:
    import numpy as np

    from vision.estimator import ImageCNNClassifier
    from vision.pictures import class_activation_map

    est = ImageCNNClassifier.load(args.model)
    X = _load_images(est, [args.image])
    target = None
    if args.target is not None:
        target = args.target
        if est.classes_.dtype.kind in "iu":
            target = int(target)
        elif est.classes_.dtype.kind == "f":
            target = float(target)
    out = args.out or os.path.splitext(os.path.basename(args.image))[0] + "_cam.png"
    cam = class_activation_map(est, X[0], target=target, path=out)
    peak = np.unravel_index(int(np.argmax(cam)), cam.shape)
    print(f"wrote {out} (map {cam.shape[0]}x{cam.shape[1]}, peak at row {peak[0]}, col {peak[1]})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(prog="vision")
    register(parser.add_subparsers(dest="modality"))
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
