"""Token ids -> importance: the layer-0 attention score of LitePruner, in numpy.

    x = embed(ids) * embed_scale                     # [n, dim]
    h = RMSNorm(x)                                   # [n, dim]
    q = h W_q (+ b_q), k = h W_k (+ b_k)             # [n, n_heads, head_dim], [n, n_kv_heads, head_dim]
    q, k = head RMSNorm (if any), then RoPE          # rotate-half layout
    p[h, i, j] = softmax_j(scale * q_i . k_j)        # no mask: every query sees every key
    importance[j] = mean over heads h and queries i of p[h, i, j]

Everything up to RoPE depends only on the token id, so it is computed once per distinct id,
in fixed blocks of ids dealt to the worker threads too (a block's result never depends on their count).
The scores are taken in blocks of query rows per kv group (the query heads of a group
stacked into one matrix product), dealt to worker threads (lite/score/workers.py), so memory
grows as O(n), never as [heads, n, n]; from TILED_FROM keys on, a block is multiplied and
exponentiated a tile of keys at a time (tiled_colsums), in cache. What a scoring method makes of the products is in
lite/score/methods.py. This module does no I/O: the scorer hands it arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model.rope import apply_rotary, attention_scaling, cos_sin, inv_freq
from ..model.spec import AttentionSpec
from ..model.weights import LayerWeights
from .kernels import Kernels
from .kernels_numpy import soft_cap
from .workers import Task, deal, group_blocks

F32 = np.float32
STATE_ROWS = 256  # distinct ids normed and projected at a time, by one worker
LANES = 8  # accumulators of the column sums: fixed, so the sums' order does not depend on the worker count
BLOCK_ROWS = 256  # query rows per block of logits: [256, n] per worker (sgemm runs poorly on thin blocks)
KEY_ROWS = 4096  # positions whose keys are gathered, rotated and transposed at a time, by one worker
MAX_BLOCK_ELEMENTS = 1 << 23  # at most 32 MiB of logits per worker: fewer rows per block past n = 32,768
KEY_TILE = 1024  # keys per tile from TILED_FROM on: a tile's [KEY_TILE, rows] logits stay in the core's cache
TILED_FROM = 4096  # keys from which the column sums are taken a tile of keys at a time (tiled_colsums; measured
# faster from 2,048 keys on, docs/benchmarks.md; the dev split's outputs are unchanged)
MAX_TILED_ELEMENTS = 1 << 24  # the tiled path keeps a block's exponentials: at most 64 MiB per worker


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float, offset: float) -> np.ndarray:
    """x / rms(x) * (offset + weight), over the last axis, in float32 as transformers does."""
    variance = np.mean(np.square(x), axis=-1, keepdims=True)  # [..., 1]
    normed = x * (F32(1.0) / np.sqrt(variance + F32(eps)))  # [..., d]
    return normed * (F32(offset) + weight) if offset else weight * normed  # [..., d]


def project(h: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    out = h @ weight.T  # [u, out]
    return out + bias if bias is not None else out


def normed_states(rows: np.ndarray, weights: LayerWeights, spec: AttentionSpec) -> np.ndarray:
    """The layer's input: RMSNorm of the (scaled) embedding rows, [c, dim]."""
    x = rows * F32(spec.embed_scale) if spec.embed_scale != 1.0 else rows  # [c, dim]
    return rms_norm(x, weights.norm, spec.norm_eps, spec.norm_offset)  # [c, dim]


