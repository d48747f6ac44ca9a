"""report.md / report.json / figures, and the `seqcnn compare` command line (TOML config)."""
import json

import numpy as np
import pytest
from scipy import stats as st

from seqcnn.cli import main as seqcnn_main
from seqcnn.compare import run_comparison, write_report
from seqcnn.compare.cli import load_config

from . import _tiny

PNG = b"\x89PNG\r\n\x1a\n"


def _meta(datasets, models, n_folds=5, n_train=80, n_test=20):
    return {"seed": 0, "cv": n_folds, "alpha": 0.05,
            "datasets": [{"name": d, "modality": "text", "protocol": "kfold" if n_folds > 1 else "train_test",
                          "n_folds": n_folds, "seed": 0, "data_hash": "ab" * 32, "fold_hash": "cd" * 32,
                          "n_samples": n_train + n_test, "n_classes": 2, "classes": [0, 1],
                          "n_train": [n_train] * n_folds, "n_test": [n_test] * n_folds, "description": "",
                          "files": []} for d in datasets],
            "models": [{"name": m, "kind": k, "modalities": ["text"], "description": m, "params_hash": "0",
                        "params": {}} for m, k in models],
            "machine": {"platform": "test", "processor": "cpu", "cpu_count": 2, "python": "3", "versions": {}},
            "failed_cells": [], "expected_cells": 0}


def _rows(scores: dict, n_train=80, n_test=20):
    rows = []
    for (d, m), vals in scores.items():
        for f, v in enumerate(vals):
            rows.append({"dataset": d, "model": m, "fold": f, "accuracy": v, "balanced_accuracy": v, "macro_f1": v,
                         "fit_seconds": 0.1 + f, "predict_seconds": 0.01, "model_size": 10, "size_unit": "coefficients",
                         "selection": "none", "n_train": n_train, "n_test": n_test})
    return rows


