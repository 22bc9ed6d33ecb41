"""The pipeline behind Pruner: text -> tokens -> units -> importance -> an order -> selection -> guard -> spans.

    engine = Engine(scorer, tokenizer)
    result = run(engine, text, engine.call(options), separator="")

`run` is the one entry every surface reaches (prune, prune_messages, compress_prompt through their
own assembly): one string, a list of segments (each by its own budget, a total target shared by
length: budget.py), or passages for a question (one budget, in the order of passages.py). Each
text's units are taken in an order (clauses.py, passages.py, or the score itself) by the one
selection (select.py), then the guard keeps pieces again where the joined output would create a
special token of the pruner's tokenizer or the target's (specials.py). With a target tokenizer and
target_tokens, the pruner's budget is searched until the output fits the target's count (budget.py).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np
from tokenizers import Encoding, Tokenizer

from ..errors import LiteError
from .auto import auto_order
from .budget import MemoScorer, fit_target, shared_budgets, token_budget
from .clauses import clause_order, drop_hanging_breaks
from .options import AUTO, SAMPLED_QUERIES, PruneOptions, check_question_for_auto
from .passages import passage_order
from .results import PruneResult, Segment, join_results, joined_pieces
from .select import (
    drop_consecutive_repeats,
    forced_units,
    order_by,
    require_finite,
    select_in_order,
    unit_importance,
)
from .specials import AddedTokenGuard
from .structure import prune_structured
from .target import TargetTokenizer, target_tokenizer
from .units import Units, units_of_texts

Selected = tuple["Encoded", np.ndarray]  # a text's encoding and its kept units ([n_units] bool)


@dataclass(frozen=True)
class Encoded:
    """A text's tokenization: all ids (with the special tokens the tokenizer adds), its own tokens, their units."""

    text: str
    encoding: Encoding  # the tokenizer's
    own: np.ndarray  # [n] positions of the text's own tokens among ids
    units: Units

    @cached_property
    def ids(self) -> np.ndarray:
        """All the ids, the added specials too: int64 [n + added specials] (read only when scoring)."""
        return np.asarray(self.encoding.ids, dtype=np.int64)

    @property
    def n_tokens(self) -> int:
        return len(self.own)

    @property
    def sizes(self) -> np.ndarray:
        return self.units.sizes(self.n_tokens)  # [n_units]

    def result(self, keep: np.ndarray) -> PruneResult:
        """The result of keeping the units marked in `keep` ([n_units] bool)."""
        if self.n_tokens == 0:
            return PruneResult(self.text, (), 0, 0, ((self.text, True),) if self.text else ())
        kept_tokens = np.flatnonzero(keep[self.units.token_unit(self.n_tokens)])  # [compressed_tokens]
        text = self.text
        pieces = tuple([(text[start:end], k) for (start, end), k in zip(self.units.spans(), keep.tolist())])
        return PruneResult(
            text="".join([piece for piece, k in pieces if k]),
            kept=tuple(kept_tokens.tolist()),
            origin_tokens=self.n_tokens,
            compressed_tokens=len(kept_tokens),
            pieces=pieces,
        )


@dataclass(frozen=True)
class Call:
    """One call's options, with the target tokenizer they name loaded once and the guard that follows from it."""

    options: PruneOptions
    target: TargetTokenizer | None
    guard: AddedTokenGuard

    def with_options(self, **changes) -> Call:
        return replace(self, options=self.options.replace(**changes))

    def in_pruner_tokens(self) -> Call:
        """The call counted in the pruner's tokens (no search for a target budget); the guard stays the target's."""
        return replace(self, target=None)


