"""MiniRocket (Dempster, Schmidt & Webb, KDD 2021) on torch convolution.

:class:`MiniRocket` is a scikit-learn transformer: series → about ``num_features`` (9,996 by
default) "proportion of positive values" (PPV) features. :class:`MiniRocketClassifier` is
MiniRocket + standardisation + ``RidgeClassifierCV`` (logistic regression for large training
sets), saved and loaded like every seqcnn model (safetensors + JSON, no pickle).

The transform, as the paper describes it
    * 84 fixed kernels of length 9: every way of placing three weights 2 among six weights −1
      (the weights sum to 0, so a kernel sees shape, not level).
    * Dilations ``floor(2**e)`` for ``e`` evenly spaced in ``[0, log2((L − 1) / 8)]``
      (``min(num_features // 84, max_dilations_per_kernel)`` values before removing duplicates),
      so the widest kernel spans the whole series; the ``num_features // 84`` features per kernel
      are shared out between the dilations (duplicated dilations get more).
    * Biases: for each (dilation, kernel) the convolution output of one randomly chosen training
      series; its quantiles at a low-discrepancy sequence (fractional parts of ``i·φ``, φ the
      golden ratio) are the biases of that combination's features.
    * Padding alternates: for half of the (dilation, kernel) combinations, in a chequerboard
      pattern, the output is "same" (zero padding of ``4·dilation`` on each side) and PPV is
      taken over all ``L`` steps; for the other half PPV is taken over the ``L − 8·dilation``
      steps that need no padding.
    * PPV: the share of output steps whose value exceeds the bias.
    * Multivariate input: each (dilation, kernel) combination sums the kernel's output over a
      random subset of ``floor(2**u)`` channels, ``u ~ U[0, log2(min(C, 9) + 1))``.

What makes it fast here
    A kernel with weights −1 and 2 equals ``−Σ shifted copies + 3·(three shifted copies)``, so the
    84 outputs of one dilation are one small matrix product: the 9 shifted views of the series
    (``unfold`` of the zero-padded input, 9·C rows) times a fixed (84, 9·C) matrix of −1/2 weights
    (with the channel choices folded in) — one GEMM per dilation and batch of series, i.e. a
    dilated ``conv1d`` with 84 output channels written as the matrix product it is. PPV is
    :class:`~seqcnn.signal.ppv.PPVPool`: on the CPU a fused numba loop that counts four biases
    per pass over each output row in registers (about 0.05 ns per comparison), on CUDA a
    broadcast comparison and a sum; the chequerboard's two halves are every other kernel, so
    features are written in their final order straight into the output. The GEMM's input and
    output buffers are reused across dilations. Batches are bounded in memory (``batch_size``)
    and spread over ``n_jobs`` worker threads running single-threaded ops (the numba loop
    releases the GIL). The ridge (:func:`ridge_loo`) is solved for every penalty from one
    eigendecomposition of the N × N Gram matrix, and prediction folds the standardisation into
    the weights (docs/signal.md has the measurements).

Variable lengths
    A list of series of different lengths is accepted. Dilations and the number of features come
    from the longest training series; each series' PPV is taken over its own valid steps only
    (the padded steps are masked), with "valid only" combinations restricted to steps
    ``[4·d, Lᵢ − 4·d)`` — or all ``Lᵢ`` steps when that range is empty. Series shorter than 9
    steps are accepted: the dilations are computed as for 9 steps (dilation 1 only) and PPV falls
    back to all steps, which is what zero-padding the convolution gives.

Length and channel checks
    A model fitted on equal-length series of length L refuses series of another length at
    transform/predict time (``ValueError`` naming both); one fitted on series of different lengths
    accepts any length. The number of channels must always match.
"""
from __future__ import annotations

import itertools
import math
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from seqcnn.engine.estimator import validate_class_targets

from .data import to_padded
from .ppv import PPVPool

__all__ = ["MiniRocket", "MiniRocketClassifier", "kernel_weights", "fit_dilations", "ridge_loo"]

KERNEL_LENGTH = 9
N_KERNELS = 84
_FORMAT = "seqcnn.signal.minirocket/1"
# Bytes of the comparison buffer (42 kernels × batch × biases × time steps, float32).
_CPU_BUFFER_BYTES = 8 << 20
# The comparison buffer itself on the CPU: small enough to stay in a shared L3 cache.
_CPU_COMPARISON_BYTES = 4 << 20
_CUDA_BUFFER_BYTES = 512 << 20


