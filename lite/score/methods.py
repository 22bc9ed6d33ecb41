"""Scoring methods: what the layer-0 forward yields, turned into one importance per token.

Every method reads the same O(n)-memory forward (lite/score/forward.py: rotated q and k, and
blockwise softmax column sums per kv group, [KV, n]) and post-processes it; none holds an
[n, n] matrix. Each returns float32 [n] summing to 1. Let p[h, i, j] be head h's attention of
query i on key j, s[h, i, j] its logit, g(h) the kv group of head h and v[j, g] token j's
value vector in group g. METHODS maps each name to its one-line description (below).

| name        | score of token j (then normalised to sum 1)                                  |
|-------------|------------------------------------------------------------------------------|
| rank_mix    | **the default**: (rank of attention[j] + rank of rarity[j]) / 2n, ranks      |
|             | 1..n, ties sharing their mean rank: a mix by rank, so neither tail decides   |
| attention   | sum_h,i p[h, i, j] / (n H): **the paper's score (LitePruner)**, exact         |
| centred     | sum_h,i c[h, i, j], c = softmax over keys j != i, j != 0 of                  |
|             | (q_i - mean_i' q_i') . k_j: each head's queries centred (what every query    |
|             | gives a key alike removed), self-attention and the first-token sink excluded;|
|             | token 0 then gets the median of the others' scores (n > 2); soft-capped      |
|             | logits (Gemma 2) are capped after the centring                               |
| centred_mix | (rank of centred[j] + rank of rarity[j]) / 2n                                |
| rarity      | log(n / count of j's id among the ids): in-text rarity, no model at all      |
| value_norm  | sum_h,i p[h, i, j] * ||v[j, g(h)]||: attention weighted by what it carries    |
| no_self     | sum_h sum_{i != j} p[h, i, j]: attention from the other tokens only           |
| group_norm  | mean over kv groups of (group's column sums / their max): no group dominates  |
| rarity_mix  | (attention + rarity) / 2, each normalised to sum 1 (a sum, not a rank mix)   |

Cost: rank_mix, centred and centred_mix make the same one pass over the n x n logits as attention (the
mask is O(n) per block, the centring one mean over the queries), plus O(n log n) for the
ranks; rarity needs no forward. no_self needs each query's attention to itself, exp(s_ii - lse_i):
one more blockwise pass for the row log-sum-exp (the pair's row_logsumexp kernel), so it costs
about twice the default; value_norm adds one [u, dim] x [dim, KV*D] projection over distinct
ids. Every pass runs on the same workers as the forward (lite/score/workers.py). A new method
is a function of ForwardParts here, and an entry in METHODS.
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
DEFAULT_METHOD = "rank_mix"


class ForwardParts:
    """The forward's products for one id sequence, each computed only when a method reads it."""

    def __init__(self, ids: np.ndarray, rows: np.ndarray, inverse: np.ndarray, weights: LayerWeights,
                 spec: AttentionSpec, kernels: Kernels, workers: int, method: str,
                 positions: np.ndarray | None = None):
        self.ids, self.inverse = ids, inverse  # [n], [n]
        self.weights, self.spec, self.kernels, self.workers = weights, spec, kernels, workers
        self.value_norms = (value_norms(rows, inverse, weights, spec, workers)
                            if method in USES_VALUES else None)  # [n, KV]
        self.queries, self.keys_t = (forward.rotated_states(rows, inverse, weights, spec, workers, positions)
                                     if method not in MODEL_FREE else (None, None))
        # queries [KV, n, rep, D] (or [KV, m, rep, D]: the queries at `positions` only) scaled and rotated,
        # keys_t [KV, D, n] rotated

    @cached_property
    def group_sums(self) -> np.ndarray:
        """sum over each group's heads and over queries of p[h, i, j]: [KV, n] float64 (the paper's pass)."""
        return forward.group_colsums(self.queries, self.keys_t, self.spec, self.kernels, self.workers)

    @cached_property
    def centred_sums(self) -> np.ndarray:
        """The same sums for queries centred per head, self and first key excluded: [KV, n] float64."""
        mean = self.queries.mean(axis=1, keepdims=True, dtype=np.float64).astype(F32)  # [KV, 1, rep, D]
        centred = self.queries - mean  # [KV, n, rep, D]
        return forward.group_colsums(centred, self.keys_t, self.spec, self.kernels, self.workers,
                                     exclude_self_and_first=True)

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


def rarity_prior(ids: np.ndarray) -> np.ndarray:
    """log(n / count of each position's id among the ids): [n] float64, 0 for an id that fills the text."""
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    return np.log(len(ids) / counts[inverse])  # [n]


