"""The score of a whole part (a JSON member, a code block, a table row): its tokens' mean rank.

The whole document is scored once, as `prune` scores a text (the options' method; sampled
queries past max_tokens, or chunks); each token's rank in [0, 1] (clauses.token_ranks) is averaged over the tokens that
start inside the part. A part with no token of its own scores 0.5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..clauses import token_ranks
from ..options import PruneOptions
from .layout import Span

Ranker = Callable[[list[Span]], np.ndarray]


def span_ranker(pruner: Any, text: str, options: PruneOptions) -> Ranker:
    """A function giving the mean token rank of each span (the document scored on the first call)."""
    cached: list[tuple[np.ndarray, np.ndarray]] = []

    def scored() -> tuple[np.ndarray, np.ndarray]:
        if not cached:
            encoding = pruner.tokenize(text)
            own = np.array([i for i, s in enumerate(encoding.sequence_ids) if s is not None], dtype=np.int64)  # [n]
            ids = np.asarray(encoding.ids, dtype=np.int64)  # [n + specials]
            importance = pruner.scores(ids, options)[own] if len(own) else own  # as prose is scored
            offsets = encoding.offsets  # a fresh list on every access: read it once
            starts = np.array([offsets[i][0] for i in own], dtype=np.int64)  # [n]
            cached.append((starts, token_ranks(importance) if len(own) else np.zeros(0)))
        return cached[0]

    def ranks(spans: list[Span]) -> np.ndarray:
        if not spans:
            return np.zeros(0)
        starts, token_rank = scored()
        means = np.full(len(spans), 0.5)  # [n_spans]
        for i, (start, end) in enumerate(spans):
            inside = token_rank[(starts >= start) & (starts < end)]
            if len(inside):
                means[i] = inside.mean()
        return means

    return ranks
