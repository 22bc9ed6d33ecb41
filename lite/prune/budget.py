"""Budgets: how many tokens a text keeps, how one budget is shared, and the search for a budget in the target's tokens.

- `token_budget(n, rate, target)`: round(rate * n) or target, at least 1, at most n.
- `shared_budgets(lengths, total)`: one budget shared by several texts in proportion to their lengths
  (largest remainder, at least 1 each); the one way prune's segments, chat messages and
  compress_prompt's context items share a budget.
- `fit_target(engine, run, texts_of, count, limit, high)`: the largest pruner budget whose output,
  counted by the target tokenizer, holds at most `limit` tokens. The selection stays the pruner's: its
  scores, its units, its rules; only the budget handed to it changes. Each text is scored once (a memo
  in front of the scorer), then the budget is binary-searched over [1, high]. Every candidate is
  measured, so the answer never exceeds the limit, except when even the smallest output the pruner can
  give (one unit per text, plus forced keeps) does not fit: then that smallest output is returned, and
  its count says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import numpy as np

R = TypeVar("R")


class Engine(Protocol):
    """What the search needs of engine.Engine: a twin that scores each distinct text once."""

    def remembering(self) -> Engine: ...


def token_budget(n_tokens: int, rate: float | None = None, target_tokens: int | None = None) -> int:
    """How many tokens to keep: round(rate * n) or target_tokens, at least 1, at most n (0 for no tokens)."""
    wanted = int(target_tokens) if target_tokens is not None else round(float(rate) * n_tokens)
    return min(n_tokens, max(1, wanted)) if n_tokens else 0


def shared_budgets(lengths: Sequence[int], total: int) -> list[int]:
    """Split a token budget over texts in proportion to their lengths (largest remainder), at least 1 each
    (0 for an empty text)."""
    whole = sum(lengths)
    if whole == 0:
        return [0 for _ in lengths]
    shares = [total * length / whole for length in lengths]
    floors = [int(share) for share in shares]
    by_remainder = sorted(range(len(lengths)), key=lambda i: (floors[i] - shares[i], i))
    for i in by_remainder[: total - sum(floors)]:
        floors[i] += 1
    return [min(length, max(1, share)) if length else 0 for share, length in zip(floors, lengths)]


class MemoScorer:
    """A scorer that remembers each id sequence's importance: one score per text during a search."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.slice = getattr(scorer, "slice", None)
        self.seen: dict[tuple[str, bytes], np.ndarray] = {}

    def importance(self, ids, method: str = "attention", **kwargs) -> np.ndarray:
        key = (method, np.asarray(ids, dtype=np.int64).tobytes())
        if key not in self.seen:
            self.seen[key] = self.scorer.importance(ids, method=method, **kwargs)
        return self.seen[key]


def fit_target(engine: Engine, run: Callable[[Engine, int], R], texts_of: Callable[[R], Sequence[str]],
               count: Callable[[str], int], limit: int, high: int) -> R:
    """run(engine, budget) for the largest budget in [1, high] whose texts hold at most `limit` target tokens.

    texts_of(result): the texts the target will read (their counts are summed; each text is counted once
    per search). If nothing fits, run(engine, 1).
    """
    twin = engine.remembering()
    seen: dict[str, int] = {}

    def measure(result: R) -> int:
        for text in texts_of(result):
            if text not in seen:
                seen[text] = count(text)
        return sum(seen[text] for text in texts_of(result))

    return largest_fitting(lambda budget: run(twin, budget), measure, limit, high)


def largest_fitting(run: Callable[[int], R], measure: Callable[[R], int], limit: int, high: int) -> R:
    """run(budget) for the largest budget in [1, high] with measure(run(budget)) <= limit; run(1) if none.

    Assumes the output grows with the budget (it does, up to the rounding of units and shares, and, with
    several passages and a question, up to a passage taken whole once the budget holds it); each answer is
    measured, none is taken on trust, so the limit holds either way.
    """
    best = run(high) if high >= 1 else run(1)
    if high <= 1 or measure(best) <= limit:
        return best
    best = None
    low, top = 1, high - 1
    while low <= top:
        middle = (low + top) // 2
        result = run(middle)
        if measure(result) <= limit:
            best, low = result, middle + 1
        else:
            top = middle - 1
    return run(1) if best is None else best
