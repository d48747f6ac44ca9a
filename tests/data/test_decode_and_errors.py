"""DataError's FILE:LINE format and the one decoding policy (UTF-8, Latin-1 with a warning,
binary refused, lines split on \\n, \\r\\n and \\r only)."""
import pickle
import subprocess
import sys

import pytest

from seqcnn.data import DataError, DecodingWarning, decode_bytes, read_text_file, split_lines


def test_data_error_formats_file_and_line_and_pickles():
    err = DataError("bad label", "/x/train.txt", 7)
    assert str(err) == "/x/train.txt:7: bad label" and isinstance(err, ValueError)
    assert (err.path, err.line, err.reason) == ("/x/train.txt", 7, "bad label")
    assert str(DataError("empty", "f.csv")) == "f.csv: empty"
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and back.line == 7


def test_utf8_with_bom_decodes_silently(recwarn):
    assert decode_bytes("\ufeffcafé".encode("utf-8")) == "café"
    assert not [w for w in recwarn if issubclass(w.category, DecodingWarning)]


def test_latin1_file_is_read_with_a_warning_naming_file_and_byte(tmp_path):
    p = tmp_path / "mr.txt"
    p.write_bytes(b"1 caf\xe9 ok\n")
    with pytest.warns(UserWarning, match=r"mr\.txt: not valid UTF-8 at byte 5; read as Latin-1"):
        assert read_text_file(p) == "1 caf\xe9 ok\n"


@pytest.mark.parametrize("data", [b"\x00\x01\x02hello", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
                                  bytes(range(1, 9)) * 100])
def test_binary_content_is_refused_naming_the_file(tmp_path, data):
    p = tmp_path / "model.bin"
    p.write_bytes(data)
    with pytest.raises(DataError, match=r"model\.bin: looks like a binary file, not text") as err:
        read_text_file(p)
    assert err.value.path == str(p)


def test_utf16_with_bom_is_decoded(tmp_path):
    p = tmp_path / "u16.txt"
    p.write_bytes("1 héllo\n".encode("utf-16"))
    assert read_text_file(p) == "1 héllo\n"


def test_explicit_encoding_error_names_file_and_byte(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"ok \xff")
    with pytest.raises(DataError, match=r"a\.txt: not valid ascii at byte 3"):
        read_text_file(p, encoding="ascii")
    with pytest.raises(ValueError, match="encoding='nope'"):
        read_text_file(p, encoding="nope")


def test_lines_split_on_newlines_only_never_on_u0085_or_u2028():
    assert split_lines("a\u0085b\u2028c\x0cd\r\ne\rf\n") == ["a\u0085b\u2028c\x0cd", "e", "f"]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_text_file(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="is a folder"):
        read_text_file(tmp_path)


def test_importing_seqcnn_data_imports_no_model_module():
    code = ("import sys, seqcnn.data; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'PIL', 'sklearn', 'vision', 'baselines') or m.startswith(('seqcnn.text', 'seqcnn.signal', "
            "'seqcnn.compare', 'seqcnn.engine'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
