"""UCR 2018 ``.tsv`` files as shipped (label first, tab-separated, NaN-padded variable lengths,
NaN for missing values) read with the same ``missing=`` policy as ``.ts`` files, and fed to
MiniRocket: the same cases written in both formats give the same series."""
import numpy as np
import pytest

from seqcnn.data import DataError, read_ts, read_ucr_tsv
from seqcnn.signal import MiniRocket, MiniRocketClassifier
from seqcnn.signal.data import to_padded

from .conftest import sine_square

# three cases of lengths 4, 4 (one interior NaN, then one padding NaN) and 2 (two padding NaN)
TSV = "1\t0.5\t0.6\t0.7\t0.8\n2\t1.0\tNaN\t3.0\tNaN\n1\t3.0\t4.0\tNaN\tNaN\n"
TS = ("@problemName A\n@univariate true\n@equalLength false\n@classLabel true 1 2\n@data\n"
      "0.5,0.6,0.7,0.8:1\n1.0,?,3.0,?:2\n3.0,4.0,?,?:1\n")


@pytest.fixture
def both(tmp_path):
    (tmp_path / "A_TRAIN.tsv").write_text(TSV)
    (tmp_path / "A_TRAIN.ts").write_text(TS)
    return tmp_path / "A_TRAIN.tsv", tmp_path / "A_TRAIN.ts"


def _series(X):
    return [np.asarray(x, dtype=np.float64) for x in X]


def test_raise_refuses_an_interior_nan_in_both_formats_naming_the_step(both):
    tsv, ts = both
    for reader, path in ((read_ucr_tsv, tsv), (read_ts, ts)):
        with pytest.raises(DataError, match=r"missing value \(NaN\) inside the series \(step 1\)"):
            reader(path, missing="raise")


def test_interpolate_gives_the_same_ragged_series_in_both_formats(both):
    tsv, ts = both
    Xa, ya = read_ucr_tsv(tsv, missing="interpolate")
    Xb, yb = read_ts(ts, missing="interpolate")
    assert [x.shape for x in Xa] == [(1, 4), (1, 3), (1, 2)]
    for a, b in zip(_series(Xa), _series(Xb)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Xa[1][0], [1.0, 2.0, 3.0])
    assert ya.tolist() == yb.tolist() == [1, 2, 1]


def test_keep_leaves_the_interior_nan_and_both_formats_pad_alike(both):
    """``keep``: the .tsv reader trims the archive's NaN padding, the .ts reader leaves trailing
    NaN as written; the padded batch the estimators see (trailing all-NaN steps are padding)
    is the same for both."""
    tsv, ts = both
    Xa, _ = read_ucr_tsv(tsv, missing="keep")
    Xb, _ = read_ts(ts, missing="keep")
    assert np.isnan(Xa[1][0, 1]) and Xa[1].shape == (1, 3)
    va, ma, la = to_padded(Xa, missing="interpolate")
    vb, mb, lb = to_padded(Xb, missing="interpolate")
    np.testing.assert_array_equal(la, [4, 3, 2])
    np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(va, vb)


def test_minirocket_reads_a_nan_padded_tsv_set_as_ragged_series(tmp_path):
    X, y = sine_square(n_per_class=8, length=40, seed=0)
    ragged = [x[: 25 + (i * 7) % 16] for i, x in enumerate(X)]
    lines = ["\t".join([str(label)] + [repr(float(v)) for v in x] + ["NaN"] * (40 - len(x)))
             for label, x in zip(y, ragged)]
    path = tmp_path / "Rag_TRAIN.tsv"
    path.write_text("\n".join(lines) + "\n")
    Xr, yr = read_ucr_tsv(path)
    assert isinstance(Xr, list) and [x.shape[-1] for x in Xr] == [len(x) for x in ragged]
    clf = MiniRocketClassifier(num_features=840, random_state=0).fit(Xr, yr)
    assert clf.transformer_.series_length_ is None
    np.testing.assert_array_equal(clf.transformer_.transform(Xr), clf.transformer_.transform(ragged))
    assert clf.score(Xr, yr) >= 0.9


def test_reader_and_estimator_interpolate_a_missing_value_identically(tmp_path):
    """A missing value filled at read time (``read_ucr_tsv(missing="interpolate")``) and one left
    for MiniRocket (``missing="keep"`` then ``MiniRocket(missing="interpolate")``) give the same
    features; MiniRocket's default refuses it."""
    X, _ = sine_square(n_per_class=4, length=30, seed=1)
    X = X.copy()
    X[3, 11] = np.nan
    path = tmp_path / "Miss_TRAIN.tsv"
    path.write_text("\n".join("\t".join(["1"] + ["NaN" if np.isnan(v) else repr(float(v)) for v in x])
                              for x in X) + "\n")
    filled, _ = read_ucr_tsv(path, missing="interpolate")
    kept, _ = read_ucr_tsv(path, missing="keep")
    assert np.isnan(kept[3, 0, 11]) and not np.isnan(filled).any()
    a = MiniRocket(num_features=840, random_state=0).fit(filled).transform(filled)
    b = MiniRocket(num_features=840, random_state=0, missing="interpolate").fit(kept).transform(kept)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="NaN inside the series"):
        MiniRocket(num_features=840, random_state=0).fit(kept)