def token_states(rows: np.ndarray, weights: LayerWeights, spec: AttentionSpec,
                 workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Queries and keys before RoPE for the given embedding rows (one row per distinct id).

    Taken STATE_ROWS rows at a time, as tasks dealt to `workers` threads, each a single-threaded
    product: a row's last bits depend on the block it is multiplied in (OpenBLAS's Haswell sgemm
    splits a multi-threaded product by thread count and rounds the pieces differently), so the
    blocks depend on the input alone. The norm's temporaries stay small whatever the input's length.
    """
    u = len(rows)
    q = np.empty((u, spec.n_heads, spec.head_dim), dtype=F32)  # [u, H, D]
    k = np.empty((u, spec.n_kv_heads, spec.head_dim), dtype=F32)  # [u, KV, D]

    def work(worker: int, tasks: Sequence[Task]) -> None:
        for _, start in tasks:
            h = normed_states(rows[start : start + STATE_ROWS], weights, spec)  # [c, dim]
            c = len(h)
            q_chunk = project(h, weights.w_q, weights.b_q).reshape(c, spec.n_heads, spec.head_dim)  # [c, H, D]
            k_chunk = project(h, weights.w_k, weights.b_k).reshape(c, spec.n_kv_heads, spec.head_dim)  # [c, KV, D]
            if weights.q_norm is not None:
                q_chunk = rms_norm(q_chunk, weights.q_norm, spec.norm_eps, spec.norm_offset)  # [c, H, D]
                k_chunk = rms_norm(k_chunk, weights.k_norm, spec.norm_eps, spec.norm_offset)  # [c, KV, D]
            q[start : start + c], k[start : start + c] = q_chunk, k_chunk

    deal(group_blocks(1, u, STATE_ROWS), work, workers)
    return q, k


def grouped_queries(q_unique: np.ndarray, inverse: np.ndarray, spec: AttentionSpec) -> np.ndarray:
    """Queries per position, the heads of each kv group side by side: one gather, no other copy."""
    u = len(q_unique)
    by_group = q_unique.reshape(u, spec.n_kv_heads, spec.n_rep, spec.head_dim).transpose(1, 0, 2, 3)  # [KV, u, rep, D]
    return np.take(by_group, inverse, axis=1)  # [KV, n, rep, D]


@dataclass(frozen=True)
class Rope:
    """RoPE for a text of n tokens (the frequencies may depend on n): cos and sin at any positions."""
    inv_freq: np.ndarray  # [rotary_dim / 2] float32
    scaling: float

    @classmethod
    def of(cls, n: int, spec: AttentionSpec) -> Rope:
        return cls(inv_freq(spec.rope, n), attention_scaling(spec.rope))

    def at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """cos and sin at the positions, [len(positions), rotary_dim] each; a row depends on its position alone
        (an elementwise ufunc), so tables taken in blocks equal the whole table (tests/test_forward_tiles.py)."""
        return cos_sin(positions, self.inv_freq, self.scaling)


def rotated_keys(k_unique: np.ndarray, inverse: np.ndarray, rope: Rope, workers: int = 1) -> np.ndarray:
    """The keys of every position, rotated and transposed: [KV, D, n], from the distinct ids' keys [u, KV, D].

    KEY_ROWS positions at a time (their cos and sin computed, gathered, rotated, written), as tasks dealt to
    the workers: the temporaries stay in cache and small whatever n is; each element's arithmetic is the
    same as whole.
    From TILED_FROM keys on, the result is a transposed view of keys stored [KV, n, D], the layout the
    tiled column sums multiply fastest; below, [KV, D, n] itself.
    """
    n = len(inverse)
    keys_major = n >= TILED_FROM
    n_kv, head_dim = k_unique.shape[1], k_unique.shape[2]
    stored = np.empty((n_kv, n, head_dim) if keys_major else (n_kv, head_dim, n), dtype=F32)  # [KV, n, D] / [KV, D, n]
    keys_t = stored.transpose(0, 2, 1) if keys_major else stored  # [KV, D, n]

    def work(worker: int, tasks: Sequence[Task]) -> None:
        for _, start in tasks:
            stop = min(start + KEY_ROWS, n)
            block = k_unique[inverse[start:stop]]  # [b, KV, D]
            apply_rotary(block, *rope.at(np.arange(start, stop)))  # cos, sin [b, rotary_dim]
            keys_t[:, :, start:stop] = block.transpose(1, 2, 0)  # [KV, D, b]

    deal(group_blocks(1, n, KEY_ROWS), work, workers)
    return keys_t


def sampled_positions(n: int, m: int) -> np.ndarray:
    """m query positions spread evenly over 0..n-1, the middle of each of m equal stretches: [m] int64."""
    return ((np.arange(m, dtype=np.int64) * 2 + 1) * n) // (2 * m)  # [m]


def block_logits(block: np.ndarray, keys_t: np.ndarray, softcap: float, out: np.ndarray) -> np.ndarray:
    """out[:b] = block [b, D] @ keys_t [D, n], soft-capped: one block of logits, [b, n] (a view of out)."""
    logits = out[: len(block)]  # [b, n]
    np.matmul(block, keys_t, out=logits)
    return soft_cap(logits, softcap)


def attention_colsums(
    queries: np.ndarray, keys_t: np.ndarray, softcap: float, kernels: Kernels, workers: int,
    block_rows: int = BLOCK_ROWS, n_rep: int = 1, exclude_self_and_first: bool = False,
) -> np.ndarray:
    """Sum over the heads of each kv group and over queries of the softmax probabilities, per key: [KV, n] float64.

    queries [KV, n * rep, D] are scaled and rotated, keys_t [KV, D, n] rotated. The tasks are split
    into a fixed number of lanes (task i in lane i % LANES), each with its own accumulator, summed in
    lane order at the end; workers take whole lanes. The order of every addition depends on the input
    alone, so the result is the same to the bit whatever the number of workers.
    exclude_self_and_first: each query's softmax runs over the other keys only, and (for n > 2) not
    over the first key either: row r of a group is query r // n_rep, whose own logit and the first
    key's are set to MASKED (exp gives 0 in numpy, < 2e-38 in numba) before the kernel.
    """
    n_groups, rows_total, _ = queries.shape  # rows_total = n * n_rep: (query i, head r) pairs per kv group
    n = keys_t.shape[2]
    tiled = n >= TILED_FROM
    block_colsums = tiled_colsums if tiled else whole_row_colsums
    block_rows = min(rows_total, block_rows, max(1, (MAX_TILED_ELEMENTS if tiled else MAX_BLOCK_ELEMENTS) // n))
    tasks = group_blocks(n_groups, rows_total, block_rows)
    lanes = [(lane, tasks[lane::LANES]) for lane in range(min(LANES, len(tasks)))]
    acc = np.zeros((len(lanes), n_groups, n), dtype=np.float64)  # [lanes, KV, n]

    masking = Masking(softcap, n_rep, exclude_self_and_first)

    def work(worker: int, my_lanes: Sequence[tuple[int, list[Task]]]) -> None:
        buffer = np.empty(block_rows * n, dtype=F32)  # [block_rows * n], reused for every task
        for lane, lane_tasks in my_lanes:
            for group, start in lane_tasks:
                block_colsums(queries[group, start : start + block_rows], keys_t[group], start, buffer,
                              acc[lane, group], masking, kernels)

    deal(lanes, work, workers)
    return acc.sum(axis=0)  # [KV, n], lanes added in order


@dataclass(frozen=True)
class Masking:
    softcap: float  # > 0: logits soft-capped (Gemma 2)
    n_rep: int  # query heads per kv group: row r of a block is query (start + r) // n_rep
    exclude_self_and_first: bool  # each query's own key and (n > 2) the first key masked


def whole_row_colsums(block: np.ndarray, keys_t: np.ndarray, start: int, buffer: np.ndarray, acc: np.ndarray,
                      masking: Masking, kernels: Kernels) -> None:
    """acc [n] += the softmax column sums of the block's rows [b, D] of queries (rows start..) on keys_t [D, n]."""
    n = keys_t.shape[1]
    logits = block_logits(block, keys_t, masking.softcap, buffer[: len(block) * n].reshape(len(block), n))  # [b, n]
    if masking.exclude_self_and_first:
        mask_self_and_first(logits, start, masking.n_rep)  # logits [b, n]
    kernels.softmax_colsum(logits, acc)


