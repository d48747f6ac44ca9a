"""Statistics for comparing classifiers over folds and over data sets (on scipy).

Sources: Demšar (2006), "Statistical comparisons of classifiers over multiple data sets", JMLR 7
(average ranks, Friedman test and its Iman-Davenport F variant, Nemenyi critical difference,
Wilcoxon signed-rank); Holm (1979) step-down correction; Nadeau & Bengio (2003), "Inference for
the generalization error", Machine Learning 52 (corrected resampled t-test: the variance of the
J fold differences is multiplied by 1/J + n_test/n_train because training sets overlap);
McNemar (1947), exact binomial form, for one given test split.

Conventions: ``scores`` is an array (N data sets, k models), higher is better unless
``higher_is_better=False``; rank 1 is the best, ties get the average rank. The Friedman
statistic includes scipy's tie correction, so it equals ``scipy.stats.friedmanchisquare`` on the
same table.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
from scipy import stats as _st

__all__ = [
    "summarize", "score_matrix", "rank_matrix", "average_ranks", "winners", "friedman_test",
    "nemenyi_q", "nemenyi_critical_difference", "NEMENYI_Q_TABLE", "holm", "wilcoxon_holm",
    "corrected_resampled_ttest", "mcnemar_exact", "cliques",
]

#: Critical values q_α of the two-tailed Nemenyi test (Demšar 2006, Table 5a): the Studentized
#: range statistic for k groups and infinite degrees of freedom, divided by √2.
NEMENYI_Q_TABLE = {
    0.05: {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164},
    0.10: {2: 1.645, 3: 2.052, 4: 2.291, 5: 2.459, 6: 2.589, 7: 2.693, 8: 2.780, 9: 2.855, 10: 2.920},
}


# ---------------------------------------------------------------------- tables
def summarize(rows, metric: str = "accuracy") -> dict:
    """``{(dataset, model): {"mean", "std", "n", "scores"}}`` over folds (and seeds); ``std`` is
    the sample standard deviation (ddof=1; 0 with one fold). ``scores`` are in (seed, fold)
    order, so two models' lists pair cell by cell."""
    groups: dict = {}
    for r in rows:
        key = (r.get("seed") or 0, r["fold"])
        groups.setdefault((r["dataset"], r["model"]), []).append((key, float(r[metric])))
    out = {}
    for key, vals in groups.items():
        scores = np.array([v for _, v in sorted(vals, key=lambda t: t[0])], dtype=float)
        out[key] = {"mean": float(scores.mean()), "std": float(scores.std(ddof=1)) if len(scores) > 1 else 0.0,
                    "n": int(len(scores)), "scores": scores.tolist()}
    return out


def score_matrix(rows, datasets, models, metric: str = "accuracy") -> np.ndarray:
    """Mean score per (dataset, model) as an array (N, k); NaN where a cell has no result."""
    summ = summarize(rows, metric)
    M = np.full((len(datasets), len(models)), np.nan)
    for i, d in enumerate(datasets):
        for j, m in enumerate(models):
            if (d, m) in summ:
                M[i, j] = summ[(d, m)]["mean"]
    return M


def _check_table(scores, name="scores") -> np.ndarray:
    S = np.asarray(scores, dtype=float)
    if S.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N data sets, k models), got shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValueError(f"{name} must be finite (complete table), got NaN/inf")
    return S


def rank_matrix(scores, higher_is_better: bool = True) -> np.ndarray:
    """Rank of each model on each data set (N, k): 1 = best, ties get the average rank."""
    S = _check_table(scores)
    return _st.rankdata(-S if higher_is_better else S, axis=1)


def average_ranks(scores, higher_is_better: bool = True) -> np.ndarray:
    """Average rank of each model over the data sets (k,)."""
    return rank_matrix(scores, higher_is_better).mean(axis=0)


