"""benchmarks/ucr_table.py's table: rows of different protocols are never averaged together."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ucr_table.py"


def _load():
    spec = importlib.util.spec_from_file_location("ucr_table", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(seed, acc, epochs=300, frac="0.0", selection="train_loss"):
    return {"dataset": "GunPoint", "arch": "fcn", "seed": seed, "epochs": epochs, "batch_size": 5,
            "validation_fraction": frac, "selection": selection, "accuracy": acc, "train_s": 10}


def test_protocols_are_separate_lines_and_name_the_kept_weights():
    ucr = _load()
    rows = [_row(0, 0.9), _row(1, 1.0), _row(0, 0.5, epochs=60), _row(0, 0.7, frac="0.1", selection="val_loss"),
            {**_row(0, 0.6), "selection": ""}]  # a CSV from before the selection column: last epoch
    lines = [line for line in ucr.render(rows).splitlines() if line.startswith("| GunPoint")]
    assert len(lines) == 4
    assert "| 95.0 ± 7.1 | 2 | 300 | 5 | min train loss |" in lines[0]
    assert "| 50.0 | 1 | 60 | 5 | min train loss |" in lines[1]
    assert "min val loss (10% of train)" in lines[2]
    assert "| 60.0 | 1 | 300 | 5 | last epoch |" in lines[3]


def test_appending_to_a_csv_with_other_columns_is_refused_before_any_training(tmp_path, capsys):
    ucr = _load()
    old = tmp_path / "old.csv"
    old.write_text("dataset,arch,seed,accuracy\nGunPoint,fcn,0,0.9\n")
    # No data exists under tmp_path: the refusal must come before any file is read or model trained.
    with pytest.raises(SystemExit) as exc:
        ucr.main(["--out", str(old), "--data-dir", str(tmp_path), "--datasets", "GunPoint", "--archs", "fcn"])
    assert exc.value.code == 2
    assert "other columns" in capsys.readouterr().err
    assert old.read_text() == "dataset,arch,seed,accuracy\nGunPoint,fcn,0,0.9\n"


def test_batch_size_follows_the_authors_code():
    ucr = _load()
    assert ucr.paper_batch_size("inception", 36) == 64 == ucr.paper_batch_size("inceptiontime", 1000)
    assert ucr.paper_batch_size("fcn", 36) == 3  # int(min(36 / 10, 16)), dl-4-tsc
    assert ucr.paper_batch_size("resnet", 1000) == 16
    assert ucr.paper_batch_size("fcn", 12) == 2  # never a batch of one (batch norm)


def test_single_network_and_ensemble_have_their_own_published_figures():
    ucr = _load()
    rows = [{**_row(0, 0.8), "dataset": "ArrowHead", "arch": "inception"},
            {**_row(0, 0.8), "dataset": "ArrowHead", "arch": "inceptiontime"}]
    lines = [line for line in ucr.render(rows).splitlines() if line.startswith("| ArrowHead")]
    assert "| 84.7 |" in lines[0] and "(1 net)" in lines[0]
    assert "| 84.6 |" in lines[1] and "(5 nets)" in lines[1]
