#!/usr/bin/env python
"""LeNet-5 on MNIST-5k: 4,000 training / 1,000 test digits (seeded, stratified), goal ≥ 97 %.

Data: ``<data-dir>/images/mnist_5k.csv.gz`` — 5,000 MNIST digits (LeCun et al. 1998), one per
line, 784 pixel values then the label. The full MNIST is at http://yann.lecun.com/exdb/mnist/
(IDX files, readable with ``vision.read_mnist_idx``); any CSV in the same layout works.

Recipe: LeNet-5 (32×32 after padding the 28×28 digits by 2 as LeCun did; tanh, average
pooling, full C3), SGD lr 0.05, momentum 0.9, weight decay 5e-4, cosine schedule, batch 64,
30 epochs, random crops after 2-pixel zero padding (no flips: digits are not symmetric), 10 % of
the training digits held out for validation (the best validation epoch is kept; the test
digits are only scored at the end).

    python benchmarks/mnist_lenet.py [--data-dir ../shared/data] [--epochs 30] [--out results.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data", help="folder holding images/mnist_5k.csv.gz")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--activation", default="tanh", choices=["tanh", "relu"])
    p.add_argument("--crop-padding", type=int, default=2,
                   help="random-crop augmentation with this zero padding (0 = off; digits are never flipped)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    args = p.parse_args(argv)

    import torch
    from sklearn.model_selection import train_test_split

    from vision import ImageCNNClassifier
    from vision.readers import read_mnist_csv

    if args.threads:
        torch.set_num_threads(args.threads)
    path = os.path.join(args.data_dir, "images", "mnist_5k.csv.gz")
    if not os.path.exists(path):
        print(f"missing {path}; see --help for where to get MNIST", file=sys.stderr)
        return 2
    X, y = read_mnist_csv(path)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, train_size=4000, test_size=1000, random_state=args.seed,
                                              stratify=y)
    est = ImageCNNClassifier("lenet5", model_kwargs={"activation": args.activation}, optimizer="sgd", lr=args.lr,
                             momentum=0.9, weight_decay=5e-4, schedule="cosine", max_epochs=args.epochs,
                             batch_size=args.batch_size, augment=args.crop_padding > 0,
                             crop_padding=args.crop_padding, flip=False, validation_fraction=0.1,
                             device=args.device, random_state=args.seed, verbose=0)
    t0 = time.perf_counter()
    est.fit(X_tr, y_tr)
    fit_s = time.perf_counter() - t0
    acc = est.score(X_te, y_te)
    top5 = est.top_k_score(X_te, y_te, k=5)
    result = {
        "benchmark": "mnist_lenet", "data": path, "train": len(X_tr), "test": len(X_te), "seed": args.seed,
        "epochs": args.epochs, "activation": args.activation, "crop_padding": args.crop_padding, "lr": args.lr, "best_epoch": est.best_epoch_, "test_accuracy": acc, "test_top5": top5,
        "fit_seconds": round(fit_s, 1), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "goal": 0.97, "met": acc >= 0.97,
    }
    print(f"| model | train / test | epochs (best) | test acc | top-5 | fit time |")
    print(f"| --- | --- | --- | --- | --- | --- |")
    aug = f", crop pad {args.crop_padding}" if args.crop_padding else ""
    print(f"| LeNet-5 ({args.activation}{aug}) | {len(X_tr)} / {len(X_te)} | {args.epochs} ({est.best_epoch_}) | "
          f"{100 * acc:.2f} % | {100 * top5:.2f} % | {fit_s:.0f} s |")
    print(f"goal >= 97 %: {'met' if acc >= 0.97 else 'NOT met'}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
