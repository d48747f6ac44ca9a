"""The comparison report: ``report.md``, ``report.json`` and three figures.

Each data set is scored on its primary metric: accuracy, or macro-F1 for a multi-label data set
(micro-F1 and subset accuracy beside it); ranks, Friedman, Wilcoxon-Holm and Nemenyi use it.

``report.md`` holds the protocol (data sets, sizes, splits, seeds, hashes, machine, library
versions), the accuracy table (mean ± std over folds, best per data set in **bold**, runner-ups
that are not significantly worse marked †: corrected resampled t-test over folds for k-fold
CV, exact McNemar test on a single given test split), balanced accuracy and macro-F1, the
average ranks, the Friedman / Iman-Davenport test with Wilcoxon-Holm and Nemenyi post-hoc
results, a time/size table and a generated "no free lunch" paragraph.
Figures (matplotlib, Agg, no display needed): ``cd_diagram.png`` (Demšar's critical-difference
diagram), ``scores.png`` (per-data-set bars with ±std error bars), ``tradeoff.png`` (accuracy
against fit time, log x).
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from . import stats as S

__all__ = ["write_report", "build_report"]


def _pct(x):
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


def _fmt_p(p):
    if p is None or not np.isfinite(p):
        return "–"
    return "< 0.001" if p < 1e-3 else f"{p:.3f}"


def _p_eq(p):
    """"p = 0.123" or "p < 0.001"."""
    txt = _fmt_p(p)
    return f"p {txt}" if txt.startswith("<") else f"p = {txt}"


def _fmt_s(x):
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:.3g}"


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    return obj


def _protocol_text(d: dict) -> str:
    if d["protocol"] == "kfold":
        return f"stratified {d['n_folds']}-fold CV (shuffled, seed {d['seed']})"
    if d["protocol"] == "train_dev_test":
        if d.get("dev") == "validation":
            return "given train/dev/test (dev = validation data of the models that take it)"
        return "given train/dev/test (dev merged into train)"
    return "given train/test"


def primary_metric(meta: dict) -> str:
    """The score a data set is ranked on: macro-F1 for multi-label targets, else accuracy."""
    return "macro_f1" if meta.get("multilabel") else "accuracy"


def _n_cells(meta: dict) -> int:
    return meta["n_folds"] * len(meta.get("seeds") or [meta.get("seed")])


def _split_partial(rows, dmeta):
    """(complete rows, partial pairs): a (data set, model) pair is compared only once every
    fold of every seed has finished; the others are listed."""
    counts: dict = {}
    for r in rows:
        counts.setdefault((r["dataset"], r["model"]), []).append(r)
    partial = []
    for (d, m), rs in counts.items():
        if d in dmeta and len(rs) < _n_cells(dmeta[d]):
            metric = primary_metric(dmeta[d])
            partial.append({"dataset": d, "model": m, "folds_done": len(rs), "n_folds": _n_cells(dmeta[d]),
                            "accuracy_mean": float(np.mean([r[metric] for r in rs]))})
    skip = {(p["dataset"], p["model"]) for p in partial}
    rows = [dict({"micro_f1": float("nan")}, **r,
                 score=r[primary_metric(dmeta[r["dataset"]])] if r["dataset"] in dmeta else r["accuracy"])
            for r in rows if (r["dataset"], r["model"]) not in skip]
    return rows, partial


def _cells(rows, summ) -> list[dict]:
    cells = []
    for (d, m), s in summ["score"].items():
        cell_rows = [r for r in rows if (r["dataset"], r["model"]) == (d, m)]
        sizes = [r["model_size"] for r in cell_rows if r["model_size"] is not None]
        acc = summ["accuracy"][(d, m)]
        cells.append({"dataset": d, "model": m, "score_mean": s["mean"], "score_std": s["std"],
                      "fold_scores": s["scores"], "accuracy_mean": acc["mean"], "accuracy_std": acc["std"],
                      "folds": s["n"], "fold_accuracies": acc["scores"],
                      "balanced_accuracy_mean": summ["balanced_accuracy"][(d, m)]["mean"],
                      "macro_f1_mean": summ["macro_f1"][(d, m)]["mean"],
                      "micro_f1_mean": summ["micro_f1"][(d, m)]["mean"],
                      "fit_seconds": float(np.mean([r["fit_seconds"] for r in cell_rows])),
                      "predict_seconds": float(np.mean([r["predict_seconds"] for r in cell_rows])),
                      "model_size": int(np.median(sizes)) if sizes else None,
                      "size_unit": cell_rows[0]["size_unit"],
                      "selection": sorted({r["selection"] for r in cell_rows}),
                      "threads": sorted({r["threads"] for r in cell_rows if r.get("threads") is not None})})
    return cells


def _per_dataset(M, datasets, models, summ, dmeta, correct_loader) -> dict:
    """Per data set: the winner(s) and a paired test of every other model against the first."""
    per_dataset = {}
    for i, d in enumerate(datasets):
        if np.all(np.isnan(M[i])):
            per_dataset[d] = {"best": [], "tests": {}}
            continue
        best_models = S.winners(M[i][None, :], models)[0]
        tests = {m: _paired_test(d, best_models[0], m, summ, dmeta[d], correct_loader)
                 for m in models if m != best_models[0] and (d, m) in summ}
        per_dataset[d] = {"best": best_models, "tests": tests}
    return per_dataset


def _over_datasets(out, M, models, datasets, alpha) -> None:
    """Ranks, wins, Friedman / Iman-Davenport, Wilcoxon-Holm and Nemenyi over the complete rows."""
    complete = [i for i in range(len(datasets)) if np.all(np.isfinite(M[i]))]
    used, Mc = [datasets[i] for i in complete], M[complete]
    out["datasets_in_ranks"] = used
    k, n = len(models), len(used)
    if n >= 1 and k >= 1:
        ranks = S.rank_matrix(Mc)
        out["ranks"] = dict(zip(models, ranks.mean(axis=0).tolist()))
        out["rank_table"] = {d: dict(zip(models, r.tolist())) for d, r in zip(used, ranks)}
    else:
        out["ranks"], out["rank_table"] = {}, {}
    wins = {m: 0.0 for m in models}
    for d in datasets:
        for m in out["per_dataset"][d]["best"]:
            wins[m] += 1.0 / len(out["per_dataset"][d]["best"])
    out["wins"] = wins
    out["wilcoxon_holm"] = []
    if n < 2:
        out["friedman"] = {"skipped": f"the Friedman test needs >= 2 data sets with every model scored; this run has {n}"}
    elif k < 2:
        out["friedman"] = {"skipped": "the Friedman test needs >= 2 models"}
    else:
        out["friedman"] = S.friedman_test(Mc)
        out["wilcoxon_holm"] = S.wilcoxon_holm(Mc, models, alpha)
    if k >= 2 and n >= 1:
        q, cd = S.nemenyi_critical_difference(k, n, alpha)
        out["nemenyi"] = {"k": k, "n": n, "alpha": alpha, "q": q, "cd": cd,
                          "q_table": S.NEMENYI_Q_TABLE.get(alpha, {}).get(k),
                          "cliques": [[models[j] for j in g] for g in S.cliques(list(out["ranks"].values()), cd)]}
    else:
        out["nemenyi"] = {"skipped": "needs >= 2 models and >= 1 complete data set"}


def build_report(rows, run_meta, *, alpha=0.05, correct_loader=None) -> dict:
    """All numbers of the report as a JSON-able dict (``report.json``). Every data set is scored
    on its primary metric (:func:`primary_metric`): accuracy, or macro-F1 when multi-label."""
    datasets = [d["name"] for d in run_meta["datasets"]]
    models = [m["name"] for m in run_meta["models"]]
    dmeta = {d["name"]: d for d in run_meta["datasets"]}
    rows, partial = _split_partial(rows, dmeta)
    summ = {metric: S.summarize(rows, metric)
            for metric in ("score", "accuracy", "balanced_accuracy", "macro_f1", "micro_f1")}
    M = S.score_matrix(rows, datasets, models, "score")
    out = {"alpha": alpha, "datasets": datasets, "models": models,
           "kinds": {m["name"]: m["kind"] for m in run_meta["models"]}, "meta": run_meta,
           "primary": {d: primary_metric(dmeta[d]) for d in datasets}, "cells": _cells(rows, summ),
           "per_dataset": _per_dataset(M, datasets, models, summ["score"], dmeta, correct_loader),
           "partial_cells": partial}
    _over_datasets(out, M, models, datasets, alpha)
    out["no_free_lunch"] = _no_free_lunch(out, summ["score"], alpha, correct_loader)
    return out


def _paired_test(d, best, m, summ, meta, correct_loader) -> dict:
    """Paired test of two models on one data set: the corrected resampled t-test over (repeated)
    CV folds; exact McNemar on one given split with one seed (single-label); a paired t-test over
    seeds on a given split run with several seeds."""
    a, b = summ[(d, best)], summ[(d, m)]
    n_cells = _n_cells(meta)
    if a["n"] != n_cells or b["n"] != n_cells:
        return {"test": None, "statistic": None, "pvalue": None}
    if meta["n_folds"] >= 2:
        t, p = S.corrected_resampled_ttest(a["scores"], b["scores"], meta["n_train"], meta["n_test"])
        return {"test": "corrected resampled t-test", "statistic": t, "pvalue": p}
    if n_cells >= 2:
        t, p = S.paired_ttest(a["scores"], b["scores"])
        return {"test": "paired t-test over seeds", "statistic": t, "pvalue": p}
    if correct_loader is not None and not meta.get("multilabel"):
        ca, cb = correct_loader(d, best, 0), correct_loader(d, m, 0)
        if ca is not None and cb is not None and ca.shape == cb.shape:
            bb, cc, p = S.mcnemar_exact(ca, cb)
            return {"test": "McNemar exact", "statistic": float(min(bb, cc)), "b": bb, "c": cc, "pvalue": p}
    return {"test": None, "statistic": None, "pvalue": None}


def _no_free_lunch(rep, acc, alpha, correct_loader=None) -> str:
    models, datasets, kinds = rep["models"], rep["datasets"], rep["kinds"]
    scored = [d for d in datasets if rep["per_dataset"][d]["best"]]
    if not scored:
        return "No cell finished, so there is nothing to compare yet."
    wins = rep["wins"]
    order = sorted(models, key=lambda m: -wins[m])
    win_txt = ", ".join(f"{m} {wins[m]:g}" for m in order if wins[m] > 0)
    parts = [f"Wins per model over {len(scored)} data set(s) (ties shared): {win_txt}."]
    champions = [m for m in models if wins[m] == len(scored)]
    if len(scored) == 1:
        parts.append("With a single data set this says nothing about other data: run more data sets "
                     "before calling a winner.")
    elif champions:
        parts.append(f"{champions[0]} wins on every data set here; {len(scored)} data sets are still a small "
                     "sample, and the Friedman test below says how much that means.")
    else:
        parts.append("No model wins everywhere: the best method depends on the data set (no free lunch).")
    cnns = [m for m in models if kinds[m] == "cnn"]
    bases = [m for m in models if kinds[m] != "cnn"]
    if not cnns or not bases:
        parts.append("This run has " + ("no CNN" if not cnns else "no baseline") +
                     ", so the CNN-versus-baseline question is not asked here.")
        return " ".join(parts)
    for d in scored:
        sentence = _cnn_sentence(rep, d, cnns, bases, acc, alpha, correct_loader)
        if sentence:
            parts.append(sentence)
    return " ".join(parts)


def _cnn_sentence(rep, d, cnns, bases, acc, alpha, correct_loader) -> str:
    """"On D the best CNN, X (..) is significantly beaten by ..; is within noise of .."."""
    cnn_scores = {m: acc[(d, m)]["mean"] for m in cnns if (d, m) in acc}
    if not cnn_scores:
        return ""
    best_cnn = max(cnn_scores, key=cnn_scores.get)
    close, better, worse = [], [], []
    for b in bases:
        if (d, b) not in acc:
            continue
        test = _pair(rep, d, best_cnn, b, correct_loader)
        gap = acc[(d, b)]["mean"] - cnn_scores[best_cnn]
        p = test.get("pvalue") if test else None
        label = f"{b} ({_pct(acc[(d, b)]['mean'])} %, {_p_eq(p)})"
        if p is None or p >= alpha:
            close.append(label)
        elif gap > 0:
            better.append(label)
        else:
            worse.append(label)
    bits = []
    if better:
        bits.append("is significantly beaten by " + ", ".join(better))
    if close:
        bits.append("is within noise of " + ", ".join(close))
    if worse:
        bits.append("significantly beats " + ", ".join(worse))
    return f"On {d} the best CNN, {best_cnn} ({_pct(cnn_scores[best_cnn])} %) " + "; ".join(bits) + "."


def _pair(rep, d, a, b, loader):
    """Paired test between two models on one data set, reusing the winner's tests when possible."""
    per = rep["per_dataset"][d]
    best = per["best"][0]
    if a == best:
        return per["tests"].get(b)
    if b == best:
        return per["tests"].get(a)
    summ = {(c["dataset"], c["model"]): {"mean": c["score_mean"], "scores": c["fold_scores"], "n": c["folds"]}
            for c in rep["cells"] if c["dataset"] == d}
    meta = next(x for x in rep["meta"]["datasets"] if x["name"] == d)
    return _paired_test(d, a, b, summ, meta, loader)


