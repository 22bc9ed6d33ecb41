"""Softmax column sums in plain numpy: the reference for the numba kernel, and lite's kernel for small inputs.

It imports no numba, so a process that scores only short inputs never pays numba's start-up
(import and loading the cached machine code, about a second: see lite/scorer.py).
"""

from __future__ import annotations

import numpy as np


def softmax_colsum_numpy(logits: np.ndarray, softcap: float, acc: np.ndarray) -> None:
    """Reference: acc += sum over rows of softmax(cap(logits)); logits is [rows, n] float32, acc [n] float64."""
    if softcap > 0:
        logits = np.tanh(logits / np.float32(softcap)) * np.float32(softcap)  # [rows, n]
    shifted = logits - logits.max(axis=1, keepdims=True)  # [rows, n]
    probs = np.exp(shifted)  # [rows, n]
    probs /= probs.sum(axis=1, keepdims=True)
    acc += probs.sum(axis=0, dtype=np.float64)  # [n]