class Engine:
    """A scorer and its tokenizer, and what a prune does with them, one text at a time."""

    def __init__(self, scorer, tokenizer: Tokenizer):
        self.scorer = scorer  # anything with importance(ids, method=...) -> float32 [n]
        self.tokenizer = tokenizer
        self.guard = AddedTokenGuard([tokenizer])
        self.target_guards: dict[int, tuple[Tokenizer, AddedTokenGuard]] = {}

    def remembering(self) -> Engine:
        """A twin that scores each distinct text once (same tokenizer, same guards): for budget searches."""
        if isinstance(self.scorer, MemoScorer):
            return self
        twin = copy.copy(self)
        twin.scorer = MemoScorer(self.scorer)
        return twin

    def call(self, options: PruneOptions) -> Call:
        """The options with their target tokenizer loaded (a one-line LiteError if it cannot be)."""
        target = target_tokenizer(options.target_tokenizer)
        return Call(options, target, self.guard_for(target))

    def guard_for(self, target: TargetTokenizer | None) -> AddedTokenGuard:
        """The guard of this tokenizer, and of the target's when it is a tokenizers tokenizer (a tiktoken
        encoding or a plain counter has no added tokens lite can see)."""
        tokenizer = None if target is None else target.tokenizer
        if tokenizer is None:
            return self.guard
        if id(tokenizer) not in self.target_guards:
            self.target_guards[id(tokenizer)] = (tokenizer, AddedTokenGuard([self.tokenizer, tokenizer]))
        return self.target_guards[id(tokenizer)][1]

    def tokenize(self, text: str):
        """The tokenizer's encoding of `text`; a non-string or a lone surrogate is a LiteError."""
        if not isinstance(text, str):
            raise LiteError(f"text to prune must be a string, got {type(text).__name__}")
        try:
            return self.tokenizer.encode(text)
        except TypeError:  # the tokenizer takes only valid Unicode: a lone surrogate is not
            raise LiteError("text is not valid Unicode (it holds a lone surrogate)") from None

    def count_tokens(self, text: str) -> int:
        """The text's own tokens (without the special tokens the tokenizer adds)."""
        return sum(1 for s in self.tokenize(text).sequence_ids if s is not None)

    def encode(self, text: str, granularity: str = "char") -> Encoded:
        """The text's tokens, its own ones (no added specials) grouped into units: whole characters, or words."""
        return self.encode_texts([text], granularity)[0]

    def encode_texts(self, texts: Sequence[str], granularity: str = "char") -> list[Encoded]:
        """`encode` of each text, each tokenized on its own, the units of all of them found at once."""
        encodings = [self.tokenize(text) for text in texts]
        owned = [own_tokens(encoding) for encoding in encodings]
        units = units_of_texts(texts, [bounds for _, bounds in owned], granularity in ("word", "clause"))
        return [Encoded(text, encoding, own, u) for text, encoding, (own, _), u in zip(texts, encodings, owned, units)]

    def importance(self, encoded: Encoded, options: PruneOptions) -> np.ndarray:
        """The method's score of the text's own tokens, checked finite once here: float32 [n]."""
        scores = scored_importance(self.scorer, encoded.ids, options)  # [n + specials]
        return require_finite(scores[encoded.own])  # [n]

    def select(self, text: str, options: PruneOptions, keep_whole: bool = False) -> Selected:
        """One string's units, and which of them its budget keeps (before the guard)."""
        encoded = self.encode(text, options.granularity)
        n_tokens, units = encoded.n_tokens, encoded.units
        budget = n_tokens if keep_whole else token_budget(n_tokens, options.rate, options.target_tokens)
        if budget >= n_tokens:  # everything stays: no need to score
            return encoded, np.ones(units.count, dtype=bool)
        importance = self.importance(encoded, options)  # [n]
        sizes = encoded.sizes  # [n_units]
        forced = forced_units(text, units, n_tokens, options.force, options.force_digits, options.keep_last)
        if options.granularity == "clause":
            order = clause_order(text, units.span_start, sizes, importance, budget)  # [n_units]
            keep = drop_hanging_breaks(text, units.span_start, select_in_order(order, sizes, budget, forced), forced)
        else:
            order = order_by(unit_importance(importance, units.first_token, sizes))  # [n_units]
            keep = select_in_order(order, sizes, budget, forced)
        return encoded, kept_units(encoded, keep, options)

    def select_segments(self, segments: list[Segment], options: PruneOptions) -> list[Selected]:
        """Each segment by its own rate or target (or its share of target_tokens, by length), or whole."""
        sharing = [i for i, s in enumerate(segments) if not s.keep and s.rate is None and s.target_tokens is None]
        shares: dict[int, int] = {}
        if options.target_tokens is not None:
            lengths = [self.count_tokens(segments[i].text) for i in sharing]
            shares = dict(zip(sharing, shared_budgets(lengths, options.target_tokens)))
        selected = []
        for i, segment in enumerate(segments):
            if segment.rate is not None or segment.target_tokens is not None:
                own = options.replace(rate=segment.rate, target_tokens=segment.target_tokens)
            else:
                own = options.replace(**own_budget(options.rate, shares.get(i)))
            selected.append(self.select(segment.text, own.replace(keep_last=segment.keep_last), segment.keep))
        return selected

    def select_for_question(self, segments: list[Segment], options: PruneOptions) -> list[Selected]:
        """Passages for options.question: one budget over all of them, whole sentences by relevance."""
        if any(s.rate is not None or s.target_tokens is not None for s in segments):
            raise LiteError("with a question, the passages share one budget: give rate or target_tokens to prune, "
                            "not to a Segment")
        encoded = self.encode_texts([s.text for s in segments], options.granularity)
        ranked = [i for i, s in enumerate(segments) if not s.keep and encoded[i].n_tokens]
        texts, starts = [segments[i].text for i in ranked], [encoded[i].units.span_start for i in ranked]
        sizes = [encoded[i].sizes for i in ranked]
        passage_tokens = np.array([encoded[i].n_tokens for i in ranked], dtype=np.int64)  # [n_ranked]
        total = int(passage_tokens.sum())
        order, budget = None, total  # nothing to rank: all of it (none)
        if options.rate != AUTO:
            budget = token_budget(total, options.rate, options.target_tokens)
        elif ranked:  # the relevant sentences' tokens, at most target_tokens
            order, wanted = auto_order(texts, starts, np.concatenate(sizes), options.question)
            budget = token_budget(total, target_tokens=min(wanted, options.target_tokens or wanted))
        keeps = [np.ones(e.units.count, dtype=bool) for e in encoded]  # [n_units] per segment
        if budget < total:
            forced = [forced_units(segments[i].text, encoded[i].units, encoded[i].n_tokens, options.force,
                                   options.force_digits, segments[i].keep_last) for i in ranked]
            if order is None:  # forced units are kept first: a whole passage costs its other tokens, from what is left
                forced_tokens = np.array([int(size[f].sum()) for size, f in zip(sizes, forced)],
                                         dtype=np.int64)  # [n_ranked]
                whole = (passage_tokens - forced_tokens, budget - int(forced_tokens.sum()))
                order = passage_order(texts, starts, options.question, whole)  # [all units]
            keep = select_in_order(order, np.concatenate(sizes), budget, np.concatenate(forced))
            bounds = np.cumsum([0] + [len(s) for s in sizes])
            for i, start, end in zip(ranked, bounds, bounds[1:]):
                keeps[i] = kept_units(encoded[i], keep[start:end], options)
        return list(zip(encoded, keeps))


