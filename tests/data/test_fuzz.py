"""Fuzz every file reader: arbitrary bytes, and malformed lines built from each format's own
pieces, give data or a ValueError subclass naming the file — never another exception, never a hang."""
import gzip
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcnn.data import (read_arff, read_image_folder, read_labeled_lines, read_mnist_csv, read_mnist_idx,
                         read_table, read_ts, read_ucr_tsv)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

READERS = {
    "lines.txt": read_labeled_lines,
    "table.csv": read_table,
    "table.tsv": read_table,
    "table.jsonl": read_table,
    "series.ts": read_ts,
    "series.tsv": read_ucr_tsv,
    "series.arff": read_arff,
    "digits.csv": lambda p: read_mnist_csv(p, height=2, width=2),
    "digits.idx": read_mnist_idx,
}

# the pieces each format is made of, so that generated lines come close to valid ones
PIECES = ["\n", "\r\n", "\r", "\t", " ", ",", ":", "\"", "'", "{", "}", "[", "]", "?", "NaN", "nan", "inf", "-1",
          "0", "1", "2.5", "1e999", "a", "pos", "__label__", "__label__x ", "text", "label", "null", "true",
          '{"text": "a", "label": 1}', '{"text": "a", "label": null}', "@data", "@classLabel true a b",
          "@problemName x", "@attribute t numeric", "@attribute c {a,b}", "@relation r",
          "@attribute s relational", "@end s", "\\n", "%", "#", "\x85", "\u2028", "é", "\x00", "[" * 50]

lines = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
blobs = st.one_of(st.binary(max_size=400), lines.map(lambda s: s.encode("utf-8")),
                  lines.map(lambda s: s.encode("latin-1", "replace")))


def _check(reader, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader(path)
        except ValueError as exc:
            assert path.name in str(exc), str(exc)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ
@given(data=blobs)
def test_reader_gives_data_or_a_value_error_naming_the_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    _check(READERS[name], path)


@FUZZ
@given(data=blobs)
def test_gzipped_mnist_csv(tmp_path, data):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(data) if data[:1] != b"x" else data)
    _check(lambda p: read_mnist_csv(p, height=2, width=2), path)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_image_folder_with_arbitrary_files(tmp_path, data):
    (tmp_path / "cls").mkdir(exist_ok=True)
    path = tmp_path / "cls" / "img.png"
    path.write_bytes(data)
    try:
        read_image_folder(tmp_path)
    except ValueError as exc:
        assert "img.png" in str(exc) or str(tmp_path) in str(exc), str(exc)