def winners(scores, models, atol: float = 1e-12) -> list[list[str]]:
    """Per data set, the model(s) with the highest score (ties share the win)."""
    S = np.asarray(scores, dtype=float)
    out = []
    for row in S:
        if np.all(np.isnan(row)):
            out.append([])
            continue
        best = np.nanmax(row)
        out.append([m for m, v in zip(models, row) if np.isfinite(v) and v >= best - atol])
    return out


# ---------------------------------------------------------------------- omnibus test
def friedman_test(scores) -> dict:
    """Friedman's χ² over N data sets (rows) and k models (columns), with the tie correction
    (as scipy) and the Iman-Davenport F variant, F = (N−1)χ² / (N(k−1) − χ²) with (k−1,
    (k−1)(N−1)) degrees of freedom. Needs N >= 2 and k >= 2."""
    S = _check_table(scores)
    n, k = S.shape
    if n < 2:
        raise ValueError(f"the Friedman test needs >= 2 data sets, got {n}")
    if k < 2:
        raise ValueError(f"the Friedman test needs >= 2 models, got {k}")
    R = _st.rankdata(S, axis=1)
    ties = 0.0
    for row in R:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts * (counts * counts - 1)))
    c = 1.0 - ties / (k * (k * k - 1) * n)
    if c <= 0:  # every row fully tied: no evidence of any difference
        chi2 = 0.0
    else:
        chi2 = (12.0 / (k * n * (k + 1)) * float(np.sum(R.sum(axis=0) ** 2)) - 3.0 * n * (k + 1)) / c
    p = float(_st.chi2.sf(chi2, k - 1))
    df1, df2 = k - 1, (k - 1) * (n - 1)
    denom = n * (k - 1) - chi2
    if denom <= 1e-12:
        F, pF = math.inf, 0.0
    else:
        F = (n - 1) * chi2 / denom
        pF = float(_st.f.sf(F, df1, df2))
    return {"statistic": float(chi2), "pvalue": p, "df": k - 1, "iman_davenport": float(F),
            "iman_davenport_pvalue": pF, "iman_davenport_df": (df1, df2), "n_datasets": n, "n_models": k}


# ---------------------------------------------------------------------- post-hoc
def nemenyi_q(k: int, alpha: float = 0.05) -> float:
    """q_α of the Nemenyi test: ``studentized_range.ppf(1 − α, k, ∞) / √2``."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an int >= 2, got {k!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return float(_st.studentized_range.ppf(1 - alpha, int(k), np.inf) / math.sqrt(2))


def nemenyi_critical_difference(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """(q_α, CD) with CD = q_α·√(k(k+1)/(6N)): two models whose average ranks differ by at least
    CD differ significantly (Demšar 2006)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    q = nemenyi_q(k, alpha)
    return q, q * math.sqrt(k * (k + 1) / (6.0 * n))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order (monotone, capped at 1)."""
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"pvalues must be 1-D, got shape {p.shape}")
    if np.any((p < 0) | (p > 1) | np.isnan(p)):
        raise ValueError("pvalues must lie in [0, 1]")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj_sorted
    return out


def wilcoxon_holm(scores, models, alpha: float = 0.05) -> list[dict]:
    """Pairwise Wilcoxon signed-rank tests over data sets (rows of ``scores``), Holm-corrected.

    Returns one dict per pair: a, b, statistic, pvalue, pvalue_holm, significant, better
    (the model with the higher mean score)."""
    S = _check_table(scores)
    if S.shape[1] != len(models):
        raise ValueError(f"scores has {S.shape[1]} columns but {len(models)} models were named")
    pairs = list(combinations(range(len(models)), 2))
    out = []
    for i, j in pairs:
        d = S[:, i] - S[:, j]
        if np.allclose(d, 0):
            stat, p = 0.0, 1.0
        else:
            res = _st.wilcoxon(S[:, i], S[:, j], zero_method="zsplit")
            stat, p = float(res.statistic), float(res.pvalue)
        out.append({"a": models[i], "b": models[j], "statistic": stat, "pvalue": p,
                    "better": models[i] if d.mean() >= 0 else models[j]})
    if out:
        adj = holm([o["pvalue"] for o in out])
        for o, a in zip(out, adj):
            o["pvalue_holm"] = float(a)
            o["significant"] = bool(a < alpha)
    return out


# ---------------------------------------------------------------------- per-dataset tests
def corrected_resampled_ttest(a, b, n_train, n_test) -> tuple[float, float]:
    """Nadeau & Bengio's corrected resampled t-test on paired fold scores ``a``, ``b`` (J,).

    t = mean(d) / √((1/J + n_test/n_train)·s²), s² the sample variance (ddof=1) of the J
    differences d = a − b, two-sided p from Student's t with J − 1 degrees of freedom.
    ``n_train``/``n_test`` are per-fold sizes (a mean is taken when lists are given).
    Returns (t, p); identical folds give (0, 1)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-D of equal length, got shapes {a.shape} and {b.shape}")
    J = len(a)
    if J < 2:
        raise ValueError(f"the corrected resampled t-test needs >= 2 folds, got {J}")
    n_train, n_test = float(np.mean(n_train)), float(np.mean(n_test))
    if n_train <= 0 or n_test <= 0:
        raise ValueError("n_train and n_test must be positive")
    d = a - b
    mean, var = d.mean(), d.var(ddof=1)
    if var <= 0:
        return (0.0, 1.0) if mean == 0 else (math.copysign(math.inf, mean), 0.0)
    t = mean / math.sqrt((1.0 / J + n_test / n_train) * var)
    p = float(2 * _st.t.sf(abs(t), J - 1))
    return float(t), p


