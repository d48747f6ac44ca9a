"""Series readers: UCR .tsv as shipped (NaN padding, interior NaN under missing=), ARFF, dispatch."""
import numpy as np
import pytest

from seqcnn.data import DataError, read_arff, read_series_dataset, read_ts, read_ucr_tsv
from seqcnn.signal import read_ts as signal_read_ts
from seqcnn.signal.data import read_ucr_tsv as signal_read_ucr_tsv


def test_old_import_paths_are_the_same_functions():
    assert signal_read_ts is read_ts and signal_read_ucr_tsv is read_ucr_tsv


def test_ucr_nan_padding_gives_a_ragged_list(tmp_path):
    p = tmp_path / "Var_TRAIN.tsv"
    p.write_text("1\t0.5\t0.6\t0.7\n2\t1.0\t2.0\tNaN\n1\t3.0\tNaN\tNaN\n")
    X, y = read_ucr_tsv(p)
    assert [x.shape for x in X] == [(1, 3), (1, 2), (1, 1)] and y.tolist() == [1, 2, 1]


def test_ucr_interior_nan_raises_by_default_naming_line_and_step(tmp_path):
    p = tmp_path / "Miss_TRAIN.tsv"
    p.write_text("1\t0.0\t1.0\t2.0\n2\t1.0\tNaN\t3.0\tNaN\n")
    with pytest.raises(DataError, match=r"Miss_TRAIN\.tsv:2: missing value \(NaN\) inside the series \(step 1\)"):
        read_ucr_tsv(p)


def test_ucr_interior_nan_interpolated_or_kept(tmp_path):
    p = tmp_path / "Miss_TRAIN.tsv"
    p.write_text("1\t0.0\t1.0\t2.0\n2\t1.0\tNaN\t3.0\tNaN\n")
    X, _ = read_ucr_tsv(p, missing="interpolate")
    np.testing.assert_allclose(X[1][0], [1.0, 2.0, 3.0])  # trailing NaN trimmed, interior filled
    X, _ = read_ucr_tsv(p, missing="keep")
    assert np.isnan(X[1][0, 1]) and X[1].shape == (1, 3)
    with pytest.raises(ValueError, match="missing must be one of"):
        read_ucr_tsv(p, missing="drop")


def test_ucr_missing_label_inf_and_all_nan(tmp_path):
    p = tmp_path / "x.tsv"
    p.write_text("1\t1\t2\n\t3\t4\n")
    with pytest.raises(DataError, match=r"x\.tsv:2: the class label is missing"):
        read_ucr_tsv(p)
    p.write_text("1\t1\tinf\n")
    with pytest.raises(DataError, match=r"x\.tsv:1: value 'inf' is not finite"):
        read_ucr_tsv(p)
    p.write_text("1\t1\t2\n2\tNaN\tNaN\n")
    with pytest.raises(DataError, match=r"x\.tsv:2: the series holds no values"):
        read_ucr_tsv(p)


def test_ucr_old_space_separated_txt(tmp_path):
    p = tmp_path / "old.txt"
    p.write_text("  1.0000000e+00  -1.5 2.5\n  2.0000000e+00  0.5 1.5\n")
    X, y = read_series_dataset(p)
    assert X.shape == (2, 1, 2)


def test_read_ts_missing_policy_is_optional_and_keeps_nan_by_default(tmp_path):
    p = tmp_path / "m.ts"
    p.write_text("@problemName M\n@classLabel true a b\n@data\n1,?,3:a\n4,5,6:b\n")
    X, _ = read_ts(p)
    assert np.isnan(X[0, 0, 1])
    X, _ = read_series_dataset(p, missing="interpolate")
    np.testing.assert_allclose(X[0, 0], [1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=r"m\.ts:4: missing value"):
        read_ts(p, missing="raise")


ARFF = """% a comment
@relation Toy
@attribute t0 numeric
@attribute t1 numeric
@attribute t2 numeric
@attribute target {up,down}
@data
1,2,3,up
3,2,?,down
"""


def test_arff_univariate(tmp_path):
    p = tmp_path / "toy.arff"
    p.write_text(ARFF)
    X, y = read_arff(p)
    assert [x.shape for x in X] == [(1, 3), (1, 2)] and y.tolist() == ["up", "down"]
    assert read_series_dataset(p)[1].tolist() == ["up", "down"]


def test_arff_bad_class_and_field_count(tmp_path):
    p = tmp_path / "toy.arff"
    p.write_text(ARFF.replace("3,2,?,down", "3,2,1,sideways"))
    with pytest.raises(DataError, match=r"toy\.arff:9: class 'sideways' is not one of"):
        read_arff(p)
    p.write_text(ARFF.replace("3,2,?,down", "3,2,down"))
    with pytest.raises(DataError, match=r"toy\.arff:9: expected 3 values and a class"):
        read_arff(p)
    p.write_text(ARFF.replace("@attribute t1 numeric", "@attribute t1 string"))
    with pytest.raises(DataError, match=r"toy\.arff:4: attribute 't1' has type 'string'"):
        read_arff(p)


def test_arff_multivariate_relational(tmp_path):
    p = tmp_path / "mv.arff"
    p.write_text("@relation MV\n@attribute series relational\n@attribute t0 numeric\n@attribute t1 numeric\n"
                 "@end series\n@attribute activity {walk,run}\n@data\n'1,2\\n3,4',walk\n'5,6\\n7,8',run\n")
    X, y = read_arff(p)
    assert X.shape == (2, 2, 2) and y.tolist() == ["walk", "run"]
    np.testing.assert_allclose(X[1], [[5, 6], [7, 8]])


def test_unknown_series_suffix(tmp_path):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"x\.parquet: unknown series file suffix"):
        read_series_dataset(p)
