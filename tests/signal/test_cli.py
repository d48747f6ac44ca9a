"""`seqcnn signal train|predict` end to end on tiny .ts files, and every input the command refuses
before training (exit 2, one line naming the problem, the files that were there untouched)."""
import json
import shutil

import numpy as np
import pytest

from seqcnn.cli import main
from tests.cli_helpers import run_cli as _run, snapshot as _snapshot

from .conftest import sine_square, write_ts

TINY = ["--arch", "fcn", "--epochs", "1", "--n-filters", "4", "--quiet"]


def _write(tmp_path):
    X, y = sine_square(n_per_class=10, length=24, seed=0)
    Xt, yt = sine_square(n_per_class=4, length=24, seed=1)
    tr = write_ts(tmp_path / "Toy_TRAIN.ts", [x[None] for x in X], y)
    te = write_ts(tmp_path / "Toy_TEST.ts", [x[None] for x in Xt], yt)
    return tr, te, yt


def test_cli_train_writes_metrics_confusion_matrix_and_artifact_then_predict(tmp_path, capsys):
    tr, te, yt = _write(tmp_path)
    out = tmp_path / "run"
    rc = main(["signal", "train", "--train", str(tr), "--test", str(te), "--arch", "resnet", "--out", str(out),
               "--epochs", "2", "--seed", "3", "--n-filters", "4", "--quiet"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "balanced accuracy" in printed and "macro-F1" in printed and "square" in printed
    assert printed.count("precision  recall") == 2  # train and test tables, one printer
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seed"] == 3 and metrics["epochs"] == 2 and metrics["arch"] == "resnet"
    assert metrics["test"]["labels"] == ["sine", "square"] and metrics["train"]["n"] == 20
    assert len(metrics["test"]["per_class"]) == 2 and len(metrics["train_sha256"]) == 64
    assert isinstance(metrics["run_id"], str) and metrics["run_id"]
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model" / "config.json").exists() and (out / "model" / "model.safetensors").exists()

    assert main(["signal", "predict", "--model", str(out), str(te), "--json"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.strip().split("\n")]
    assert len(rows) == len(yt) and [r["index"] for r in rows] == list(range(len(yt)))
    assert all(set(r) == {"input", "index", "label", "probabilities"} for r in rows)
    assert rows[0]["input"] == str(te) and set(rows[0]["probabilities"]) == {"sine", "square"}
    assert "accuracy" in captured.err

    assert main(["signal", "predict", "--model", str(out / "model"), str(te)]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == len(yt) and set(lines) <= {"sine", "square"}


def test_cli_reports_a_malformed_file_with_its_line_number(tmp_path, capsys):
    bad = tmp_path / "bad.ts"
    bad.write_text("@problemName B\n@classLabel true a b\n@data\n1,2,3:z\n")
    rc = main(["signal", "train", "--train", str(bad), "--out", str(tmp_path / "o"), "--epochs", "1"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("seqcnn: error: --train: ") and "bad.ts:4:" in err


def test_json_prints_the_metrics_and_nothing_else_on_stdout(tmp_path, capsys):
    tr, te, _ = _write(tmp_path)
    assert main(["signal", "train", "--train", str(tr), "--test", str(te), "--out", str(tmp_path / "r"), "--json",
                 "--set", "lr=0.01", *TINY]) == 0
    captured = capsys.readouterr()
    m = json.loads(captured.out)
    assert m == json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert {"run_id", "train", "test", "settings"} <= set(m) and m["settings"] == {"lr": 0.01}
    assert "precision" in captured.err


def _other_channels(d):
    X, y = sine_square(n_per_class=3, length=24, seed=2)
    return write_ts(d / "Two_TEST.ts", [np.stack([x, x]) for x in X], y)


def _other_length(d):
    X, y = sine_square(n_per_class=3, length=30, seed=2)
    return write_ts(d / "Long_TEST.ts", [x[None] for x in X], y)


def _unseen_label(d):
    X, y = sine_square(n_per_class=3, length=24, seed=2)
    y = np.where(y == "sine", "triangle", y)
    return write_ts(d / "Tri_TEST.ts", [x[None] for x in X], y, classes=["square", "triangle"])


REFUSED = [
    # (case, argv after "signal train" given the work folder d, words the error must contain)
    ("out is the data folder", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "data")],
     ["data"]),
    ("out is a file", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "data" / "Toy_TEST.ts")],
     ["Toy_TEST.ts"]),
    ("out under a file (unwritable)", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out",
                                                 str(d / "data" / "Toy_TEST.ts" / "run")],
     ["cannot write", "is a file"]),
    ("test has other channels", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                           "--test", str(_other_channels(d / "data"))],
     ["--test", "Two_TEST.ts", "2 channels", "have 1"]),
    ("test has another length", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                           "--test", str(_other_length(d / "data"))],
     ["--test", "length 30", "length 24"]),
    ("dev has an unseen label", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                           "--dev", str(_unseen_label(d / "data"))],
     ["--dev", "'triangle'", "never seen"]),
    ("unknown --set key", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                     "--set", "kernel_size=3"],
     ["kernel_size", "valid keys", "kernel_sizes"]),
    ("bad --set value", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                   "--set", "normalize=minmax"],
     ["--set normalize=minmax", "normalize must be"]),
    ("bad flag value", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                  "--epochs", "0"],
     ["--epochs", "max_epochs must be"]),
    ("missing test file", lambda d: ["--train", str(d / "data" / "Toy_TRAIN.ts"), "--out", str(d / "r"),
                                     "--test", str(d / "nope.ts")],
     ["--test", "nope.ts"]),
]


