"""Budgets in the target's tokens: the largest pruner budget whose output fits N tokens of the target.

The selection stays the pruner's: its scores, its units, its rules. Only the budget handed to it
changes. Each text is scored once (a memo in front of the scorer), then the pruner budget is
binary-searched over [1, n]: the largest budget whose output, counted by the target tokenizer,
holds at most N tokens. Every candidate is measured, so the answer never exceeds N, except when
even the smallest output the pruner can give (one unit per text, plus forced keeps) does not
fit: then that smallest output is returned, and its count says so.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")
SCAN_AFTER = 64  # budgets past the binary search's answer that are also tried


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


def remembering(pruner: Any) -> Any:  # a Pruner (not imported: pruner.py imports this module)
    """A copy of the pruner that scores each distinct text once (same tokenizer, same slice)."""
    if isinstance(pruner.scorer, MemoScorer):
        return pruner
    twin = copy.copy(pruner)
    twin.scorer = MemoScorer(pruner.scorer)
    return twin


def largest_fitting(run: Callable[[int], R], measure: Callable[[R], int], limit: int, high: int) -> R:
    """run(budget) for the largest budget in [1, high] with measure(run(budget)) <= limit.

    If nothing fits, run(1). Assumes the output grows with the budget (it does, up to the
    rounding of units and shares); each answer is measured, none is taken on trust.
    """
    best = run(high) if high >= 1 else run(1)
    if high <= 1 or measure(best) <= limit:
        return best
    best, found = None, 0
    low, top = 1, high - 1
    while low <= top:
        middle = (low + top) // 2
        result = run(middle)
        if measure(result) <= limit:
            best, found, low = result, middle, middle + 1
        else:
            top = middle - 1
    if best is None:
        return run(1)
    # the output grows with the budget only roughly (a unit's rounding, pieces kept again by a guard, the
    # clause rules' shares of the budget): look a little past the search's answer for a larger one that fits
    for budget in range(found + 1, min(high, found + SCAN_AFTER)):
        result = run(budget)
        if measure(result) <= limit:
            best = result
    return best


def memo_counter(count: Callable[[str], int]) -> Callable[[str], int]:
    """The count, remembered per text (untouched texts are counted once per search, not per step)."""
    seen: dict[str, int] = {}

    def counted(text: str) -> int:
        if text not in seen:
            seen[text] = count(text)
        return seen[text]

    return counted