def paired_ttest(a, b) -> tuple[float, float]:
    """Paired t-test on matched scores ``a``, ``b`` (J,), e.g. two models over the same seeds on
    one given split (the spread is the training randomness only; the test set is fixed).
    (t, two-sided p); (0, 1) when every difference is 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"a and b must be 1-D of equal length >= 2, got shapes {a.shape} and {b.shape}")
    d = a - b
    mean, sd = d.mean(), d.std(ddof=1)
    if sd <= 0:
        return (0.0, 1.0) if mean == 0 else (math.copysign(math.inf, mean), 0.0)
    t = float(mean / (sd / math.sqrt(len(d))))
    return t, float(2 * _st.t.sf(abs(t), len(d) - 1))


def mcnemar_exact(correct_a, correct_b) -> tuple[int, int, float]:
    """McNemar's exact (binomial) test on one test split from per-sample correctness.

    b = samples A gets right and B wrong, c = the reverse; p = min(1, 2·P[Bin(b+c, ½) <= min(b, c)]).
    Returns (b, c, p)."""
    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    if ca.shape != cb.shape:
        raise ValueError(f"correct_a and correct_b must have the same shape, got {ca.shape} and {cb.shape}")
    b = int(np.sum(ca & ~cb))
    c = int(np.sum(~ca & cb))
    if b + c == 0:
        return b, c, 1.0
    p = min(1.0, 2.0 * float(_st.binom.cdf(min(b, c), b + c, 0.5)))
    return b, c, p


def cliques(avg_ranks, cd: float) -> list[list[int]]:
    """Maximal groups of models (indices) whose average ranks lie within ``cd`` of each other
    (the bars of a critical-difference diagram); singletons are left out."""
    r = np.asarray(avg_ranks, dtype=float)
    order = np.argsort(r, kind="stable")
    groups = []
    for s in range(len(order)):
        e = s
        while e + 1 < len(order) and r[order[e + 1]] - r[order[s]] < cd:
            e += 1
        if e > s:
            g = [int(i) for i in order[s:e + 1]]
            if not any(set(g) <= set(h) for h in groups):
                groups.append(g)
    return groups