def tiled_colsums(block: np.ndarray, keys_t: np.ndarray, start: int, buffer: np.ndarray, acc: np.ndarray,
                  masking: Masking, kernels: Kernels) -> None:
    """The same column sums as whole_row_colsums, a tile of KEY_TILE keys at a time.

    Each tile's logits, laid out keys by query rows ([w, b] = keys [w, D] @ block.T: the product sgemm runs
    fastest with a head dimension of 64), are multiplied and exponentiated against the tile's own maxima
    while they are in cache, and kept; then each query's softmax is put together from its tiles (weight
    exp(peak_t - peak) / total) and the tiles summed. The logits go to memory once and come back once.
    keys_t [D, n] is best a transposed view of keys [n, D] (rotated_keys does so from TILED_FROM keys on).
    """
    b, n = len(block), keys_t.shape[1]  # block [b, D], keys_t [D, n]
    edges = list(range(0, n, KEY_TILE)) + [n]
    spans = list(zip(edges[:-1], edges[1:]))
    peaks = np.empty((len(spans), b), dtype=np.float64)  # [tiles, b], each tile's maxima per query row
    sums = np.empty((len(spans), b), dtype=np.float64)  # [tiles, b], each tile's sums of exp(logit - peak)
    tiles = [buffer[b * a : b * z].reshape(z - a, b) for a, z in spans]  # [w, b] each
    for t, (a, z) in enumerate(spans):
        block_logits(keys_t[:, a:z].T, block.T, masking.softcap, tiles[t])  # [w, b] = keys [w, D] @ block.T
        if masking.exclude_self_and_first:
            mask_self_and_first(tiles[t].T, start, masking.n_rep, first_key=a, n=n)
        kernels.tile_exp(tiles[t], peaks[t], sums[t])
    peak = peaks.max(axis=0)  # [b]
    scale = np.exp(peaks - peak)  # [tiles, b]
    weights = (scale / (scale * sums).sum(axis=0)).astype(F32)  # [tiles, b]: exp(peak_t - peak) / total
    for t, (a, z) in enumerate(spans):
        kernels.weighted_key_sums(tiles[t], weights[t], acc[a:z])


