"""MiniRocket parity and speed: seqcnn's ``MiniRocketClassifier`` (torch) against aeon's
``MiniRocketClassifier`` (numba, the reference implementation's code) on the 20 univariate UCR
sets of ``DATA_DIR/signals/ucr`` with the archive's given train/test splits.

For every set and seed both classifiers are fitted on TRAIN and predict TEST with the same
``random_state``; the table gives test accuracy (%) and fit+predict wall time (s) of each, the
ratio ours/aeon, and the means over the sets (accuracy: the mean over seeds per set first).
Both run with ``--threads`` threads: ``torch.set_num_threads`` and ``n_jobs`` for ours,
``n_jobs`` (numba threads) for aeon. Each library is warmed up once before timing (aeon's numba
compilation, torch's first calls). The two run alternately per set, so load from other
processes hits both alike; ``--repeats`` times each fit+predict several times and keeps the
fastest (accuracy does not change). Ours fits its ridge with one BLAS thread; aeon leaves
numpy's BLAS at its default (all cores): on a loaded machine OpenBLAS threads spin and the
ridge fit can take several times longer. ``--blas-threads 1`` gives both one BLAS thread, so
that the comparison isolates the transform.

Data: ``NAME_TRAIN.tsv`` / ``NAME_TEST.tsv`` in the UCR 2018 archive's format (label first,
tab-separated) under ``--data-dir`` (default ``../shared/data``; looked up in
``DATA_DIR/signals/ucr``). Download the archive from https://www.cs.ucr.edu/~eamonn/time_series_data_2018/
if you do not have it.

aeon is needed for this benchmark only (never by seqcnn): ``pip install aeon`` — in a separate
virtual environment if its pins would change your numpy. ``--ours-only`` runs without it.

Published level: MiniRocket's mean over these 20 sets is 88.4 % (angus924/minirocket
results_ucr109_mean.csv, mean of 30 resamples: compare as a level, not per set).

Writes ``OUT.csv`` (one row per set × seed) and ``OUT.json`` (the table, means and the run's
settings: command, date, machine, versions) with ``OUT`` = ``--out`` (default
``benchmarks/results/minirocket_vs_aeon``).
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

SETS = ["Adiac", "BME", "Beef", "BeetleFly", "BirdChicken", "CBF", "Car", "Chinatown", "Coffee", "CricketX",
        "DiatomSizeReduction", "DistalPhalanxOutlineCorrect", "ECG200", "ECGFiveDays", "Earthquakes", "FaceFour",
        "FiftyWords", "Fish", "Ham", "Herring"]
PAPER_MEAN = 88.4


def read_tsv(path):
    try:
        from seqcnn.data import read_ucr_tsv
    except ImportError:
        from seqcnn.signal.data import read_ucr_tsv
    return read_ucr_tsv(path)


def load(data_dir: Path, name: str):
    base = data_dir / "signals" / "ucr"
    out = []
    for split in ("TRAIN", "TEST"):
        p = base / f"{name}_{split}.tsv"
        if not p.exists():
            raise FileNotFoundError(f"{p} not found (download the UCR 2018 archive; see --help)")
        X, y = read_tsv(p)
        if not isinstance(X, np.ndarray):
            raise ValueError(f"{p}: unequal lengths; this benchmark takes equal-length sets only")
        out += [X.astype(np.float64), y]
    return out


def _version(dist: str):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{model}, {os.cpu_count()} logical CPUs"


def timed(make, Xtr, ytr, Xte, repeats: int, blas_threads=None):
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    best, pred = None, None
    for _ in range(repeats):
        limit = nullcontext() if blas_threads is None else threadpool_limits(blas_threads, user_api="blas")
        with limit:
            t0 = time.perf_counter()
            clf = make().fit(Xtr, ytr)
            pred = clf.predict(Xte)
            dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return pred, best


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated set names (default: the 20)")
    ap.add_argument("--seeds", default="0", help="comma-separated random_state values (default 0)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="time each fit+predict this many times, keep the fastest")
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="limit BLAS threads (threadpoolctl) around both fits; default: each library's own "
                         "(ours fits its ridge with 1 BLAS thread, aeon with numpy's default)")
    ap.add_argument("--ours-only", action="store_true", help="skip aeon")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/minirocket_vs_aeon"))
    args = ap.parse_args(argv)
    if args.threads < 1 or args.repeats < 1 or (args.blas_threads is not None and args.blas_threads < 1):
        ap.error("--threads, --repeats and --blas-threads must be >= 1")
    try:
        args.seed_list = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    args.names = [s.strip() for s in args.sets.split(",") if s.strip()]
    return args


def _aeon():
    """aeon's ``MiniRocketClassifier`` class and aeon's version, or None when aeon is missing."""
    try:
        import aeon
        from aeon.classification.convolution_based import MiniRocketClassifier as AeonMiniRocket
    except ImportError:
        return None
    return AeonMiniRocket, aeon.__version__


def _run(args, ours, theirs) -> list:
    """Fit + predict every set and seed, ours then aeon's (when ``theirs``); one row each."""
    rows = []
    for name in args.names:
        Xtr, ytr, Xte, yte = load(args.data_dir, name)
        for seed in args.seed_list:
            p_ours, t_ours = timed(ours(seed), Xtr, ytr, Xte, args.repeats, args.blas_threads)
            row = {"dataset": name, "seed": seed, "n_train": len(ytr), "n_test": len(yte), "length": Xtr.shape[-1],
                   "acc_ours": 100.0 * float(np.mean(p_ours == yte)), "time_ours_s": t_ours}
            if theirs is not None:
                p_aeon, t_aeon = timed(theirs(seed), Xtr, ytr, Xte, args.repeats, args.blas_threads)
                row.update(acc_aeon=100.0 * float(np.mean(p_aeon == yte)), time_aeon_s=t_aeon,
                           ratio=t_ours / t_aeon)
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def _write(out: Path, rows: list, table: dict, meta: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(out.with_suffix(".json"), "w") as f:
        json.dump({"meta": meta, "per_set": table["sets"], "mean": table["mean"]}, f, indent=2)
        f.write("\n")


def main(argv=None) -> int:
    args = _parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    from seqcnn.signal import MiniRocketClassifier

    def ours(seed):
        return lambda: MiniRocketClassifier(random_state=seed, n_jobs=args.threads)

    found = None if args.ours_only else _aeon()
    if not args.ours_only and found is None:
        print("aeon is not installed (pip install aeon, for this benchmark only); or pass --ours-only", file=sys.stderr)
        return 2
    aeon_cls, aeon_version = found or (None, None)
    theirs = (lambda seed: lambda: aeon_cls(random_state=seed, n_jobs=args.threads)) if aeon_cls else None

    # warm-up: numba compiles aeon's kernels on first use; torch's first calls allocate pools
    rng = np.random.default_rng(0)
    Xw, yw = rng.standard_normal((20, 1, 64)), np.arange(20) % 2
    for make in [ours(0)] + ([theirs(0)] if theirs else []):
        make().fit(Xw, yw).predict(Xw)

    started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = _run(args, ours, theirs)
    table = _per_set(rows, args.names, bool(aeon_cls))
    print()
    print(_render(table, bool(aeon_cls), len(args.seed_list)))
    meta = {"command": " ".join([Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])),
            "date": started, "machine": machine(), "threads": args.threads, "blas_threads": args.blas_threads,
            "repeats": args.repeats, "seeds": args.seed_list, "torch": torch.__version__,
            "numpy": np.__version__, "aeon": aeon_version, "numba": _version("numba"),
            "python": platform.python_version()}
    _write(args.out, rows, table, meta)
    blas = args.blas_threads or "default"
    print(f"\n{meta['date']} · {meta['machine']} · {args.threads} threads · BLAS threads {blas} · "
          f"torch {meta['torch']}" + (f" · aeon {aeon_version}" if aeon_version else ""))
    print(f"wrote {args.out.with_suffix('.csv')} and {args.out.with_suffix('.json')}")
    return 0


