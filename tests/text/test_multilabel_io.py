"""Multi-label around the estimator: readers (several __label__s, separator-joined columns,
label-names files), metrics and their printer/picture, threshold search, the Trainer's BCE, the
one-vs-rest baselines, and the command line (train / predict --k --threshold / explain)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from seqcnn.data import DataError, read_labeled_lines, read_text_dataset
from seqcnn.data.text import apply_label_names, read_label_names
from seqcnn.engine import multilabel as ml
from seqcnn.engine.metrics import format_metrics, multilabel_metrics, plot_label_f1
from seqcnn.engine.train import Trainer

from .test_multilabel import LABELS, indicator, make_multilabel


# ---------------------------------------------------------------------------------- readers
def test_a_fasttext_line_with_several_labels(tmp_path):
    p = tmp_path / "train.txt"
    p.write_text("__label__joy __label__love what a day\n__label__anger no\n")
    with pytest.raises(DataError, match="multilabel=True"):
        read_labeled_lines(p)
    assert read_labeled_lines(p, multilabel=True) == (["what a day", "no"], [["joy", "love"], ["anger"]])


def test_goemotions_layout_with_label_names(tmp_path):
    (tmp_path / "labels.txt").write_text("admiration\namusement\nneutral\n")
    p = tmp_path / "train.tsv"
    p.write_text("text\tlabel\tid\nso funny\t1\ta\nnice, lol\t0,1\tb\nok\t2\tc\n")
    X, y = read_text_dataset(p, label_sep=",", label_names=tmp_path / "labels.txt")
    assert X == ["so funny", "nice, lol", "ok"] and y == [["amusement"], ["admiration", "amusement"], ["neutral"]]
    assert read_label_names(tmp_path / "labels.txt") == ["admiration", "amusement", "neutral"]
    with pytest.raises(ValueError, match="not in 0..2"):
        apply_label_names([["3"]], ["a", "b", "c"])
    with pytest.raises(ValueError, match="not a label id"):
        apply_label_names([["x"]], ["a", "b", "c"])


def test_bad_label_names_files(tmp_path):
    p = tmp_path / "labels.txt"
    p.write_text("a\n\nb\n")
    with pytest.raises(DataError, match=":2: .*blank"):
        read_label_names(p)
    p.write_text("a\nb\na\n")
    with pytest.raises(DataError, match="repeats the label name 'a'"):
        read_label_names(p)
    p.write_text("\n")
    with pytest.raises(DataError, match="no label names"):
        read_label_names(p)


# ---------------------------------------------------------------------------------- metrics
def test_multilabel_metrics_agree_with_scikit_learn_and_print(tmp_path):
    from sklearn.metrics import f1_score, hamming_loss

    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, (50, 4))
    P = rng.random((50, 4))
    D = (P > 0.5).astype(int)
    m = multilabel_metrics(Y, D, ["a", "b", "$x$", "d"], proba=P)
    assert m["task"] == "multilabel"
    assert m["macro_f1"] == pytest.approx(f1_score(Y, D, average="macro", zero_division=0))
    assert m["micro_f1"] == pytest.approx(f1_score(Y, D, average="micro", zero_division=0))
    assert m["sample_f1"] == pytest.approx(f1_score(Y, D, average="samples", zero_division=0))
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Y, D))
    assert m["subset_accuracy"] == pytest.approx(np.mean((Y == D).all(1)))
    top1 = np.argmax(P, 1)
    assert m["p_at_1"] == pytest.approx(np.mean(Y[np.arange(50), top1]))
    assert [c["support"] for c in m["per_class"]] == Y.sum(0).tolist()
    text = format_metrics(m, "test")
    assert "macro-F1" in text and "micro-F1" in text and "Hamming loss" in text and "$x$" in text
    json.dumps(m)
    plot_label_f1(m["per_class"], tmp_path / "f1.png", title="$\\frac{")  # labels and titles drawn literally
    assert (tmp_path / "f1.png").stat().st_size > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=40),
       st.floats(0.01, 0.99))
@example(rows=[(False, 0.5), (True, 0.0), (True, 1.0)], other=0.75)  # a positive at probability 0 cannot be cut in
@example(rows=[(True, 0.0), (True, 0.0)], other=0.5)
def test_auto_threshold_is_f1_best(rows, other):
    """The chosen threshold's F1 is at least that of any other threshold."""
    y = np.array([[r[0]] for r in rows], dtype=float)
    p = np.array([[r[1]] for r in rows])
    (t,) = ml.best_thresholds(y, p)
    assert 0 < t <= 1

    def f1(th):
        d = p[:, 0] >= th
        tp = float((d & (y[:, 0] > 0)).sum())
        return 0.0 if tp == 0 else 2 * tp / (d.sum() + y.sum())

    if y.sum() > 0:
        assert f1(t) >= f1(other) - 1e-12
    else:
        assert t == 0.5


