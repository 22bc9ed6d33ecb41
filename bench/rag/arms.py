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
    longllmlingua@r   LongLLMLingua (LLMLingua 0.2.2, SmolLM2 scorer, its own venv): the quality bench's peer
                      call (bench/quality/peer.py `llmlingua_arm`, its regime rag5: the passages as its list of
                      contexts, its context-level filter on, dynamic_context_compression_ratio=0.3), the asked
                      rate driven towards round(r * n) (bench/quality/run.py `drive`: at most 3 calls, within
                      3% of n); its output split at its context separator ("\n\n"), the pieces' words aligned back
                      to their passages (`assign`: a piece is cut where LLMLingua dropped the separator between
                      two passages). Not a default arm (slow: the LM over every passage; the subset it runs on
                      is in docs/quality.md and the report); its records add "asked" (the rate of the call
                      used), "calls", "hit" (the budget reached within 3% of n), "pieces" and "pieces_cut"

Order variants (`<arm>:first`, `<arm>:last`) keep what the arm keeps and change only the order of
the kept passages in the target's prompt: the most relevant first, or last (next to the question).
Relevance is the arm's own passage ranking for bm25 and minilm, and the bench's BM25 over words for
lite and truncation (lite does not expose its passage ranking). Retention cannot change with the
order, so order variants run only where the target's KL is measured.
"""

from __future__ import annotations

import re
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
    extra_cpu: float = 0.0  # CPU seconds spent in another process (a worker's), added to the arm's CPU time
    info: dict | None = None  # fields the arm adds to its records


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
    family: str  # lite | auto | truncation | bm25 | minilm | longllmlingua
    order: str = "original"
    default: bool = True  # among the default retention arms (False: slow, runs when named with --arms)

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


PEER_TOLERANCE = 0.03  # the quality bench's: the budget is reached within this share of n (or 1 token)
PEER_CALLS = 3  # calls to drive the asked rate (the quality bench allows 4; each call costs seconds here)


SWITCH = 3.0  # the alignment's cost of a passage change inside a piece (none where a piece starts)


def assign(pieces: list[str], passages: tuple[str, ...]) -> list[list[tuple[int, int, int]]]:
    """Where each piece of a compressed output came from: per piece, its spans (start, end, passage).

    LLMLingua joins its contexts with a blank line but may drop that separator like any token, so a piece
    can hold the ends of two passages. Pieces and passages are both in order: a monotone alignment (dynamic
    programming) of the pieces' words (runs of non-space; a piece without spaces is one word) to passages,
    each word scoring its share of character 4-grams found in the passage (1 if it is a substring of it),
    a change of passage inside a piece costing SWITCH, at a piece's start nothing."""
    def grams(word: str) -> list[str]:
        return [word[i:i + 4] for i in range(len(word) - 3)] or [word]

    units = [(k, m.start(), m.end()) for k, piece in enumerate(pieces) for m in re.finditer(r"\S+", piece)]
    if not units:
        return [[] for _ in pieces]
    score = []
    for k, a, b in units:
        word = pieces[k][a:b]
        score.append([1.0 if word in p else sum(g in p for g in grams(word)) / len(grams(word)) for p in passages])
    best, back = [list(score[0])], []
    for i in range(1, len(units)):
        cost = 0.0 if units[i][0] != units[i - 1][0] else SWITCH
        row, prev, run_max, run_arg = [], [], -np.inf, 0
        for j in range(len(passages)):
            stay = best[-1][j]
            take, arg = (stay, j) if stay >= run_max - cost else (run_max - cost, run_arg)
            row.append(take + score[i][j])
            prev.append(arg)
            if best[-1][j] > run_max:
                run_max, run_arg = best[-1][j], j
        best.append(row)
        back.append(prev)
    j = int(np.argmax(best[-1]))
    path = [j]
    for prev in reversed(back):
        j = prev[j]
        path.append(j)
    path.reverse()
    spans: list[list[tuple[int, int, int]]] = [[] for _ in pieces]
    for (k, a, b), j in zip(units, path, strict=True):
        if spans[k] and spans[k][-1][2] == j:
            spans[k][-1] = (spans[k][-1][0], b, j)
        else:
            spans[k].append((a, b, j))
    return spans


def longllmlingua_arm(env: Env, ctx: Context, rate: float) -> Kept:
    """LongLLMLingua through the quality bench's peer (its call, its venv, its worker), the asked rate driven
    towards the budget; the output's pieces given back to their passages."""
    from bench.quality.arms import Context as PeerContext
    from bench.quality.data import SEPARATOR
    from bench.quality.peer import llmlingua_arm
    from bench.quality.run import drive

    n = sum(env.count(p) for p in ctx.passages)
    want = budget(env, ctx, rate)

    shapes = {}  # asked rate -> (pieces, pieces cut between passages)

    def call(asked: float) -> tuple[tuple[str, ...], int, float]:
        peer = PeerContext(env.pruner, SEPARATOR.join(ctx.passages), ctx.question, want, asked, ctx.lang,
                           services=env.services)
        text = llmlingua_arm(peer)
        pieces = [piece.strip() for piece in text.split(SEPARATOR) if piece.strip()]
        texts, spans = [""] * len(ctx.passages), assign(pieces, ctx.passages)
        for piece, found in zip(pieces, spans, strict=True):
            for a, b, i in found:
                texts[i] = f"{texts[i]} {piece[a:b]}" if texts[i] else piece[a:b]
        cut = sum(len(found) > 1 for found in spans)
        shapes[asked] = (len(pieces), cut)
        return tuple(texts), sum(env.count(t) for t in texts if t), peer.extra_cpu

    found = drive(call, rate, want, max(1, int(PEER_TOLERANCE * n)), PEER_CALLS)
    return Kept(found["text"], found["kept"], extra_cpu=found["cpu_s"],
                info={"asked": round(found["asked"], 4), "calls": len(found["calls"]), "hit": found["hit"],
                      "pieces": shapes[found["asked"]][0], "pieces_cut": shapes[found["asked"]][1]})


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
    for rate in RATES:  # retention only: no order variants (its KL is not measured)
        register(Arm(f"longllmlingua@{rate}", partial(longllmlingua_arm, rate=rate), rate, "longllmlingua",
                     default=False))


register_builtins()
