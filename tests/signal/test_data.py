"""Readers (.ts, UCR .tsv), input conversion (padding + mask, missing values) and normalisation."""
import numpy as np
import pytest

from seqcnn.signal import read_ts, read_ucr_tsv, to_padded
from seqcnn.signal.data import apply_dataset_stats, dataset_stats, znorm_series

from .conftest import write_ts


# ----------------------------------------------------------------------------- read_ts
def test_read_ts_univariate_equal_length_gives_n_c_l_array_and_string_labels(tmp_path):
    cases = [np.array([[1.0, 2.0, 3.0]]), np.array([[4.0, 5.0, 6.5]])]
    p = write_ts(tmp_path / "a.ts", cases, ["up", "down"], classes=["up", "down"])
    X, y = read_ts(p)
    assert isinstance(X, np.ndarray) and X.shape == (2, 1, 3)
    np.testing.assert_allclose(X[1, 0], [4.0, 5.0, 6.5])
    assert list(y) == ["up", "down"] and y.dtype.kind == "U"


def test_read_ts_numeric_labels_come_back_as_integers(tmp_path):
    p = write_ts(tmp_path / "n.ts", [np.ones((1, 4)), np.zeros((1, 4))], [1, 2], classes=["1", "2"])
    _, y = read_ts(p)
    assert y.dtype.kind == "i" and list(y) == [1, 2]


def test_read_ts_multivariate_splits_dimensions_on_colons(tmp_path):
    cases = [np.arange(10, dtype=float).reshape(2, 5), -np.arange(10, dtype=float).reshape(2, 5)]
    p = write_ts(tmp_path / "m.ts", cases, ["a", "b"])
    X, y = read_ts(p)
    assert X.shape == (2, 2, 5)
    np.testing.assert_allclose(X[0], cases[0])
    np.testing.assert_allclose(X[1], cases[1])


def test_read_ts_unequal_length_gives_a_list_of_c_li_arrays(tmp_path):
    cases = [np.ones((2, 3)), np.ones((2, 7)), np.ones((2, 1))]
    p = write_ts(tmp_path / "r.ts", cases, ["a", "b", "a"])
    X, y = read_ts(p)
    assert isinstance(X, list) and [x.shape for x in X] == [(2, 3), (2, 7), (2, 1)]
    assert list(y) == ["a", "b", "a"]


def test_read_ts_missing_values_question_mark_and_nan_become_nan(tmp_path):
    text = ("@problemName M\n@missing true\n@univariate true\n@equalLength true\n@seriesLength 4\n"
            "@classLabel true x y\n@data\n1,?,3,4:x\n1,2,NaN,4:y\n")
    p = tmp_path / "miss.ts"
    p.write_text(text)
    X, _ = read_ts(p)
    assert np.isnan(X[0, 0, 1]) and np.isnan(X[1, 0, 2])
    assert np.isfinite(X[0, 0, [0, 2, 3]]).all()


def test_read_ts_latin1_file_with_byte_0x85_is_read(tmp_path):
    body = ("# caf\xe9 \x85 comment\n@problemName L\n@univariate true\n@equalLength true\n@seriesLength 2\n"
            "@classLabel true a b\n@data\n1,2:a\r\n3,4:b\r\n")
    p = tmp_path / "latin.ts"
    p.write_bytes(body.encode("latin-1"))
    X, y = read_ts(p)
    assert X.shape == (2, 1, 2) and list(y) == ["a", "b"]


HEADER = "@problemName B\n@univariate true\n@equalLength false\n@classLabel true a b\n"


@pytest.mark.parametrize(
    "body, line, fragment",
    [
        ("@problemName B\n@classLabel true a b\n1,2:a\n", 3, "before the @data"),
        (HEADER + "@data\n1,2,3:a\n4,5:c\n", 7, "not declared"),
        (HEADER.replace("@univariate true", "@univariate false") + "@data\n1,2:3,4:a\n1,2:b\n", 7, "dimension"),
        (HEADER + "@data\n1,2,3:a\n4,x,6:b\n", 7, "non-numeric"),
        (HEADER + "@data\n1,2:3,4:a\n", 6, "declares 1"),
        ("@problemName B\n@univariate true\n@classLabel true a\n@seriesLength 3\n@equalLength true\n@data\n"
         "1,2,3:a\n1,2:a\n", 8, "@seriesLength"),
        (HEADER + "@data\n1,2,3\n", 6, "label"),
        ("@problemName B\n@classLabel maybe a\n@data\n", 2, "true or false"),
    ],
    ids=["data-before-@data", "undeclared-label", "dimension-count-changes", "non-numeric-value",
         "more-dims-than-univariate", "length-contradicts-header", "no-label", "bad-bool"],
)
def test_read_ts_malformed_file_raises_value_error_with_the_line_number(tmp_path, body, line, fragment):
    p = tmp_path / "bad.ts"
    p.write_text(body)
    with pytest.raises(ValueError) as err:
        read_ts(p)
    msg = str(err.value)
    assert f"bad.ts:{line}:" in msg and fragment in msg  # FILE:LINE: (seqcnn.data.DataError)


