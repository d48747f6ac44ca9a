"""Readers: LABEL-sentence files (UTF-8 / Latin-1, byte 0x85), CSV/TSV/JSON-lines, class folders."""
import json

import pytest

from seqcnn.text import read_dataset, read_folder, read_labeled_lines, read_table


def test_latin1_file_with_byte_0x85_keeps_one_line_per_sentence(tmp_path):
    path = tmp_path / "mr.txt"
    path.write_bytes(b"0 simplistic , silly \x85 and tedious . \n1 caf\xe9 is great\n\n")
    texts, labels = read_labeled_lines(path)
    assert labels == ["0", "1"]
    assert texts == ["simplistic , silly \x85 and tedious .", "caf\u00e9 is great"]


def test_utf8_file_and_crlf_and_tabs(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("pos\tcrème brûlée\r\nneg plain\r\nneu\n".encode("utf-8"))
    texts, labels = read_labeled_lines(path, allow_empty_text=True)  # a label-only line is refused by default
    assert labels == ["pos", "neg", "neu"]
    assert texts == ["crème brûlée", "plain", ""]


def test_explicit_encoding_is_used(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes("1 naïve".encode("cp1252"))
    assert read_labeled_lines(path, encoding="cp1252")[0] == ["naïve"]


def test_missing_and_empty_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_labeled_lines(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(ValueError, match="no labelled lines"):
        read_labeled_lines(tmp_path / "empty.txt")


def test_csv_tsv_jsonl_with_named_columns(tmp_path):
    (tmp_path / "d.csv").write_text('sentence,y\n"hello, world",a\nbye,b\n')
    assert read_table(tmp_path / "d.csv", "sentence", "y") == (["hello, world", "bye"], ["a", "b"])
    (tmp_path / "d.tsv").write_text("text\tlabel\nhi there\tx\n")
    assert read_dataset(tmp_path / "d.tsv") == (["hi there"], ["x"])
    (tmp_path / "d.jsonl").write_text(json.dumps({"text": "a\u0085b", "label": 3}) + "\n")
    assert read_table(tmp_path / "d.jsonl") == (["a\u0085b"], [3])


def test_table_with_a_wrong_column_names_the_argument(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="text_column"):
        read_table(tmp_path / "d.csv")


def test_folder_of_class_subfolders(tmp_path):
    for label, docs in {"neg": ["bad film", "awful"], "pos": ["great"]}.items():
        (tmp_path / label).mkdir()
        for i, d in enumerate(docs):
            (tmp_path / label / f"{i}.txt").write_text(d)
    assert read_folder(tmp_path) == (["bad film", "awful", "great"], ["neg", "neg", "pos"])
    assert read_dataset(tmp_path)[1] == ["neg", "neg", "pos"]