MASKED = F32(-1e30)  # a logit no softmax weighs (finite: numba's fastmath assumes no infinities)


def mask_self_and_first(logits: np.ndarray, start: int, n_rep: int, first_key: int = 0, n: int = 0) -> None:
    """Mask, in a block of rows start.. of (query, head) pairs, each query's own key and (n > 2) the first key.

    logits [b, w] hold keys first_key .. first_key + w - 1 of n (n: w when not given, the whole row)."""
    rows, width = logits.shape  # [b, w]
    n = n or width
    if n < 2:
        return
    row = np.arange(rows)  # [b]
    own = (start + row) // n_rep - first_key  # [b], each row's own key in this tile
    inside = (own >= 0) & (own < width)  # [b]
    logits[row[inside], own[inside]] = MASKED
    if n > 2 and first_key == 0:
        logits[:, 0] = MASKED


def rotated_states(
    rows: np.ndarray, inverse: np.ndarray, weights: LayerWeights, spec: AttentionSpec, workers: int = 1,
    positions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled rotated queries [KV, n, rep, D] and rotated keys transposed [KV, D, n], given the distinct
    ids' embedding rows and the position -> row map; with `positions` [m], the queries at those positions
    only: [KV, m, rep, D] (the keys are all n).

    Pass `rows` without keeping a reference to it: it is released once the projections are done.
    """
    q_unique, k_unique = token_states(rows, weights, spec, workers)  # [u, H, D], [u, KV, D]
    del rows
    q_unique *= F32(spec.scale)  # the scale folded into q (RoPE is linear)
    queries = grouped_queries(q_unique, inverse if positions is None else inverse[positions], spec)  # [KV, m, rep, D]
    del q_unique
    rope = Rope.of(len(inverse), spec)
    cos_q, sin_q = rope.at(np.arange(len(inverse)) if positions is None else positions)  # [m, rotary_dim] each
    for group in queries:  # [m, rep, D], one kv group at a time (small temporaries)
        apply_rotary(group, cos_q, sin_q)
    return queries, rotated_keys(k_unique, inverse, rope, workers)


def group_colsums(queries: np.ndarray, keys_t: np.ndarray, spec: AttentionSpec, kernels: Kernels, workers: int,
                  exclude_self_and_first: bool = False) -> np.ndarray:
    """attention_colsums over the queries [KV, m, rep, D] of rotated_states (m = n, or the sampled ones): [KV, n]
    float64."""
    m = queries.shape[1]
    rows_per_group = queries.reshape(spec.n_kv_heads, m * spec.n_rep, spec.head_dim)  # [KV, m * rep, D]
    return attention_colsums(rows_per_group, keys_t, spec.softcap, kernels, workers, n_rep=spec.n_rep,
                             exclude_self_and_first=exclude_self_and_first)  # [KV, n]
