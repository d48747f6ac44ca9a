"""``seqcnn vision summary|train|predict|cam|list`` end to end on a tiny image folder, and every
input ``seqcnn vision train`` refuses before training (exit 2, one line, nothing touched)."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from seqcnn.cli import main
from tests.cli_helpers import run_cli as _run, snapshot as _snapshot


def test_summary_prints_the_engine_table(capsys):
    assert main(["vision", "summary", "resnet50", "--input", "3x224x224"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 25,557,032" in out
    assert "layer4.2" in out and "Total MACs: 4.09 G" in out


def test_summary_with_switches_and_native_size(capsys):
    assert main(["vision", "summary", "resnet50", "--set", "variant=v1"]) == 0
    assert "Total MACs: 3.86 G" in capsys.readouterr().out
    assert main(["vision", "summary", "alexnet"]) == 0
    assert "(1, 96, 55, 55)" in capsys.readouterr().out


def test_summary_defaults_are_the_architectures_own(capsys):
    # the README's zoo table: LeNet-5 is 1×32×32 → 10 classes, 61,706 parameters; CIFAR nets 10 classes
    assert main(["vision", "summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "(1, 1, 32, 32)" in out and "Output: (1, 10)" in out and "Total params: 61,706" in out
    assert main(["vision", "summary", "resnet20"]) == 0
    assert "Total params: 269,722" in capsys.readouterr().out
    assert main(["vision", "summary", "lenet5", "--input", "3x32x32", "--num-classes", "5"]) == 0
    out = capsys.readouterr().out
    assert "(1, 3, 32, 32)" in out and "Output: (1, 5)" in out
    assert main(["vision", "summary", "lenet5", "--num-classes", "0"]) == 2
    assert "--num-classes" in capsys.readouterr().err


def test_summary_rejects_bad_input_size(capsys):
    assert main(["vision", "summary", "resnet20", "--input", "3x32"]) == 2
    assert "--input" in capsys.readouterr().err


def test_list(capsys):
    assert main(["vision", "list", "vgg1*"]) == 0
    assert capsys.readouterr().out.split() == ["vgg11", "vgg11_lrn", "vgg13", "vgg16", "vgg16_c", "vgg19"]


def _images(root, classes=("dark", "light"), n=12, size=12, seed=0):
    rng = np.random.default_rng(seed)
    for k, cls in enumerate(classes):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            base = 20 + (200 * k) // max(1, len(classes) - 1)
            img = np.clip(rng.normal(base, 20, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / cls / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    return _images(tmp_path_factory.mktemp("imgs"))


TINY = ["--arch", "resnet20", "--epochs", "1", "--batch-size", "8", "--lr", "0.05", "--set", "width=0.25",
        "--no-augment", "--validation-fraction", "0", "--quiet"]


def test_train_predict_cam(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["vision", "train", "--data", str(image_folder), "--test", str(image_folder), "--arch", "resnet20",
               "--out", str(out), "--epochs", "3", "--batch-size", "8", "--lr", "0.05", "--set", "width=0.25",
               "--verbose", "0", "--no-augment", "--validation-fraction", "0"])
    assert rc == 0
    assert (out / "model" / "model.safetensors").exists() and (out / "model" / "config.json").exists()
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    m = json.loads((out / "metrics.json").read_text())
    assert m["test"]["labels"] == ["dark", "light"] and m["test"]["n"] == 24 and m["test"]["top5_accuracy"] is None
    assert m["settings"] == {"width": 0.25} and m["run_id"]
    printed = capsys.readouterr().out
    assert "test: accuracy" in printed and "precision  recall" in printed
    img = image_folder / "light" / "0.png"
    for model in (out, out / "model"):
        assert main(["vision", "predict", "--model", str(model), str(img), "--top-k", "2"]) == 0
        line = capsys.readouterr().out.strip().split("\t")
        assert line[0] == str(img) and set(line[1::2]) == {"dark", "light"}
    assert main(["vision", "predict", "--model", str(out), str(img), str(img), "--json"]) == 0
    rows = [json.loads(ln) for ln in capsys.readouterr().out.strip().split("\n")]
    assert len(rows) == 2 and set(rows[0]) == {"input", "label", "probabilities"} and rows[0]["input"] == str(img)
    assert set(rows[0]["probabilities"]) == {"dark", "light"}
    png = tmp_path / "cam.png"
    assert main(["vision", "cam", "--model", str(out), str(img), "--out", str(png), "--target", "light"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "peak at row" in capsys.readouterr().out


def test_top5_and_json_over_six_classes(tmp_path, capsys):
    data = _images(tmp_path / "six", classes=tuple("abcdef"), n=3, size=8)
    assert main(["vision", "train", "--train", str(data), "--test", str(data), "--out", str(tmp_path / "r"),
                 "--json", *TINY]) == 0
    captured = capsys.readouterr()
    m = json.loads(captured.out)
    assert m == json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert 0 <= m["test"]["top5_accuracy"] <= 1 and m["test"]["top5_accuracy"] >= m["test"]["accuracy"]
    assert "top-5 accuracy" in captured.err


def _other_size(d):
    return _images(d / "big", size=16, n=2)


def _unseen(d):
    return _images(d / "odd", classes=("dark", "$x$"), n=2)


REFUSED = [
    # (case, argv after "vision train" given the work folder d, words the error must contain)
    ("out is the training images", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "imgs")], ["imgs"]),
    ("out inside the training images", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "imgs" / "run")],
     ["--out", "inside the data folder of --train"]),
    ("out is a class folder", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "imgs" / "dark")], ["dark"]),
    ("out is an image file", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "imgs" / "dark" / "0.png")],
     ["0.png"]),
    ("out under a file (unwritable)", lambda d: ["--train", str(d / "imgs"), "--out",
                                                 str(d / "imgs" / "dark" / "0.png" / "run")],
     ["cannot write", "0.png"]),
    ("out is an existing run without --force", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "run")],
     ["--force"]),
    ("test images of another size", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "r"),
                                               "--test", str(_other_size(d))],
     ["--test", "3x16x16", "3x12x12", "--size HxW"]),
    ("test labels unseen in training", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "r"),
                                                  "--test", str(_unseen(d))],
     ["--test", "'$x$'", "never seen"]),
    ("unknown --set key", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "r"), "--set", "widht=2"],
     ["--set widht=2", "not an ImageCNNClassifier parameter", "momentum"]),
    ("bad --set value", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "r"), "--set", "crop_padding=-1"],
     ["--set crop_padding=-1"]),
    ("unknown arch", lambda d: ["--train", str(d / "imgs"), "--out", str(d / "r"), "--arch", "resnet21"],
     ["--arch resnet21", "resnet20", "seqcnn vision list"]),
    ("images of mixed sizes", lambda d: ["--train", str(_mixed(d)), "--out", str(d / "r")], ["--size HxW", "--train"]),
    ("missing data", lambda d: ["--train", str(d / "nope"), "--out", str(d / "r")], ["--train", "nope"]),
]


def _mixed(d):
    root = _images(d / "mixed", n=2)
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(root / "dark" / "z.png")
    return root


@pytest.fixture
def work(tmp_path, image_folder):
    shutil.copytree(image_folder, tmp_path / "imgs")
    return tmp_path


@pytest.mark.parametrize("case, argv, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_before_training_touching_nothing(work, capsys, case, argv, words):
    if "run" in case:
        assert main(["vision", "train", "--train", str(work / "imgs"), "--out", str(work / "run"), *TINY]) == 0
        capsys.readouterr()
    args = argv(work)  # may add files (the bad inputs)
    before = _snapshot(work)
    names = sorted(p.name for p in work.iterdir())
    assert _run(["vision", "train", *TINY, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqcnn: error: ") and err.count("\n") == 1, err
    assert all(w in err for w in words), err
    assert _snapshot(work) == before and sorted(p.name for p in work.iterdir()) == names


def test_train_rejects_a_missing_data_path(tmp_path, capsys):
    rc = main(["vision", "train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    assert rc == 2
    assert "--train" in capsys.readouterr().err


def test_cam_target_is_matched_exactly(tmp_path, capsys):
    data = _images(tmp_path / "digits", classes=("4", "42"), n=4)
    assert main(["vision", "train", "--train", str(data), "--out", str(tmp_path / "r"), *TINY]) == 0
    img = data / "42" / "0.png"
    assert main(["vision", "cam", "--model", str(tmp_path / "r"), str(img), "--out", str(tmp_path / "c.png"),
                 "--target", "42"]) == 0
    assert "of class '42'" in capsys.readouterr().out
    before = (tmp_path / "c.png").read_bytes()
    assert _run(["vision", "cam", "--model", str(tmp_path / "r"), str(img), "--out", str(tmp_path / "c.png"),
                 "--target", "4"]) == 2
    assert "--force" in capsys.readouterr().err and (tmp_path / "c.png").read_bytes() == before
    assert _run(["vision", "cam", "--model", str(tmp_path / "r"), str(img), "--out", str(tmp_path / "c.png"),
                 "--target", "7", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqcnn: error: ") and "'42'" in err
