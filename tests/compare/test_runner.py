"""run_comparison: same folds for every model, refusal to mix, kill -9 + resume, parallel cells."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seqcnn.compare import RESULT_FIELDS, dataset_from_dict, get_dataset, get_model, read_results, run_comparison
from seqcnn.compare import datasets as D

from . import _tiny

ROOT = Path(__file__).resolve().parents[2]
TIMING = {"fit_seconds", "predict_seconds", "finished_at"}


def _text_spec(tmp_path, name="tiny-text", **kw):
    path = _tiny.write_csv(tmp_path / f"{name}.csv")
    return dataset_from_dict({"name": name, "path": str(path), "text_column": "text", "label_column": "label",
                              "protocol": "kfold", **kw})


def test_every_model_sees_the_same_folds_and_rows_record_the_protocol(tmp_path):
    rows = run_comparison([_tiny.SERIES], [_tiny.NN, "gnb"], cv=3, out_dir=tmp_path, verbose=0, report=False)
    assert len(rows) == 6
    assert len({r["fold_hash"] for r in rows}) == 1
    assert {r["protocol"] for r in rows} == {"kfold"} and {r["seed"] for r in rows} == {0}
    for f in range(3):
        assert len({(r["n_train"], r["n_test"]) for r in rows if r["fold"] == f}) == 1
    folds = json.loads((tmp_path / "folds.json").read_text())["tiny-series"]
    assert folds["fold_hash"] == rows[0]["fold_hash"] and folds["data_hash"] == rows[0]["data_hash"]
    y = np.arange(40) % 2
    test_union = np.concatenate([f["test"] for f in folds["folds"]])
    assert sorted(test_union.tolist()) == list(range(40))  # a partition of the data
    for f in folds["folds"]:
        assert not set(f["train"]) & set(f["test"])
        assert abs(np.mean(y[f["test"]]) - 0.5) < 0.1  # stratified
    assert D.fold_hash([(np.array(f["train"]), np.array(f["test"])) for f in folds["folds"]]) == folds["fold_hash"]
    for r in rows:  # accuracy comes from predict; balanced accuracy and macro-F1 are recorded too
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["balanced_accuracy"] <= 1 and 0 <= r["macro_f1"] <= 1
        assert r["fit_seconds"] >= 0 and r["predict_seconds"] >= 0
    assert all(r["model_size"] > 0 and r["size_unit"] == "coefficients" for r in rows if r["model"] == "gnb")
    assert all(r["model_size"] is None for r in rows if r["model"] == "flat-1nn")  # unknown estimator: no size
    assert {r["selection"] for r in rows} == {"none"}


def test_resume_skips_finished_cells(tmp_path):
    first = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    again = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    assert [r["finished_at"] for r in again] == [r["finished_at"] for r in first]
    assert len((tmp_path / "results.csv").read_text().strip().splitlines()) == 1 + 3


@pytest.mark.parametrize("change", ["seed", "cv", "data"])
def test_refuses_to_mix_protocols_seeds_or_data_versions(tmp_path, change):
    spec = _text_spec(tmp_path)
    run_comparison([spec], ["mnb"], cv=3, out_dir=tmp_path / "out", verbose=0, report=False)
    kw = {"cv": 3, "seed": 0}
    if change == "seed":
        kw["seed"] = 1
    elif change == "cv":
        kw["cv"] = 4
    else:
        _tiny.write_csv(tmp_path / "tiny-text.csv", seed=5)  # a new version of the same file
    with pytest.raises(ValueError, match="never mixed"):
        run_comparison([spec], ["mnb"], out_dir=tmp_path / "out", verbose=0, report=False, **kw)
    # starting over is allowed and keeps a backup
    rows = run_comparison([spec], ["mnb"], out_dir=tmp_path / "out", verbose=0, report=False, resume=False, **kw)
    assert len(rows) == kw["cv"]
    assert list((tmp_path / "out").glob("results.csv.*.bak"))


def test_refuses_to_mix_model_parameters(tmp_path):
    run_comparison([_tiny.SERIES], [_tiny.SLOW_A], cv=2, out_dir=tmp_path, verbose=0, report=False,
                   overrides={"slow-a": {"delay": 0.0}})
    with pytest.raises(ValueError, match="other parameters"):
        run_comparison([_tiny.SERIES], [_tiny.SLOW_A], cv=2, out_dir=tmp_path, verbose=0, report=False,
                       overrides={"slow-a": {"delay": 0.01}})


def test_kill_9_then_resume_records_every_cell_exactly_once(tmp_path):
    out = tmp_path / "out"
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from tests.compare import _tiny; _tiny.kill_target({str(out)!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    results = out / "results.csv"
    deadline = time.time() + 120
    n_before = 0
    try:
        while time.time() < deadline:
            if results.exists():
                n_before = results.read_bytes().count(b"\n") - 1
                if n_before >= 2:
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert 2 <= n_before < 8
    survivors = read_results(results)
    rows = run_comparison([_tiny.SERIES], [_tiny.SLOW_A, _tiny.SLOW_B], cv=4, out_dir=out, verbose=0, report=False,
                          overrides={})
    keys = [(r["dataset"], r["model"], r["fold"]) for r in rows]
    assert len(keys) == 8 and len(set(keys)) == 8
    lines = results.read_text().splitlines()
    assert lines[0] == ",".join(RESULT_FIELDS) and len(lines) == 1 + 8  # no duplicate, no partial line
    finished = {(r["model"], r["fold"]): r["finished_at"] for r in rows}
    for r in survivors:  # cells finished before the kill were not run again
        assert finished[(r["model"], r["fold"])] == r["finished_at"]


def test_a_partial_last_line_is_ignored_and_the_cell_rerun(tmp_path):
    run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    path = tmp_path / "results.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # cut by a power failure
    assert len(read_results(path)) == 2
    rows = run_comparison([_tiny.SERIES], [_tiny.NN], cv=3, out_dir=tmp_path, verbose=0, report=False)
    assert sorted(r["fold"] for r in rows) == [0, 1, 2]
    assert len(path.read_text().splitlines()) == 4 and path.read_text().endswith("\n")


def test_n_jobs_2_gives_the_same_rows_as_n_jobs_1(tmp_path):
    # light models (no torch import in the workers) keep the process pool cheap
    kw = dict(cv=3, verbose=0, report=False, overrides={"slow-a": {"delay": 0.0}})
    models = [_tiny.NN, _tiny.SLOW_A]
    one = run_comparison([_tiny.SERIES], models, out_dir=tmp_path / "a", n_jobs=1, **kw)
    two = run_comparison([_tiny.SERIES], models, out_dir=tmp_path / "b", n_jobs=2, **kw)
    assert len(two) == 6

    def strip(rows):
        return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]

    assert strip(one) == strip(two)


def test_given_split_is_one_fold_with_the_given_test_part(tmp_path):
    rows = run_comparison([_tiny.SERIES_GIVEN], [_tiny.NN], out_dir=tmp_path, verbose=0, report=False)
    assert len(rows) == 1 and rows[0]["n_train"] == 40 and rows[0]["n_test"] == 20
    assert rows[0]["protocol"] == "train_test" and rows[0]["n_folds"] == 1
    from seqcnn.compare.store import read_predictions

    correct = read_predictions(tmp_path / "predictions.csv")[("tiny-given", "flat-1nn", 0, 0)]
    assert correct.shape == (20,) and correct.mean() == pytest.approx(rows[0]["accuracy"])


def test_unknown_names_list_the_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*MR"):
        run_comparison(["nope"], ["mnb"], out_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown model 'nope'.*textcnn-rand"):
        run_comparison(["MR"], ["nope"], out_dir=tmp_path)


def test_modality_mismatch_is_refused(tmp_path):
    with pytest.raises(ValueError, match="modality mismatch.*mnb"):
        run_comparison([_tiny.SERIES], ["mnb"], out_dir=tmp_path)
    with pytest.raises(ValueError, match="takes text data"):
        get_model("nbsvm").build("image")


@pytest.mark.parametrize("cv, err", [(1, ValueError), (0, ValueError), (True, TypeError), (2.5, TypeError)])
def test_bad_cv_is_refused(tmp_path, cv, err):
    with pytest.raises(err, match="cv"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=cv, out_dir=tmp_path)


def test_cv_larger_than_smallest_class_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cv=25"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=25, out_dir=tmp_path, verbose=0)


def test_bad_overrides_fail_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="no parameter"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, overrides={"flat-1nn": {"k": 3}})
    with pytest.raises(ValueError, match="not in this run"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path, overrides={"mnb": {"alpha": 1}})
    assert not (tmp_path / "results.csv").exists()


def test_failing_cells_are_logged_not_recorded(tmp_path):
    with pytest.warns(RuntimeWarning, match="failed"):
        rows = run_comparison([_tiny.SERIES], [_tiny.SLOW_A], cv=2, out_dir=tmp_path, verbose=0, report=False,
                              overrides={"slow-a": {"delay": "not a number"}})
    assert rows == []
    assert "not a number" in (tmp_path / "errors.log").read_text() or "TypeError" in (tmp_path / "errors.log").read_text()


def test_labeled_lines_fallback_never_splits_on_byte_0x85(tmp_path, monkeypatch):
    path = tmp_path / "mr.txt"
    path.write_bytes(b"1 a fine film \x85 really\n0 a dull one\r\n\n1 caf\xe9 ok\n")
    expected = (["a fine film \x85 really", "a dull one", "caf\xe9 ok"], ["1", "0", "1"])
    monkeypatch.setitem(sys.modules, "seqcnn.text", None)  # force the built-in reader
    assert D.read_labeled_lines(path) == expected


def test_ts_fallback_reader_reads_uni_and_multivariate(tmp_path, monkeypatch):
    path = tmp_path / "x.ts"
    path.write_text("# c\n@problemName x\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n1,?,3:0,0,0:b\n")
    monkeypatch.setitem(sys.modules, "seqcnn.signal", None)
    X, y = D.read_ts(path)
    assert X.shape == (2, 2, 3) and np.isnan(X[1, 0, 1]) and y.tolist() == ["a", "b"]


def test_builtin_specs_exist_with_modalities():
    for name, modality, protocol in (("MR", "text", "kfold"), ("SST-2", "text", "train_dev_test"),
                                     ("SST-2-phrases", "text", "train_dev_test"), ("trec", "text", "train_test"), ("GunPoint", "signal", "train_test"),
                                     ("BasicMotions", "signal", "train_test"), ("MNIST-5k", "image", "kfold"),
                                     ("digits", "image", "kfold")):
        spec = get_dataset(name)
        assert (spec.modality, spec.protocol) == (modality, protocol)


def _write_sst2_phrase_files(root):
    """Tiny stand-ins for the SST-2 files: short phrases to train on, whole sentences for dev/test."""
    texts, labels = _tiny.make_texts(40, seed=3)
    (root / "text").mkdir()
    phrases = [f"{1 if lab == 'pos' else 0} {' '.join(t.split()[:k])}"
               for t, lab in zip(texts[:24], labels[:24]) for k in (2, 6)]
    (root / "text" / "sst2.phrases.train").write_text("\n".join(phrases) + "\n")
    for name, sl in (("stsa.binary.dev", slice(24, 32)), ("stsa.binary.test", slice(32, 40))):
        lines = [f"{1 if lab == 'pos' else 0} {t}" for t, lab in zip(texts[sl], labels[sl])]
        (root / "text" / name).write_text("\n".join(lines) + "\n")
    return [ln.split(" ", 1)[1] for ln in phrases]


def test_sst2_phrases_trains_on_phrases_picks_on_dev_and_scores_on_test(tmp_path):
    phrases = _write_sst2_phrase_files(tmp_path)
    n_phrases = len(phrases)
    spec = get_dataset("sst-2-phrases")
    data = spec.load(tmp_path)
    assert spec.protocol == "train_dev_test" and data.y.tolist().count(1) > 0
    assert [int((data.part == p).sum()) for p in ("train", "dev", "test")] == [n_phrases, 8, 8]
    assert data.X[:n_phrases] == phrases  # the 2-word phrases too, as written
    with pytest.raises(FileNotFoundError, match="sst2.phrases.train"):
        spec.load(tmp_path / "nowhere")
    rows = run_comparison(["SST-2-phrases"], ["textcnn-rand", "nbsvm"], out_dir=tmp_path / "o", data_dir=tmp_path,
                          verbose=0, report=False, dev="validation",
                          overrides={"textcnn-rand": {"max_epochs": 1, "embedding_dim": 8, "num_filters": 4,
                                                      "filter_sizes": (2, 3), "batch_size": 8}})
    by = {r["model"]: r for r in rows}
    assert by["textcnn-rand"]["selection"] == "given-dev"
    assert by["textcnn-rand"]["n_train"] == by["nbsvm"]["n_train"] == n_phrases
    assert by["nbsvm"]["n_test"] == 8


def test_missing_data_dir_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="rt-polarity.all"):
        get_dataset("MR").load(tmp_path)


def test_model_specs_resolve_lazily_when_their_module_exists():
    for name in ("textcnn-rand", "fcn", "lenet5", "nbsvm", "minirocket", "sbert-lr"):
        ok, err = get_model(name).availability()  # the project's own modules must import: no skip
        assert ok, err
    from seqcnn.compare import ModelSpec

    ok, err = ModelSpec("ghost", ("text",), "no_such_module_xyz:Thing").availability()
    assert not ok and "no_such_module_xyz" in err


def test_cnn_cell_counts_parameters_and_records_validation_selection(tmp_path):
    spec = _text_spec(tmp_path)
    rows = run_comparison([spec], ["textcnn-rand"], cv=2, out_dir=tmp_path / "o", verbose=0, report=False,
                          overrides={"textcnn-rand": {"max_epochs": 1, "embedding_dim": 8, "num_filters": 4,
                                                      "filter_sizes": (2, 3), "batch_size": 8}})
    assert len(rows) == 2
    assert {r["size_unit"] for r in rows} == {"parameters"}
    assert {r["selection"] for r in rows} == {"val-split-from-train"}
    from seqcnn.text import TextCNNClassifier

    est = TextCNNClassifier(max_epochs=1, embedding_dim=8, num_filters=4, filter_sizes=(2, 3), batch_size=8,
                            verbose=0, random_state=0)
    texts, labels = _tiny.make_texts()
    folds = json.loads((tmp_path / "o" / "folds.json").read_text())["tiny-text"]["folds"]
    tr = folds[0]["train"]
    est.fit([texts[i] for i in tr], [labels[i] for i in tr])
    assert rows[0]["model_size"] == sum(p.numel() for p in est.module_.parameters())


def test_custom_datasets_from_jsonl_ts_and_image_folder(tmp_path):
    texts, labels = _tiny.make_texts(12)
    for name, sl in (("tr.jsonl", slice(0, 8)), ("te.jsonl", slice(8, 12))):
        with open(tmp_path / name, "w") as fh:
            for t, lab in zip(texts[sl], labels[sl]):
                fh.write(json.dumps({"sentence": t, "y": lab}) + "\n")
    spec = dataset_from_dict({"name": "j", "path": "tr.jsonl", "test_path": "te.jsonl", "text_column": "sentence",
                              "label_column": "y"}, base_dir=tmp_path)
    assert (spec.modality, spec.protocol) == ("text", "train_test")
    data = spec.load()
    assert data.X[:8] == texts[:8] and data.part.tolist() == ["train"] * 8 + ["test"] * 4

    (tmp_path / "s.ts").write_text("@problemName s\n@classLabel true a b\n@data\n" +
                                   "".join(f"{i},{i + 1},{i + 2}:{'a' if i % 2 else 'b'}\n" for i in range(6)))
    spec = dataset_from_dict({"name": "s", "path": str(tmp_path / "s.ts")})
    assert (spec.modality, spec.protocol) == ("signal", "kfold")
    assert spec.load().X.shape == (6, 1, 3)

    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / "img" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((5, 4, 3), 40 * i, dtype=np.uint8)).save(tmp_path / "img" / cls / f"{i}.png")
    spec = dataset_from_dict({"name": "im", "path": str(tmp_path / "img")})
    assert spec.modality == "image"
    data = spec.load()
    assert data.X.shape == (6, 3, 5, 4) and sorted(set(data.y.tolist())) == ["cat", "dog"]
    with pytest.raises(ValueError, match="unknown keys"):
        dataset_from_dict({"name": "x", "path": "y.csv", "colour": 1})


def test_cnn_device_pins_cnn_cells_only_and_is_not_part_of_the_protocol(tmp_path):
    rows = run_comparison([_tiny.SERIES], [_tiny.FAKE_CNN, _tiny.BASE_WITH_DEVICE], cv=2, out_dir=tmp_path,
                          verbose=0, report=False, cnn_device="cpu")
    assert len(rows) == 4  # the CNN saw device="cpu"; the baseline kept its own "auto" (= expect)
    assert not (tmp_path / "errors.log").exists()
    # the placement is not in the parameter hash: the same grid resumes without it
    again = run_comparison([_tiny.SERIES], [_tiny.FAKE_CNN, _tiny.BASE_WITH_DEVICE], cv=2, out_dir=tmp_path,
                           verbose=0, report=False)
    assert [r["finished_at"] for r in again] == [r["finished_at"] for r in rows]


def test_cnn_device_without_it_the_fake_cnn_fails_and_bad_devices_are_refused(tmp_path):
    with pytest.warns(RuntimeWarning, match="failed"):
        rows = run_comparison([_tiny.SERIES], [_tiny.FAKE_CNN], cv=2, out_dir=tmp_path / "a", verbose=0,
                              report=False)
    assert rows == []
    with pytest.raises(ValueError, match="torch device"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path / "b", verbose=0, cnn_device="gpu0")
    for wrong in (0, 1.5, ["cpu"]):
        with pytest.raises(TypeError, match="device string"):
            run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path / "b", verbose=0, cnn_device=wrong)
    with pytest.raises(ValueError, match="torch device"):
        run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path / "b", verbose=0, cnn_device="")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            run_comparison([_tiny.SERIES], [_tiny.NN], cv=2, out_dir=tmp_path / "c", verbose=0, cnn_device="cuda")


def test_a_cnn_spec_without_a_device_parameter_says_so():
    spec = _tiny.NN
    with pytest.raises(ValueError, match="no 'device' parameter"):
        spec.build("signal", device="cpu")


def test_text_ensemble_cell_takes_member_overrides_device_and_counts_every_member(tmp_path):
    spec = get_model("textcnn-ensemble")
    est = spec.build("text", overrides={"n_members": 2, "estimator__max_epochs": 1}, seed=3, device="cpu")
    assert (est.n_members, est.random_state, est.verbose, est.device) == (2, 3, 0, "cpu")
    assert est.estimator.max_epochs == 1 and est.estimator.verbose == 0  # the member recipe is silent too
    rows = run_comparison([_text_spec(tmp_path)], ["textcnn-ensemble"], cv=2, out_dir=tmp_path / "o", verbose=0,
                          report=False, cnn_device="cpu",
                          overrides={"textcnn-ensemble": {"n_members": 2, "estimator__max_epochs": 1,
                                                          "estimator__embedding_dim": 8, "estimator__num_filters": 4,
                                                          "estimator__filter_sizes": (2, 3),
                                                          "estimator__batch_size": 8}})
    assert len(rows) == 2 and {r["kind"] for r in rows} == {"cnn"}
    assert {r["selection"] for r in rows} == {"val-split-from-train"}
    from seqcnn.text import TextCNNClassifier

    texts, labels = _tiny.make_texts()
    tr = json.loads((tmp_path / "o" / "folds.json").read_text())["tiny-text"]["folds"][0]["train"]
    one = TextCNNClassifier(max_epochs=1, embedding_dim=8, num_filters=4, filter_sizes=(2, 3), batch_size=8,
                            verbose=0, random_state=0).fit([texts[i] for i in tr], [labels[i] for i in tr])
    assert rows[0]["model_size"] == 2 * sum(p.numel() for p in one.module_.parameters())  # both members
