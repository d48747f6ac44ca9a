"""kfold_indices: scikit-learn's seeded folds (stratified or plain), sorted, partitioning the samples."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold, StratifiedKFold

from seqcnn.engine.folds import kfold_indices


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 5), st.integers(0, 10_000), st.lists(st.sampled_from("abc"), min_size=15, max_size=40),
       st.booleans())
def test_folds_are_sklearns_sorted_and_partition_the_samples(cv, seed, labels, stratified):
    y = labels + ["a"] * cv + ["b"] * cv  # at least cv members in two classes
    folds = kfold_indices(y, cv, seed, stratified=stratified)
    ref = (StratifiedKFold if stratified else KFold)(cv, shuffle=True, random_state=seed)
    ref = list(ref.split(np.zeros(len(y)), y if stratified else None))
    assert len(folds) == cv
    for (tr, te), (rtr, rte) in zip(folds, ref):
        assert np.array_equal(tr, np.sort(rtr)) and np.array_equal(te, np.sort(rte))
        assert np.all(np.diff(te) > 0) and not set(tr) & set(te)
    assert sorted(np.concatenate([te for _, te in folds]).tolist()) == list(range(len(y)))


def test_multilabel_lists_use_plain_kfold():
    y = [["a", "b"], [], ["c"], ["a"], ["b", "c"], ["a"]]
    folds = kfold_indices(y, 3, 0, stratified=False)
    assert [len(te) for _, te in folds] == [2, 2, 2]
