"""The plain numpy kernels: the reference the numba kernels are tested against, and lite's kernels for small inputs.

Each kernel reads a block of logits [rows, n] float32 (already soft-capped: `soft_cap` is the one
place that caps, applied by the forward before any kernel sees a block):
- `softmax_colsum(logits, acc)`: acc [n] float64 += the column sums of the row softmaxes;
- `row_logsumexp(logits, out)`: out [rows] float64 = log(sum_j exp(logits[r, j])), what a query's
  attention on itself needs, p[i, i] = exp(s_ii - lse_i) (the no_self method);
- `tile_exp(tile, peaks, sums)`: a tile of logits laid out keys by query rows, [w, rows] (a tile of
  keys, multiplied as keys @ queries.T), in place -> exp(column - its max); peaks, sums [rows] float64
  = those maxima and the columns' sums of the exponentials;
- `weighted_key_sums(tile, weights, acc)`: acc [w] float64 += tile @ weights; with weights
  exp(peak_t - peak) / total (a query's softmax put together from its tiles), the two give the same
  column sums as softmax_colsum, a tile of keys at a time (lite/score/forward.py).

This module imports no numba, so a process that scores only short inputs never pays numba's
start-up (import and loading the cached machine code, about a second: see lite/score/kernels.py).
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def soft_cap(logits: np.ndarray, softcap: float) -> np.ndarray:
    """logits -> tanh(logits / softcap) * softcap, in place, when softcap > 0 (Gemma 2); returns logits."""
    if softcap > 0:
        np.divide(logits, F32(softcap), out=logits)
        np.tanh(logits, out=logits)
        np.multiply(logits, F32(softcap), out=logits)
    return logits


def softmax_colsum(logits: np.ndarray, acc: np.ndarray) -> None:
    """Reference: acc += sum over rows of softmax(logits); logits is [rows, n] float32, acc [n] float64."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # [rows, n]
    probs = np.exp(shifted)  # [rows, n]
    probs /= probs.sum(axis=1, keepdims=True)
    acc += probs.sum(axis=0, dtype=np.float64)  # [n]


def row_logsumexp(logits: np.ndarray, out: np.ndarray) -> None:
    """Reference: out[r] = logsumexp(logits[r]), in float64; logits is [rows, n] float32, out [rows] float64."""
    peak = logits.max(axis=1, keepdims=True).astype(np.float64)  # [rows, 1]
    out[:] = (peak + np.log(np.exp(logits - peak).sum(axis=1, keepdims=True)))[:, 0]  # [rows]


def tile_exp(tile: np.ndarray, peaks: np.ndarray, sums: np.ndarray) -> None:
    """Reference: tile [w, rows] float32 -> exp(tile - column max) in place; peaks, sums [rows] float64."""
    peak = tile.max(axis=0)  # [rows]
    np.subtract(tile, peak, out=tile)
    np.exp(tile, out=tile)
    peaks[:] = peak
    sums[:] = tile.sum(axis=0, dtype=np.float64)  # [rows]


def weighted_key_sums(tile: np.ndarray, weights: np.ndarray, acc: np.ndarray) -> None:
    """Reference: acc [w] float64 += tile [w, rows] @ weights [rows]."""
    acc += tile.astype(np.float64) @ weights.astype(np.float64)  # [w]
