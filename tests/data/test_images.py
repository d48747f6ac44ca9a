"""Image readers and as_image_array: a 2-D (N, D) array is never guessed to be 1×1×D images."""
import numpy as np
import pytest

from seqcnn.data import DataError, as_image_array, load_image, read_image_folder, read_mnist_csv, read_mnist_idx
from vision import readers


def test_vision_readers_reexport_the_same_functions():
    assert readers.as_image_array is as_image_array and readers.read_mnist_csv is read_mnist_csv


def test_n_by_50_array_is_refused_naming_the_expected_shapes():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*image_size"):
        as_image_array(np.zeros((4, 50)))


def test_n_by_d_array_with_an_explicit_image_size():
    assert as_image_array(np.zeros((4, 50)), image_size=(2, 5, 5)).shape == (4, 2, 5, 5)
    assert as_image_array(np.zeros((4, 64)), image_size=(8, 8)).shape == (4, 1, 8, 8)
    with pytest.raises(ValueError, match="does not match X's 50 values"):
        as_image_array(np.zeros((4, 50)), image_size=(7, 7))


def test_a_text_file_passed_as_an_image(tmp_path):
    p = tmp_path / "cat.png"
    p.write_text("not an image")
    with pytest.raises(DataError, match=r"cat\.png: cannot decode the image"):
        load_image(p)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "x.png").write_text("nope")
    with pytest.raises(DataError, match=r"x\.png: cannot decode"):
        read_image_folder(tmp_path)


def test_mnist_csv_missing_label_and_bad_value(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text(",".join(["0"] * 785) + "\n" + ",".join(["0"] * 784) + "\n")
    with pytest.raises(DataError, match=r"m\.csv:2: .*label \(the last field\) is missing"):
        read_mnist_csv(p)
    p.write_text(",".join(["0"] * 784 + ["x"]) + "\n")
    with pytest.raises(DataError, match=r"m\.csv:1: non-integer field 'x'"):
        read_mnist_csv(p)
    p.write_text(",".join(["300"] * 784 + ["1"]) + "\n")
    with pytest.raises(DataError, match=r"m\.csv:1: pixel values must lie in 0\.\.255"):
        read_mnist_csv(p)


def test_mnist_idx_truncated_header(tmp_path):
    p = tmp_path / "imgs.idx"
    p.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DataError, match=r"imgs\.idx: the IDX header is cut short"):
        read_mnist_idx(p)
