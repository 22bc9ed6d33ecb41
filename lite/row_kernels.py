"""Per-row log-sum-exp of score blocks: what a query's own attention weight needs, p[i, i] = exp(s_ii - lse_i).

Only scoring methods that remove each token's attention to itself use this (see methods.py); the
paper's score never does. `row_logsumexp_numpy` is the plain reference, `row_logsumexp` the numba
kernel tests check against it. Both read a block of logits [rows, n] float32 (soft-capped first
when softcap > 0, as the attention does) and write log(sum_j exp(row[j])) into out [rows] float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


def row_logsumexp_numpy(logits: np.ndarray, softcap: float, out: np.ndarray) -> None:
    """Reference: out[r] = logsumexp(cap(logits[r])), in float64."""
    if softcap > 0:
        logits = np.tanh(logits / np.float32(softcap)) * np.float32(softcap)  # [rows, n]
    peak = logits.max(axis=1, keepdims=True).astype(np.float64)  # [rows, 1]
    out[:] = (peak + np.log(np.exp(logits - peak).sum(axis=1, keepdims=True)))[:, 0]  # [rows]


@njit(parallel=True, cache=True, nogil=True)
def row_logsumexp(logits, softcap, out):
    """numba kernel: out[r] = log(sum_j exp(cap(logits[r, j]))), one row per iteration (logits not modified)."""
    rows, n = logits.shape  # logits [rows, n] float32; out [rows] float64
    cap = np.float32(softcap)
    for r in prange(rows):
        row = logits[r]  # [n]
        peak = np.float64(-np.inf)
        for j in range(n):
            value = np.float64(np.tanh(row[j] / cap) * cap if cap > 0 else row[j])
            peak = max(peak, value)
        total = 0.0
        for j in range(n):
            value = np.float64(np.tanh(row[j] / cap) * cap if cap > 0 else row[j])
            total += np.exp(value - peak)
        out[r] = peak + np.log(total)