def test_report_bolds_the_best_and_marks_non_significant_runner_ups(tmp_path):
    scores = {("d1", "cnn"): [.80, .82, .81, .79, .80], ("d1", "close"): [.79, .81, .80, .80, .80],
              ("d1", "far"): [.50, .52, .51, .50, .49]}
    rep = write_report(_rows(scores), _meta(["d1"], [("cnn", "cnn"), ("close", "baseline"), ("far", "baseline")]),
                       tmp_path)
    md = (tmp_path / "report.md").read_text()
    acc = md[md.index("## Accuracy"):]
    line = next(L for L in acc.splitlines() if L.startswith("| d1 |"))
    cells = [c.strip() for c in line.strip("|").split("|")][1:]
    assert cells[0] == "**80.4 ± 1.1**"
    assert cells[1].endswith("†") and not cells[2].endswith("†")
    assert rep["per_dataset"]["d1"]["tests"]["far"]["test"] == "corrected resampled t-test"
    assert "Friedman test: not run" in md and "needs >= 2 data sets" in md
    assert "within noise of close" in rep["no_free_lunch"] and "significantly beats far" in rep["no_free_lunch"]
    for name in ("cd_diagram.png", "scores.png", "tradeoff.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_single_given_split_uses_mcnemar(tmp_path):
    scores = {("d", "a"): [0.9], ("d", "b"): [0.5]}
    correct = {"a": np.array([True] * 18 + [False] * 2), "b": np.array([True] * 10 + [False] * 10)}
    rep = write_report(_rows(scores), _meta(["d"], [("a", "cnn"), ("b", "baseline")], n_folds=1), tmp_path,
                       correct_loader=lambda d, m, k: correct[m])
    t = rep["per_dataset"]["d"]["tests"]["b"]
    assert t["test"] == "McNemar exact" and (t["b"], t["c"]) == (8, 0)
    assert t["pvalue"] == pytest.approx(2 / 2 ** 8)


def test_report_over_datasets_has_ranks_friedman_wilcoxon_and_cd(tmp_path):
    rng = np.random.default_rng(0)
    datasets = [f"d{i}" for i in range(6)]
    models = [("m0", "cnn"), ("m1", "baseline"), ("m2", "baseline")]
    scores = {(d, m): list(0.6 + 0.1 * j + 0.05 * rng.random(3)) for d in datasets for j, (m, _) in enumerate(models)}
    rep = write_report(_rows(scores), _meta(datasets, models, n_folds=3), tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert rep["ranks"] == {"m0": 3.0, "m1": 2.0, "m2": 1.0}
    table = np.array([[np.mean(scores[(d, m)]) for m, _ in models] for d in datasets])
    assert rep["friedman"]["statistic"] == pytest.approx(st.friedmanchisquare(*table.T).statistic)
    assert "| *average rank* | 3.00 | 2.00 | 1.00 |" in md
    assert "Iman-Davenport" in md and "Holm" in md and "CD = q·√(k(k+1)/(6N))" in md
    assert md.count("**") >= 2 * len(datasets)
    assert "No model wins everywhere" not in rep["no_free_lunch"] and "m2 wins on every data set" in rep["no_free_lunch"]
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["nemenyi"]["cd"] == pytest.approx(rep["nemenyi"]["cd"]) and len(data["wilcoxon_holm"]) == 3


def test_run_comparison_writes_report_and_pictures(tmp_path):
    rows = run_comparison([_tiny.SERIES, _tiny.SERIES2], [_tiny.NN, "gnb", "knn-euclidean"], cv=3,
                          out_dir=tmp_path, verbose=0)
    assert len(rows) == 2 * 3 * 3
    md = (tmp_path / "report.md").read_text()
    for text in ("## Protocol", "tiny-series-2", "stratified 3-fold CV", "## Accuracy", "**", "average rank",
                 "Friedman test over 2 data sets", "## Time and size", "## No free lunch", "torch"):
        assert text in md, text
    for name in ("cd_diagram.png", "scores.png", "tradeoff.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_pictures_with_many_long_model_names_lay_out_without_a_warning(tmp_path):
    """One data set, six long names: the legend under the bar chart wraps instead of overflowing
    the figure (matplotlib warned 'Tight layout not applied' on every such report)."""
    import warnings

    models = [(f"textcnn-{m}-{src}", "cnn") for src in ("glove", "minilm")
              for m in ("static", "non-static", "multichannel")]
    rng = np.random.default_rng(0)
    rows = _rows({("MR", m): list(0.7 + 0.1 * rng.random(5)) for m, _ in models})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_report(rows, _meta(["MR"], models), tmp_path)
    for name in ("cd_diagram.png", "scores.png", "tradeoff.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


TOML = """
[run]
out = "report"
cv = 3
seed = 0
n_jobs = 1
verbose = 0
datasets = ["mine"]
models = ["mnb", "nbsvm"]

[models.mnb]
multinomialnb__alpha = 0.5

[[datasets.custom]]
name = "mine"
path = "x.csv"
text_column = "text"
label_column = "label"
protocol = "kfold"
"""


def test_cli_end_to_end_with_a_toml_config(tmp_path, capsys):
    _tiny.write_csv(tmp_path / "x.csv")
    cfg = tmp_path / "grid.toml"
    cfg.write_text(TOML)
    kw = load_config(cfg)
    assert kw["overrides"] == {"mnb": {"multinomialnb__alpha": 0.5}} and kw["cv"] == 3
    assert seqcnn_main(["compare", "--config", str(cfg)]) == 0
    out = tmp_path / "report"  # relative to the TOML file
    for name in ("results.csv", "folds.json", "report.md", "report.json", "cd_diagram.png", "scores.png",
                 "tradeoff.png"):
        assert (out / name).exists(), name
    assert (out / "results.csv").read_text().count("\n") == 1 + 2 * 3
    assert "6 cell(s)" in capsys.readouterr().out
    (out / "report.md").unlink()
    assert seqcnn_main(["compare", "--config", str(cfg), "--report-only"]) == 0  # rewrites the report only
    assert (out / "report.md").exists() and (out / "results.csv").read_text().count("\n") == 1 + 2 * 3
    # options override the file; --set adds overrides; the finished cells are resumed
    assert seqcnn_main(["compare", "--config", str(cfg), "--models", "mnb-bi", "--set", "mnb-bi.multinomialnb__alpha=2",
                        "--out", str(tmp_path / "r2"), "--quiet"]) == 0
    assert (tmp_path / "r2" / "results.csv").read_text().count("\n") == 1 + 3


def test_cli_reports_bad_names_with_the_choices(tmp_path, capsys):
    assert seqcnn_main(["compare", "--datasets", "digits", "--models", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "textcnn-rand" in err
    assert seqcnn_main(["compare", "--datasets", "digits", "--models", "mnb", "--out", str(tmp_path)]) == 2
    assert "modality mismatch" in capsys.readouterr().err
    assert seqcnn_main(["compare", "--datasets", "digits", "--models", "gnb", "--cv", "1", "--out", str(tmp_path)]) == 2
    assert "cv must be >= 2" in capsys.readouterr().err


def test_cli_list_shows_datasets_and_models(capsys):
    assert seqcnn_main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    assert "MR" in out and "GunPoint" in out and "svm-string" in out and "textcnn-rand" in out


def test_config_rejects_unknown_keys(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[run]\nout = "x"\nfolds = 3\n')
    with pytest.raises(ValueError, match="unknown keys in \\[run\\].*folds"):
        load_config(cfg)


def test_partial_pairs_are_shown_but_left_out_of_comparisons(tmp_path):
    scores = {("d", "a"): [0.9, 0.8, 0.85], ("d", "b"): [0.95]}
    rep = write_report(_rows(scores), _meta(["d"], [("a", "cnn"), ("b", "baseline")], n_folds=3), tmp_path)
    assert rep["per_dataset"]["d"]["best"] == ["a"]
    assert rep["partial_cells"][0]["folds_done"] == 1
    md = (tmp_path / "report.md").read_text()
    assert "*(95.0, 1/3 folds)*" in md and "**Incomplete:**" in md


def test_report_only_runs_no_cell(tmp_path):
    run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, verbose=0, report=False)
    rows = run_comparison([_tiny.SERIES], [_tiny.NN, "gnb"], cv=2, out_dir=tmp_path, verbose=0, run_cells=False)
    assert {r["model"] for r in rows} == {"flat-1nn"}
    assert (tmp_path / "report.md").exists()


def test_cnn_device_from_the_toml_run_table_and_the_command_line(tmp_path, capsys):
    _tiny.write_csv(tmp_path / "x.csv")
    cfg = tmp_path / "grid.toml"
    cfg.write_text(TOML.replace("[run]", '[run]\ncnn_device = "cpu"', 1))
    assert load_config(cfg)["cnn_device"] == "cpu"
    assert seqcnn_main(["compare", "--config", str(cfg), "--cnn-device", "cpu", "--quiet"]) == 0
    capsys.readouterr()
    assert seqcnn_main(["compare", "--config", str(cfg), "--cnn-device", "nonsense"]) == 2
    assert "torch device" in capsys.readouterr().err
