"""Assemble InceptionTime ensembles from single Inception networks trained in separate runs.

InceptionTime (Ismail Fawaz et al. 2020) is five Inception networks trained independently, their
test probabilities averaged; the authors' code trains the five as separate runs and averages their
saved predictions afterwards (``nne.py``). This script does the same with the runs of
``ucr_table.py --archs inception --proba-dir DIR``: the runs' rows come from their CSV files, the
probabilities from ``DIR``. The single networks' seeds, sorted, are cut into disjoint groups of
``--members`` (seeds 0–4 form one ensemble, 5–9 the next; an incomplete last group is left out),
and each group becomes one ``inceptiontime`` row in ``ucr_table.py``'s format, appended to
``--out``, so ``ucr_table.py --from-csv`` prints it beside the other rows. Its ``train_s`` is the
sum over the members (what one process would have spent), ``best_epoch`` lists theirs.

Also printed, and labelled as such: the mean ± std of the ensemble accuracy over *every* subset of
``--members`` of the networks found — a resampling estimate (the subsets share networks, so they
are not independent runs), useful when only a few disjoint groups could be afforded.

    python benchmarks/ucr_ensemble.py --runs benchmarks/results/ucr_arrowhead_inception1500_*.csv \\
        --proba-dir benchmarks/results/ucr_proba --out benchmarks/results/ucr_arrowhead_inceptiontime1500.csv
"""
from __future__ import annotations

import argparse
import csv
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ucr_table import FIELDS, check_csv_header, proba_path, read_rows, render  # noqa: E402

PROTOCOL = ("dataset", "epochs", "batch_size", "validation_fraction", "selection")


def by_protocol(members: list[tuple[dict, dict]]) -> list[list[tuple[dict, dict]]]:
    """The members grouped by protocol (never mixed), each group in increasing seed order."""
    groups: dict[tuple, list] = {}
    for m in members:
        groups.setdefault(tuple(m[0][k] for k in PROTOCOL), []).append(m)
    return [sorted(g, key=lambda m: int(m[0]["seed"])) for g in groups.values()]


def load_members(rows: list[dict], proba_dir: Path) -> list[tuple[dict, dict]]:
    """(row, arrays) of every single-network Inception run whose probabilities exist; a row
    whose file is missing is reported and skipped (the run may have been cut short)."""
    members = []
    for row in rows:
        if row["arch"] != "inception":
            continue
        path = proba_path(proba_dir, row)
        if not path.exists():
            print(f"no probabilities for {row['dataset']} seed {row['seed']} ({path}); skipped", file=sys.stderr)
            continue
        with np.load(path, allow_pickle=False) as z:
            members.append((row, {k: z[k] for k in z.files}))
    return members


def _scores(y_true, classes, proba) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    pred = classes[proba.argmax(axis=1)]
    return {"accuracy": accuracy_score(y_true, pred), "balanced_accuracy": balanced_accuracy_score(y_true, pred),
            "macro_f1": f1_score(y_true, pred, average="macro")}


def ensemble_row(group: list[tuple[dict, dict]]) -> dict:
    """One ``inceptiontime`` row from the members of one ensemble (same protocol, same test set)."""
    first_row, first = group[0]
    for row, arrays in group[1:]:
        if any(row[k] != first_row[k] for k in PROTOCOL):
            raise ValueError(f"members differ in protocol: seed {first_row['seed']} vs {row['seed']}")
        if not (np.array_equal(arrays["classes"], first["classes"])
                and np.array_equal(arrays["y_test"], first["y_test"])):
            raise ValueError(f"members differ in classes or test labels: seed {first_row['seed']} vs {row['seed']}")
    proba = np.mean([arrays["proba"] for _, arrays in group], axis=0)
    row = {k: first_row.get(k, "") for k in FIELDS}
    row.update(_scores(first["y_test"], first["classes"], proba))
    row["arch"] = "inceptiontime"
    row["seed"] = "+".join(r["seed"] for r, _ in group)
    row["best_epoch"] = "/".join(str(r["best_epoch"]) for r, _ in group)
    row["train_s"] = round(sum(float(r["train_s"]) for r, _ in group), 2)
    row["predict_s"] = round(sum(float(r["predict_s"]) for r, _ in group), 2)
    row["date"] = max(r["date"] for r, _ in group)
    return row


def assemble(members: list[tuple[dict, dict]], size: int) -> tuple[list[dict], list[list[str]]]:
    """Disjoint ensembles of ``size`` members per protocol, seeds in increasing order; returns the
    rows and, for the report, the seeds left over."""
    rows, left = [], []
    for group_members in by_protocol(members):
        full = len(group_members) // size * size
        for i in range(0, full, size):
            rows.append(ensemble_row(group_members[i:i + size]))
        if full < len(group_members):
            left.append([m[0]["seed"] for m in group_members[full:]])
    return rows, left


def subset_estimate(members: list[tuple[dict, dict]], size: int) -> tuple[float, float, int]:
    """Mean and std (%) of the ensemble accuracy over every ``size``-subset of ``members``
    (one protocol); the subsets overlap, so this is a resampling estimate, not independent runs."""
    accs = []
    for combo in itertools.combinations(members, size):
        proba = np.mean([arrays["proba"] for _, arrays in combo], axis=0)
        first = combo[0][1]
        accs.append(_scores(first["y_test"], first["classes"], proba)["accuracy"] * 100)
    accs = np.array(accs)
    return float(accs.mean()), float(accs.std(ddof=1)) if len(accs) > 1 else 0.0, len(accs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", required=True, help="CSV files written by ucr_table.py")
    p.add_argument("--proba-dir", required=True, help="the --proba-dir those runs were given")
    p.add_argument("--members", type=int, default=5, help="networks per ensemble (InceptionTime: 5)")
    p.add_argument("--out", default=None, help="append the ensemble rows to this CSV (ucr_table.py format)")
    args = p.parse_args(argv)
    if args.members < 1:
        p.error("--members must be at least 1")
    rows = [r for path in args.runs for r in read_rows(Path(path))]
    members = load_members(rows, Path(args.proba_dir))
    if not members:
        p.error("no single-network (arch 'inception') runs with saved probabilities found")
    ens_rows, left = assemble(members, args.members)
    for seeds in left:
        print(f"seeds {', '.join(seeds)} do not fill an ensemble of {args.members}; left out", file=sys.stderr,
              flush=True)
    print(render([m[0] for m in members] + ens_rows, f"single networks and {args.members}-network ensembles"))
    for ms in by_protocol(members):
        if len(ms) >= args.members:
            mean, std, n = subset_estimate(ms, args.members)
            print(f"\n{ms[0][0]['dataset']}, {ms[0][0]['epochs']} epochs: ensemble accuracy over all {n} subsets of {args.members} of the "
                  f"{len(ms)} networks (overlapping; a resampling estimate): {mean:.1f} ± {std:.1f} %")
    if args.out and ens_rows:
        out = Path(args.out)
        try:
            new = check_csv_header(out)
        except ValueError as e:
            p.error(str(e))
        with open(out, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            if new:
                w.writeheader()
            w.writerows(ens_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
