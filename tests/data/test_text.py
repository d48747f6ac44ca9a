"""Labelled-text readers: every bad input names the file and line."""
import json

import pytest

from seqcnn.data import DataError, read_folder, read_labeled_lines, read_table, read_text_dataset
from seqcnn.text import read_dataset
from seqcnn.text.io import read_dataset as io_read_dataset


def _raises(fn, path, line, *words):
    with pytest.raises(DataError) as err:
        fn()
    msg = str(err.value)
    where = f"{path.name}:{line}:" if line is not None else f"{path.name}:"
    assert where in msg, msg
    for w in words:
        assert w in msg, msg
    return err.value


def test_u0085_inside_a_sentence_stays_in_the_sentence(tmp_path):
    p = tmp_path / "mr.txt"
    p.write_bytes("1 a fine \u0085 film\n0 dull \u2028 one\n".encode("utf-8"))
    assert read_labeled_lines(p) == (["a fine \u0085 film", "dull \u2028 one"], ["1", "0"])


def test_label_only_line_is_an_error_unless_allowed(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("pos great film\nneg\nneg awful\n")
    _raises(lambda: read_labeled_lines(p), p, 2, "label ('neg') but no text", "allow_empty_text")
    assert read_labeled_lines(p, allow_empty_text=True)[0] == ["great film", "", "awful"]


def test_line_without_a_label_among_numeric_labels(tmp_path):
    p = tmp_path / "mr.txt"
    p.write_text("".join(f"{i % 2} sentence number {i}\n" for i in range(30)) + "the movie has no label\n")
    _raises(lambda: read_labeled_lines(p), p, 31, "'the'", "lack its label")


def test_file_without_any_labels(tmp_path):
    p = tmp_path / "raw.txt"
    p.write_text("".join(f"word{i} and some text\n" for i in range(25)))
    _raises(lambda: read_labeled_lines(p), p, None, "without labels")


def test_fasttext_prefix_is_detected_and_stripped(tmp_path):
    p = tmp_path / "ft.txt"
    p.write_text("__label__pos good\n__label__neg bad one\n")
    assert read_labeled_lines(p) == (["good", "bad one"], ["pos", "neg"])


def test_several_fasttext_labels_need_multilabel(tmp_path):
    p = tmp_path / "ft.txt"
    p.write_text("__label__a text one\n__label__a __label__b text two\n")
    _raises(lambda: read_labeled_lines(p), p, 2, "2 labels", "multilabel=True")
    assert read_labeled_lines(p, multilabel=True)[1] == [["a"], ["a", "b"]]


def test_fasttext_line_without_prefix_and_empty_prefix(tmp_path):
    p = tmp_path / "ft.txt"
    p.write_text("__label__a text\nno label here\n")
    _raises(lambda: read_labeled_lines(p), p, 2, "__label__")
    p.write_text("__label__a text\n__label__ text\n")
    _raises(lambda: read_labeled_lines(p), p, 2, "empty fastText label")


def test_blank_lines_are_skipped_and_line_numbers_count_them(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a one\n\n   \nb\n")
    _raises(lambda: read_labeled_lines(p), p, 4, "no text")


def test_csv_row_with_empty_label(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nfine,pos\n\"multi\nline\",neg\nno label here,\n")
    _raises(lambda: read_table(p), p, 5, "label", "empty")


def test_csv_short_row_has_a_missing_label(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nfine,pos\nshort\n")
    _raises(lambda: read_table(p), p, 3, "missing")


def test_jsonl_label_null_names_the_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(json.dumps({"text": "a", "label": "x"}) + "\n" + json.dumps({"text": "b", "label": None}) + "\n")
    _raises(lambda: read_table(p), p, 2, "label", "missing")


def test_jsonl_mixed_label_kinds_never_reach_sorted(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ({"text": "a", "label": 1}, {"text": "b", "label": "x"})) + "\n")
    _raises(lambda: read_table(p), p, 2, "one kind")


def test_missing_column_is_named_with_the_columns(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("sentence,y\nhi,a\n")
    _raises(lambda: read_table(p), p, 1, "text_column='text'", "['sentence', 'y']")
    _raises(lambda: read_table(p, "sentence"), p, 1, "label_column='label'")
    q = tmp_path / "d.jsonl"
    q.write_text('{"text": "a", "label": 1}\n{"text": "b"}\n')
    _raises(lambda: read_table(q), q, 2, "label_column='label'")


def test_jsonl_invalid_json_and_non_object(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "label": 1}\n{"text": \n')
    _raises(lambda: read_table(p), p, 2, "not valid JSON")
    p.write_text('{"text": "a", "label": 1}\n[1, 2]\n')
    _raises(lambda: read_table(p), p, 2, "JSON object")


def test_label_sep_splits_goemotions_layout(tmp_path):
    p = tmp_path / "train.tsv"
    p.write_text('text\tlabel\tid\nhappy day\t17\ta1\n"a ""quoted"" one"\t2,5\ta2\n')
    texts, labels = read_table(p, label_sep=",")
    assert texts == ["happy day", 'a "quoted" one'] and labels == [["17"], ["2", "5"]]
    p.write_text("text\tlabel\tid\nx\t2,,5\ta1\n")
    _raises(lambda: read_table(p, label_sep=","), p, 2, "empty entry")


def test_json_list_label_needs_multilabel(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "label": ["x", "y"]}\n')
    _raises(lambda: read_table(p), p, 1, "multilabel=True")
    assert read_table(p, multilabel=True) == (["a"], [["x", "y"]])


def test_empty_text_in_a_table(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\n,pos\n")
    _raises(lambda: read_table(p), p, 2, "no text")
    assert read_table(p, allow_empty_text=True) == ([""], ["pos"])


def test_json_array_file(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps([{"text": "a", "label": "x"}, {"text": "b", "label": "y"}]))
    assert read_table(p) == (["a", "b"], ["x", "y"])


def test_folder_reader_names_an_empty_document(tmp_path):
    (tmp_path / "pos").mkdir()
    (tmp_path / "pos" / "a.txt").write_text("great")
    (tmp_path / "pos" / "b.txt").write_text("  \n")
    with pytest.raises(DataError, match=r"b\.txt: the record has a label \('pos'\) but no text"):
        read_folder(tmp_path)
    assert read_folder(tmp_path, allow_empty_text=True) == (["great", ""], ["pos", "pos"])


def test_read_dataset_is_read_text_dataset(tmp_path):
    assert read_dataset is read_text_dataset and io_read_dataset is read_text_dataset
    p = tmp_path / "t.txt"
    p.write_text("a x\n")
    assert read_text_dataset(p) == (["x"], ["a"])


def test_binary_file_as_training_text(tmp_path):
    p = tmp_path / "model.safetensors"
    p.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}" + bytes(200))
    _raises(lambda: read_labeled_lines(p), p, None, "binary")