def rarity(parts: ForwardParts) -> np.ndarray:
    """The in-text rarity prior, normalised to sum 1 (uniform if every id repeats equally)."""
    prior = rarity_prior(parts.ids)  # [n]
    return prior / prior.sum() if prior.sum() > 0 else np.full(parts.n, 1.0 / parts.n)


def rarity_mix(parts: ForwardParts) -> np.ndarray:
    return 0.5 * attention(parts) + 0.5 * rarity(parts)  # [n]


def centred(parts: ForwardParts) -> np.ndarray:
    scores = parts.centred_sums.sum(axis=0)  # [n]
    if parts.n > 2:  # the first key was excluded: give it the others' median, neither kept first nor dropped first
        scores[0] = np.median(scores[1:])
    return scores


def check_finite(scores: np.ndarray) -> None:
    """A score that is NaN or infinite (broken weights or config) is an error, never a selection."""
    bad = ~np.isfinite(scores)
    if bad.any():
        raise LiteError(
            f"the importance is not finite (NaN or infinity) for {int(bad.sum())} of {len(scores)} tokens; "
            "the slice's weights or config are broken: make the slice again"
        )


def mean_ranks(x: np.ndarray) -> np.ndarray:
    """Rank of each value among x, 1 (smallest) .. n, tied values sharing their mean rank: [n] float64.

    A NaN or infinite value is an error: ranking would turn broken scores into plausible ones.
    """
    check_finite(x)
    n = len(x)
    order = np.argsort(x, kind="stable")  # [n]
    ordered = x[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # [groups]: first index of each run of ties
    ends = np.r_[starts[1:], n]  # [groups]
    ranks = np.empty(n, dtype=np.float64)  # [n]
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return ranks


def mixed_with_rarity(scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(rank of scores + rank of the rarity prior) / 2n: [n] float64 in (0, 1]."""
    return (mean_ranks(scores) + mean_ranks(rarity_prior(ids))) / (2.0 * len(ids))  # [n]


def rank_mix(parts: ForwardParts) -> np.ndarray:
    return mixed_with_rarity(attention(parts), parts.ids)  # [n]


def centred_mix(parts: ForwardParts) -> np.ndarray:
    return mixed_with_rarity(centred(parts), parts.ids)  # [n]


METHODS: dict[str, Callable[[ForwardParts], np.ndarray]] = {
    "rank_mix": rank_mix,
    "attention": attention,
    "centred": centred,
    "centred_mix": centred_mix,
    "rarity": rarity,
    "value_norm": value_norm,
    "no_self": no_self,
    "group_norm": group_norm,
    "rarity_mix": rarity_mix,
}
DESCRIPTIONS: dict[str, str] = {
    "rank_mix": "the default: mean of the ranks of `attention` and of in-text rarity log(n / count of the id)",
    "attention": "the paper's score (LitePruner), exact: layer-0 attention received, mean over heads and queries",
    "centred": "attention received with each head's queries centred, self-attention and the first token excluded",
    "centred_mix": "mean of the ranks of `centred` and of in-text rarity",
    "rarity": "in-text rarity log(n / count of the token's id), no model: the model-free baseline",
    "value_norm": "attention received times the norm of the token's value vector",
    "no_self": "attention received from the other tokens only",
    "group_norm": "each kv group's attention divided by its max, then averaged",
    "rarity_mix": "half the paper's score, half in-text rarity (each summing to 1)",
}
USES_VALUES = ("value_norm",)  # methods that need the value vectors' norms
MODEL_FREE = ("rarity",)  # methods that read no model: no forward at all
EVERY_QUERY = ("centred", "centred_mix", "no_self")  # they read each query's own position: no sampled queries


def check_method(method: str) -> str:
    if method not in METHODS:
        raise LiteError(f"method {method!r} is not one of {', '.join(METHODS)}")
    return method


def check_sampled(method: str) -> str:
    """The method, if it is a sum over queries that a sample of them can stand for (all but EVERY_QUERY)."""
    if method in EVERY_QUERY:
        raise LiteError(f"method {method!r} needs every query: a text longer than max_tokens is scored with it only "
                        "in chunks (chunk=W, --chunk W), or raise max_tokens")
    return method


def score(method: str, parts: ForwardParts) -> np.ndarray:
    """float32 [n], summing to 1: the named method's (checked by the caller) importance of each position."""
    raw = METHODS[method](parts)  # [n]
    check_finite(raw)
    if parts.n == 1:  # one token gets all of it (no_self would otherwise divide 0 by 0)
        return np.ones(1, dtype=F32)
    return (raw / raw.sum()).astype(F32)
