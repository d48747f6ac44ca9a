"""``seqcnn vision summary|train|predict|cam|list`` end to end on a tiny image folder."""
import numpy as np
import pytest
from PIL import Image

from seqcnn.cli import main


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


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for cls in ("dark", "light"):
        (root / cls).mkdir()
        for i in range(12):
            base = 40 if cls == "dark" else 210
            img = np.clip(rng.normal(base, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / cls / f"{i}.png")
    return root


def test_train_predict_cam(image_folder, tmp_path, capsys):
    out = tmp_path / "model"
    rc = main(["vision", "train", "--data", str(image_folder), "--arch", "resnet20", "--out", str(out),
               "--epochs", "3", "--batch-size", "8", "--lr", "0.05", "--set", "width=0.25", "--verbose", "0",
               "--no-augment", "--validation-fraction", "0"])
    assert rc == 0
    assert (out / "model.safetensors").exists() and (out / "config.json").exists()
    capsys.readouterr()
    img = image_folder / "light" / "0.png"
    assert main(["vision", "predict", "--model", str(out), str(img), "--top-k", "2"]) == 0
    line = capsys.readouterr().out.strip().split("\t")
    assert line[0] == str(img) and set(line[1::2]) == {"dark", "light"}
    png = tmp_path / "cam.png"
    assert main(["vision", "cam", "--model", str(out), str(img), "--out", str(png), "--target", "light"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "peak at row" in capsys.readouterr().out


def test_train_rejects_a_missing_data_path(tmp_path, capsys):
    rc = main(["vision", "train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "m")])
    assert rc == 2
    assert "--data" in capsys.readouterr().err