@pytest.mark.parametrize("case, argv, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_before_training_touching_nothing(tmp_path, capsys, case, argv, words):
    (tmp_path / "data").mkdir()
    _write(tmp_path / "data")
    args = argv(tmp_path)  # may add files (the bad inputs)
    before = _snapshot(tmp_path)
    assert _run(["signal", "train", *TINY, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqcnn: error: ") and err.count("\n") == 1, err
    assert all(w in err for w in words), err
    assert _snapshot(tmp_path) == before  # nothing written, nothing removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_existing_run_needs_force(tmp_path, capsys):
    tr, te, _ = _write(tmp_path)
    run = tmp_path / "run"
    assert main(["signal", "train", "--train", str(tr), "--out", str(run), *TINY]) == 0
    before = _snapshot(run)
    assert main(["signal", "train", "--train", str(tr), "--out", str(run), *TINY]) == 2
    assert "--force" in capsys.readouterr().err and _snapshot(run) == before
    assert main(["signal", "train", "--train", str(tr), "--test", str(te), "--out", str(run), "--force", *TINY]) == 0
    after = json.loads((run / "metrics.json").read_text())
    assert after["run_id"] != json.loads(before["metrics.json"])["run_id"] and "test" in after


def test_missing_values_hint_names_the_flag(tmp_path, capsys):
    X, y = sine_square(n_per_class=5, length=24, seed=0)
    X[0, 3] = np.nan
    tr = write_ts(tmp_path / "Nan_TRAIN.ts", [x[None] for x in X], y)
    assert main(["signal", "train", "--train", str(tr), "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert "--missing interpolate" in err and "missing='interpolate'" not in err
    assert not (tmp_path / "r").exists()
    assert main(["signal", "train", "--train", str(tr), "--out", str(tmp_path / "r"), "--missing", "interpolate",
                 *TINY]) == 0


def test_a_label_with_dollars_still_gives_the_run(tmp_path, capsys):
    X, y = sine_square(n_per_class=6, length=24, seed=0)
    y = np.where(y == "sine", "$x$", "50$")
    tr = write_ts(tmp_path / "D_TRAIN.ts", [x[None] for x in X], y)
    shutil.copy(tr, tmp_path / "D_TEST.ts")
    assert main(["signal", "train", "--train", str(tr), "--test", str(tmp_path / "D_TEST.ts"),
                 "--out", str(tmp_path / "r"), *TINY]) == 0
    assert (tmp_path / "r" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["test"]["labels"] == ["$x$", "50$"]


def test_minirocket_arch_trains_saves_and_predicts(tmp_path, capsys):
    tr, te, yt = _write(tmp_path)
    assert main(["signal", "train", "--train", str(tr), "--test", str(te), "--arch", "minirocket", "--out",
                 str(tmp_path / "r"), "--set", "num_features=84", "--quiet"]) == 0
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["arch"] == "minirocket" and m["epochs"] is None and m["test"]["n"] == len(yt)
    capsys.readouterr()
    assert main(["signal", "predict", "--model", str(tmp_path / "r"), str(te), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().split("\n")]
    assert len(rows) == len(yt) and set(rows[0]) == {"input", "index", "label", "probabilities"}
    assert _run(["signal", "train", "--train", str(tr), "--arch", "minirocket", "--out", str(tmp_path / "r2"),
                 "--set", "n_filters=4"]) == 2
    err = capsys.readouterr().err
    assert "unknown key n_filters" in err and "num_features" in err and not (tmp_path / "r2").exists()


def test_ucr_tsv_files_train_too(tmp_path, capsys):
    X, y = sine_square(n_per_class=6, length=24, seed=0)
    lines = [f"{lab}\t" + "\t".join(f"{v:.5f}" for v in x) for x, lab in zip(X, y)]
    (tmp_path / "Toy_TRAIN.tsv").write_text("\n".join(lines) + "\n")
    assert main(["signal", "train", "--train", str(tmp_path / "Toy_TRAIN.tsv"), "--test",
                 str(tmp_path / "Toy_TRAIN.tsv"), "--out", str(tmp_path / "r"), *TINY]) == 0
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["test"]["n"] == 12