def _friedman_verdict(fr, alpha) -> str:
    chi, f = fr["pvalue"] < alpha, fr["iman_davenport_pvalue"] < alpha
    if chi and f:
        return "Both reject equal performance of the models."
    if f:
        return ("The Iman-Davenport test rejects equal performance; Friedman's χ² does not (it is "
                "conservative, Demšar 2006 recommends F_F).")
    return "No significant difference between the models is shown."


# ---------------------------------------------------------------------- markdown
def _table_head(models) -> list[str]:
    return ["| data set | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]


def _seeds_text(meta) -> str:
    seeds = meta.get("seeds") or [meta["seed"]]
    if len(seeds) == 1:
        return f"Seed {seeds[0]} (k-fold shuffling and every estimator's `random_state`)"
    return (f"Seeds {', '.join(map(str, seeds))} (each cell runs once per seed: the estimator's `random_state`, "
            "and a fresh shuffle of k-fold data sets)")


def _md_protocol(rep) -> list[str]:
    meta = rep["meta"]
    L = ["## Protocol", "",
         "| data set | modality | samples | classes | split | train / test | data sha256 | folds sha256 |",
         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for d in meta["datasets"]:
        ntr, nte = d["n_train"], d["n_test"]
        sizes = f"{ntr[0]} / {nte[0]}" if len(ntr) == 1 else f"≈{round(np.mean(ntr))} / ≈{round(np.mean(nte))} per fold"
        classes = f"{d['n_classes']} (multi-label)" if d.get("multilabel") else d["n_classes"]
        L.append(f"| {d['name']} | {d['modality']} | {d['n_samples']} | {classes} | {_protocol_text(d)} | "
                 f"{sizes} | `{d['data_hash'][:12]}` | `{d['fold_hash'][:12]}` |")
    sel = {}
    for c in rep["cells"]:
        sel.setdefault(c["model"], set()).update(c["selection"])
    L += ["", f"{_seeds_text(meta)}; every model of a data set sees exactly the same folds (hashes above). "
          "Test data never chooses an epoch or a hyper-parameter; how each model chose its weights:", ""]
    for m in meta["models"]:
        params = ", ".join(f"{k}={v!r}" for k, v in m["params"].items()) or "defaults"
        for d, p in (m.get("dataset_params") or {}).items():
            params += f"; on {d}: " + ", ".join(f"{k}={v!r}" for k, v in p.items())
        L.append(f"- **{m['name']}** ({m['kind']}; {m['description']}): {params}; selection: "
                 f"{', '.join(sorted(sel.get(m['name'], []))) or '–'}")
    mach = meta["machine"]
    vers = ", ".join(f"{k} {v}" for k, v in mach.get("versions", {}).items())
    L += ["", f"Machine: {mach.get('platform')}, {mach.get('processor')}, {mach.get('cpu_count')} CPU(s)"
          + (f", GPU {mach['cuda']}" if mach.get("cuda") else ", no GPU") + f"; Python {mach.get('python')}; {vers}."
          + _threads_text(rep["cells"])]
    return L + _md_incomplete(rep)


def _threads_text(cells) -> str:
    """The torch threads the cells ran with (rows of results.csv files from before the
    ``threads`` column have none)."""
    counts = sorted({n for c in cells for n in c.get("threads", [])})
    if not counts:
        return ""
    if len(counts) == 1:
        return f" Every cell ran with {counts[0]} torch thread(s)."
    return (f" Cells ran with {' / '.join(map(str, counts))} torch threads (results.csv `threads`; a seeded CPU "
            "cell repeats bit for bit only at the same count).")


def _md_incomplete(rep) -> list[str]:
    meta, partial = rep["meta"], rep.get("partial_cells", [])
    L = []
    if meta.get("failed_cells"):
        L += ["", "**Failed cells** (not in the tables, retried on the next run; see errors.log): "
              + ", ".join(meta["failed_cells"])]
    missing = meta.get("expected_cells", 0) - sum(c["folds"] for c in rep["cells"]) \
        - sum(c["folds_done"] for c in partial)
    if missing > 0 or partial:
        L += ["", f"**Incomplete:** {missing} of {meta['expected_cells']} cells have no result yet"
              + (f"; data set × model pairs with only some folds done are shown in italics and left out of "
                 f"every comparison: {', '.join(p['dataset'] + ' × ' + p['model'] for p in partial)}"
                 if partial else "") + ". Run the same command again to resume."]
    return L


def _score_cell(rep, d, m, cells, partial) -> str:
    c = cells.get((d, m))
    if c is None:
        pc = partial.get((d, m))
        return "–" if pc is None else f"*({_pct(pc['accuracy_mean'])}, {pc['folds_done']}/{pc['n_folds']} folds)*"
    txt = _pct(c["score_mean"]) if c["folds"] == 1 else f"{_pct(c['score_mean'])} ± {_pct(c['score_std'])}"
    per = rep["per_dataset"][d]
    if m in per["best"]:
        return f"**{txt}**"
    p = per["tests"].get(m, {}).get("pvalue")
    return txt + " †" if p is not None and p >= rep["alpha"] else txt


def _md_scores(rep) -> list[str]:
    models, alpha = rep["models"], rep["alpha"]
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    partial = {(c["dataset"], c["model"]): c for c in rep.get("partial_cells", [])}
    multi = [d for d in rep["datasets"] if rep.get("primary", {}).get(d) == "macro_f1"]
    title = "Accuracy (%)" if not multi else "Primary score (%): accuracy; macro-F1 on multi-label data sets"
    L = ["", f"## {title}", "",
         "Mean ± std over folds and seeds (a single given test split with one seed has no std). **Bold**: best on "
         "the data set; †: not significantly worse than the best (α = "
         f"{alpha}; corrected resampled t-test over CV folds, exact McNemar test on a given test split, paired "
         "t-test over seeds on a given split run with several seeds)."
         + (f" Multi-label (scored by macro-F1): {', '.join(multi)}." if multi else ""), ""]
    L += _table_head(models)
    for d in rep["datasets"]:
        name = f"{d} (macro-F1)" if d in multi else d
        L.append(f"| {name} | " + " | ".join(_score_cell(rep, d, m, cells, partial) for m in models) + " |")
    if rep["ranks"]:
        L.append("| *average rank* | " + " | ".join(f"{rep['ranks'][m]:.2f}" for m in models) + " |")
    L.append("| *wins* | " + " | ".join(f"{rep['wins'][m]:g}" for m in models) + " |")
    L += ["", "### Paired tests against the best model of each data set", "",
          "| data set | best | model | test | statistic | p |", "| --- | --- | --- | --- | --- | --- |"]
    for d in rep["datasets"]:
        per = rep["per_dataset"][d]
        for m, t in per["tests"].items():
            L.append(f"| {d} | {per['best'][0]} | {m} | {t['test'] or 'n/a'} | {_fmt_s(t['statistic'])} | "
                     f"{_fmt_p(t['pvalue'])} |")
    return L


def _md_other_metrics(rep) -> list[str]:
    models = rep["models"]
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    multi = [d for d in rep["datasets"] if rep.get("primary", {}).get(d) == "macro_f1"]
    L = ["", "## Balanced accuracy and macro-F1 (%)", "",
         "Means over folds; macro-F1 uses the full label list of the data set.", ""] + _table_head(models)
    for d in rep["datasets"]:
        if d in multi:
            continue
        L.append(f"| {d} | " + " | ".join("–" if cells.get((d, m)) is None else
                                          f"{_pct(cells[(d, m)]['balanced_accuracy_mean'])} / "
                                          f"{_pct(cells[(d, m)]['macro_f1_mean'])}" for m in models) + " |")
    if multi:
        L += ["", "### Multi-label data sets: macro-F1 / micro-F1 / subset accuracy (%)", ""] + _table_head(models)
        for d in multi:
            L.append(f"| {d} | " + " | ".join("–" if cells.get((d, m)) is None else
                                              f"{_pct(cells[(d, m)]['macro_f1_mean'])} / "
                                              f"{_pct(cells[(d, m)]['micro_f1_mean'])} / "
                                              f"{_pct(cells[(d, m)]['accuracy_mean'])}" for m in models) + " |")
    return L


def _md_ranks(rep) -> list[str]:
    models, alpha = rep["models"], rep["alpha"]
    L = ["", "## Ranks and tests over data sets", ""]
    if rep["rank_table"]:
        L += ["Rank 1 = best primary score on the data set; ties share the average rank.", ""] + _table_head(models)
        for d, r in rep["rank_table"].items():
            L.append(f"| {d} | " + " | ".join(f"{r[m]:g}" for m in models) + " |")
        L += ["| *average* | " + " | ".join(f"{rep['ranks'][m]:.2f}" for m in models) + " |", ""]
    fr = rep["friedman"]
    if "skipped" in fr:
        L.append(f"Friedman test: not run — {fr['skipped']}.")
    else:
        df1, df2 = fr["iman_davenport_df"]
        L.append(f"Friedman test over {fr['n_datasets']} data sets and {fr['n_models']} models: "
                 f"χ²_F = {fr['statistic']:.3f} (df {fr['df']}), {_p_eq(fr['pvalue'])}; Iman-Davenport "
                 f"F_F = {_fmt_s(fr['iman_davenport'])} (df {df1}, {df2}), {_p_eq(fr['iman_davenport_pvalue'])}. "
                 + _friedman_verdict(fr, alpha))
    nm = rep["nemenyi"]
    if "skipped" not in nm and nm["n"] >= 2:
        L += ["", f"Nemenyi critical difference: q_{alpha} = {nm['q']:.3f} (k = {nm['k']}), "
              f"CD = q·√(k(k+1)/(6N)) = {nm['cd']:.3f} for N = {nm['n']} data sets; average ranks closer than CD "
              "are not significantly different (bars in cd_diagram.png)."]
    if rep["wilcoxon_holm"]:
        L += ["", "Pairwise Wilcoxon signed-rank tests over data sets, Holm-corrected"
              + (" (with fewer than 6 data sets no pair can reach p < 0.05)" if len(rep["datasets_in_ranks"]) < 6 else "")
              + ":", "", "| A | B | better | W | p | p (Holm) | significant |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for w in rep["wilcoxon_holm"]:
            L.append(f"| {w['a']} | {w['b']} | {w['better']} | {_fmt_s(w['statistic'])} | {_fmt_p(w['pvalue'])} | "
                     f"{_fmt_p(w['pvalue_holm'])} | {'yes' if w['significant'] else 'no'} |")
    return L


def _md_time(rep) -> list[str]:
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    L = ["", "## Time and size", "", "Mean seconds per fold (fit on the training part, predict on the test part); "
         "size = trainable parameters for CNNs, support vectors / stored samples / coefficients for baselines.", "",
         "| data set | model | fit s | predict s | size | unit |", "| --- | --- | --- | --- | --- | --- |"]
    for d in rep["datasets"]:
        for m in rep["models"]:
            c = cells.get((d, m))
            if c is not None:
                L.append(f"| {d} | {m} | {_fmt_s(c['fit_seconds'])} | {_fmt_s(c['predict_seconds'])} | "
                         f"{c['model_size'] if c['model_size'] is not None else '–'} | {c['size_unit'] or '–'} |")
    return L


def _md_references(rep) -> list[str]:
    refs = rep["meta"].get("references") or {}
    tables = {d: v for d, v in refs.items() if isinstance(v, dict)}
    if not tables:
        return []
    labels = list(dict.fromkeys(k for v in tables.values() for k in v))
    L = ["", "## Published figures (for orientation)", ""]
    if refs.get("note"):
        L += [refs["note"], ""]
    L += ["| data set | " + " | ".join(labels) + " |", "| --- |" + " --- |" * len(labels)]
    for d, v in tables.items():
        L.append(f"| {d} | " + " | ".join(str(v.get(k, "–")) for k in labels) + " |")
    return L


def _markdown(rep) -> str:
    L = ["# Comparison report", ""] + _md_protocol(rep) + _md_scores(rep) + _md_references(rep) \
        + _md_other_metrics(rep) + _md_ranks(rep) + _md_time(rep)
    L += ["", "## No free lunch", "", rep["no_free_lunch"], "",
          "![critical difference](cd_diagram.png)", "", "![scores](scores.png)", "", "![trade-off](tradeoff.png)", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------- figures
def _figure(w, h):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=110)


def plot_cd_diagram(ranks: dict, cd: float | None, path, *, title=None, note=None):
    """Demšar's critical-difference diagram: models on a rank axis (1 = best, left), the CD
    interval, and bars joining models whose ranks differ by less than CD."""
    names = list(ranks)
    r = np.array([ranks[n] for n in names], dtype=float)
    k = len(names)
    order = np.argsort(r, kind="stable")
    lo, hi = 1, max(2, k)
    half = (k + 1) // 2
    groups = S.cliques(r, cd) if cd else []
    fig = _figure(7, 1.6 + 0.28 * half + 0.12 * len(groups))
    ax = fig.add_axes([0.02, 0.02, 0.96, 0.96])
    ax.set_axis_off()
    top = 1.0
    right = max(hi, lo + (cd or 0))
    longest = max((len(f"{n} (0.00)") for n in names), default=10)
    pad = max(1.2, 0.35 * (right - lo + 1) + 0.5, 0.012 * longest * (right - lo + 2))  # room for the labels
    ax.set_xlim(lo - pad, right + pad)
    bottom = -(0.35 * half + 0.25 * len(groups) + 0.4)
    ax.set_ylim(bottom, top + 0.6)
    ax.plot([lo, hi], [0, 0], color="k", lw=1)
    for t in range(lo, hi + 1):
        ax.plot([t, t], [0, 0.08], color="k", lw=1)
        ax.text(t, 0.14, str(t), ha="center", va="bottom", fontsize=8)
    if cd:
        ax.plot([lo, lo + cd], [0.55, 0.55], color="k", lw=1.5)
        for x in (lo, lo + cd):
            ax.plot([x, x], [0.5, 0.6], color="k", lw=1)
        ax.text(lo + cd / 2, 0.65, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    for pos, j in enumerate(order):
        left = pos < half
        level = -(0.35 * ((pos if left else k - 1 - pos) + 1)) - 0.25 * len(groups)
        x_text = lo - 0.15 if left else hi + 0.15
        ax.plot([r[j], r[j]], [0, level], color="k", lw=0.8)
        ax.plot([r[j], x_text], [level, level], color="k", lw=0.8)
        ax.text(x_text + (-0.05 if left else 0.05), level, f"{names[j]} ({r[j]:.2f})",
                ha="right" if left else "left", va="center", fontsize=8)
    for gi, g in enumerate(groups):
        y = -0.15 - 0.25 * gi
        ax.plot([r[g].min() - 0.03, r[g].max() + 0.03], [y, y], color="tab:red", lw=3, solid_capstyle="round")
    if title or note:
        ax.text((lo + hi) / 2, top + 0.5, " — ".join(x for x in (title, note) if x), ha="center", va="top", fontsize=8)
    fig.savefig(path)


def _score_label(rep) -> str:
    multi = "macro_f1" in rep.get("primary", {}).values()
    return "accuracy / macro-F1 (multi-label) (%)" if multi else "accuracy (%)"


def plot_scores(rep, path):
    datasets, models = rep["datasets"], rep["models"]
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    k = max(1, len(models))
    fig = _figure(min(12, max(5, 0.9 * len(datasets) * max(1, k / 3) + 2)), 4)
    ax = fig.add_subplot(111)
    width = 0.8 / k
    x = np.arange(len(datasets))
    for j, m in enumerate(models):
        means = [100 * cells[(d, m)]["score_mean"] if (d, m) in cells else np.nan for d in datasets]
        stds = [100 * cells[(d, m)]["score_std"] if (d, m) in cells else 0 for d in datasets]
        ax.bar(x - 0.4 + width * (j + 0.5), means, width, yerr=stds, capsize=2, label=m)
    ax.set_xticks(x)
    ax.set_xticklabels(datasets)
    ax.set_ylabel(_score_label(rep))
    vals = [100 * c["score_mean"] for c in rep["cells"]]
    if vals:
        ax.set_ylim(max(0, min(vals) - 10), min(100, max(vals) + 5))
    ax.legend(fontsize=7, ncol=_legend_columns(models, fig.get_figwidth()), loc="upper center",
              bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.set_title(f"{_score_label(rep)} per data set (mean ± std over folds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def _legend_columns(labels, width_in: float, fontsize: float = 7) -> int:
    """Columns for a legend under the axes that fit ``width_in`` inches: a column is the longest
    label (~0.6 em per character) plus the handle and padding (~0.45 in); 1..6 columns."""
    column = 0.6 * fontsize / 72 * max((len(str(x)) for x in labels), default=1) + 0.45
    return max(1, min(6, len(labels), int(0.95 * width_in // column)))


def plot_tradeoff(rep, path):
    datasets, models = rep["datasets"], rep["models"]
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    fig = _figure(6, 4)
    ax = fig.add_subplot(111)
    markers = "osD^v<>pPX*h"
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(models) <= 10 else "tab20"]
    for j, m in enumerate(models):
        for i, d in enumerate(datasets):
            c = cells.get((d, m))
            if c is None:
                continue
            ax.scatter(max(c["fit_seconds"], 1e-4), 100 * c["score_mean"], color=cmap(j % cmap.N),
                       marker=markers[i % len(markers)], s=40, label=m if i == 0 or (datasets[0], m) not in cells else None)
    ax.set_xscale("log")
    ax.set_xlabel("fit seconds per fold (log)")
    ax.set_ylabel(_score_label(rep))
    handles, labels = ax.get_legend_handles_labels()
    seen = {}
    for h, lab in zip(handles, labels):
        seen.setdefault(lab, h)
    if seen:
        ax.legend(seen.values(), seen.keys(), fontsize=7, loc="best")
    ax.set_title(f"{_score_label(rep)} against fit time; markers: " + ", ".join(f"{markers[i % len(markers)]} {d}"
                                                                     for i, d in enumerate(datasets)), fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def _atomic(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(rows, run_meta, out_dir, *, alpha=0.05, correct_loader=None) -> dict:
    """Write ``report.md``, ``report.json``, ``cd_diagram.png``, ``scores.png``, ``tradeoff.png``
    into ``out_dir``; returns the report dict."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep = build_report(rows, run_meta, alpha=alpha, correct_loader=correct_loader)
    _atomic(out_dir / "report.md", _markdown(rep))
    _atomic(out_dir / "report.json", json.dumps(_json_safe(rep), indent=1))
    nm = rep["nemenyi"]
    note = None if len(rep["datasets_in_ranks"]) >= 2 else "ranks of a single data set; tests need >= 2 data sets"
    if rep["ranks"]:
        plot_cd_diagram(rep["ranks"], nm.get("cd") if note is None else None, out_dir / "cd_diagram.png",
                        title=f"average ranks over {len(rep['datasets_in_ranks'])} data set(s)", note=note)
    else:
        plot_cd_diagram({"(no complete data set)": 1.0}, None,
                        out_dir / "cd_diagram.png", note="no data set has every model scored yet")
    plot_scores(rep, out_dir / "scores.png")
    plot_tradeoff(rep, out_dir / "tradeoff.png")
    return rep
