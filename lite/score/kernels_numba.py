"""The numba kernels: the same functions as lite/score/kernels_numpy.py (their reference), fast.

- `softmax_colsum(logits, acc)`: acc [n] float64 += column sums of the row softmaxes of a block of
  (soft-capped) logits [rows, n] float32, which it overwrites with exponentials;
- `row_logsumexp(logits, out)`: out [rows] float64 = each row's log-sum-exp (logits not modified);
- `tile_exp(tile, peaks, sums)` and `weighted_key_sums(tile, weights, acc)`: the two halves of the
  column sums taken a tile of keys at a time (lite/score/forward.py, `tiled_colsums`).

Both are serial and release the GIL: the forward runs one call per worker thread, each beside its
own single-threaded matrix product (lite/score/workers.py), so BLAS and the kernel overlap on the
cores instead of two thread pools fighting over them. No kernel here uses prange.

The softmax's exponential is `exp_negative`, a polynomial (Cephes' expf: Cody-Waite reduction by
ln 2, a degree-5 minimax polynomial, 2^k put in the exponent bits) that LLVM vectorizes, where
numba's np.exp is a scalar libm call. Relative error below 2e-7 for arguments in [EXP_FLOOR, 0],
the only ones a softmax with the row max subtracted produces; below EXP_FLOOR it returns
exp(EXP_FLOOR) (~2e-38) instead of a denormal or zero, an absolute difference no row sum (>= 1)
can see. tests/test_kernels.py holds it to these bounds.

numba compiles on first call and caches the machine code (`cache=True`), so the cost is
paid once per machine. Every input is an argument: cached kernels freeze globals.
This module imports numba; `import lite` does not import it.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

EXP_FLOOR = -87.0  # exp(-87) = 1.6e-38: still a normal float32, with 2^k never below 2^-126
# fastmath without reassociation for the exponential: the Cody-Waite split of ln 2 must stay as written
EXP_FLAGS = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}


@intrinsic
def _bits_to_float32(typingctx, bits):
    """Reinterpret an int32's bits as a float32 (a no-op bitcast that LLVM vectorizes)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(fastmath=EXP_FLAGS, cache=True, nogil=True)
def exp_negative(x):
    """exp(x) in float32 for x <= 0 (a softmax argument), vectorizable; see the module docstring."""
    x = max(np.float32(x), np.float32(EXP_FLOOR))
    k = np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5))  # round(x / ln 2)
    r = x - k * np.float32(0.693359375)  # x - k ln 2, in two steps (Cody-Waite)
    r = r - k * np.float32(-2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    y = p * (r * r) + r + np.float32(1.0)  # exp(r), r in [-ln2/2, ln2/2]
    return y * _bits_to_float32((np.int32(k) + np.int32(127)) << np.int32(23))  # * 2^k


@njit(fastmath=True, cache=True, nogil=True)
def exp_negative_array(x, out):
    """out[i] = exp_negative(x[i]) over 1-D float32 arrays (for tests and the throughput benchmark)."""
    for i in range(x.shape[0]):
        out[i] = exp_negative(x[i])


@njit(fastmath=True, cache=True, nogil=True)
def softmax_colsum(logits, acc):
    """numba kernel: acc += column sums of the row softmaxes of logits (overwritten with exponentials)."""
    rows, n = logits.shape  # logits [rows, n] float32; acc [n] float64
    local = np.zeros(n, dtype=np.float32)  # [n], sums over this block's rows
    for r in range(rows):
        row = logits[r]  # [n]
        peak = row[0]
        for j in range(1, n):
            peak = max(peak, row[j])
        total = np.float32(0.0)
        for j in range(n):
            e = exp_negative(row[j] - peak)
            row[j] = e
            total += e
        inv = np.float32(1.0) / total
        for j in range(n):
            local[j] += row[j] * inv
    for j in range(n):
        acc[j] += local[j]


@njit(fastmath=True, cache=True, nogil=True)
def tile_exp(tile, peaks, sums):
    """numba kernel: each column of a tile of logits, in place, -> exp(column - its max); the maxima and the sums."""
    width, rows = tile.shape  # tile [width keys, rows] float32; peaks, sums [rows] float64
    peak = tile[0].copy()  # [rows] float32
    for j in range(1, width):
        for r in range(rows):
            peak[r] = max(peak[r], tile[j, r])
    total = np.zeros(rows, dtype=np.float32)  # [rows]
    for j in range(width):
        for r in range(rows):
            e = exp_negative(tile[j, r] - peak[r])
            tile[j, r] = e
            total[r] += e
    for r in range(rows):
        peaks[r] = peak[r]
        sums[r] = total[r]


@njit(fastmath=True, cache=True, nogil=True)
def weighted_key_sums(tile, weights, acc):
    """numba kernel: acc[j] += sum over the columns r of tile[j, r] * weights[r]."""
    width, rows = tile.shape  # tile [width keys, rows] float32; weights [rows] float32; acc [width] float64
    for j in range(width):
        total = np.float32(0.0)
        for r in range(rows):
            total += tile[j, r] * weights[r]
        acc[j] += total


@njit(cache=True, nogil=True)
def row_logsumexp(logits, out):
    """numba kernel: out[r] = log(sum_j exp(logits[r, j])), in float64 (logits not modified)."""
    rows, n = logits.shape  # logits [rows, n] float32; out [rows] float64
    for r in range(rows):
        row = logits[r]  # [n]
        peak = np.float64(-np.inf)
        for j in range(n):
            peak = max(peak, np.float64(row[j]))
        total = 0.0
        for j in range(n):
            total += np.exp(np.float64(row[j]) - peak)
        out[r] = peak + np.log(total)
