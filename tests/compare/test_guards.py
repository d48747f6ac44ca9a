"""seqcnn compare's guards: failed cells give a non-zero exit naming them, every override is
checked before any cell runs, CLI hints name flags, parallel cells share the cores."""
import json

import pytest
import torch

from seqcnn.cli import main as seqcnn_main
from seqcnn.compare import run_comparison
from seqcnn.compare import models as models_mod
from seqcnn.compare.models import check_params, get_model
from seqcnn.compare.runner import worker_threads

from . import _tiny


@pytest.fixture
def with_failing_model(monkeypatch):
    monkeypatch.setitem(models_mod.BUILTIN_MODELS, "always-fails", _tiny.FAILS)


def _config(tmp_path, models):
    data = _tiny.write_csv(tmp_path / "d.csv", n=24)
    cfg = tmp_path / "grid.toml"
    cfg.write_text(f'[run]\nout = "out"\ncv = 2\nmodels = {json.dumps(models)}\ndatasets = ["mine"]\n\n'
                   f'[[datasets.custom]]\nname = "mine"\npath = "{data.name}"\ntext_column = "text"\n'
                   'label_column = "label"\nprotocol = "kfold"\n', encoding="utf-8")
    return cfg


def test_failed_cells_exit_non_zero_and_are_named_one_line_each(tmp_path, capsys, with_failing_model):
    cfg = _config(tmp_path, ["mnb", "always-fails"])
    rc = seqcnn_main(["compare", "--config", str(cfg), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "2 cell(s) failed" in err
    for fold in (0, 1):
        assert f"mine × always-fails × fold {fold}: RuntimeError: this cell always fails" in err
    assert "Traceback" not in err and "warning" not in err  # listed once, not also as a warning
    out = tmp_path / "out"
    assert (out / "report.md").exists() and (out / "errors.log").exists()  # the report is still written


def test_run_comparison_returns_the_failed_cells(tmp_path):
    with pytest.warns(RuntimeWarning):
        rows = run_comparison([_tiny.SERIES], [_tiny.NN, _tiny.FAILS], cv=2, out_dir=tmp_path, verbose=0,
                              report=False)
    assert isinstance(rows, list) and len(rows) == 2
    assert [(f["model"], f["fold"]) for f in rows.failed] == [("always-fails", 0), ("always-fails", 1)]
    assert rows.failed[0]["error"] == "RuntimeError: this cell always fails"


def test_no_failed_cells_exit_zero(tmp_path, capsys):
    cfg = _config(tmp_path, ["mnb"])
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet"]) == 0


@pytest.mark.parametrize("item, words", [
    ("fcn.max_epochs=-1", ["--set fcn.max_epochs=-1", "max_epochs", "-1"]),
    ("fcn.batch_size=0", ["--set fcn.batch_size=0", "batch_size"]),
    ("fcn.arch='nope'", ["--set fcn.arch='nope'", "arch must be one of"]),
    ("fcn.max_epoch=3", ["--set fcn.max_epoch=3", "no parameter 'max_epoch'", "max_epochs"]),
    ("fnc.max_epochs=3", ["--set fnc.max_epochs=3", "unknown model 'fnc'", "fcn"]),
    ("resnet1d.max_epochs=3", ["--set resnet1d.max_epochs=3", "not in this run"]),
    ("knn-dtw.n_neighbors=0", ["--set knn-dtw.n_neighbors=0", "n_neighbors"]),
])
def test_every_set_is_checked_before_any_cell_runs(tmp_path, capsys, item, words):
    out = tmp_path / "out"
    rc = seqcnn_main(["compare", "--datasets", "GunPoint", "--models", "fcn,knn-dtw", "--out", str(out),
                      "--data-dir", str(tmp_path / "no-data"), "--set", item])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()  # nothing ran, nothing was written


def test_config_overrides_are_checked_and_named(tmp_path, capsys):
    cfg = _config(tmp_path, ["mnb"])
    cfg.write_text(cfg.read_text() + "\n[models.mnb]\nmultinomialnb__alpha = -1\n", encoding="utf-8")
    assert seqcnn_main(["compare", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "[models.mnb] multinomialnb__alpha = -1" in err and "alpha" in err
    assert not (tmp_path / "out").exists()


def test_run_comparison_checks_values_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="model 'fcn'.*max_epochs"):
        run_comparison(["GunPoint"], ["fcn"], out_dir=tmp_path / "o", data_dir=tmp_path,
                       overrides={"fcn": {"max_epochs": -1}})
    assert not (tmp_path / "o").exists()


def test_check_params_accepts_every_builtin_default_and_recurses():
    for name, spec in models_mod.BUILTIN_MODELS.items():
        for modality in spec.modalities:
            check_params(spec.build(modality, seed=0))
    ens = get_model("textcnn-ensemble").build("text", overrides={"estimator__max_epochs": 0})
    with pytest.raises(ValueError, match="max_epochs"):
        check_params(ens)
    with pytest.raises(ValueError, match="alpha"):
        check_params(get_model("mnb").build("text", overrides={"multinomialnb__alpha": -1.0}))


def test_cli_hints_name_flags_not_keywords(tmp_path, capsys):
    cfg = _config(tmp_path, ["mnb"])
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet"]) == 0
    assert seqcnn_main(["compare", "--config", str(cfg), "--quiet", "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "--no-resume" in err and "resume=False" not in err and "--out" in err


def test_worker_threads_divide_the_cores():
    assert worker_threads(1, cores=16) is None
    assert worker_threads(2, cores=16) == 8
    assert worker_threads(3, cores=16) == 5
    assert worker_threads(32, cores=16) == 1


def test_parallel_cells_each_use_cores_over_workers_threads(tmp_path, monkeypatch):
    # 8 "cores" in the parent: each of the 2 workers must run its cells with 4 threads (not
    # joblib's own default, which follows the real core count)
    monkeypatch.setattr("seqcnn.compare.runner.os.cpu_count", lambda: 8)
    rec = tmp_path / "rec"
    rec.mkdir()
    before = torch.get_num_threads()
    spec = models_mod.ModelSpec("thread-recorder", ("signal",), "tests.compare._tiny:ThreadRecorder",
                                params={"record_dir": str(rec)})
    run_comparison([_tiny.SERIES], [spec], cv=4, out_dir=tmp_path / "o", n_jobs=2, verbose=0, report=False)
    seen = [json.loads(p.read_text()) for p in rec.iterdir()]
    assert len(seen) == 4
    expected = 4
    assert {s["torch"] for s in seen} == {expected}
    assert all(max(s["blas"], default=expected) <= expected for s in seen)
    assert torch.get_num_threads() == before  # nothing changed in the parent
