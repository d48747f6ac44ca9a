"""Shared fixtures of the text tests: tiny synthetic corpora and one torch thread (the CI
machine has 2 shared cores; several threads per process only thrash)."""
import numpy as np
import pytest
import torch

POS = ["good", "great", "fine", "superb"]
NEG = ["bad", "awful", "poor", "dull"]
FILLER = ["the", "movie", "was", "a", "plot", "and", "it", "story", "very"]


def make_corpus(n=200, seed=0):
    """Sentences of 4–13 filler words with one polarity word somewhere; labels "pos"/"neg"."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        lab = i % 2
        words = list(rng.choice(FILLER, rng.integers(3, 12)))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(POS if lab else NEG)))
        X.append(" ".join(words))
        y.append("pos" if lab else "neg")
    return X, y


TINY = dict(embedding_dim=8, num_filters=4, max_epochs=2, batch_size=16, verbose=0, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def corpus():
    return make_corpus(120)
