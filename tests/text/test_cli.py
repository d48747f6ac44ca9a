"""`seqcnn text train → predict → explain` end to end on a tiny (non-UTF-8) file."""
import io
import json
import sys

import pytest

from seqcnn.cli import main

from .conftest import make_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    X, y = make_corpus(80)
    with open(d / "train.txt", "wb") as f:
        for t, lab in zip(X, y):
            f.write(f"{lab} {t}\n".encode())
        f.write("pos caf\xe9 great \x85 and fine\n".encode("latin-1"))  # Latin-1, byte 0x85 mid-sentence
    X2, y2 = make_corpus(20, seed=9)
    (d / "test.txt").write_text("".join(f"{lab} {t}\n" for t, lab in zip(X2, y2)))
    rc = main(["text", "train", "--train", str(d / "train.txt"), "--test", str(d / "test.txt"), "--out",
               str(d / "out"), "--epochs", "2", "--batch-size", "16", "--embedding-dim", "8", "--num-filters", "4",
               "--quiet"])
    assert rc == 0
    return d


def test_train_writes_artifact_metrics_and_confusion_matrix(trained, capsys):
    out = trained / "out"
    assert (out / "model" / "model.safetensors").exists() and (out / "model" / "config.json").exists()
    assert (out / "confusion_matrix.png").stat().st_size > 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_train"] == 81
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(m["test"])
    assert [c["label"] for c in m["test"]["per_class"]] == ["neg", "pos"]


def test_predict_file_and_json_lines(trained, capsys, tmp_path):
    (tmp_path / "in.txt").write_bytes("the movie was good\n\nna\xefve plot\n".encode("latin-1"))
    assert main(["text", "predict", "--model", str(trained / "out"), str(tmp_path / "in.txt")]) == 0
    lines = capsys.readouterr().out.strip("\n").split("\n")
    assert len(lines) == 3 and all(ln.split("\t")[0] in ("pos", "neg") for ln in lines)
    assert main(["text", "predict", "--model", str(trained / "out" / "model"), str(tmp_path / "in.txt"),
                 "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert rows[2]["text"] == "naïve plot" and abs(sum(rows[0]["probabilities"].values()) - 1) < 1e-6


def test_explain_brackets_when_not_a_tty(trained, capsys):
    assert main(["text", "explain", "--model", str(trained / "out"), "the movie was very good"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("prediction: ") and "[" in out and "\033[" not in out


def test_explain_empty_text_says_there_is_no_ngram(trained, capsys):
    assert main(["text", "explain", "--model", str(trained / "out"), ""]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("prediction: ") and out[1].startswith("(no tokens") and len(out) == 2


def test_predict_reads_stdin_bytes(trained, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("awful and dull\ncaf\xe9\n".encode("latin-1"))))
    assert main(["text", "predict", "--model", str(trained / "out"), "-"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert [ln.split("\t")[0] in ("pos", "neg") for ln in lines] == [True, True]
    assert lines[1].endswith("café")


def test_missing_input_file_is_a_clean_error(trained, capsys):
    assert main(["text", "predict", "--model", str(trained / "out"), str(trained / "nope.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_members_writes_one_ensemble_artifact_that_predicts_and_explains(trained, capsys, tmp_path,
                                                                              monkeypatch):
    out = tmp_path / "ens"
    assert main(["text", "train", "--train", str(trained / "train.txt"), "--test", str(trained / "test.txt"),
                 "--out", str(out), "--members", "2", "--epochs", "2", "--batch-size", "16", "--embedding-dim",
                 "8", "--num-filters", "4", "--quiet"]) == 0
    assert "validation accuracy: ensemble" in capsys.readouterr().out
    assert (out / "model" / "ensemble.json").is_file() and (out / "model" / "member_01" / "config.json").is_file()
    m = json.loads((out / "metrics.json").read_text())
    assert m["members"] == 2 and len(m["best_epoch"]) == 2 and len(m["member_validation_accuracy"]) == 2
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"the movie was good\nawful\n")))
    assert main(["text", "predict", "--model", str(out), "--json", "-"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert len(rows) == 2 and all(abs(sum(r["probabilities"].values()) - 1) < 1e-6 for r in rows)
    assert main(["text", "explain", "--model", str(out / "model"), "the movie was very good"]) == 0
    assert capsys.readouterr().out.startswith("prediction: ")
    assert main(["text", "train", "--train", str(trained / "train.txt"), "--out", str(tmp_path / "cv"), "--cv", "2",
                 "--members", "2", "--epochs", "1", "--batch-size", "16", "--embedding-dim", "8",
                 "--num-filters", "4", "--quiet"]) == 0
    assert len(json.loads((tmp_path / "cv" / "metrics.json").read_text())["cv"]["fold_accuracy"]) == 2
    capsys.readouterr()
    assert main(["text", "train", "--train", str(trained / "train.txt"), "--out", str(tmp_path / "x"),
                 "--members", "0", "--quiet"]) == 2
    assert "--members" in capsys.readouterr().err


def test_dropout_scaling_flag_reaches_the_saved_model(trained, capsys, tmp_path):
    default = json.loads((trained / "out" / "model" / "config.json").read_text())
    assert default["params"]["dropout_scaling"] == "auto"  # Kim's form for arch kim
    assert main(["text", "train", "--train", str(trained / "train.txt"), "--out", str(tmp_path / "inv"),
                 "--dropout-scaling", "train", "--epochs", "1", "--batch-size", "16", "--embedding-dim", "8",
                 "--num-filters", "4", "--quiet"]) == 0
    cfg = json.loads((tmp_path / "inv" / "model" / "config.json").read_text())
    assert cfg["params"]["dropout_scaling"] == "train"
    with pytest.raises(SystemExit):
        main(["text", "train", "--train", str(trained / "train.txt"), "--out", str(tmp_path / "x"),
              "--dropout-scaling", "inverted"])
    assert "--dropout-scaling" in capsys.readouterr().err
