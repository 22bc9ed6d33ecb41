"""The arms: each turns one segment of the product's input into pruned TEXT, at a given token budget.

An arm is a function `(ctx: Context) -> str`. `ctx.budget` is the number of the pruner's tokens
to keep (what `Pruner.prune(..., target_tokens=budget)` keeps), equal for every arm on the same
segment: the peer runs first and every other arm gets exactly what it kept (see run.py).
Register an arm with `register(name, fn, ...)`, from this module or any other (`--arm-module`
imports one); `--arms` picks some.

    lite              the product's default (lite.DEFAULT_METHOD), through Pruner.prune
    attention         the paper's score (method="attention"), through Pruner.prune
    lite:<method>     every other entry of lite.METHODS (whole words)
    lite:clauses, lite:words, lite:chars   the default method at each granularity
    random            random scores fed through the same Pruner.prune (lite's units: its default granularity,
                      so whole clauses when lite keeps whole clauses); seeds 0-3
    random_words      one random score per whitespace-delimited word (per character in zh, ja, th)
    truncation        keep the first tokens up to the budget, through whole words
    rarity            in-text rarity alone, log(n / count of the id): no model; lite's units, as random
    sentences         whole sentences ranked by word overlap with the question, then truncated to fit
                      (no model; RAG regimes; without a question: truncation); the cut sentence at words
    selfinfo          the target's own -log p of each token given the prefix (Selective Context), a ceiling
    llmlingua         the peer (LLMLingua 0.2.2 / LongLLMLingua with a question), in its own venv (peer.py)
    none              no pruning (the reference prompt; KL 0 by construction)

Score arms share one mechanism: a stand-in scorer whose `importance(ids)` returns the arm's scores,
wrapped in `Pruner(scorer, pruner.tokenizer)`: units, forced keeps and the output text are the
product's own.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import lite
from lite.prune.units import GRANULARITIES

from .data import RAG_REGIMES, REGIMES, SEPARATOR

RANDOM_SEEDS = (0, 1, 2, 3)
NO_SPACE_LANGS = ("zh", "ja", "th")  # scripts written without spaces between words


@dataclass
class Context:
    """What an arm sees for one segment."""

    pruner: lite.Pruner
    text: str  # the segment to prune
    question: str | None  # the question the prompt asks (None in the few-shot regime: exemplars serve every question)
    budget: int  # pruner tokens to keep
    rate: float  # the nominal rate the budget came from
    lang: str
    seed: int | None = None
    target: Any = None  # the target model (bench.quality.target.Target), for arms that read it
    services: dict = field(default_factory=dict)  # shared helpers (e.g. the LLMLingua worker)
    extra_cpu: float = 0.0  # CPU seconds spent outside this process (a worker's), added by the arm


ArmFn = Callable[[Context], str]


@dataclass(frozen=True)
class Arm:
    name: str
    fn: ArmFn
    seeds: tuple = (None,)
    kind: str = "baseline"  # lite | baseline | ceiling | peer | reference
    question_aware: bool = False  # its output depends on ctx.question
    expensive: bool = False  # runs only on the bench's model subset (not on every retention item)
    regimes: tuple[str, ...] = REGIMES  # where it runs
    description: str = ""


ARMS: dict[str, Arm] = {}


def register(name: str, fn: ArmFn, **options) -> Arm:
    arm = Arm(name, fn, **options)
    ARMS[name] = arm
    return arm


# ---- scores fed through the product's Pruner ------------------------------------------------------
class ScoreScorer:
    """Stands in for lite's Scorer: `importance(ids, method=...)` returns `fn(ids)` as float32 [n]."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]):
        self.fn = fn

    def importance(self, ids, method: str | None = None, **_) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)  # [n]
        scores = np.asarray(self.fn(ids), dtype=np.float32)  # [n]
        if scores.shape != ids.shape:
            raise ValueError(f"score function gave {scores.shape} scores for {ids.shape} ids")
        return scores


