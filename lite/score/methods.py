"""Scoring methods: what the layer-0 forward yields, turned into one importance per token.

Every method reads the same O(n)-memory forward (lite/score/forward.py, attention_parts: rotated q and k and
the column sums of the softmax per kv group, [KV, n]) and post-processes it; none holds an
[n, n] matrix. Each returns float32 [n] summing to 1. Let p[h, i, j] be head h's attention of
query i on key j, g(h) the kv group of head h and v[j, g] token j's value vector in group g.

| name        | score of token j (then normalised to sum 1)                                  |
|-------------|------------------------------------------------------------------------------|
| attention   | sum_h,i p[h, i, j] / (n H): **the paper's score (LitePruner), the default**   |
| value_norm  | sum_h,i p[h, i, j] * ||v[j, g(h)]||: attention weighted by what it carries    |
| no_self     | sum_h sum_{i != j} p[h, i, j]: attention from the other tokens only           |
| group_norm  | mean over kv groups of (group's column sums / their max): no group dominates  |
| rarity_mix  | (attention + rarity) / 2, rarity[j] = log(n / count of j's id among the ids), |
|             | normalised to sum 1: tokens frequent in this text (spaces, "the") rank lower  |

no_self needs each query's attention to itself, exp(s_ii - lse_i): one more blockwise pass for
the row log-sum-exp (the pair's row_logsumexp kernel), so it costs about twice the default; the
others cost the default plus O(n) work (value_norm: one [u, dim] x [dim, KV*D] projection over
distinct ids). Every extra pass runs on the same workers as the forward (lite/score/workers.py).
A new method is a function of ForwardParts here, and an entry in METHODS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

import numpy as np

from ..errors import LiteError
from ..model.spec import AttentionSpec
from ..model.weights import LayerWeights
from . import forward
from .kernels import Kernels
from .kernels_numpy import soft_cap
from .workers import Task, deal, group_blocks

F32 = np.float32
DEFAULT_METHOD = "attention"


class ForwardParts:
    """The forward's products for one id sequence; the costlier extras computed only for methods that use them."""

    def __init__(self, ids: np.ndarray, rows: np.ndarray, inverse: np.ndarray, weights: LayerWeights,
                 spec: AttentionSpec, kernels: Kernels, workers: int, method: str):
        self.ids, self.inverse = ids, inverse  # [n], [n]
        self.weights, self.spec, self.kernels, self.workers = weights, spec, kernels, workers
        self.value_norms = (value_norms(rows, inverse, weights, spec, workers)
                            if method in USES_VALUES else None)  # [n, KV]
        self.queries, self.keys_t, self.group_sums = forward.attention_parts(rows, inverse, weights, spec, kernels,
                                                                             workers)
        # queries [KV, n, rep, D] scaled and rotated, keys_t [KV, D, n] rotated, group_sums [KV, n] float64

    @property
    def n(self) -> int:
        return len(self.inverse)

    @cached_property
    def self_attention(self) -> np.ndarray:
        """sum over each group's heads of p[h, j, j]: [KV, n] float64."""
        spec, n = self.spec, self.n
        own = np.einsum("gnrd,gdn->gnr", self.queries, self.keys_t)  # [KV, n, rep]: s_ii, query i's logit on itself
        soft_cap(own, spec.softcap)
        block = max(1, forward.BLOCK_ROWS // spec.n_rep)  # queries per block
        lse = np.empty((spec.n_kv_heads, n, spec.n_rep), dtype=np.float64)  # [KV, n, rep]

        def work(worker: int, tasks: Sequence[Task]) -> None:
            buffer = np.empty((block * spec.n_rep, n), dtype=np.float32)  # [block * rep, n]
            for group, start in tasks:
                queries = self.queries[group, start : start + block].reshape(-1, spec.head_dim)  # [b * rep, D]
                logits = forward.block_logits(queries, self.keys_t[group], spec.softcap, buffer)  # [b * rep, n]
                self.kernels.row_logsumexp(logits, lse[group, start : start + block].reshape(-1))  # [b * rep]

        deal(group_blocks(spec.n_kv_heads, n, block), work, self.workers)
        return np.exp(own - lse).sum(axis=-1)  # [KV, n]


def value_norms(rows: np.ndarray, inverse: np.ndarray, weights: LayerWeights, spec: AttentionSpec,
                workers: int) -> np.ndarray:
    """||v[j, g]|| for every position and kv group: [n, KV] float32."""
    if weights.w_v is None:
        raise LiteError("this slice has no v_proj weights; make the slice again to use value_norm")
    h = forward.normed_states(rows, weights, spec)  # [u, dim]
    u, d = len(h), spec.head_dim
    norms = np.empty((u, spec.n_kv_heads), dtype=np.float32)  # [u, KV]

    def work(worker: int, tasks: Sequence[Task]) -> None:
        for group, start in tasks:
            w_v = weights.w_v[group * d : (group + 1) * d]  # [D, dim]
            b_v = weights.b_v[group * d : (group + 1) * d] if weights.b_v is not None else None  # [D]
            v = forward.project(h[start : start + forward.STATE_ROWS], w_v, b_v)  # [c, D]
            norms[start : start + len(v), group] = np.linalg.norm(v, axis=-1)  # [c]

    deal(group_blocks(spec.n_kv_heads, u, forward.STATE_ROWS), work, workers)
    return norms[inverse]  # [n, KV]


def attention(parts: ForwardParts) -> np.ndarray:
    return parts.group_sums.sum(axis=0) / (parts.n * parts.spec.n_heads)  # [n]


def value_norm(parts: ForwardParts) -> np.ndarray:
    return np.einsum("gn,ng->n", parts.group_sums, parts.value_norms.astype(np.float64))  # [n]


def no_self(parts: ForwardParts) -> np.ndarray:
    return (parts.group_sums - parts.self_attention).sum(axis=0)  # [n]


def group_norm(parts: ForwardParts) -> np.ndarray:
    return (parts.group_sums / parts.group_sums.max(axis=1, keepdims=True)).mean(axis=0)  # [n]


def rarity(ids: np.ndarray) -> np.ndarray:
    """log(n / count of each position's id among the ids), normalised to sum 1 (uniform if every id repeats equally)."""
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    prior = np.log(len(ids) / counts[inverse])  # [n]
    return prior / prior.sum() if prior.sum() > 0 else np.full(len(ids), 1.0 / len(ids))


def rarity_mix(parts: ForwardParts) -> np.ndarray:
    return 0.5 * attention(parts) + 0.5 * rarity(parts.ids)  # [n]


METHODS: dict[str, Callable[[ForwardParts], np.ndarray]] = {
    "attention": attention,
    "value_norm": value_norm,
    "no_self": no_self,
    "group_norm": group_norm,
    "rarity_mix": rarity_mix,
}


USES_VALUES = ("value_norm",)  # methods that need the value vectors' norms


def check_method(method: str) -> str:
    if method not in METHODS:
        raise LiteError(f"method {method!r} is not one of {', '.join(METHODS)}")
    return method


def score(method: str, parts: ForwardParts) -> np.ndarray:
    """float32 [n], summing to 1: the named method's (checked by the caller) importance of each position."""
    raw = METHODS[method](parts)  # [n]
    if parts.n == 1:  # one token gets all of it (no_self would otherwise divide 0 by 0)
        return np.ones(1, dtype=F32)
    return (raw / raw.sum()).astype(F32)