def _make_kernels() -> np.ndarray:
    w = -np.ones((N_KERNELS, KERNEL_LENGTH), dtype=np.float32)
    for k, idx in enumerate(itertools.combinations(range(KERNEL_LENGTH), 3)):
        w[k, list(idx)] = 2.0
    w.setflags(write=False)
    return w


_KERNELS = _make_kernels()


def kernel_weights() -> np.ndarray:
    """The 84 kernels, (84, 9) float32: −1 everywhere and 2 at three positions, in
    lexicographic order of the three positions ((0,1,2), (0,1,3), ..., (6,7,8)). A copy."""
    return _KERNELS.copy()


def fit_dilations(length: int, num_features: int, max_dilations_per_kernel: int):
    """Dilations and features per dilation for series of ``length`` steps (the paper's rule).

    Returns ``(dilations, features_per_dilation)``, two int64 arrays of equal size;
    ``84 * features_per_dilation.sum() == 84 * (num_features // 84)``. Lengths below 9 count as 9.
    """
    per_kernel = num_features // N_KERNELS
    n_dil = min(per_kernel, max_dilations_per_kernel)
    multiplier = per_kernel / n_dil
    max_exponent = math.log2((max(length, KERNEL_LENGTH) - 1) / (KERNEL_LENGTH - 1))
    raw = np.floor(np.logspace(0, max_exponent, n_dil, base=2)).astype(np.int64)
    dilations, counts = np.unique(raw, return_counts=True)
    per_dilation = (counts * multiplier).astype(np.int64)
    remainder = per_kernel - int(per_dilation.sum())
    i = 0
    while remainder > 0:  # hand the rounding remainder out one by one, smallest dilation first
        per_dilation[i] += 1
        remainder -= 1
        i = (i + 1) % len(per_dilation)
    return dilations, per_dilation


def _quantile_sequence(n: int) -> np.ndarray:
    """Low-discrepancy quantiles in (0, 1): fractional parts of i·φ for i = 1..n (float64)."""
    phi = (math.sqrt(5.0) + 1.0) / 2.0
    return (np.arange(1, n + 1, dtype=np.float64) * phi) % 1.0


def _check_int(value, name: str, minimum: int):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _resolve_device(device) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available")
    return dev


def _n_workers(n_jobs) -> int:
    import os

    if n_jobs is None:
        return 1
    return (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)


class _OneThread:
    """Run torch's CPU ops single-threaded (restored afterwards). MiniRocket's ops are small;
    splitting each over OpenMP threads costs more than it saves, and collapses when another
    process holds a core. Parallelism comes from ``n_jobs`` worker threads instead."""

    def __enter__(self):
        self.before = torch.get_num_threads()
        if self.before != 1:
            torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self.before != 1:
            torch.set_num_threads(self.before)