def test_trainer_multilabel_loss_is_bce_summed_over_labels():
    out = torch.tensor([[0.3, -1.0, 2.0], [0.0, -0.5, -0.5]])
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    tr = Trainer(multilabel=True, pos_weight=torch.tensor([1.0, 2.0, 1.0]), device="cpu", verbose=0)
    got = tr._per_sample_loss(out, target)
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        out, target, pos_weight=torch.tensor([1.0, 2.0, 1.0]), reduction="none").sum(1)
    assert torch.allclose(got, want)
    assert tr._n_correct(out, target) == 1.0  # row 0 all right at probability 0.5, row 1 misses a label


def test_decide_min_labels_and_unseen_labels():
    P = np.array([[0.2, 0.1, 0.9], [0.1, 0.3, 0.2]])
    t = np.array([0.5, 0.5, 0.5])
    assert ml.decide(P, t).tolist() == [[False, False, True], [False, False, False]]
    assert ml.decide(P, t, 1).tolist() == [[False, False, True], [False, True, False]]
    assert ml.decide(P, t, 1, seen=[True, False, True]).tolist() == [[False, False, True], [False, False, True]]


# ---------------------------------------------------------------------------------- baselines
@pytest.mark.parametrize("as_indicator", [False, True])
def test_baselines_one_vs_rest_on_multilabel_targets(as_indicator):
    from baselines import NBSVM, KernelSVM, KNNClassifier, default_baselines

    X, Y = make_multilabel(120)
    Xt, Yt = make_multilabel(40, seed=1)
    y = indicator(Y) if as_indicator else Y
    models = {"nbsvm": NBSVM(), **{k: m for k, m in default_baselines("text").items()
                                   if k in ("mnb", "mnb-bi", "bnb", "svm-linear", "knn-cosine")}}
    for name, model in models.items():
        pred = model.fit(X, y).predict(Xt)
        D = np.asarray(pred) if as_indicator else indicator(pred, sorted(LABELS))
        truth = indicator(Yt) if as_indicator else indicator(Yt, sorted(LABELS))
        assert D.shape == truth.shape, name
        assert multilabel_metrics(truth, D, range(3))["micro_f1"] > 0.6, name
    knn = KNNClassifier(n_neighbors=3, metric="euclidean").fit(np.eye(6), indicator(Y[:6]))
    assert knn.predict_proba(np.eye(6)).shape == (6, 3)
    svm = KernelSVM(kernel="linear").fit(np.random.default_rng(0).normal(size=(30, 4)), indicator(Y[:30]))
    assert svm.predict(np.zeros((2, 4))).shape == (2, 3) and svm.decision_function(np.zeros((2, 4))).shape == (2, 3)


def test_baselines_refuse_bad_multilabel_targets():
    from baselines import NBSVM

    with pytest.raises(ValueError, match="not a binary indicator"):
        NBSVM().fit(["a b", "c d", "e f"], np.array([[0, 2], [1, 0], [1, 1]]))
    with pytest.raises(ValueError, match="no label at all"):
        NBSVM().fit(["a b", "c d"], [[], []])


