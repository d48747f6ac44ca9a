"""The fused CPU loop of PPV pooling (see :mod:`seqcnn.signal.ppv`), compiled by numba.

Imported only when MiniRocket first pools on the CPU. Compiled on first use and cached on disk
(``cache=True``); ``nogil`` lets ``n_jobs`` worker threads run it in parallel. ``fastmath`` is
limited to re-association (so the float32 counters vectorise), never to "no NaN / no inf".
"""
import numba
import numpy as np

_jit = numba.njit(nogil=True, cache=True, fastmath={"reassoc", "nsz"})

# The row is passed to the counters as a contiguous 1-D slice: with the bounds read from arrays
# inside one loop nest, LLVM does not vectorise the count (0.15 ns per comparison instead of
# 0.045 on this project's CPU). The "pragma: no cover": compiled code is not traced by coverage.
@_jit
def _count4(row, b0, b1, b2, b3):  # pragma: no cover
    """Steps of ``row`` above each of four biases, counted in float32 registers (exact < 2**24)."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
    n0 = zero
    n1 = zero
    n2 = zero
    n3 = zero
    for t in range(row.shape[0]):
        v = row[t]
        n0 += one if v > b0 else zero
        n1 += one if v > b1 else zero
        n2 += one if v > b2 else zero
        n3 += one if v > b3 else zero
    return n0, n1, n2, n3


@_jit
def _count1(row, b0):  # pragma: no cover
    one = np.float32(1.0)
    zero = np.float32(0.0)
    n0 = zero
    for t in range(row.shape[0]):
        n0 += one if row[t] > b0 else zero
    return n0


@_jit
def ppv_loop(conv, biases, first, lo, hi, out):  # pragma: no cover
    """conv (K, B, W) float32, biases (K, F) float32, lo/hi (B,) int64, out (K, B, F) float32.
    For k = first, first + 2, ...: out[k, s, j] = mean(conv[k, s, lo[s]:hi[s]] > biases[k, j]),
    four biases per pass over the row."""
    n_kernels, n_series, _ = conv.shape
    n_biases = biases.shape[1]
    for k in range(first, n_kernels, 2):
        for s in range(n_series):
            row = conv[k, s, lo[s]:hi[s]]
            scale = np.float32(1.0 / row.shape[0])
            j = 0
            while j + 4 <= n_biases:
                n0, n1, n2, n3 = _count4(row, biases[k, j], biases[k, j + 1], biases[k, j + 2], biases[k, j + 3])
                out[k, s, j] = n0 * scale
                out[k, s, j + 1] = n1 * scale
                out[k, s, j + 2] = n2 * scale
                out[k, s, j + 3] = n3 * scale
                j += 4
            while j < n_biases:
                out[k, s, j] = _count1(row, biases[k, j]) * scale
                j += 1
