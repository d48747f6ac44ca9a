"""Tiny data sets and models for the compare tests (importable by subprocesses as tests.compare._tiny)."""
import hashlib
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.naive_bayes import GaussianNB

from seqcnn.compare import DatasetSpec, LoadedData, ModelSpec

POS = ["good", "great", "fine", "lovely", "superb", "nice"]
NEG = ["bad", "awful", "poor", "dull", "boring", "ugly"]
FILL = ["the", "movie", "plot", "was", "a", "very", "and", "film"]


def make_texts(n=36, seed=0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        lab = "pos" if i % 2 == 0 else "neg"
        words = list(rng.choice(FILL, 4)) + list(rng.choice(POS if lab == "pos" else NEG, 2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(lab)
    return texts, labels


def write_csv(path, n=36, seed=0):
    texts, labels = make_texts(n, seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text,label\n")
        for t, lab in zip(texts, labels):
            fh.write(f"{t},{lab}\n")
    return path


def _series(n=40, seed=0, length=16):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 1, length)) + y[:, None, None] * 1.5
    return X, y


def _load_series(_data_dir):
    X, y = _series()
    return LoadedData(X, y, hashlib.sha256(X.tobytes()).hexdigest())


def _load_series_given(_data_dir):
    X, y = _series(60, seed=1)
    part = np.array(["train"] * 40 + ["test"] * 20)
    return LoadedData(X, y, hashlib.sha256(X.tobytes()).hexdigest(), part)


SERIES = DatasetSpec("tiny-series", "signal", "kfold", _load_series, "synthetic two-class series")
SERIES_GIVEN = DatasetSpec("tiny-given", "signal", "train_test", _load_series_given, "synthetic, given split")


class SlowGNB(ClassifierMixin, BaseEstimator):
    """GaussianNB on flattened series that sleeps in fit (to be killed mid-run)."""

    def __init__(self, delay=0.4):
        self.delay = delay

    def fit(self, X, y):
        time.sleep(self.delay)
        self.nb_ = GaussianNB().fit(np.asarray(X).reshape(len(X), -1), y)
        self.classes_ = self.nb_.classes_
        return self

    def predict(self, X):
        return self.nb_.predict(np.asarray(X).reshape(len(X), -1))


class Flat1NN(ClassifierMixin, BaseEstimator):
    def __init__(self, n_neighbors=1):
        self.n_neighbors = n_neighbors

    def fit(self, X, y):
        from sklearn.neighbors import KNeighborsClassifier

        self.knn_ = KNeighborsClassifier(self.n_neighbors).fit(np.asarray(X).reshape(len(X), -1), y)
        self.classes_ = self.knn_.classes_
        return self

    def predict(self, X):
        return self.knn_.predict(np.asarray(X).reshape(len(X), -1))


SLOW_A = ModelSpec("slow-a", ("signal",), "tests.compare._tiny:SlowGNB")
SLOW_B = ModelSpec("slow-b", ("signal",), "tests.compare._tiny:SlowGNB", params={"delay": 0.3})
NN = ModelSpec("flat-1nn", ("signal",), "tests.compare._tiny:Flat1NN")


def kill_target(out_dir):
    """Entry point of the subprocess of the kill -9 test."""
    from seqcnn.compare import run_comparison

    run_comparison([SERIES], [SLOW_A, SLOW_B], cv=4, out_dir=out_dir, verbose=0, report=False)


def _load_series2(_data_dir):
    X, y = _series(30, seed=7, length=12)
    return LoadedData(X, y, hashlib.sha256(X.tobytes()).hexdigest())


SERIES2 = DatasetSpec("tiny-series-2", "signal", "kfold", _load_series2, "another synthetic two-class set")


class DeviceRecorder(Flat1NN):
    """A stand-in CNN: refuses to fit unless its ``device`` is the one the test expects."""

    def __init__(self, n_neighbors=1, device="auto", expect="auto"):
        super().__init__(n_neighbors)
        self.device = device
        self.expect = expect

    def fit(self, X, y):
        if self.device != self.expect:
            raise RuntimeError(f"fitted on device {self.device!r}, expected {self.expect!r}")
        return super().fit(X, y)


FAKE_CNN = ModelSpec("fake-cnn", ("signal",), "tests.compare._tiny:DeviceRecorder", kind="cnn",
                     params={"expect": "cpu"})
BASE_WITH_DEVICE = ModelSpec("base-dev", ("signal",), "tests.compare._tiny:DeviceRecorder")


class ThreadRecorder(Flat1NN):
    """Writes ``torch.get_num_threads()`` and the BLAS pools' limits, as seen inside ``fit``, to a
    file under ``record_dir`` (one file per process and call)."""

    def __init__(self, n_neighbors=1, record_dir=None):
        super().__init__(n_neighbors)
        self.record_dir = record_dir

    def fit(self, X, y):
        import json
        import os
        import uuid

        import torch
        from threadpoolctl import threadpool_info

        blas = sorted({p["num_threads"] for p in threadpool_info()})
        with open(os.path.join(self.record_dir, f"{os.getpid()}-{uuid.uuid4().hex}.json"), "w") as fh:
            json.dump({"torch": torch.get_num_threads(), "blas": blas, "pid": os.getpid()}, fh)
        return super().fit(X, y)


class AlwaysFails(Flat1NN):
    """Raises in ``fit`` (a cell that fails)."""

    def fit(self, X, y):
        raise RuntimeError("this cell always fails")


THREADS = ModelSpec("thread-recorder", ("signal",), "tests.compare._tiny:ThreadRecorder")
FAILS = ModelSpec("always-fails", ("signal", "text"), "tests.compare._tiny:AlwaysFails")


class Subsample1NN(Flat1NN):
    """1-NN on a random half of the training part: its score depends on ``random_state``."""

    def __init__(self, n_neighbors=1, random_state=None):
        super().__init__(n_neighbors)
        self.random_state = random_state

    def fit(self, X, y):
        rng = np.random.default_rng(self.random_state)
        keep = np.sort(rng.permutation(len(y))[: max(2, len(y) // 2)])
        return super().fit(np.asarray(X)[keep], np.asarray(y)[keep])


class ValRecorder(Flat1NN):
    """A stand-in CNN that takes ``validation_data`` and records what it saw in ``seen_``."""

    def fit(self, X, y, validation_data=None):
        self.seen_ = {"n_train": len(y), "n_val": None if validation_data is None else len(validation_data[1])}
        self.history_ = [{"epoch": 1}]
        if validation_data is not None:
            self.n_neighbors = 1 + len(validation_data[1]) % 2  # unused; keeps the data touched
        return super().fit(X, y)


SUBSAMPLE = ModelSpec("subsample-1nn", ("signal",), "tests.compare._tiny:Subsample1NN")
VAL_CNN = ModelSpec("val-cnn", ("signal",), "tests.compare._tiny:ValRecorder", kind="cnn")


def _load_series_dev(_data_dir):
    X, y = _series(60, seed=2)
    part = np.array(["train"] * 30 + ["dev"] * 10 + ["test"] * 20)
    return LoadedData(X, y, hashlib.sha256(X.tobytes()).hexdigest(), part)


SERIES_DEV = DatasetSpec("tiny-dev", "signal", "train_dev_test", _load_series_dev, "synthetic, train/dev/test")

TOPICS = {"sport": ["goal", "match", "team"], "food": ["pizza", "bread", "soup"], "music": ["song", "band", "drum"]}


def make_multilabel_texts(n=48, seed=0):
    """Texts about one or two of three topics, with their label lists (multi-label)."""
    rng = np.random.default_rng(seed)
    names = sorted(TOPICS)
    texts, labels = [], []
    for i in range(n):
        k = 1 + (i % 3 == 0)
        chosen = sorted(rng.choice(names, k, replace=False).tolist())
        words = [w for t in chosen for w in rng.choice(TOPICS[t], 2).tolist()] + rng.choice(FILL, 3).tolist()
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(chosen)
    return texts, labels


def _load_multilabel(seed):
    def load(_data_dir):
        texts, labels = make_multilabel_texts(seed=seed)
        return LoadedData(texts, labels, hashlib.sha256(repr((texts, labels)).encode()).hexdigest())
    return load


ML_A = DatasetSpec("tiny-ml-a", "text", "kfold", _load_multilabel(0), "synthetic multi-label text")
ML_B = DatasetSpec("tiny-ml-b", "text", "kfold", _load_multilabel(1), "another synthetic multi-label text")


def make_ovr(C=1.0):
    """TF-IDF + one-vs-rest logistic regression: a multi-label model from scikit-learn alone."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=C)))


def make_first_label():
    """A weak multi-label model: the label set seen most often in training, for every text."""
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="most_frequent")


OVR = ModelSpec("ovr-lr", ("text",), "tests.compare._tiny:make_ovr")
OVR_WEAK = ModelSpec("ovr-weak", ("text",), "tests.compare._tiny:make_ovr", kwargs={"C": 0.01})
DUMMY_ML = ModelSpec("dummy-ml", ("text",), "tests.compare._tiny:make_first_label")