class MiniRocket(TransformerMixin, BaseEstimator):
    """The MiniRocket transform (Dempster, Schmidt & Webb 2021); see the module docstring.

    Parameters
    ----------
    num_features : int >= 84
        Target number of features; the transform makes ``84 * (num_features // 84)`` (9,996 for
        the default 10,000).
    max_dilations_per_kernel : int >= 1
        At most this many dilations (before duplicates are merged).
    random_state : int, RandomState or None
        Seeds the choice of the series the biases come from (and of the channels, for
        multivariate input). The same seed gives identical features.
    n_jobs : int or None
        Worker threads of the transform, each running single-threaded torch ops on its own
        batches of series (-1: one per core; None: 1). torch's own thread setting is restored
        afterwards. (:class:`MiniRocketClassifier` fits its linear model with one BLAS thread.)
    batch_size : int or None
        Series per batch of the transform. None: as many as keep one batch's comparisons near
        8 MB on the CPU (compared 4 MB at a time; 512 MB on CUDA), so memory stays bounded
        whatever N is.
    device : "auto" (CUDA when present), "cpu" or "cuda[:i]".
    missing : "raise" or "interpolate" — a NaN inside a series (see
        :func:`~seqcnn.signal.data.to_padded`; trailing all-NaN steps are padding).

    Input ``X``: an array (N, L) or (N, C, L), or a list of (C, Lᵢ)/(Lᵢ,) arrays.
    ``transform`` returns float32 (N, n_features_out_), in [0, 1].

    Fitted attributes: ``n_channels_``, ``reference_length_`` (the longest training series),
    ``series_length_`` (L when every training series has length L, else None), ``dilations_``,
    ``features_per_dilation_``, ``channel_mask_`` (n_dilations, 84, C) bool, ``biases_``
    (n_features_out_,) float32, ``n_features_out_``.
    """

    def __init__(self, num_features=10_000, max_dilations_per_kernel=32, random_state=None, n_jobs=1,
                 batch_size=None, device="auto", missing="raise"):
        self.num_features = num_features
        self.max_dilations_per_kernel = max_dilations_per_kernel
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.missing = missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = self.missing == "interpolate"
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float32"]  # features are float32 whatever X is
        return tags

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        _check_int(self.num_features, "num_features", N_KERNELS)
        _check_int(self.max_dilations_per_kernel, "max_dilations_per_kernel", 1)
        if self.batch_size is not None:
            _check_int(self.batch_size, "batch_size", 1)
        if self.n_jobs is not None:
            n = _check_int(self.n_jobs, "n_jobs", -1)
            if n == 0:
                raise ValueError("n_jobs must be >= 1 or -1 (every core), got 0")
        if self.missing not in ("raise", "interpolate"):
            raise ValueError(f"missing must be 'raise' or 'interpolate', got {self.missing!r}")
        return _resolve_device(self.device)

    def _series(self, X, *, fitting: bool):
        """(values float32 (N, C, L), lengths int64 (N,)) after validation and the length check."""
        n_channels = None if fitting else self.n_channels_
        values, _mask, lengths = to_padded(X, missing=self.missing, name="X", n_channels=n_channels)
        if not fitting:
            check_series_length(self.series_length_, lengths)
        return values, lengths

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Choose dilations, channels and biases from the training series ``X`` (``y`` ignored)."""
        device = self._check_params()
        values, lengths = self._series(X, fitting=True)
        return self._fit_values(values, lengths, device)

    def _fit_values(self, values: np.ndarray, lengths: np.ndarray, device) -> "MiniRocket":
        n, c, _ = values.shape
        rng = check_random_state(self.random_state)
        self.n_channels_ = int(c)
        self.reference_length_ = int(lengths.max())
        self.series_length_ = int(lengths[0]) if (lengths == lengths[0]).all() else None
        dilations, per_dilation = fit_dilations(self.reference_length_, int(self.num_features),
                                                int(self.max_dilations_per_kernel))
        n_dil = len(dilations)
        # channel subsets, one per (dilation, kernel) combination
        mask = np.zeros((n_dil, N_KERNELS, c), dtype=bool)
        max_exp = math.log2(min(c, KERNEL_LENGTH) + 1)
        n_chan = np.floor(2.0 ** rng.uniform(0, max_exp, n_dil * N_KERNELS)).astype(np.int64)
        n_chan = np.clip(n_chan, 1, min(c, KERNEL_LENGTH))
        if c == 1:
            mask[:] = True
        else:  # a random subset of n_chan[i] channels for combination i: the first of a random order
            order = np.argsort(rng.random_sample((n_dil * N_KERNELS, c)), axis=1)
            rank = np.empty_like(order)
            np.put_along_axis(rank, order, np.arange(c)[None, :], axis=1)
            mask[:] = (rank < n_chan[:, None]).reshape(n_dil, N_KERNELS, c)
        examples = rng.randint(n, size=(n_dil, N_KERNELS))
        self.dilations_ = dilations
        self.features_per_dilation_ = per_dilation
        self.channel_mask_ = mask
        self.n_features_out_ = int(N_KERNELS * per_dilation.sum())
        with _OneThread(), torch.no_grad():
            self.biases_ = self._fit_biases(values, lengths, examples, device)
        return self

    def _weights(self, d_index: int, device) -> torch.Tensor:
        """(84, C·9) float32: kernel weights with the channel choice of dilation ``d_index``."""
        w = torch.from_numpy(_KERNELS.copy())  # (84, 9)
        m = torch.from_numpy(self.channel_mask_[d_index].astype(np.float32))  # (84, C)
        return (m[:, :, None] * w[:, None, :]).reshape(N_KERNELS, -1).to(device)

    def _fit_biases(self, values, lengths, examples, device) -> np.ndarray:
        quantiles = _quantile_sequence(self.n_features_out_)
        biases = np.empty(self.n_features_out_, dtype=np.float32)
        start = 0
        for j, (d, f) in enumerate(zip(self.dilations_, self.features_per_dilation_)):
            d, f = int(d), int(f)
            idx = examples[j]
            lens = torch.from_numpy(lengths[idx])
            width = int(lens.max())
            x = torch.from_numpy(values[idx, :, :width]).to(device)  # (84, C, W)
            s = _shifted_views(x, d)  # (84, C·9, W)
            out = torch.einsum("kq,kqt->kt", self._weights(j, device), s).cpu()  # (84, W) float32
            out[torch.arange(width)[None, :] >= lens[:, None]] = math.inf
            out = torch.sort(out, dim=1)[0].double()  # interpolation in float64, like numpy's quantile
            q = torch.from_numpy(quantiles[start:start + N_KERNELS * f].reshape(N_KERNELS, f))
            pos = q * (lens[:, None].double() - 1)
            lo = pos.floor().long()
            hi = torch.minimum(lo + 1, lens[:, None] - 1)
            vlo, vhi = out.gather(1, lo), out.gather(1, hi)
            biases[start:start + N_KERNELS * f] = (vlo + (vhi - vlo) * (pos - lo)).reshape(-1).numpy()
            start += N_KERNELS * f
        return biases

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Features (N, n_features_out_) float32 for raw series ``X``."""
        check_is_fitted(self, "biases_")
        device = _resolve_device(self.device)
        values, lengths = self._series(X, fitting=False)
        with _OneThread(), torch.no_grad():
            return self._transform_values(values, lengths, device)

    def _budget(self, device, comparison: bool = False) -> int:
        if device.type == "cuda":
            return _CUDA_BUFFER_BYTES
        return _CPU_COMPARISON_BYTES if comparison else _CPU_BUFFER_BYTES

    def _batch(self, length: int, device) -> int:
        """Series per batch: ``batch_size``, or as many as keep one comparison buffer (42 kernels ×
        batch × mean features per dilation × steps, float32) within the memory budget."""
        if self.batch_size is not None:
            return int(self.batch_size)
        f_mean = float(self.features_per_dilation_.mean())
        per_series = (N_KERNELS // 2) * f_mean * max(length, 1) * 4
        return int(max(1, self._budget(device) // per_series))

    def _transform_values(self, values: np.ndarray, lengths: np.ndarray, device) -> np.ndarray:
        """Validated (N, C, L) values and lengths → features (N, n_features_out_) float32.

        Batches (sorted by length, so ragged batches carry little padding) are spread over
        ``n_jobs`` worker threads, each running single-threaded torch ops (coarse-grained
        parallelism, like the reference's parallel loop over series); on CUDA one stream. On the
        CPU a batch of consecutive rows writes its features straight into the output array."""
        n = values.shape[0]
        out = np.empty((n, self.n_features_out_), dtype=np.float32)
        if n == 0:
            return out
        plan = self._plan(device)
        order = np.argsort(lengths, kind="stable")
        step = self._batch(int(lengths.max()), device)
        batches = [order[b0:b0 + step] for b0 in range(0, n, step)]

        def run(idx, threads=None):
            if threads is not None:  # OpenMP's thread count is per OS thread: set it in each worker
                torch.set_num_threads(threads)
            lens = lengths[idx]
            width = int(lens.max())
            x = torch.from_numpy(values[idx, :, :width]).to(device)
            lo, hi = int(idx[0]), int(idx[-1]) + 1
            if device.type == "cpu" and hi - lo == len(idx) and (np.diff(idx) == 1).all():
                self._transform_batch(x, lens, plan, device, out=torch.from_numpy(out[lo:hi]))
            else:
                out[idx] = self._transform_batch(x, lens, plan, device).cpu().numpy()

        workers = _n_workers(self.n_jobs) if device.type == "cpu" else 1
        if workers <= 1 or len(batches) == 1:
            for idx in batches:
                run(idx)
            return out
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
            for _ in pool.map(run, batches, [1] * len(batches)):
                pass
        return out

    def _plan(self, device):
        """Per dilation: (d, f, weights (84, C·9), biases (84, f), feature offset, parity p).
        The paper's chequerboard: kernel k of dilation index j uses "same" padding (PPV over all
        steps) when ``(j + k)`` is even, i.e. kernels ``p, p + 2, ...`` with ``p = j % 2``, and
        "valid steps only" for the others — two strided slices, so features stay in canonical
        order (no permutation)."""
        plan, start = [], 0
        for j, (d, f) in enumerate(zip(self.dilations_, self.features_per_dilation_)):
            d, f = int(d), int(f)
            w = self._weights(j, device).contiguous()
            b = torch.from_numpy(np.ascontiguousarray(self.biases_[start:start + N_KERNELS * f].reshape(N_KERNELS, f)))
            plan.append((d, f, w, b.to(device), start, j % 2))
            start += N_KERNELS * f
        return plan

    def _transform_batch(self, x: torch.Tensor, lens: np.ndarray, plan, device, out=None) -> torch.Tensor:
        """x (B, C, W) on ``device`` → features (B, n_features_out_) float32, written into ``out``
        (a (B, n_features_out_) float32 tensor) when given; PPV pooling by :class:`PPVPool`."""
        bsz, _, width = x.shape
        lens = np.asarray(lens, dtype=np.int64)
        feats = torch.empty(bsz, self.n_features_out_, device=device) if out is None else out
        pool = PPVPool(device, self._budget(device, comparison=True) // 4)
        conv_buf = torch.empty(N_KERNELS * bsz * width, device=device)
        rows_buf = torch.empty(x.shape[1] * KERNEL_LENGTH * bsz * width, device=device)
        everything = np.zeros_like(lens)
        for d, f, w, b, start, parity in plan:
            pad = 4 * d
            rows = _shifted_rows(x, d, out=rows_buf)
            # reused output buffers: a fresh multi-MB tensor per dilation costs page faults
            conv = torch.mm(w, rows, out=conv_buf[: N_KERNELS * bsz * width].view(N_KERNELS, -1))
            conv = conv.view(N_KERNELS, bsz, width)
            counts = feats[:, start:start + N_KERNELS * f].view(bsz, N_KERNELS, f).transpose(0, 1)
            # "valid steps only": [4d, L - 4d), or every step when that range is empty
            inner = lens - 2 * pad >= 1
            pool(conv, b, parity, everything, lens, counts)
            pool(conv, b, 1 - parity, np.where(inner, pad, 0), np.where(inner, lens - pad, lens), counts)
        return feats


def _shifted_rows(x: torch.Tensor, d: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """x (B, C, W) → (C·9, B·W): row ``c·9 + j`` holds channel c of every series, shifted by
    (j − 4)·d with zero padding — the right-hand side of the convolution's matrix product.
    Written into ``out`` (a flat buffer of at least C·9·B·W elements) when given."""
    bsz, c, width = x.shape
    xp = torch.nn.functional.pad(x, (4 * d, 4 * d))
    view = xp.unfold(2, width, d).permute(1, 2, 0, 3)  # (C, 9, B, W)
    if out is None:
        return view.reshape(c * KERNEL_LENGTH, bsz * width)
    rows = out[: c * KERNEL_LENGTH * bsz * width].view(c, KERNEL_LENGTH, bsz, width)
    rows.copy_(view)
    return rows.view(c * KERNEL_LENGTH, bsz * width)


def _shifted_views(x: torch.Tensor, d: int) -> torch.Tensor:
    """x (B, C, W) → (B, C·9, W): the 9 copies of each channel shifted by −4d..4d (zero padding),
    row ``c·9 + j`` = channel c shifted by (j − 4)·d."""
    bsz, c, width = x.shape
    xp = torch.nn.functional.pad(x, (4 * d, 4 * d))
    return xp.unfold(2, width, d).reshape(bsz, c * KERNEL_LENGTH, width)


def check_series_length(series_length, lengths: np.ndarray, name: str = "X") -> None:
    """A model fitted on equal-length series of ``series_length`` steps refuses other lengths
    (``ValueError`` naming both); ``series_length=None`` (fitted on varying lengths) accepts any."""
    if series_length is None or lengths.size == 0:
        return
    bad = np.flatnonzero(lengths != series_length)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] has length {int(lengths[i])} but the model was fitted on series of length "
            f"{int(series_length)}; pass series of length {int(series_length)} (a model fitted on "
            f"series of varying lengths accepts any length)"
        )


_SCORE_ROWS = 256
_CONTROLLER = []


def _blas_limit():
    """A context with one BLAS thread (threadpoolctl; the library scan is done once)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def ridge_loo(z: np.ndarray, y: np.ndarray, n_classes: int, alphas: np.ndarray):
    """Ridge classifier with the penalty chosen by efficient leave-one-out, for standardised
    (centred) features ``z`` (N, F) float64 and encoded labels ``y`` (N,) in ``0..n_classes-1``.

    The same model as scikit-learn's ``RidgeClassifierCV(alphas)`` (targets ±1, one column for
    two classes; intercept; the first penalty with the smallest mean squared leave-one-out
    error), computed the way that suits F ≫ N: one eigendecomposition of the N × N Gram matrix
    ``z zᵀ`` serves every penalty, and the weights ``zᵀ c`` are formed once, for the chosen one.
    ``z`` must have column means 0 (the intercept is then the mean target).
    Returns ``(coef (K', F), intercept (K',), alpha)`` with K' = 1 for two classes, else K.
    """
    n = z.shape[0]
    if n_classes == 2:
        Y = np.where(y == 1, 1.0, -1.0)[:, None]
    else:
        Y = -np.ones((n, n_classes))
        Y[np.arange(n), y] = 1.0
    y_offset = Y.mean(axis=0)
    Yc = Y - y_offset
    eigvals, Q = np.linalg.eigh(z @ z.T)
    QT_y = Q.T @ Yc
    QT_1 = Q.sum(axis=0)
    Q2 = Q * Q
    best = None
    for alpha in np.asarray(alphas, dtype=np.float64).reshape(-1):
        D = 1.0 / (eigvals + alpha)
        c = Q @ (D[:, None] * QT_y)
        diag = Q2 @ D - (Q @ (D * QT_1)) / n  # diagonal of the hat-matrix complement, intercept removed
        score = -np.mean((c / diag[:, None]) ** 2)
        if best is None or score > best[0]:
            best = (score, float(alpha), c)
    _, alpha, c = best
    coef = (z.T @ c).T
    return coef, y_offset.copy(), alpha


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class MiniRocketClassifier(ClassifierMixin, BaseEstimator):
    """MiniRocket features → standardisation → linear classifier (Dempster et al. 2021).

    Parameters
    ----------
    num_features, max_dilations_per_kernel, random_state, n_jobs, batch_size, device, missing :
        those of :class:`MiniRocket`.
    alphas : sequence of floats or None
        Ridge penalties tried by efficient leave-one-out (``RidgeClassifierCV``'s model, computed
        by :func:`ridge_loo`); None = the paper's ``np.logspace(-3, 3, 10)``.
    max_ridge_samples : int
        Up to this many training series (the paper's 10,000) the classifier is the ridge of
        ``RidgeClassifierCV`` (:func:`ridge_loo`); above it, multinomial logistic regression (``LogisticRegression``,
        L2, lbfgs) on the standardised features, as the paper recommends for large N.

    The features are standardised with the training set's per-feature mean and standard
    deviation (a constant feature gets scale 1), as the paper does; the transform itself sees
    the raw series (no z-normalisation), like the reference.

    ``predict_proba`` is the softmax of the decision scores (for a binary ridge model the scores
    are (−d, d)): a ranking-preserving score in [0, 1], **not calibrated** probabilities. With
    logistic regression it is that model's own probability.

    Fitted attributes: ``classes_``, ``transformer_`` (the fitted :class:`MiniRocket`),
    ``scaler_mean_``/``scaler_scale_`` (F,), ``coef_`` (1 or K, F), ``intercept_``,
    ``classifier_`` ("ridge" or "logistic"), ``alpha_`` (the chosen ridge penalty, or None).
    Prediction uses only these arrays, so a loaded model predicts exactly like the saved one.
    """

    def __init__(self, num_features=10_000, max_dilations_per_kernel=32, *, alphas=None, max_ridge_samples=10_000,
                 random_state=None, n_jobs=1, batch_size=None, device="auto", missing="raise"):
        self.num_features = num_features
        self.max_dilations_per_kernel = max_dilations_per_kernel
        self.alphas = alphas
        self.max_ridge_samples = max_ridge_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.device = device
        self.missing = missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = self.missing == "interpolate"
        return tags

    def _transformer(self) -> MiniRocket:
        return MiniRocket(num_features=self.num_features, max_dilations_per_kernel=self.max_dilations_per_kernel,
                          random_state=self.random_state, n_jobs=self.n_jobs, batch_size=self.batch_size,
                          device=self.device, missing=self.missing)

    def _alphas(self) -> np.ndarray:
        if self.alphas is None:
            return np.logspace(-3, 3, 10)
        a = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"alphas must be positive finite numbers, got {self.alphas!r}")
        return a

    def fit(self, X, y):
        """Fit the transform on ``X`` and the linear classifier on its standardised features."""
        _check_int(self.max_ridge_samples, "max_ridge_samples", 1)
        alphas = self._alphas()
        transformer = self._transformer()
        device = transformer._check_params()
        values, lengths = transformer._series(X, fitting=True)
        y = validate_class_targets(y, values.shape[0], type(self).__name__)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({_scalar(classes[0])!r}); a classifier needs at least 2 classes")
        transformer._fit_values(values, lengths, device)
        with _OneThread(), torch.no_grad():
            feats = transformer._transform_values(values, lengths, device)
        mean = feats.mean(axis=0, dtype=np.float64)
        z = np.subtract(feats, mean, dtype=np.float64)  # centred features, (N, F) float64
        scale = np.sqrt(np.einsum("ij,ij->j", z, z) / z.shape[0])  # the population std
        scale[scale < 1e-12] = 1.0
        z /= scale
        # One BLAS thread: OpenBLAS' threads spin-wait, and on a shared machine a 2-thread ridge
        # fit of 600 × 9,996 features took 0.8-6.3 s against 0.4-0.7 s single-threaded.
        with _blas_limit():
            if values.shape[0] <= self.max_ridge_samples:
                coef, intercept, alpha = ridge_loo(z, y_enc, len(classes), alphas)
                self.classifier_, self.alpha_ = "ridge", alpha
            else:
                from sklearn.linear_model import LogisticRegression

                model = LogisticRegression(max_iter=1000).fit(z.astype(np.float32), y_enc)
                coef, intercept = model.coef_, model.intercept_
                self.classifier_, self.alpha_ = "logistic", None
        self.classes_ = classes
        self.transformer_ = transformer
        self.scaler_mean_, self.scaler_scale_ = mean, scale
        self.coef_ = np.asarray(coef, dtype=np.float64).reshape(-1, feats.shape[1])
        self.intercept_ = np.asarray(intercept, dtype=np.float64).reshape(-1)
        return self

    # ------------------------------------------------------------------ predict
    def _scores(self, X) -> np.ndarray:
        """(N, K) class scores (binary: (−d, d) for ridge, (0, d) for logistic)."""
        check_is_fitted(self, ["classes_", "coef_"])
        feats = self.transformer_.transform(X)
        # the standardisation folded into the weights: ((x − m) / s)·w + b = x·(w / s) + (b − m·(w / s))
        w = self.coef_ / self.scaler_scale_
        b = self.intercept_ - w @ self.scaler_mean_
        d = np.empty((feats.shape[0], w.shape[0]), dtype=np.float64)
        with _blas_limit():
            for r0 in range(0, feats.shape[0], _SCORE_ROWS):  # float64 copies of a few rows at a time
                d[r0:r0 + _SCORE_ROWS] = feats[r0:r0 + _SCORE_ROWS].astype(np.float64) @ w.T + b
        if self.coef_.shape[0] == 1:
            d = d[:, 0]
            return np.stack([-d if self.classifier_ == "ridge" else np.zeros_like(d), d], axis=1)
        return d

    def decision_function(self, X) -> np.ndarray:
        """Linear scores: (N,) for two classes (positive → ``classes_[1]``), else (N, K)."""
        s = self._scores(X)
        return s[:, 1] if len(self.classes_) == 2 else s

    def predict(self, X) -> np.ndarray:
        """Labels as given to ``fit``."""
        scores = self._scores(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X) -> np.ndarray:
        """Softmax of the decision scores, (N, K) in the order of ``classes_`` (uncalibrated for
        ridge; see the class docstring)."""
        return _softmax(self._scores(X))

    # ------------------------------------------------------------------ persistence
    def save(self, path, overwrite: bool = False, *, run_id: str | None = None):
        """Write one artifact directory (``model.safetensors`` + ``config.json``): kernels,
        dilations, channel choices, biases, scaler statistics, the linear weights and the
        classes (and ``run_id`` when given); returns its path. Atomic; an existing artifact is
        replaced only with ``overwrite=True``."""
        from seqcnn.engine.checkpoint import save_artifact
        from seqcnn.engine.estimator import encode_labels

        check_is_fitted(self, ["classes_", "coef_"])
        t = self.transformer_
        tensors = {
            "kernels": torch.from_numpy(kernel_weights()),
            "dilations": torch.from_numpy(t.dilations_.astype(np.int64)),
            "features_per_dilation": torch.from_numpy(t.features_per_dilation_.astype(np.int64)),
            "channel_mask": torch.from_numpy(t.channel_mask_.astype(np.uint8)),
            "biases": torch.from_numpy(t.biases_),
            "scaler_mean": torch.from_numpy(self.scaler_mean_),
            "scaler_scale": torch.from_numpy(self.scaler_scale_),
            "coef": torch.from_numpy(self.coef_),
            "intercept": torch.from_numpy(self.intercept_),
        }
        params = self.get_params(deep=False)
        if params["alphas"] is not None:
            params["alphas"] = [float(a) for a in np.asarray(params["alphas"], dtype=np.float64).reshape(-1)]
        if not (params["random_state"] is None or isinstance(params["random_state"], (int, np.integer))):
            params["random_state"] = None  # a RandomState object: the fitted arrays hold its draws
        elif params["random_state"] is not None:
            params["random_state"] = int(params["random_state"])
        config = {
            "estimator": f"{type(self).__module__}.{type(self).__qualname__}",
            "format": _FORMAT,
            "params": params,
            "classes": encode_labels(self.classes_),
            "state": {
                "n_channels": t.n_channels_,
                "reference_length": t.reference_length_,
                "series_length": t.series_length_,
                "n_features_out": t.n_features_out_,
                "classifier": self.classifier_,
                "alpha": self.alpha_,
            },
        }
        if run_id is not None:
            config["run_id"] = str(run_id)
        return _save(save_artifact, path, tensors, config, overwrite)

    @classmethod
    def load(cls, path):
        """Rebuild a fitted classifier from :meth:`save`'s artifact (no pickle)."""
        from seqcnn.engine.checkpoint import CheckpointError, load_artifact
        from seqcnn.engine.estimator import decode_labels

        tensors, config = load_artifact(path)
        if config.get("format") != _FORMAT:
            raise CheckpointError(f"{path}/config.json is not a MiniRocketClassifier artifact "
                                  f"(format {config.get('format')!r}, expected {_FORMAT!r})")
        try:
            est = cls(**config["params"])
            state = config["state"]
            t = est._transformer()
            t.n_channels_ = int(state["n_channels"])
            t.reference_length_ = int(state["reference_length"])
            t.series_length_ = None if state["series_length"] is None else int(state["series_length"])
            t.n_features_out_ = int(state["n_features_out"])
            t.dilations_ = tensors["dilations"].numpy().astype(np.int64)
            t.features_per_dilation_ = tensors["features_per_dilation"].numpy().astype(np.int64)
            t.channel_mask_ = tensors["channel_mask"].numpy().astype(bool)
            t.biases_ = tensors["biases"].numpy().astype(np.float32)
            est.transformer_ = t
            est.classes_ = decode_labels(config["classes"])
            est.scaler_mean_ = tensors["scaler_mean"].numpy().astype(np.float64)
            est.scaler_scale_ = tensors["scaler_scale"].numpy().astype(np.float64)
            est.coef_ = tensors["coef"].numpy().astype(np.float64)
            est.intercept_ = tensors["intercept"].numpy().astype(np.float64)
            est.classifier_ = state["classifier"]
            est.alpha_ = state["alpha"]
        except (KeyError, TypeError) as exc:
            raise CheckpointError(f"{path} is an incomplete MiniRocketClassifier artifact: missing {exc}") from exc
        if not np.array_equal(tensors["kernels"].numpy(), kernel_weights()):
            raise CheckpointError(f"{path}/model.safetensors holds kernels other than MiniRocket's 84")
        if t.biases_.shape != (t.n_features_out_,) or est.coef_.shape[1] != t.n_features_out_:
            raise CheckpointError(f"{path}/model.safetensors does not match its config (feature counts differ)")
        return est


def _save(save_artifact, path, tensors, config, overwrite: bool):
    """``save_artifact(..., overwrite=overwrite)``; with a ``save_artifact`` that predates the
    keyword, the refusal of an existing path is done here."""
    import inspect
    from pathlib import Path

    if "overwrite" in inspect.signature(save_artifact).parameters:
        return save_artifact(path, tensors, config, overwrite=overwrite)
    if Path(path).exists() and not overwrite:
        raise FileExistsError(f"path={str(path)!r} already exists; pass overwrite=True to replace it")
    return save_artifact(path, tensors, config)


def _scalar(v):
    return v.item() if isinstance(v, np.generic) else v
