"""Scorer: a slice file loaded for scoring; `importance(ids)` is LitePruner's per-token score."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from . import forward
from .errors import LiteError
from .colsum import softmax_colsum_numpy
from .slicefile import SliceFile
from .spec import AttentionSpec
from .threads import apply_threads, resolve_threads

KERNELS = ("auto", "numba", "numpy")
# "auto" takes numpy up to this many score elements (n² · heads; 512 tokens of Llama-3.2-1B), numba above:
# numba's one-off start-up in a fresh process (import, cached machine code, ~1 s) outweighs its speed there,
# while numpy's kernel costs a few tens of ms more. The choice depends on the size alone, never on timing.
NUMPY_UP_TO = 1 << 23


def colsum_kernel(kernel: str, n: int, n_heads: int) -> forward.ColSum:
    if kernel not in KERNELS:
        raise LiteError(f"kernel {kernel!r} is not one of {', '.join(KERNELS)}")
    if kernel == "numpy" or (kernel == "auto" and n * n * n_heads <= NUMPY_UP_TO):
        return softmax_colsum_numpy
    from .kernels import softmax_colsum  # imports numba

    return softmax_colsum


def load_weights(slice_file: SliceFile, spec: AttentionSpec) -> forward.LayerWeights:
    """Widen the layer-0 weights the score reads (the embedding stays mapped)."""
    attn = spec.attn_name
    return forward.LayerWeights(
        norm=slice_file.float32(spec.norm_name),
        w_q=slice_file.float32(attn("q_proj.weight")),
        w_k=slice_file.float32(attn("k_proj.weight")),
        b_q=slice_file.float32(attn("q_proj.bias")) if spec.qkv_bias else None,
        b_k=slice_file.float32(attn("k_proj.bias")) if spec.qkv_bias else None,
        q_norm=slice_file.float32(attn("q_norm.weight")) if spec.qk_norm else None,
        k_norm=slice_file.float32(attn("k_norm.weight")) if spec.qk_norm else None,
    )


class Scorer:
    """Layer-0 attention importance of token ids, from a slice file (memory-mapped)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.slice = SliceFile(path)
        self.spec = AttentionSpec.from_config(self.slice.config)
        missing = [name for name in self.spec.required_tensors() if name not in self.slice.header.entries]
        if missing:
            raise LiteError(f"{self.slice.path} lacks {missing[0]!r}; make the slice again")
        self.weights = load_weights(self.slice, self.spec)
        self.vocab_rows = self.slice.header.entries[self.spec.embed_name].shape[0]
        self.threads = resolve_threads(threads)

    def check_ids(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.size == 0:
            raise LiteError(f"ids must be a non-empty 1-D sequence of token ids, got shape {ids.shape}")
        if not np.issubdtype(ids.dtype, np.integer):
            raise LiteError(f"ids must be integers, got {ids.dtype}")
        bad = (ids < 0) | (ids >= self.vocab_rows)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise LiteError(
                f"token id {int(ids[first])} at position {first} is outside the vocabulary (0..{self.vocab_rows - 1})"
            )
        return ids.astype(np.int64)

    def importance(self, ids: Sequence[int] | np.ndarray, kernel: str = "auto") -> np.ndarray:
        """float32 [n]: the mean over heads and queries of layer-0 attention each token receives.

        kernel: "numba", "numpy", or "auto" (numpy for small inputs, numba above NUMPY_UP_TO).
        """
        ids = self.check_ids(ids)
        colsum = colsum_kernel(kernel, len(ids), self.spec.n_heads)
        apply_threads(self.threads)
        distinct, inverse = np.unique(ids, return_inverse=True)  # [u], [n]
        return forward.importance(self.slice.float32_rows(self.spec.embed_name, distinct),  # [u, dim], not kept
                                  inverse, self.weights, self.spec, colsum, self.threads)
