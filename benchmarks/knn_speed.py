"""Exact k-NN predict speed: baselines.KNNClassifier (torch, chunked) vs scikit-learn brute force.

Random float32 data of MNIST's shape by default: 60,000 references × 784 features and 10,000
queries, 10 classes, k = 5. The two are run interleaved (ours, sklearn, ours, sklearn, ...) in one
process so both see the same machine load; the ratio is sklearn time / ours (> 1 = ours faster).
No data files are needed (MNIST itself, if wanted, is at http://yann.lecun.com/exdb/mnist/).

Usage: python benchmarks/knn_speed.py [--n-ref 60000] [--n-query 10000] [--dim 784] [--repeats 1]
           [--device auto] [--working-memory 1024]
Prints a table and writes benchmarks/results/knn_speed.{csv,json}.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"), help="unused (random data); kept for symmetry")
    ap.add_argument("--n-ref", type=int, default=60000)
    ap.add_argument("--n-query", type=int, default=10000)
    ap.add_argument("--dim", type=int, default=784)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--working-memory", type=float, default=1024, help="MB per block, both libraries")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    import sklearn
    import torch
    from sklearn.neighbors import KNeighborsClassifier

    from baselines import KNNClassifier

    rng = np.random.default_rng(args.seed)
    X = rng.random((args.n_ref, args.dim), dtype=np.float32)
    y = rng.integers(0, 10, args.n_ref)
    Q = rng.random((args.n_query, args.dim), dtype=np.float32)
    ours = KNNClassifier(n_neighbors=args.k, device=args.device, working_memory=args.working_memory).fit(X, y)
    ref = KNeighborsClassifier(n_neighbors=args.k, algorithm="brute").fit(X, y)
    times = {"seqcnn": [], "sklearn": []}
    preds = {}
    for _ in range(args.repeats):
        for name, model in (("seqcnn", ours), ("sklearn", ref)):
            t0 = time.perf_counter()
            with sklearn.config_context(working_memory=args.working_memory):
                preds[name] = model.predict(Q)
            times[name].append(time.perf_counter() - t0)
            print(f"  {name}: {times[name][-1]:.2f}s", flush=True)
    t_ours, t_ref = min(times["seqcnn"]), min(times["sklearn"])
    row = {"n_ref": args.n_ref, "n_query": args.n_query, "dim": args.dim, "k": args.k,
           "device": ours.device_, "torch_threads": torch.get_num_threads(), "working_memory_mb": args.working_memory,
           "seqcnn_s": t_ours, "sklearn_s": t_ref, "speedup": t_ref / t_ours,
           "agreement": float((preds["seqcnn"] == preds["sklearn"]).mean()),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print()
    print(f"{'refs':>7}{'queries':>9}{'dim':>5}{'device':>8}{'seqcnn s':>10}{'sklearn s':>11}{'ratio':>7}{'agree':>7}{'peak MB':>9}")
    print(f"{row['n_ref']:>7}{row['n_query']:>9}{row['dim']:>5}{row['device']:>8}{t_ours:>10.2f}{t_ref:>11.2f}"
          f"{row['speedup']:>7.2f}{row['agreement']:>7.3f}{row['peak_rss_mb']:>9.0f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "knn_speed.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), **row,
                                                     "all_times": times}, indent=2))
    with open(out / "knn_speed.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
