"""The hot loop: softmax of each score row, summed down the columns.

`softmax_colsum_numpy` is the plain reference; `softmax_colsum` is the numba kernel that
tests check against it. Both take a block of logits [rows, n] and add, for every key j,
the sum over rows of softmax(row)[j] into `acc` ([chunks, n] float64; the reference uses
row 0 only). Soft-capping (Gemma 2) is applied to the logits first when `softcap > 0`.

numba compiles on first call and caches the machine code (`cache=True`), so the cost is
paid once per machine. Every input is an argument: cached kernels freeze globals.
This module imports numba; `import lite` does not import it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


def softmax_colsum_numpy(logits: np.ndarray, softcap: float, acc: np.ndarray) -> None:
    """Reference: acc[0] += sum over rows of softmax(cap(logits)); logits is [rows, n] float32."""
    if softcap > 0:
        logits = np.tanh(logits / np.float32(softcap)) * np.float32(softcap)  # [rows, n]
    shifted = logits - logits.max(axis=1, keepdims=True)  # [rows, n]
    probs = np.exp(shifted)  # [rows, n]
    probs /= probs.sum(axis=1, keepdims=True)
    acc[0] += probs.sum(axis=0, dtype=np.float64)  # [n]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def softmax_colsum(logits, softcap, acc):
    """numba kernel: acc[c] += column sums of softmax over the c-th chunk of rows (logits is overwritten)."""
    rows, n = logits.shape  # logits [rows, n] float32; acc [chunks, n] float64
    chunks = acc.shape[0]
    cap = np.float32(softcap)
    for c in prange(chunks):  # one chunk of rows per thread, each with its own accumulator
        local = np.zeros(n, dtype=np.float32)  # [n], sums over this chunk's rows
        for r in range(c * rows // chunks, (c + 1) * rows // chunks):
            row = logits[r]  # [n]
            if cap > 0:
                for j in range(n):
                    row[j] = np.tanh(row[j] / cap) * cap
            peak = row[0]
            for j in range(1, n):
                peak = max(peak, row[j])
            total = np.float32(0.0)
            for j in range(n):
                e = np.exp(row[j] - peak)
                row[j] = e
                total += e
            inv = np.float32(1.0) / total
            for j in range(n):
                local[j] += row[j] * inv
        for j in range(n):
            acc[c, j] += local[j]
