"""Comparative reports: CNNs against baselines on the same folds, with the statistics to read
them honestly (Demšar 2006; Nadeau & Bengio 2003).

``run_comparison(datasets, models, *, cv=10, out_dir, n_jobs=1, resume=True, ...)`` runs a grid
of named data sets (:class:`DatasetSpec`: a loader plus a split protocol) × named models
(:class:`ModelSpec`: an estimator factory imported lazily, with parameter overrides) × seeds ×
folds (locally, in joblib workers or on a Dask cluster; multi-label data scored by macro-F1),
appends one row per finished cell to ``results.csv`` (kill-safe, resumable), and writes
``report.md``, ``report.json``, ``cd_diagram.png``, ``scores.png`` and ``tradeoff.png``.
The statistics live in :mod:`seqcnn.compare.stats`. Command line: ``seqcnn compare``.
"""
from .datasets import BUILTIN_DATASETS, DatasetSpec, LoadedData, dataset_from_dict, get_dataset, list_datasets
from .models import BUILTIN_MODELS, ModelSpec, get_model, list_models
from .report import build_report, write_report
from .runner import RESULT_FIELDS, read_results, run_comparison
from .stats import (NEMENYI_Q_TABLE, average_ranks, cliques, corrected_resampled_ttest, friedman_test, holm,
                    mcnemar_exact, nemenyi_critical_difference, nemenyi_q, paired_ttest, rank_matrix, score_matrix, summarize,
                    wilcoxon_holm, winners)

__all__ = [
    "run_comparison", "DatasetSpec", "ModelSpec", "LoadedData", "BUILTIN_DATASETS", "BUILTIN_MODELS",
    "get_dataset", "get_model", "list_datasets", "list_models", "dataset_from_dict", "read_results",
    "RESULT_FIELDS", "write_report", "build_report",
    "summarize", "score_matrix", "rank_matrix", "average_ranks", "winners", "friedman_test", "nemenyi_q",
    "nemenyi_critical_difference", "NEMENYI_Q_TABLE", "holm", "wilcoxon_holm", "corrected_resampled_ttest",
    "mcnemar_exact", "paired_ttest", "cliques",
]
