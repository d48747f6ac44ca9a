"""benchmarks/ucr_ensemble.py: InceptionTime ensembles assembled from single-network runs."""
import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def ens():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("ucr_ensemble", BENCH / "ucr_ensemble.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.path.remove(str(BENCH))


Y = np.array([0, 0, 1, 1, 2])
CLASSES = np.array([0, 1, 2])


def _write_runs(tmp_path, ens, probas, epochs=1500):
    """One CSV row and one .npz per single network, as ucr_table.py --proba-dir writes them."""
    pdir = tmp_path / "proba"
    pdir.mkdir(exist_ok=True)
    rows = []
    for seed, proba in enumerate(probas):
        row = {k: "" for k in ens.FIELDS}
        row.update(dataset="ArrowHead", arch="inception", seed=str(seed), epochs=str(epochs), batch_size="64",
                   validation_fraction="0.0", selection="train_loss", best_epoch=str(100 + seed),
                   accuracy=str((CLASSES[proba.argmax(1)] == Y).mean()), train_s="10", predict_s="1",
                   date="2026-11-24")
        rows.append(row)
        np.savez(ens.proba_path(pdir, row), proba=proba, classes=CLASSES, y_test=Y, train_s=10.0,
                 best_epoch=np.asarray(100 + seed), seed=seed)
    runs = tmp_path / "runs.csv"
    with open(runs, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ens.FIELDS)
        w.writeheader()
        w.writerows(rows)
    return runs, pdir


def _onehot(labels):
    return np.eye(3)[labels] * 0.6 + 0.4 / 3


def test_disjoint_groups_average_probabilities_and_leave_out_a_partial_group(tmp_path, ens, capsys):
    right = _onehot(Y)
    wrong = _onehot((Y + 1) % 3)
    # seeds 0-2: right, wrong, right → the averaged ensemble is right; seeds 3-5: wrong, wrong, right
    # → wrong; seed 6 alone is left out.
    probas = [right, wrong, right, wrong, wrong, right, right]
    runs, pdir = _write_runs(tmp_path, ens, probas)
    out = tmp_path / "ens.csv"
    assert ens.main(["--runs", str(runs), "--proba-dir", str(pdir), "--members", "3", "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out)))
    assert [r["seed"] for r in rows] == ["0+1+2", "3+4+5"]
    assert [float(r["accuracy"]) for r in rows] == [1.0, 0.0]
    assert rows[0]["arch"] == "inceptiontime" and rows[0]["best_epoch"] == "100/101/102"
    assert float(rows[0]["train_s"]) == 30.0 and rows[0]["epochs"] == "1500"
    captured = capsys.readouterr()
    assert "seeds 6 do not fill an ensemble of 3" in captured.err
    assert "all 35 subsets of 3 of the 7 networks" in captured.out
    assert "| ArrowHead | InceptionTime (5 nets) | 50.0 ± 70.7 | 2 | 1500 | 64 |" in captured.out


def test_members_of_different_protocols_are_never_mixed(tmp_path, ens):
    runs, pdir = _write_runs(tmp_path, ens, [_onehot(Y)] * 2, epochs=300)
    rows = ens.read_rows(runs)
    rows[1]["epochs"] = "1500"  # seed 1 now ran under another protocol
    members = [(r, {"proba": _onehot(Y), "classes": CLASSES, "y_test": Y}) for r in rows]
    built, left = ens.assemble(members, 2)
    assert built == [] and sorted(map(tuple, left)) == [("0",), ("1",)]
    with pytest.raises(ValueError, match="differ in protocol"):
        ens.ensemble_row(members)


def test_different_test_labels_are_refused(tmp_path, ens):
    row = {k: "" for k in ens.FIELDS}
    row.update(dataset="A", arch="inception", seed="0", epochs="1", batch_size="64", validation_fraction="0.0",
               selection="train_loss", train_s="1", predict_s="1", date="2026-11-24")
    a = {"proba": _onehot(Y), "classes": CLASSES, "y_test": Y}
    b = {"proba": _onehot(Y), "classes": CLASSES, "y_test": Y[::-1]}
    with pytest.raises(ValueError, match="test labels"):
        ens.ensemble_row([(row, a), ({**row, "seed": "1"}, b)])


def test_missing_probabilities_are_skipped_and_nothing_found_is_an_error(tmp_path, ens, capsys):
    runs, pdir = _write_runs(tmp_path, ens, [_onehot(Y)] * 2)
    for f in pdir.iterdir():
        f.unlink()
    with pytest.raises(SystemExit) as exc:
        ens.main(["--runs", str(runs), "--proba-dir", str(pdir)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "no probabilities for ArrowHead seed 0" in err and "no single-network" in err


def test_bad_member_count_and_an_out_file_with_other_columns_are_refused(tmp_path, ens, capsys):
    runs, pdir = _write_runs(tmp_path, ens, [_onehot(Y)] * 2)
    with pytest.raises(SystemExit) as exc:
        ens.main(["--runs", str(runs), "--proba-dir", str(pdir), "--members", "0"])
    assert exc.value.code == 2 and "--members must be at least 1" in capsys.readouterr().err
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit) as exc:
        ens.main(["--runs", str(runs), "--proba-dir", str(pdir), "--members", "2", "--out", str(other)])
    assert exc.value.code == 2 and "has other columns" in capsys.readouterr().err
    assert other.read_text() == "a,b\n1,2\n"