# ---------------------------------------------------------------------------------- command line
def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "seqcnn", "text", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kw)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("ml_cli")
    for name, (X, Y) in (("train.txt", make_multilabel(120)), ("dev.txt", make_multilabel(40, seed=1))):
        lines = [" ".join(f"__label__{lab}" for lab in (y or ["none"])) + " " + x for x, y in zip(X, Y)]
        (d / name).write_text("\n".join(lines) + "\n")
    out = _cli("train", "--train", d / "train.txt", "--dev", d / "dev.txt", "--out", d / "run", "--epochs", 3,
               "--embedding-dim", 16, "--num-filters", 8, "--optimizer", "adam", "--threshold", "auto", "--quiet")
    assert out.returncode == 0, out.stderr
    return d, out


def test_cli_detects_several_labels_and_writes_multilabel_metrics(cli_run):
    d, out = cli_run
    assert "multi-label model (--multilabel)" in out.stdout
    assert "micro-F1" in out.stdout and "Hamming loss" in out.stdout
    metrics = json.loads((d / "run" / "metrics.json").read_text())
    assert metrics["multilabel"] is True and metrics["dev"]["task"] == "multilabel"
    assert {c["label"] for c in metrics["dev"]["per_class"]} == set(LABELS) | {"none"}
    assert set(metrics["threshold"]) == set(LABELS) | {"none"}
    assert (d / "run" / "label_f1.png").exists() and not (d / "run" / "confusion_matrix.png").exists()


def test_cli_predict_k_threshold_json_and_explain(cli_run):
    d, _ = cli_run
    out = _cli("predict", "--model", d / "run", "--text", "good funny movie", "--k", 2, "--threshold", 0.0, "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert len(rec["labels"]) == 2 and len(rec["probabilities"]) == 4
    assert rec["label_probabilities"] == sorted(rec["label_probabilities"], reverse=True)
    out = _cli("predict", "--model", d / "run", "--text", "good funny movie", "--threshold", 1.0)
    assert out.returncode == 0 and out.stdout.split("\t")[0] == ""  # no label reaches 1.0
    out = _cli("predict", "--model", d / "run", "--text", "good", "--k", 9)
    assert out.returncode != 0 and "--k must be in [1, 4]" in out.stderr
    out = _cli("explain", "--model", d / "run", "good", "funny", "movie", "--json")
    assert out.returncode == 0, out.stderr
    assert "labels" in json.loads(out.stdout)


def test_cli_members_trains_a_multilabel_ensemble(cli_run):
    d, _ = cli_run
    out = _cli("train", "--train", d / "train.txt", "--dev", d / "dev.txt", "--out", d / "ens", "--epochs", 2,
               "--members", 2, "--embedding-dim", 16, "--num-filters", 8, "--optimizer", "adam",
               "--threshold", "auto", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "validation subset accuracy: ensemble" in out.stdout
    metrics = json.loads((d / "ens" / "metrics.json").read_text())
    assert metrics["members"] == 2 and len(metrics["best_epoch"]) == 2 and metrics["multilabel"] is True
    manifest = json.loads((d / "ens" / "model" / "ensemble.json").read_text())
    assert manifest["target"]["threshold"] == [metrics["threshold"][str(c)] for c in sorted(metrics["threshold"])]
    out = _cli("predict", "--model", d / "ens", "--text", "good funny movie", "--k", 2, "--threshold", 0.0, "--json")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["labels"]) == 2
    out = _cli("explain", "--model", d / "ens", "good", "funny", "movie", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["labels"]


def test_cli_label_sep_and_label_names(tmp_path):
    (tmp_path / "labels.txt").write_text("pos\nneg\nfun\n")
    X, Y = make_multilabel(80)
    rows = ["text\tlabel"] + [f"{x}\t{','.join(str(LABELS.index(lab)) for lab in y) or '0'}" for x, y in zip(X, Y)]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n")
    out = _cli("train", "--train", tmp_path / "train.tsv", "--label-sep", ",", "--label-names", tmp_path / "labels.txt",
               "--out", tmp_path / "run", "--epochs", 1, "--embedding-dim", 8, "--num-filters", 4, "--quiet", "--json")
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["train"]["labels"] == ["fun", "neg", "pos"]
