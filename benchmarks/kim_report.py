"""Kim (2014)'s sentence data sets: CNN-rand against the classic baselines, with statistics.

MR (10-fold CV, seeded stratified folds), SST-2 (given train/dev/test; dev merged into train, the
CNN carves its own validation split from it) and TREC (given train/test) × CNN-rand, MNB-bi,
NBSVM-bi (Wang & Manning 2012), k-NN (cosine on tf-idf), linear SVM (tf-idf uni+bigrams) and
the p-spectrum string-kernel SVM, through ``seqcnn.compare.run_comparison``: every model sees
the same folds; ``results.csv`` grows cell by cell, so an interrupted run started again with the
same arguments resumes where it stopped.

Data (``--data-dir``, default ../shared/data): text/rt-polarity.all, text/stsa.binary.{train,dev,
test}, text/TREC.{train,test}.all — the files of https://github.com/yoonkim/CNN_sentence (MR:
Pang & Lee 2005, http://www.cs.cornell.edu/people/pabo/movie-review-data/; SST: Socher et al.
2013, https://nlp.stanford.edu/sentiment/; TREC: Li & Roth 2002,
https://cogcomp.seas.upenn.edu/Data/QA/QC/).

Full protocol: python benchmarks/kim_report.py --n-jobs 2 (Kim's sizes: 10 folds on MR, 25 epochs,
300-d, 100 maps). Measured 2026-11-24 on a 2-core AMD EPYC, CPU only: 24.0 min wall for all 72
cells (2026-11-23: 28.6 min including a kill -9 after 4.2 min and a resume); results in
benchmarks/results/kim_report/. A reduced run for quick looks (benchmarks/results/kim_report_reduced/):
    python benchmarks/kim_report.py --folds 3 --max-epochs 3 --embedding-dim 128 --num-filters 64 \
        --out benchmarks/results/kim_report_reduced
Writes {results.csv,report.md,report.json,*.png,commands.log} to --out
(default benchmarks/results/kim_report).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PUBLISHED = {  # accuracy %, Kim 2014 Table 2 / harvardnlp sent-conv-torch reproduction; Wang & Manning 2012
    "MR": {"CNN-rand": "76.1 / 75.9", "NBSVM-bi": "79.4", "MNB-bi": "79.0"},
    "SST-2": {"CNN-rand": "82.7 / 83.5"},
    "TREC": {"CNN-rand": "91.2 / 88.2"},
}
MODELS = ["textcnn-rand", "mnb-bi", "nbsvm", "knn-cosine", "svm-linear", "svm-string"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kim_report"))
    ap.add_argument("--datasets", default="MR,SST-2,TREC")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--skip", default="", help="comma-separated models to leave out")
    ap.add_argument("--folds", type=int, default=10, help="folds of MR (Kim: 10)")
    ap.add_argument("--max-epochs", type=int, default=25, help="CNN epochs (Kim: 25)")
    ap.add_argument("--num-filters", type=int, default=100)
    ap.add_argument("--embedding-dim", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--report-only", action="store_true", help="run nothing; rewrite the report from --out")
    args = ap.parse_args(argv)

    from seqcnn.compare import run_comparison

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    models = [m for m in args.models.split(",") if m and m not in skip]
    datasets = [d for d in args.datasets.split(",") if d]
    overrides = {}
    if "textcnn-rand" in models:
        overrides["textcnn-rand"] = {"max_epochs": args.max_epochs, "num_filters": args.num_filters,
                                     "embedding_dim": args.embedding_dim}
    t0 = time.time()
    cmd = ("python benchmarks/kim_report.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    log = Path(args.out) / "commands.log"
    stamp = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t0))
    if not args.report_only:  # a start line first: a run killed later still leaves its trace
        Path(args.out).mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp}\tstarted\t{cmd}\n")
    rows = run_comparison(datasets, models, cv=args.folds, out_dir=args.out, n_jobs=args.n_jobs, seed=args.seed,
                          data_dir=args.data_dir, verbose=0 if args.quiet else 1, overrides=overrides,
                          run_cells=not args.report_only)
    elapsed = time.time() - t0
    report = Path(args.out) / "report.md"
    lines = ["", "## Published numbers (accuracy %, for orientation)", "",
             "Kim (2014) Table 2 / harvardnlp sent-conv-torch reproduction for CNN-rand (25 epochs, 100 maps × "
             "(3,4,5), 300-d random embeddings, Adadelta); Wang & Manning (2012) for MNB-bi and NBSVM-bi on MR. "
             "A reduced run (fewer folds or epochs, see the command) is not expected to match them.", "",
             "| data set | CNN-rand | NBSVM-bi | MNB-bi |", "| --- | --- | --- | --- |"]
    for d in datasets:
        p = PUBLISHED.get(d, {})
        lines.append(f"| {d} | {p.get('CNN-rand', '–')} | {p.get('NBSVM-bi', '–')} | {p.get('MNB-bi', '–')} |")
    if not args.report_only:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp}\t{elapsed / 60:.1f} min\t{cmd}\n")
    runs = [r.split("\t") for r in (log.read_text(encoding="utf-8").splitlines() if log.exists() else [])
            if r.count("\t") == 2]
    finished = {(start, command) for start, wall, command in runs if wall != "started"}
    lines += ["", "Invocations that ran cells (UTC start, wall time, command; an interrupted run resumes "
              "where it stopped):", ""]
    lines += [f"- `{command}` — started {start}, "
              + ("interrupted (no end recorded)" if wall == "started" else wall)
              for start, wall, command in runs
              if wall != "started" or (start, command) not in finished] or ["- (none recorded)"]
    lines.append("")
    with open(report, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    print(f"{len(rows)} cells; {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
