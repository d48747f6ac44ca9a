"""Seeded k-fold splits, the one fold code path of the command line (``--cv``) and of
``seqcnn compare``: stratified for single-label targets, plain shuffled k-fold for multi-label
ones (an indicator matrix or label lists, which scikit-learn cannot stratify)."""
from __future__ import annotations

import numpy as np

__all__ = ["kfold_indices"]


def kfold_indices(y, cv: int, seed: int, *, stratified: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """``cv`` pairs ``(train, test)`` of sorted index arrays over the ``len(y)`` samples, shuffled
    with ``seed``: ``StratifiedKFold`` on the labels ``y`` when ``stratified``, else ``KFold``
    (``y`` then only gives the number of samples). The folds are scikit-learn's, so they equal
    those of ``StratifiedKFold(cv, shuffle=True, random_state=seed).split(X, y)``."""
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=cv, shuffle=True, random_state=seed)
    return [(np.sort(tr), np.sort(te)) for tr, te in splitter.split(np.zeros(n), y if stratified else None)]