def _line(r: dict) -> str:
    s = f"{r['dataset']:28s} seed {r['seed']}: ours {r['acc_ours']:5.1f} % {r['time_ours_s']:6.2f} s"
    if "acc_aeon" in r:
        s += f" | aeon {r['acc_aeon']:5.1f} % {r['time_aeon_s']:6.2f} s | ratio {r['ratio']:.2f}"
    return s


def _per_set(rows, names, with_aeon: bool) -> dict:
    sets = []
    for name in names:
        rs = [r for r in rows if r["dataset"] == name]
        e = {"dataset": name, "n_train": rs[0]["n_train"], "n_test": rs[0]["n_test"], "length": rs[0]["length"],
             "acc_ours": float(np.mean([r["acc_ours"] for r in rs])),
             "time_ours_s": float(np.sum([r["time_ours_s"] for r in rs]) / len(rs))}
        if with_aeon:
            e["acc_aeon"] = float(np.mean([r["acc_aeon"] for r in rs]))
            e["time_aeon_s"] = float(np.sum([r["time_aeon_s"] for r in rs]) / len(rs))
            e["ratio"] = e["time_ours_s"] / e["time_aeon_s"]
        sets.append(e)
    mean = {"acc_ours": float(np.mean([e["acc_ours"] for e in sets])),
            "time_ours_s": float(np.sum([e["time_ours_s"] for e in sets]))}
    if with_aeon:
        mean["acc_aeon"] = float(np.mean([e["acc_aeon"] for e in sets]))
        mean["time_aeon_s"] = float(np.sum([e["time_aeon_s"] for e in sets]))
        mean["ratio_total_time"] = mean["time_ours_s"] / mean["time_aeon_s"]
        mean["ratio_geomean"] = float(np.exp(np.mean([np.log(e["ratio"]) for e in sets])))
        mean["acc_gap"] = mean["acc_ours"] - mean["acc_aeon"]
    return {"sets": sets, "mean": mean}


def _render(table: dict, with_aeon: bool, n_seeds: int) -> str:
    head = "| data set | train / test | length | acc ours | time ours (s) |"
    sep = "| --- | --- | --- | --- | --- |"
    if with_aeon:
        head += " acc aeon | time aeon (s) | time ratio |"
        sep += " --- | --- | --- |"
    lines = [head, sep]
    for e in table["sets"]:
        s = f"| {e['dataset']} | {e['n_train']} / {e['n_test']} | {e['length']} | {e['acc_ours']:.1f} | {e['time_ours_s']:.2f} |"
        if with_aeon:
            s += f" {e['acc_aeon']:.1f} | {e['time_aeon_s']:.2f} | {e['ratio']:.2f} |"
        lines.append(s)
    m = table["mean"]
    s = f"| **mean of {len(table['sets'])}** | | | **{m['acc_ours']:.1f}** | {m['time_ours_s']:.2f} (sum) |"
    if with_aeon:
        s += (f" **{m['acc_aeon']:.1f}** | {m['time_aeon_s']:.2f} (sum) | {m['ratio_total_time']:.2f} "
              f"(sums; geometric mean {m['ratio_geomean']:.2f}) |")
    lines.append(s)
    lines.append(f"\naccuracy: mean over {n_seeds} seed(s) per set, then over the sets; time: fit + predict, "
                 f"mean per seed; MiniRocket paper level {PAPER_MEAN} %")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
