"""Scorer: a slice file loaded for scoring; `importance(ids)` is LitePruner's per-token score."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from . import forward, methods
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


def projections(slice_file: SliceFile, spec: AttentionSpec, kind: str) -> tuple[np.ndarray, ...]:
    """The q, k and v projections' `kind` ("weight" or "bias"), split out of qkv_proj when it is fused.

    A fused qkv_proj (Phi-3) stacks the rows of q (n_heads * head_dim), then k and v (n_kv_heads * head_dim
    each). v is None when the slice has no v_proj (v is read only by methods that weigh values).
    """
    if spec.fused_qkv:
        fused = slice_file.float32(spec.attn_name(f"qkv_proj.{kind}"))  # [(H + 2 KV) * D, ...]
        q_rows, k_rows = spec.n_heads * spec.head_dim, spec.n_kv_heads * spec.head_dim
        return fused[:q_rows], fused[q_rows : q_rows + k_rows], fused[q_rows + k_rows :]  # [H*D, ...], [KV*D, ...] x2
    v_name = spec.attn_name(f"v_proj.{kind}")
    return (
        slice_file.float32(spec.attn_name(f"q_proj.{kind}")),  # [H * D, ...]
        slice_file.float32(spec.attn_name(f"k_proj.{kind}")),  # [KV * D, ...]
        slice_file.float32(v_name) if v_name in slice_file.header.entries else None,  # [KV * D, ...]
    )


def load_weights(slice_file: SliceFile, spec: AttentionSpec) -> forward.LayerWeights:
    """Widen the layer-0 weights the score reads (the embedding stays mapped)."""
    attn = spec.attn_name
    w_q, w_k, w_v = projections(slice_file, spec, "weight")  # [H * D, dim], [KV * D, dim], [KV * D, dim]
    b_q, b_k, b_v = projections(slice_file, spec, "bias") if spec.qkv_bias else (None, None, None)
    expected = {"w_q": (spec.n_heads * spec.head_dim, spec.hidden_size),
                "w_k": (spec.n_kv_heads * spec.head_dim, spec.hidden_size)}
    for name, weight in (("w_q", w_q), ("w_k", w_k)):
        if weight.shape != expected[name]:
            raise LiteError(
                f"{slice_file.path}: layer-0 {name[2]} projection is {weight.shape}, its config says {expected[name]}; "
                "the slice's config and weights disagree"
            )
    return forward.LayerWeights(
        norm=slice_file.float32(spec.norm_name),
        w_q=w_q,
        w_k=w_k,
        b_q=b_q,
        b_k=b_k,
        q_norm=slice_file.float32(attn("q_norm.weight")) if spec.qk_norm else None,
        k_norm=slice_file.float32(attn("k_norm.weight")) if spec.qk_norm else None,
        w_v=w_v,
        b_v=b_v,
    )


class Scorer:
    """Layer-0 attention importance of token ids, from a slice file (memory-mapped)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.slice = SliceFile(path)
        self.spec = AttentionSpec.from_config(self.slice.config).locate(self.slice.header.entries)
        missing = [name for name in self.spec.required_tensors() if name not in self.slice.header.entries]
        if missing:
            raise LiteError(f"{self.slice.path} lacks {missing[0]!r}; make the slice again")
        self.spec.check_shapes({name: entry.shape for name, entry in self.slice.header.entries.items()},
                               str(self.slice.path))
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

    def importance(
        self, ids: Sequence[int] | np.ndarray, kernel: str = "auto", method: str = methods.DEFAULT_METHOD
    ) -> np.ndarray:
        """float32 [n], sums to 1: by default (method="attention", the paper's score) the mean over
        heads and queries of the layer-0 attention each token receives; see lite.methods for the others.

        kernel: "numba", "numpy", or "auto" (numpy for small inputs, numba above NUMPY_UP_TO).
        """
        ids = self.check_ids(ids)
        colsum = colsum_kernel(kernel, len(ids), self.spec.n_heads)
        methods.check_method(method)
        apply_threads(self.threads)
        distinct, inverse = np.unique(ids, return_inverse=True)  # [u], [n]
        row_kernel = "numpy" if colsum is softmax_colsum_numpy else "numba"
        parts = methods.ForwardParts(ids, self.slice.float32_rows(self.spec.embed_name, distinct),  # [u, dim]
                                     inverse, self.weights, self.spec, colsum, self.threads, row_kernel, method)
        return methods.score(method, parts)
