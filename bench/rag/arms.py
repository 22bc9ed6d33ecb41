"""The arms of the multi-passage bench: each gets a context's passages and question, returns what it keeps.

An arm is a function `(env, ctx) -> Kept`: the kept text of each passage (so retention is read from
the gold passage's own kept text, never from the whole output), the tokens kept in the pruner's
tokens, and the order in which the kept passages are given to the target. The budget of an arm at
rate r is round(r * n), n the passages' tokens in the pruner's tokenizer (summed passage by passage:
the separators between them are not counted, by any arm).

    lite@r            pruner.prune(list(passages), rate=r, question=q); segments[i].text is passage i's
    auto              pruner.prune(list(passages), rate="auto", question=q), where lite accepts it
    truncation@r      the first round(r * n) tokens of the passages one after the other
    bm25@r            whole passages ranked by BM25 over whole casefolded words (Chinese: character
                      bigrams, Thai: trigrams; lite.prune.relevance's terms(text, whole_words=True)), the
                      passages of the context being the documents; taken in rank order while they fit
                      the budget; the first one that does not fit is cut at the budget (its first
                      tokens) and nothing after it is taken; kept in their original order
    minilm@r          the same, ranked by all-MiniLM-L6-v2's cosine with the question (minilm.py)

Order variants (`<arm>:first`, `<arm>:last`) keep what the arm keeps and change only the order of
the kept passages in the target's prompt: the most relevant first, or last (next to the question).
Relevance is the arm's own passage ranking for bm25 and minilm, and the bench's BM25 over words for
lite and truncation (lite does not expose its passage ranking). Retention cannot change with the
order, so order variants run only where the target's KL is measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

import lite
from lite.prune.relevance import bm25, terms

from .contexts import Context

RATES = (0.05, 0.1, 0.2, 0.3, 0.5)
ORDERS = ("original", "first", "last")  # the kept passages in their order; the most relevant first; last


@dataclass
class Kept:
    texts: tuple[str, ...]  # each passage's kept text ("" when dropped)
    tokens: int  # tokens kept, in the pruner's tokens
    scores: np.ndarray | None = None  # the arm's relevance of each passage, float64 [p] (None: bm25 words)


@dataclass
class Env:
    """What arms share: the pruner, lazily built helpers (the MiniLM reranker), per-text caches."""

    pruner: lite.Pruner
    services: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    def count(self, text: str) -> int:
        if text not in self.counts:
            self.counts[text] = self.pruner.count_tokens(text)
        return self.counts[text]

    def minilm(self):
        if "minilm" not in self.services:
            from .minilm import MiniLM

            self.services["minilm"] = MiniLM()
        return self.services["minilm"]


ArmFn = Callable[[Env, Context], Kept]


@dataclass(frozen=True)
class Arm:
    name: str
    fn: ArmFn
    rate: float | None  # None: the arm picks its own budget (auto)
    family: str  # lite | auto | truncation | bm25 | minilm
    order: str = "original"

    @property
    def retention(self) -> bool:
        """Runs in the retention bench (an order variant keeps the very same text)."""
        return self.order == "original"


ARMS: dict[str, Arm] = {}


def register(arm: Arm) -> Arm:
    ARMS[arm.name] = arm
    return arm


def budget(env: Env, ctx: Context, rate: float) -> int:
    return max(1, round(rate * sum(env.count(p) for p in ctx.passages)))


# ---- the arms -------------------------------------------------------------------------------------------
def lite_arm(env: Env, ctx: Context, rate: float | str) -> Kept:
    result = env.pruner.prune(list(ctx.passages), rate=rate, question=ctx.question)
    return Kept(tuple(s.text for s in result.segments), result.compressed_tokens)


def first_tokens(env: Env, text: str, k: int) -> str:
    """The text up to the end of its k-th token (k >= 1); whole when it has at most k."""
    offsets = env.pruner.tokenizer.encode(text).offsets
    return text if k >= len(offsets) else text[: offsets[k - 1][1]]


def truncation_arm(env: Env, ctx: Context, rate: float) -> Kept:
    left, texts = budget(env, ctx, rate), []
    for passage in ctx.passages:
        n = env.count(passage)
        texts.append(passage if n <= left else first_tokens(env, passage, left) if left else "")
        left -= min(n, left)
    return Kept(tuple(texts), budget(env, ctx, rate) - left)


def whole_passages(env: Env, ctx: Context, rate: float, scores: np.ndarray) -> Kept:
    """Whole passages by score (ties: the earlier first) while they fit; the first that does not fit is cut
    at the budget, and nothing is taken after it."""
    left, texts = budget(env, ctx, rate), [""] * len(ctx.passages)
    for i in sorted(range(len(ctx.passages)), key=lambda i: (-scores[i], i)):
        n = env.count(ctx.passages[i])
        texts[i] = ctx.passages[i] if n <= left else first_tokens(env, ctx.passages[i], left)
        left -= min(n, left)
        if not left:
            break
    return Kept(tuple(texts), budget(env, ctx, rate) - left, scores)


def bm25_scores(ctx: Context) -> np.ndarray:
    """BM25 of each passage over whole casefolded words (the passages as the documents): float64 [p]."""
    return bm25([terms(p, whole_words=True) for p in ctx.passages], terms(ctx.question, whole_words=True))


def bm25_arm(env: Env, ctx: Context, rate: float) -> Kept:
    return whole_passages(env, ctx, rate, bm25_scores(ctx))


def minilm_arm(env: Env, ctx: Context, rate: float) -> Kept:
    return whole_passages(env, ctx, rate, env.minilm().scores(ctx.question, list(ctx.passages)))


def ordered(kept: Kept, ctx: Context, order: str) -> list[str]:
    """The kept passages (empty ones left out) in the order the target gets them."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    indices = [i for i, text in enumerate(kept.texts) if text]
    if order != "original":
        scores = kept.scores if kept.scores is not None else bm25_scores(ctx)
        indices.sort(key=lambda i: (-scores[i], i))  # the most relevant first
        if order == "last":
            indices.reverse()
    return [kept.texts[i] for i in indices]


def auto_supported(env: Env) -> bool:
    """Whether this lite accepts rate="auto" (probed once per process)."""
    if "auto" not in env.services:
        try:
            env.pruner.prune(["Paris is in France.", "Rome is in Italy."], rate="auto", question="Where is Paris?")
            env.services["auto"] = True
        except (lite.LiteError, TypeError, ValueError):
            env.services["auto"] = False
    return env.services["auto"]


FAMILIES: dict[str, Callable] = {"lite": lite_arm, "truncation": truncation_arm, "bm25": bm25_arm,
                                 "minilm": minilm_arm}


def register_builtins() -> None:
    for family, fn in FAMILIES.items():
        for rate in RATES:
            for order in ORDERS:
                suffix = "" if order == "original" else f":{order}"
                register(Arm(f"{family}@{rate}{suffix}", partial(fn, rate=rate), rate, family, order))
    for order in ORDERS:
        suffix = "" if order == "original" else f":{order}"
        register(Arm(f"auto{suffix}", partial(lite_arm, rate="auto"), None, "auto", order))


register_builtins()