def own_tokens(encoding: Encoding) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the text's own tokens among all (no added specials): int64 [n], and their character
    offsets: int64 [n, 2]."""
    sequence = encoding.sequence_ids
    own = (np.arange(len(sequence)) if None not in sequence else
           np.array([i for i, s in enumerate(sequence) if s is not None], dtype=np.int64))  # [n]
    offsets = encoding.offsets  # [(start, end)] * (n + added specials), a fresh list on every access
    bounds = np.fromiter(chain.from_iterable(offsets), dtype=np.int64, count=2 * len(offsets)).reshape(-1, 2)
    return own, bounds[own]  # [n], [n, 2]


def own_budget(rate: float | None, share: int | None) -> dict:
    """A text's budget: the call's rate, or its share of a shared target (an empty text's share of 0: all of it)."""
    if share is None:
        return {"rate": rate}
    return {"rate": 1.0} if share == 0 else {"target_tokens": share}


def run(engine: Engine, text: str | Sequence[str | Segment], call: Call, separator: str = "") -> PruneResult:
    """Prune a string, a list of segments, or passages for a question (see Pruner.prune), in the pruner's or
    the target's tokens, and report the target's counts when there is a target."""
    if not isinstance(separator, str):
        raise LiteError(f"separator must be a string, got {type(separator).__name__}")
    options, target = call.options, call.target
    if target is not None and options.target_tokens is not None:
        items = [text] if isinstance(text, str) else list(text)
        high = sum(engine.count_tokens(s.text if isinstance(s, Segment) else s) for s in items)
        result = fit_target(engine, lambda twin, budget: run_plain(twin, text, call.with_options(target_tokens=budget),
                                                                   separator),
                            lambda r: [r.text], target.count, options.target_tokens, high)
    else:
        result = run_plain(engine, text, call, separator)
    if target is None:
        return result
    whole = "".join(piece for piece, _ in result.pieces)
    return replace(result, target_origin_tokens=target.count(whole), target_compressed_tokens=target.count(result.text))


def run_plain(engine: Engine, text: str | Sequence[str | Segment], call: Call, separator: str) -> PruneResult:
    """`run` in the pruner's tokens: a structured text by its structure (structure/), else select, guard the
    joined output, join."""
    options = call.options
    check_question_for_auto(options, options.question is not None)  # here: a batch gives each record its question
    single = isinstance(text, str)
    if not single and not isinstance(text, (list, tuple)):
        raise LiteError(f"text to prune must be a string or a list of strings and Segments, got {type(text).__name__}")
    structured = prune_structured(StructureHost(engine, call.guard), text, options, separator)
    if structured is not None:
        return structured
    segments = [Segment(text, keep_last=options.keep_last)] if single else [
        s if isinstance(s, Segment) else Segment(s, keep_last=options.keep_last) for s in text]
    question = options.question is not None
    if question:
        selected = engine.select_for_question(segments, options)
    elif single:
        selected = [engine.select(text, options)]
    else:
        selected = engine.select_segments(segments, options)
    joiner = "" if single else separator
    guard_joined(call.guard, selected, joiner, skip_empty=question)
    results = [encoded.result(keep) for encoded, keep in selected]
    return results[0] if single else join_results(results, separator, skip_empty=question)


class StructureHost:
    """What structure/ needs of the engine, for one call: prose pruned as prose, counts, tokens, scores, the guard."""

    def __init__(self, engine: Engine, guard: AddedTokenGuard):
        self.engine, self.guard = engine, guard

    def run(self, text: str | Sequence[str | Segment], options: PruneOptions, separator: str = "") -> PruneResult:
        return run_plain(self.engine, text, Call(options, None, self.guard), separator)

    def remembering(self) -> StructureHost:
        return StructureHost(self.engine.remembering(), self.guard)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def tokenize(self, text: str):
        return self.engine.tokenize(text)

    def scores(self, ids: np.ndarray, options: PruneOptions) -> np.ndarray:
        return scored_importance(self.engine.scorer, ids, options)  # [n]


def scored_importance(scorer, ids: np.ndarray, options: PruneOptions) -> np.ndarray:
    """Importance of each id as the options score it, float32 [n], summing to 1.

    Up to max_tokens ids: every query on every key (the method's exact score). More: every key, but the
    sum over queries taken over SAMPLED_QUERIES of them (max_tokens if fewer), evenly spaced: O(n) memory,
    O(n * queries) time.
    With chunk=W (fewer than n): chunks of W ids, each scored on its own and weighted by its share of the
    ids, so a token's score is comparable across chunks of different lengths and the whole sums to 1.
    """
    n, chunk, method = len(ids), options.chunk, options.method
    if chunk is not None and chunk < n:
        parts = [scorer.importance(ids[start : start + chunk], method=method) * np.float32(min(chunk, n - start) / n)
                 for start in range(0, n, chunk)]  # [chunk] each
        return np.concatenate(parts).astype(np.float32)  # [n]
    if n > options.max_tokens:
        return scorer.importance(ids, method=method, queries=min(SAMPLED_QUERIES, options.max_tokens))  # [n]
    return scorer.importance(ids, method=method)  # [n]


def guard_joined(guard: AddedTokenGuard, selected: list[Selected], separator: str, skip_empty: bool = False) -> None:
    """Keep units again (in place) where the joined output would hold an added token the input did not.

    The texts are seen joined as join_results joins them (with skip_empty, a separator next to an empty
    text is not part of the output); when keeping units again changes which texts are empty, the
    joined output is checked once more, until nothing changes.
    """
    runs = joined_pieces([run_pieces(encoded, keep) for encoded, keep in selected], separator, skip_empty)
    if guard.clean("".join(text for text, kept, _ in runs if kept)):  # the output holds no added token at all
        return
    for _ in range(len(selected) + 1):
        pieces = joined_pieces([unit_pieces(i, encoded, keep) for i, (encoded, keep) in enumerate(selected)],
                               separator, skip_empty)
        repaired = guard.repair([t for t, _, _ in pieces], np.array([k for _, k, _ in pieces], dtype=bool))
        changed = False
        for (_, kept, where), now in zip(pieces, repaired):
            if where is not None and now and not kept:
                selected[where[0]][1][where[1]] = True
                changed = True
        if not changed:
            return


def run_pieces(encoded: Encoded, keep: np.ndarray) -> list[tuple[str, bool, None]]:
    """A text's pieces as runs of kept units and of dropped ones: joined, the same output as its unit_pieces."""
    if not encoded.n_tokens:
        return [(encoded.text, True, None)]
    first = np.concatenate([[0], np.flatnonzero(keep[1:] != keep[:-1]) + 1])  # [n_runs] each run's first unit
    starts = encoded.units.span_start[first].tolist()
    ends = [*starts[1:], len(encoded.text)]
    return [(encoded.text[a:b], bool(k), None) for a, b, k in zip(starts, ends, keep[first].tolist())]


def unit_pieces(i: int, encoded: Encoded, keep: np.ndarray) -> list[tuple[str, bool, tuple[int, int] | None]]:
    """Text i's unit pieces, each tagged (i, unit); a text without tokens is one piece, kept, untagged."""
    if not encoded.n_tokens:
        return [(encoded.text, True, None)]
    return [(encoded.text[a:b], bool(k), (i, u)) for u, ((a, b), k) in enumerate(zip(encoded.units.spans(), keep))]


def kept_units(encoded: Encoded, keep: np.ndarray, options: PruneOptions) -> np.ndarray:
    """The selection, less forced strings that repeat the kept unit before them when drop_consecutive asks."""
    if not (options.drop_consecutive and options.force):
        return keep
    texts = [encoded.text[start:end] for start, end in encoded.units.spans()]
    return drop_consecutive_repeats(texts, keep, list(options.force))