def prune_with_scores(ctx: Context, fn: Callable[[np.ndarray], np.ndarray], granularity: str | None = None) -> str:
    """ctx.text pruned to ctx.budget by Pruner.prune, ranking by `fn(ids)` instead of the model, through lite's
    units: the default granularity (what the `lite` arm uses), or `granularity`."""
    pruner = lite.Pruner(ScoreScorer(fn), ctx.pruner.tokenizer)
    options = {"granularity": granularity} if granularity else {}
    return pruner.prune(ctx.text, target_tokens=ctx.budget, **options).text


def per_token(ctx: Context, scores_of: Callable[[Any], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """A score function for the ids of ctx.text's encoding, from `scores_of(encoding)` (offsets, ids)."""
    encoding = ctx.pruner.tokenizer.encode(ctx.text)
    scores = np.asarray(scores_of(encoding), dtype=np.float64)  # [n + specials]

    def fn(ids: np.ndarray) -> np.ndarray:
        if len(ids) != len(encoding.ids) or not np.array_equal(ids, encoding.ids):
            raise ValueError("pruner scored other ids than the segment's encoding")
        return scores

    return fn


def replace_budget(ctx: Context, budget: int) -> Context:
    return dataclasses.replace(ctx, budget=budget)


def text_seed(ctx: Context) -> int:
    return zlib.crc32(ctx.text.encode("utf-8"))


# ---- the arms ---------------------------------------------------------------------------------------
def lite_method(method: str | None, granularity: str | None = None) -> ArmFn:
    """lite through Pruner.prune: `method` (None: the default) and `granularity` (None: the default)."""
    def arm(ctx: Context) -> str:
        options = {"granularity": granularity} if granularity else {}
        return ctx.pruner.prune(ctx.text, target_tokens=ctx.budget, method=method or lite.DEFAULT_METHOD,
                                **options).text
    return arm


def random_arm(ctx: Context) -> str:
    rng = np.random.default_rng((ctx.seed or 0, text_seed(ctx)))
    return prune_with_scores(ctx, lambda ids: rng.random(len(ids)))


def word_index(text: str, offsets: Sequence[tuple[int, int]], lang: str) -> np.ndarray:
    """Each token's word: whitespace-delimited words, or characters in scripts without spaces."""
    if lang in NO_SPACE_LANGS:
        starts = [m.start() for m in re.finditer(r"\S", text)]
    else:
        starts = [m.start() for m in re.finditer(r"\S+", text)]
    starts_arr = np.asarray(starts or [0], dtype=np.int64)
    first = np.asarray([o[0] for o in offsets], dtype=np.int64)  # [n]
    return np.searchsorted(starts_arr, first, side="right") - 1  # [n]


def random_words_arm(ctx: Context) -> str:
    def scores(enc):
        words = word_index(ctx.text, enc.offsets, ctx.lang)  # [n]
        values = np.random.default_rng((ctx.seed or 0, text_seed(ctx), 1)).random(int(words.max()) + 2)
        return values[words + 1]
    return prune_with_scores(ctx, per_token(ctx, scores), "word")


def truncation_arm(ctx: Context) -> str:
    return prune_with_scores(ctx, lambda ids: -np.arange(len(ids), dtype=np.float64), "word")


def rarity_scores(ids: np.ndarray) -> np.ndarray:
    """log(n / count of the id among the ids): 0 for an id that is every token, highest for singletons."""
    _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    return np.log(len(ids) / counts[inverse])  # [n]


def rarity_arm(ctx: Context) -> str:
    return prune_with_scores(ctx, rarity_scores)




def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Sentences as (start, end) character spans that tile the text.

    Ends at . ! ? (and the Chinese, Devanagari forms) followed by whitespace, or after a full-width
    stop; Thai marks sentences with a space only, so a space ends a Thai sentence.
    """
    pattern = r"\s+" if lang == "th" else r"(?<=[.!?।॥])\s+|(?<=[。！？])"
    spans, start = [], 0
    for m in re.finditer(pattern, text):
        if m.end() > start and m.start() > start:
            spans.append((start, m.end()))
            start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def terms(text: str, lang: str) -> set[str]:
    """Lower-cased words; character bigrams in scripts without spaces."""
    if lang in NO_SPACE_LANGS:
        chars = [c for c in text.lower() if c.isalnum()]
        return {a + b for a, b in zip(chars, chars[1:])}
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 1 or not w.isascii()}


def sentences_arm(ctx: Context) -> str:
    """Whole sentences by the number of the question's terms they hold (earlier first on ties)."""
    spans = sentence_spans(ctx.text, ctx.lang)
    wanted = terms(ctx.question or "", ctx.lang)
    overlap = [len(wanted & terms(ctx.text[a:b], ctx.lang)) for a, b in spans]
    order = sorted(range(len(spans)), key=lambda s: (-overlap[s], s))
    rank = np.empty(len(spans), dtype=np.int64)
    rank[order] = np.arange(len(spans))
    starts = np.asarray([a for a, _ in spans], dtype=np.int64)

    def scores(enc):
        first = np.asarray([o[0] for o in enc.offsets], dtype=np.int64)  # [n]
        sentence = np.clip(np.searchsorted(starts, first, side="right") - 1, 0, len(spans) - 1)  # [n]
        n = len(first)
        return (len(spans) - rank[sentence]) * float(n + 1) - np.arange(n)  # sentence rank, then position

    return prune_with_scores(ctx, per_token(ctx, scores), "word")


def passages(ctx: Context) -> list[str]:
    """The passages of the segment: one, or several (regime rag5) joined by the bench's separator."""
    return ctx.text.split(SEPARATOR)


def question_arm(ctx: Context) -> str:
    """What a RAG user of lite gets: the passage(s) pruned for the question (whole sentences by relevance;
    several passages as a list, one budget over them, passages that keep nothing left out)."""
    parts = passages(ctx)
    joins = (len(parts) - 1) * ctx.pruner.count_tokens(SEPARATOR)  # the budget counts the separators too
    found = ctx.pruner.prune(parts[0] if len(parts) == 1 else parts, target_tokens=max(1, ctx.budget - joins),
                             question=ctx.question, separator=SEPARATOR)
    return found.text


def none_arm(ctx: Context) -> str:
    return ctx.text


def register_builtins() -> None:
    register("none", none_arm, kind="reference", description="no pruning")
    register("lite", lite_method(None), kind="lite", description=f"lite's default ({lite.DEFAULT_METHOD})")
    # the paper's score and the other methods through whole words, whatever the default granularity
    register("attention", lite_method("attention", "word"), kind="lite", description="the paper's score, words")
    for method in lite.METHODS:
        if method not in ("attention", lite.DEFAULT_METHOD):  # both have arms of their own
            register(f"lite:{method}", lite_method(method, "word"), kind="lite",
                     description=f"method={method!r}, words")
    for granularity in GRANULARITIES:
        register(f"lite:{granularity}s", lite_method(None, granularity), kind="lite",
                 description=f"the default method, granularity={granularity!r}")
    register("random", random_arm, seeds=RANDOM_SEEDS, description="random scores through lite's units")
    register("random_words", random_words_arm, seeds=RANDOM_SEEDS[:1], description="random whole words")
    register("truncation", truncation_arm, description="the first tokens")
    register("rarity", rarity_arm, description="in-text rarity log(n/count), no model")
    register("sentences", sentences_arm, question_aware=True, regimes=RAG_REGIMES,
             description="sentences by word overlap with the question, no model")
    register("lite+question", question_arm, kind="lite", question_aware=True, regimes=RAG_REGIMES,
             description="lite given the question: prune(passage, question=q)")


register_builtins()
