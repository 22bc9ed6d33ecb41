"""Strategies: a score for every token of an exemplar, then the top `budget` positions, kept in order.

Every strategy keeps exactly `budget = round(rate * n)` of an exemplar's n tokens (the pruner's
token_budget), chosen token by token (not by the pruner's character units, whose sizes vary), so
all strategies are compared at exactly equal kept counts. Ties go to the earlier position.

    lite             the paper's score (method "attention", lite's default)
    lite:<method>    every other scoring option in lite.METHODS
    random           uniform random scores; reported as the mean over RANDOM_SEEDS
    inverse          the paper's score negated: the lowest-scored tokens kept first
"""

from __future__ import annotations

import numpy as np

import lite
from lite.prune import Pruner

RANDOM_SEEDS = (0, 1, 2)
BASELINE = "none"


def strategy_names() -> list[str]:
    """Names as reported: lite first, then random, inverse and the other methods."""
    others = [f"lite:{m}" for m in lite.METHODS if m != lite.DEFAULT_METHOD]
    return ["lite", "random", "inverse", *others]


def runs() -> list[tuple[str, int | None]]:
    """(strategy, seed) pairs that each need their own pruned prompt; random once per seed."""
    return [(name, seed) for name in strategy_names() for seed in (RANDOM_SEEDS if name == "random" else (None,))]


class ExemplarScores:
    """One exemplar's tokens as the pruner sees them, and each strategy's scores of them (cached per method)."""

    def __init__(self, pruner: Pruner, text: str, index: int):
        encoding = pruner.tokenizer.encode(text)
        self.pruner, self.index = pruner, index
        self.ids = np.asarray(encoding.ids, dtype=np.int64)  # [n + specials]
        self.own = np.array([i for i, s in enumerate(encoding.sequence_ids) if s is not None], dtype=np.int64)  # [n]
        self.by_method: dict[str, np.ndarray] = {}

    @property
    def own_ids(self) -> np.ndarray:
        return self.ids[self.own]  # [n]

    def method(self, method: str) -> np.ndarray:
        if method not in self.by_method:
            self.by_method[method] = self.pruner.importance(self.ids, method=method)[self.own]  # [n]
        return self.by_method[method]

    def scores(self, strategy: str, seed: int | None) -> np.ndarray:
        if strategy == "lite":
            return self.method(lite.DEFAULT_METHOD)
        if strategy == "inverse":
            return -self.method(lite.DEFAULT_METHOD)
        if strategy == "random":
            return np.random.default_rng((seed, self.index, len(self.own))).random(len(self.own))  # [n]
        return self.method(strategy.removeprefix("lite:"))


def top_positions(scores: np.ndarray, budget: int) -> np.ndarray:
    """The `budget` highest-scored positions, ascending; equal scores in position order."""
    order = np.lexsort((np.arange(len(scores)), -scores.astype(np.float64)))  # [n]
    return np.sort(order[:budget])  # [budget]
