"""Shared helpers for the signal tests: tiny synthetic series and .ts writers."""
import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # The CI machine is shared: one intra-op thread is much faster than two fighting threads.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def sine_square(n_per_class=20, length=48, noise=0.3, seed=0):
    """Sine waves (label 'sine') vs square waves ('square'), random phase/frequency, noisy."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    X, y = [], []
    for label in ("sine", "square"):
        for _ in range(n_per_class):
            f = rng.uniform(1.5, 3.0) / length
            ph = rng.uniform(0, 2 * np.pi)
            base = np.sin(2 * np.pi * f * t + ph)
            s = base if label == "sine" else np.sign(base)
            X.append(s + noise * rng.standard_normal(length))
            y.append(label)
    return np.asarray(X), np.asarray(y)


def write_ts(path, cases, labels, *, header=None, classes=None, univariate=None, equal=None):
    """Write a .ts file: cases are (C, L) arrays (or lists of per-dimension value lists)."""
    if classes is None:
        classes = sorted({str(v) for v in labels})
    lines = ["# written by a test", "@problemName Test"]
    if header is not None:
        lines += header
    else:
        dims = len(cases[0])
        lines.append(f"@univariate {'true' if (univariate if univariate is not None else dims == 1) else 'false'}")
        if dims > 1:
            lines.append(f"@dimensions {dims}")
        lens = {len(c[0]) for c in cases}
        eq = equal if equal is not None else len(lens) == 1
        lines.append(f"@equalLength {'true' if eq else 'false'}")
        if eq:
            lines.append(f"@seriesLength {lens.pop()}")
        lines.append("@classLabel true " + " ".join(classes))
        lines.append("@data")
    for c, lab in zip(cases, labels):
        dims = [",".join("?" if (isinstance(v, float) and np.isnan(v)) else repr(float(v)) for v in d) for d in c]
        lines.append(":".join(dims) + f":{lab}")
    path.write_text("\n".join(lines) + "\n")
    return path
