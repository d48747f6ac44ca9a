"""`seqcnn signal train|predict` end to end on tiny .ts files."""
import json

from seqcnn.cli import main

from .conftest import sine_square, write_ts


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
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["seed"] == 3 and metrics["epochs"] == 2 and metrics["arch"] == "resnet"
    assert metrics["test"]["labels"] == ["sine", "square"]
    assert len(metrics["test"]["per_class"]) == 2 and len(metrics["train_sha256"]) == 64
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model" / "config.json").exists() and (out / "model" / "model.safetensors").exists()

    assert main(["signal", "predict", "--model", str(out), str(te), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["predictions"]) == len(yt)
    assert set(result["predictions"][0]["proba"]) == {"sine", "square"}
    assert 0.0 <= result["accuracy"] <= 1.0

    assert main(["signal", "predict", "--model", str(out / "model"), str(te)]) == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == len(yt) and set(lines) <= {"sine", "square"}


def test_cli_reports_a_malformed_file_with_its_line_number(tmp_path, capsys):
    bad = tmp_path / "bad.ts"
    bad.write_text("@problemName B\n@classLabel true a b\n@data\n1,2,3:z\n")
    rc = main(["signal", "train", "--train", str(bad), "--out", str(tmp_path / "o"), "--epochs", "1"])
    assert rc == 2
    assert "line 4" in capsys.readouterr().err
