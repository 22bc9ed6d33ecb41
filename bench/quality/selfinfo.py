"""The ceiling arm `selfinfo`: the target model's own self-information, -log p(token | prefix) (Selective Context).

The target (transformers) reads the segment; each of its tokens' -log p is spread evenly over the
token's characters; a pruner token's score is the information of the characters it covers (so a
unit of several byte tokens, scored by the mean of its tokens, gets information per token spent).
The scores then go through the same Pruner.prune as every arm, at the same budget, through whole words.
"""

from __future__ import annotations

import numpy as np

from .arms import Context, per_token, prune_with_scores, register


def char_information(text: str, info: list[float], offsets: list[tuple[int, int]]) -> np.ndarray:
    """Information per character: each token's -log p divided evenly over its characters. [len(text)]"""
    density = np.zeros(len(text) + 1, dtype=np.float64)
    for value, (start, end) in zip(info, offsets):
        if end > start:
            density[start:end] += value / (end - start)
    return density


def selfinfo_arm(ctx: Context) -> str:
    info, offsets = ctx.target.self_information(ctx.text)
    density = char_information(ctx.text, info, offsets)
    cumulative = np.concatenate([[0.0], np.cumsum(density)])  # [len + 2]

    def scores(enc):
        spans = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)  # [n, 2]
        return cumulative[spans[:, 1]] - cumulative[spans[:, 0]]  # [n]

    return prune_with_scores(ctx, per_token(ctx, scores), "word")  # scored token by token: whole words


register("selfinfo", selfinfo_arm, kind="ceiling", expensive=True,
         description="the target's own -log p given the prefix (Selective Context), through whole words")