def test_read_ts_without_data_section_raises(tmp_path):
    p = tmp_path / "nodata.ts"
    p.write_text("@problemName X\n@classLabel true a b\n")
    with pytest.raises(ValueError, match="no @data"):
        read_ts(p)


def test_read_ts_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_ts(tmp_path / "nope.ts")


# ----------------------------------------------------------------------------- UCR tsv
def test_read_ucr_tsv_trims_nan_padding_into_a_ragged_list(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("1\t0.5\t0.6\t0.7\n2\t1.0\t2.0\tNaN\n1\t3.0\tNaN\tNaN\n")
    X, y = read_ucr_tsv(p)
    assert [x.shape for x in X] == [(1, 3), (1, 2), (1, 1)]
    assert list(y) == [1, 2, 1]


def test_read_ucr_tsv_equal_length_gives_array(tmp_path):
    p = tmp_path / "e.tsv"
    p.write_text("a\t1\t2\nb\t3\t4\n")
    X, y = read_ucr_tsv(p)
    assert X.shape == (2, 1, 2) and list(y) == ["a", "b"]


# ----------------------------------------------------------------------------- to_padded
def test_two_d_input_becomes_n_1_l():
    values, mask, lengths = to_padded(np.arange(12.0).reshape(3, 4))
    assert values.shape == (3, 1, 4) and mask is None and list(lengths) == [4, 4, 4]


def test_ragged_list_is_padded_with_zeros_and_a_mask():
    X = [np.ones(3), np.ones(5), np.ones(1)]
    values, mask, lengths = to_padded(X)
    assert values.shape == (3, 1, 5)
    assert mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5, [True] + [False] * 4]
    assert values[0, 0, 3:].tolist() == [0.0, 0.0]


def test_trailing_nan_is_padding_not_missing():
    X = np.array([[1.0, 2.0, np.nan, np.nan], [1.0, 2.0, 3.0, 4.0]])
    values, mask, lengths = to_padded(X)
    assert list(lengths) == [2, 4] and not np.isnan(values).any()


def test_nan_inside_a_series_raises_naming_x_and_the_case_by_default():
    X = np.array([[1.0, 2.0, 3.0], [1.0, np.nan, 3.0]])
    with pytest.raises(ValueError, match=r"X\[1\].*NaN.*interpolate"):
        to_padded(X)


def test_interpolate_fills_missing_values_linearly_with_edges_held():
    X = np.array([[np.nan, 1.0, np.nan, 3.0, 4.0]])
    values, _, _ = to_padded(X, missing="interpolate")
    np.testing.assert_allclose(values[0, 0], [1.0, 1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("X, exc, fragment", [
    (np.array([[1.0, np.inf, 2.0]]), ValueError, "inf"),
    (np.zeros((0, 5)), ValueError, "empty"),
    ([], ValueError, "empty"),
    (np.zeros((2, 1, 3, 4)), ValueError, "4 dimension"),
    ([np.ones((2, 4)), np.ones((3, 4))], ValueError, "channel"),
    (np.array([["a", "b"]]), TypeError, "numbers"),
    ([np.ones(3), np.ones(0)], ValueError, "length 0"),
])
def test_bad_input_raises_naming_x(X, exc, fragment):
    with pytest.raises(exc, match=fragment) as err:
        to_padded(X)
    assert "X" in str(err.value)


# ----------------------------------------------------------------------------- normalisation
def test_znorm_constant_series_becomes_zeros_not_nan():
    v = np.full((1, 2, 5), 7.0, dtype=np.float32)
    out = znorm_series(v)
    assert np.array_equal(out, np.zeros_like(out))


def test_znorm_uses_valid_steps_only_and_keeps_padding_zero():
    v = np.array([[[1.0, 2.0, 3.0, 0.0, 0.0]]], dtype=np.float32)
    mask = np.array([[True, True, True, False, False]])
    out = znorm_series(v, mask)
    np.testing.assert_allclose(out[0, 0, :3], (np.array([1, 2, 3]) - 2) / np.std([1, 2, 3]), rtol=1e-5)
    assert out[0, 0, 3:].tolist() == [0.0, 0.0]


def test_dataset_statistics_ignore_padded_steps():
    v = np.array([[[1.0, 3.0, 0.0]], [[5.0, 7.0, 9.0]]], dtype=np.float32)
    mask = np.array([[True, True, False], [True, True, True]])
    mean, std = dataset_stats(v, mask)
    assert mean == pytest.approx([5.0]) and std == pytest.approx([np.std([1, 3, 5, 7, 9])])
    out = apply_dataset_stats(v, mask, mean, std)
    assert out[0, 0, 2] == 0.0


def test_read_ts_labels_that_would_collide_as_integers_stay_strings(tmp_path):
    p = write_ts(tmp_path / "c.ts", [np.ones((1, 2)), np.zeros((1, 2))], ["01", "1"], classes=["01", "1"])
    _, y = read_ts(p)
    assert list(y) == ["01", "1"]
