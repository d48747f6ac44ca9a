"""The ucr24 report's side tables: this run's test accuracy per set beside the published figures.

    python benchmarks/results/ucr24/make_tables.py [RESULTS_CSV ...]

Reads ``results.csv`` of ``seqcnn compare --config configs/ucr24.toml`` (and any further result
files of the same grid, e.g. CNN columns run into a side folder) and the ``[references]`` table of
``configs/ucr24.toml``; writes ``published.md`` and ``published.csv`` beside this script: accuracy
(%) and fit + predict time (s) per set and model, the published FCN / ResNet / InceptionTime
figures per set, MiniRocket's published level, and the means over the 20 ``.tsv`` sets and over
every set each model finished. A cell that did not run is "–" and is left out of no mean silently:
each mean names how many sets it covers.
"""
from __future__ import annotations

import csv
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[2] / "configs" / "ucr24.toml"
MODELS = ["minirocket", "knn-dtw", "knn-euclidean", "fcn", "resnet1d", "inception"]
PUBLISHED = [("fcn", "FCN"), ("resnet1d", "ResNet"), ("inceptiontime", "InceptionTime"), ("minirocket", "MiniRocket")]


def read_rows(paths):
    cells = {}
    for p in paths:
        with open(p, newline="") as f:
            for r in csv.DictReader(f):
                cells[(r["dataset"], r["model"])] = (100.0 * float(r["accuracy"]),
                                                    float(r["fit_seconds"]) + float(r["predict_seconds"]))
    return cells


def mean(values):
    values = [v for v in values if v is not None]
    return (sum(values) / len(values), len(values)) if values else (None, 0)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or [HERE / "results.csv"]
    cfg = tomllib.loads(CONFIG.read_text())
    sets = cfg["run"]["datasets"]
    tsv = [c["name"] for c in cfg["datasets"]["custom"]]
    refs = cfg["references"]
    cells = read_rows(paths)
    head = (["data set"] + [f"{m} acc" for m in MODELS] + [f"{m} s" for m in MODELS]
            + [f"published {label}" for _, label in PUBLISHED])
    rows = []
    for d in sets:
        acc = [cells.get((d, m), (None, None))[0] for m in MODELS]
        sec = [cells.get((d, m), (None, None))[1] for m in MODELS]
        pub = [refs.get(d, {}).get(k) for k, _ in PUBLISHED]
        rows.append((d, acc, sec, pub))
    with open(HERE / "published.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        for d, acc, sec, pub in rows:
            w.writerow([d] + ["" if v is None else f"{v:.2f}" for v in acc + sec + pub])

    def fmt(v, digits=1):
        return "–" if v is None else f"{v:.{digits}f}"

    L = ["# UCR 24: this run beside the published figures", "",
         "Test accuracy (%) on the archive's given split, seed 0, from `results.csv` "
         "(`seqcnn compare --config configs/ucr24.toml`); published figures from "
         "`../shared/data/README.md` (FCN / ResNet: Fawaz et al. 2019, mean over runs; InceptionTime: "
         "the 5-network ensemble at 1500 epochs; MiniRocket: mean of 30 resamples, a level, not a per-set "
         "figure). The CNNs here ran at the CPU budget written in `configs/ucr24.toml`; `inception` is one "
         "small network, not the ensemble. \"–\": the cell did not run.", "",
         "| data set | MiniRocket | 1-NN DTW | 1-NN Eucl. | FCN | ResNet1D | Inception (1 net) "
         "| published FCN | published ResNet | published InceptionTime | published MiniRocket |",
         "| --- |" + " ---: |" * 10]
    for d, acc, _sec, pub in rows:
        L.append(f"| {d} | " + " | ".join(fmt(v) for v in acc) + " | " + " | ".join(fmt(v) for v in pub) + " |")
    for label, group in (("mean of the 20 .tsv sets", tsv), ("mean of every finished set", sets)):
        parts = []
        for m in MODELS:
            mu, n = mean([cells.get((d, m), (None, None))[0] for d in group])
            parts.append("–" if mu is None else f"{mu:.1f} ({n})")
        pubs = []
        for k, _ in PUBLISHED:
            mu, n = mean([refs.get(d, {}).get(k) for d in group])
            pubs.append("–" if mu is None else f"{mu:.1f} ({n})")
        L.append(f"| **{label}** | " + " | ".join(parts) + " | " + " | ".join(pubs) + " |")
    L += ["", "(n) = number of sets in the mean. Means over different numbers of sets are not comparable.", "",
          "Fit + predict time (s) per set, as recorded by the comparison:", "",
          "| data set | " + " | ".join(MODELS) + " |", "| --- |" + " ---: |" * len(MODELS)]
    for d, _acc, sec, _pub in rows:
        L.append(f"| {d} | " + " | ".join(fmt(v, 2) for v in sec) + " |")
    tot = []
    for i, m in enumerate(MODELS):
        vals = [r[2][i] for r in rows if r[2][i] is not None]
        tot.append(f"{sum(vals):.1f} ({len(vals)})" if vals else "–")
    L.append("| **sum** | " + " | ".join(tot) + " |")
    (HERE / "published.md").write_text("\n".join(L) + "\n")
    print(f"wrote {HERE / 'published.md'} and {HERE / 'published.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
