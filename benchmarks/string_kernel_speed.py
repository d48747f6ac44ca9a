"""Time the p = 1..5 character spectrum-kernel Gram matrix of all MR sentences (10,662 × 10,662).

Data: ``<data-dir>/text/rt-polarity.all`` (Latin-1, split on b"\\n" only). Original: sentence
polarity dataset v1.0, Pang & Lee (2005), http://www.cs.cornell.edu/people/pabo/movie-review-data/ ;
labelled one-file version from Kim (2014), https://github.com/yoonkim/CNN_sentence.

Usage: python benchmarks/string_kernel_speed.py [--data-dir ../shared/data] [--kind spectrum]
           [--p-min 1] [--p-max 5] [--limit N]
Prints a table and writes benchmarks/results/string_kernel_speed.{csv,json}.
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


def read_texts(path: Path):
    out = []
    for raw in path.read_bytes().split(b"\n"):
        line = raw.rstrip(b"\r").decode("latin-1")
        if line.strip():
            out.append(line.partition(" ")[2])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--kind", default="spectrum", choices=["spectrum", "presence", "intersection"])
    ap.add_argument("--p-min", type=int, default=1)
    ap.add_argument("--p-max", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N sentences")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    import torch

    from baselines import StringKernel

    texts = read_texts(Path(args.data_dir) / "text" / "rt-polarity.all")[: args.limit]
    sk = StringKernel(p_range=(args.p_min, args.p_max), kind=args.kind)
    s0 = time.perf_counter()
    sk.fit(texts)  # p-gram counting alone, timed separately
    fit_s = time.perf_counter() - s0
    t0 = time.perf_counter()
    K = sk.fit_transform(texts)  # counting + symmetric Gram K(X, X), normalised
    t2 = time.perf_counter()
    t1 = t0 + fit_s
    row = {"n": len(texts), "kind": args.kind, "p_range": f"{args.p_min}-{args.p_max}",
           "n_pgrams": int(sk.train_features_.shape[1]), "fit_s": t1 - t0, "gram_s": t2 - t1, "total_s": t2 - t0,
           "torch_threads": torch.get_num_threads(),
           "max_abs_asymmetry": float(np.abs(K - K.T).max()), "max_diag_error": float(np.abs(np.diag(K) - 1).max()),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"{'n':>7}{'kind':>14}{'p':>6}{'p-grams':>10}{'fit s':>8}{'Gram s':>9}{'total s':>9}{'peak MB':>9}")
    print(f"{row['n']:>7}{row['kind']:>14}{row['p_range']:>6}{row['n_pgrams']:>10}{row['fit_s']:>8.1f}"
          f"{row['gram_s']:>9.1f}{row['total_s']:>9.1f}{row['peak_rss_mb']:>9.0f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "string_kernel_speed.json").write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), **row}, indent=2))
    with open(out / "string_kernel_speed.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
