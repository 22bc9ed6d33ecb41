"""The pruner: text -> tokens -> importance -> units -> selection -> the kept spans of the text.

    pruner = lite.load("weights/SmolLM2-135M-Instruct.safetensors")
    result = pruner.prune(text, rate=0.8)        # or target_tokens=120
    result.text, result.kept, result.origin_tokens, result.compressed_tokens

The output is cut from the original string along unit spans (see units.py), never decoded
from ids: it holds no broken characters and no special token the input did not have, and
rate=1.0 gives the input back exactly. Special tokens the tokenizer adds itself (a BOS) are
scored with the text, as the model sees them, but are never counted, selected or output. Joining
kept spans never creates a special or added token the input did not hold there (specials.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD
from ..score.scorer import Scorer
from .budget import largest_fitting, memo_counter, remembering
from .clauses import clause_order_scores
from .llmlingua import check_options, split_tags, strip_tags
from .messages import DEFAULT_ROLES, MessagesResult
from .messages import prune_messages as prune_chat
from .options import DEFAULT_MAX_TOKENS, PruneOptions
from .passages import unit_order_scores
from .select import drop_consecutive_repeats, select_units, split_budget, token_budget, unit_importance
from .specials import AddedTokenGuard
from .structure import prune_structured
from .target import target_tokenizer as load_target
from .units import DEFAULT_GRANULARITY, Units, digit_ranges, group_units, occurrences, units_covering, word_units


@dataclass(frozen=True)
class Segment:
    """One part of a prompt, pruned on its own: with its own rate or target, or kept whole."""

    text: str
    rate: float | None = None  # None: the rate (or share of target_tokens) of the prune call
    target_tokens: int | None = None
    keep: bool = False  # keep the whole segment (e.g. the question)
    keep_last: int = 0  # always keep the last N tokens of this segment


@dataclass(frozen=True)
class PruneResult:
    """The pruned text and what was kept.

    `kept` holds the positions of the kept tokens, ascending, among the text's own tokens (no
    BOS); for a list of segments, among the segments' tokens one after the other. `pieces` is the
    input cut into unit spans (and separators), each with whether it was kept: joining all of
    them gives the input, joining the kept ones gives `text`.
    """

    text: str
    kept: tuple[int, ...]
    origin_tokens: int
    compressed_tokens: int
    pieces: tuple[tuple[str, bool], ...]
    segments: tuple[PruneResult, ...] = field(default=())
    target_origin_tokens: int | None = None  # the same counts in the target tokenizer, when one was given
    target_compressed_tokens: int | None = None

    @property
    def rate(self) -> float:
        """Fraction of tokens kept (1.0 for an empty input)."""
        return self.compressed_tokens / self.origin_tokens if self.origin_tokens else 1.0

    def to_dict(self) -> dict:
        data = {
            "text": self.text,
            "origin_tokens": self.origin_tokens,
            "compressed_tokens": self.compressed_tokens,
            "rate": round(self.rate, 6),
            "kept": list(self.kept),
        }
        if self.target_origin_tokens is not None:
            data["target_origin_tokens"] = self.target_origin_tokens
            data["target_compressed_tokens"] = self.target_compressed_tokens
        return data


@dataclass(frozen=True)
class Encoded:
    """A text's tokenization: all ids (with the special tokens the tokenizer adds), its own tokens, their units."""

    text: str
    ids: np.ndarray  # [n + added specials] int64
    own: np.ndarray  # [n] positions of the text's own tokens among ids
    units: Units

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
        pieces = tuple((self.text[start:end], bool(k)) for (start, end), k in zip(self.units.spans(), keep))
        return PruneResult(
            text="".join(piece for piece, k in pieces if k),
            kept=tuple(kept_tokens.tolist()),
            origin_tokens=self.n_tokens,
            compressed_tokens=len(kept_tokens),
            pieces=pieces,
        )


class Pruner:
    """A scorer (the model slice) and the tokenizer stored in the same slice."""

    def __init__(self, scorer: Scorer, tokenizer: Tokenizer | None = None):
        self.scorer = scorer  # anything with importance(ids, method=...) -> float32 [n] (and .slice if no tokenizer)
        self.tokenizer = tokenizer or tokenizer_of(scorer)
        self.guard = AddedTokenGuard([self.tokenizer])
        self._target_guards: dict[int, tuple[Tokenizer, AddedTokenGuard]] = {}

    def guard_for(self, target: Any) -> AddedTokenGuard:
        """The guard against created special tokens: of this tokenizer, and of the target's when it has one.

        A target given as a tokenizers tokenizer (a tokenizer.json, a hub repo, a transformers fast
        tokenizer) has added tokens to check; a tiktoken encoding or a plain counter has none lite can see.
        """
        tokenizer = None if target is None else load_target(target).tokenizer
        if tokenizer is None:
            return self.guard
        if id(tokenizer) not in self._target_guards:
            self._target_guards[id(tokenizer)] = (tokenizer, AddedTokenGuard([self.tokenizer, tokenizer]))
        return self._target_guards[id(tokenizer)][1]

    def importance(self, ids: Sequence[int] | np.ndarray, method: str = DEFAULT_METHOD) -> np.ndarray:
        """Importance of each of the given token ids (float32 [n], sums to 1); no tokens added.

        method: one of lite.METHODS (default "rank_mix"); "attention" is the paper's exact score.
        """
        return self.scorer.importance(ids, method=method)

    def prune(
        self,
        text: str | Sequence[str | Segment],
        rate: float | None = None,
        target_tokens: int | None = None,
        *,
        force: Sequence[str] = (),
        force_digits: bool = False,
        keep_last: int = 0,
        drop_consecutive: bool = False,
        separator: str = "",
        method: str = DEFAULT_METHOD,
        target_tokenizer: Any = None,
        granularity: str = DEFAULT_GRANULARITY,
        question: str | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        chunk: int | None = None,
        structure: str = "auto",
        code: str = "whole",
    ) -> PruneResult:
        """Keep the most important tokens of `text` in their original order.

        text: a string, or a list of strings / Segments each pruned on its own and joined with
        `separator`. rate: fraction of tokens to keep, in (0, 1] (default 0.9); target_tokens: how
        many to keep instead (for segments: in total, shared in proportion to their lengths).
        force: strings whose every occurrence is kept; force_digits: keep every digit;
        keep_last: keep the last N tokens (of each plain-string segment); drop_consecutive: drop
        a forced string that repeats the kept unit just before it. method: the score that ranks
        the tokens, one of lite.METHODS (default "rank_mix"; "attention" is the paper's exact score).
        target_tokenizer: the target model's tokenizer (see target.py): target_tokens then counts
        its tokens (the output holds at most that many of them), the result reports both counts, and
        the output creates none of its special or added tokens (when it is a tokenizers tokenizer).
        granularity: "clause" (default) keeps whole clauses, ranked by their tokens' mean rank, the
        opening clause and the line breaks first, the last clause cut at a word (clauses.py); "word"
        keeps or drops whole words in scripts written with spaces (characters stay the units in
        Chinese, Japanese, Thai); "char": whole characters.
        question: prune the passage(s) in `text` for this question instead (passages.py): whole
        sentences by relevance to the question, one budget over all the passages, no model run
        (`method` is not used). A list is then a list of passages; Segment(..., keep=True) is kept
        whole outside the budget; a Segment's own rate or target is an error.
        max_tokens: the most tokens (of one string or segment) scored at once; a longer one is an error,
        unless chunk=W: then it is scored in chunks of W tokens, each on its own (attention does not
        cross chunks), each token's score weighted by its chunk's share of the text.
        structure: "auto" (default) detects JSON, Markdown and code and prunes them along their structure
        (JSON stays valid JSON; docs/structure.md); "text" prunes every text as prose; or the kind to use.
        code: code blocks and files kept or dropped "whole" (default), or pruned by whole "lines".
        """
        options = PruneOptions(rate, target_tokens, method, force, force_digits, keep_last, drop_consecutive,
                               target_tokenizer=target_tokenizer, granularity=granularity, question=question,
                               max_tokens=max_tokens, chunk=chunk, structure=structure, code=code)
        return self.run(text, options, separator)

    def run(self, text: str | Sequence[str | Segment], options: PruneOptions, separator: str = "") -> PruneResult:
        """`prune` with its options already made (and checked) as a PruneOptions."""
        if not isinstance(separator, str):
            raise LiteError(f"separator must be a string, got {type(separator).__name__}")
        if options.target_tokenizer is not None:
            return self.run_for_target(text, options, separator)
        structured = prune_structured(self, text, options, separator)
        if structured is not None:  # JSON, Markdown or code (lite/prune/structure/); prose goes on below
            return structured
        if options.question is not None:
            return self.prune_for_question(text, options, separator)
        if isinstance(text, str):
            return self.prune_one(text, options)
        segments = [s if isinstance(s, Segment) else Segment(s, keep_last=options.keep_last) for s in text]
        return self.prune_segments(segments, options, separator)

    def run_for_target(self, text: str | Sequence[str | Segment], options: PruneOptions, separator: str) -> PruneResult:
        """`run` with counts in the target tokenizer; target_tokens in its tokens (see budget.py)."""
        counter = load_target(options.target_tokenizer)
        plain = replace(options, target_tokenizer=None)
        if options.target_tokens is None:
            result = self.run(text, plain, separator)
        else:
            twin = remembering(self)
            high = twin.run(text, replace(plain, rate=1.0, target_tokens=None), separator).origin_tokens
            count = memo_counter(counter.count)
            result = largest_fitting(lambda b: twin.run(text, replace(plain, target_tokens=b), separator),
                                     lambda r: count(r.text), options.target_tokens, high)
        whole = "".join(piece for piece, _ in result.pieces)
        return replace(result, target_origin_tokens=counter.count(whole),
                       target_compressed_tokens=counter.count(result.text))

    def prune_segments(self, segments: list[Segment], options: PruneOptions, separator: str) -> PruneResult:
        """Prune each segment on its own (with its own rate, target and keep_last) and join the results."""
        budgets: dict[int, int] = {}
        if options.target_tokens is not None:
            sharing = [i for i, s in enumerate(segments) if not s.keep and s.rate is None and s.target_tokens is None]
            lengths = [self.count_tokens(segments[i].text) for i in sharing]
            budgets = dict(zip(sharing, split_budget(options.target_tokens, lengths)))
        selected = []
        for i, segment in enumerate(segments):
            rate, target = segment.rate, segment.target_tokens
            if rate is None and target is None:
                rate, target = (None, budgets[i]) if i in budgets else (options.rate, None)
            if target == 0:  # an empty segment's share
                rate, target = 1.0, None
            own = replace(options, rate=rate, target_tokens=target, keep_last=segment.keep_last)
            selected.append(self.select_one(segment.text, own, keep_whole=segment.keep))
        guard_joined(self.guard_for(options.guard_target), selected, separator)
        return join_results([encoded.result(keep) for encoded, keep in selected], separator)

    def prune_one(self, text: str, options: PruneOptions, keep_whole: bool = False) -> PruneResult:
        """Prune one string (see `prune`); the scores come from self.scorer.importance(ids, method=...)."""
        selected = [self.select_one(text, options, keep_whole)]
        guard_joined(self.guard_for(options.guard_target), selected, "")
        encoded, keep = selected[0]
        return encoded.result(keep)

    def select_one(self, text: str, options: PruneOptions, keep_whole: bool = False) -> tuple[Encoded, np.ndarray]:
        """One string's tokens and units, and which units the budget keeps ([n_units] bool), before the guard."""
        encoded = self.encode(text, options.granularity)
        n_tokens, units = encoded.n_tokens, encoded.units
        budget = n_tokens if keep_whole else token_budget(n_tokens, options.rate, options.target_tokens)
        if budget >= n_tokens:  # everything stays: no need to score
            return encoded, np.ones(units.count, dtype=bool)
        if n_tokens > options.max_tokens and options.chunk is None:
            raise LiteError(
                f"the text has {n_tokens} tokens, more than max_tokens={options.max_tokens} (--max-tokens), the "
                "most scored at once (O(n²) time); raise max_tokens, or score it in chunks of W tokens with "
                "chunk=W (--chunk W), each chunk on its own"
            )
        importance = chunked_importance(self.scorer, encoded.ids, options.method, options.chunk)[encoded.own]  # [n]
        sizes = encoded.sizes  # [n_units]
        if options.granularity == "clause":
            scores = clause_order_scores(text, units.span_start, units.first_token, importance, budget)  # [n_units]
        else:
            scores = unit_importance(importance, units.first_token, sizes)  # [n_units]
        forced = forced_units(text, units, n_tokens, options)  # [n_units]
        return encoded, kept_units(encoded, select_units(scores, sizes, budget, forced), options)

    def prune_for_question(self, text: str | Sequence[str | Segment], options: PruneOptions,
                           separator: str) -> PruneResult:
        """Prune one or several passages for options.question, one budget over all of them (see passages.py)."""
        single = isinstance(text, str)
        items = [text] if single else list(text)
        segments = [s if isinstance(s, Segment) else Segment(s, keep_last=options.keep_last) for s in items]
        if any(s.rate is not None or s.target_tokens is not None for s in segments):
            raise LiteError("with a question, the passages share one budget: give rate or target_tokens to prune, "
                            "not to a Segment")
        encoded = [self.encode(s.text, options.granularity) for s in segments]
        ranked = [i for i, s in enumerate(segments) if not s.keep and encoded[i].n_tokens]
        total = sum(encoded[i].n_tokens for i in ranked)
        budget = token_budget(total, options.rate, options.target_tokens)
        keeps = [np.ones(e.units.count, dtype=bool) for e in encoded]  # [n_units] per segment
        if budget < total:
            texts, starts = [segments[i].text for i in ranked], [encoded[i].units.span_start for i in ranked]
            scores = unit_order_scores(texts, starts, options.question)  # [n_units] per ranked segment
            forced = [forced_units(segments[i].text, encoded[i].units, encoded[i].n_tokens,
                                   replace(options, keep_last=segments[i].keep_last)) for i in ranked]
            sizes = [encoded[i].sizes for i in ranked]
            keep = select_units(np.concatenate(scores), np.concatenate(sizes), budget, np.concatenate(forced))
            bounds = np.cumsum([0] + [len(s) for s in sizes])
            for i, start, end in zip(ranked, bounds, bounds[1:]):
                keeps[i] = kept_units(encoded[i], keep[start:end], options)
        selected = list(zip(encoded, keeps))
        guard_joined(self.guard_for(options.guard_target), selected, "" if single else separator, skip_empty=True)
        results = [e.result(k) for e, k in selected]
        return results[0] if single else join_results(results, separator, skip_empty=True)

    def tokenize(self, text: str):
        """The tokenizer's encoding of `text`; a non-string or a lone surrogate is a LiteError."""
        if not isinstance(text, str):
            raise LiteError(f"text to prune must be a string, got {type(text).__name__}")
        try:
            return self.tokenizer.encode(text)
        except TypeError:  # the tokenizer takes only valid Unicode: a lone surrogate is not
            raise LiteError("text is not valid Unicode (it holds a lone surrogate)") from None

    def encode(self, text: str, granularity: str = "char") -> Encoded:
        """The text's tokens, its own ones (no added specials) grouped into units: whole characters, or words."""
        encoding = self.tokenize(text)
        own = np.array([i for i, s in enumerate(encoding.sequence_ids) if s is not None], dtype=np.int64)  # [n]
        offsets = encoding.offsets  # a fresh list on every access: read it once
        units = group_units(text, [offsets[i] for i in own])
        if granularity in ("word", "clause"):  # clauses are chosen whole, cut (the last one) at words
            units = word_units(text, units)
        return Encoded(text, np.asarray(encoding.ids, dtype=np.int64), own, units)

    def prune_messages(
        self,
        messages: Sequence[dict],
        rate: float | None = None,
        target_tokens: int | None = None,
        *,
        roles: Sequence[str] = DEFAULT_ROLES,
        keep_last_user: bool = True,
        method: str = DEFAULT_METHOD,
        force: Sequence[str] = (),
        force_digits: bool = False,
        drop_consecutive: bool = False,
        target_tokenizer: Any = None,
        granularity: str = DEFAULT_GRANULARITY,
        rank_by_question: bool = False,
        structure: str = "auto",
        code: str = "whole",
    ) -> MessagesResult:
        """Prune OpenAI-style chat messages (see lite/prune/messages.py and docs/messages.md).

        Each text of a message whose role is in `roles` is pruned on its own at `rate`, or all of
        them together to `target_tokens` for the whole payload's text; the last user message is
        kept whole unless keep_last_user=False. System and developer messages, tool_calls,
        tool_call_id, name, non-text parts and unknown fields are returned unchanged; the input is
        not mutated. The result has .messages, .origin_tokens, .compressed_tokens, .per_message.
        target_tokenizer: the target model's tokenizer (see target.py): target_tokens then counts
        its tokens, and the counts are also given in it (.target_origin_tokens, ...). method and
        granularity: as in `prune`.
        rank_by_question: the last user message is the question; the prunable texts are pruned as
        passages for it, one budget over all of them (see passages.py; `method` is then not used).
        structure, code: as in `prune`; a tool message holding JSON stays JSON.
        """
        options = PruneOptions(rate, target_tokens, method, force, force_digits, 0, drop_consecutive,
                               target_tokenizer=target_tokenizer, granularity=granularity, structure=structure,
                               code=code)
        return prune_chat(self, messages, options, roles, keep_last_user, rank_by_question)

    def count_tokens(self, text: str) -> int:
        """The text's own tokens (without the special tokens the tokenizer adds)."""
        return sum(1 for s in self.tokenize(text).sequence_ids if s is not None)

    def compress_prompt(
        self,
        context: list[str] | str,
        instruction: str = "",
        question: str = "",
        rate: float = 0.5,
        target_token: int = -1,
        force_tokens: list[str] = [],  # noqa: B006 - the signature users know; never mutated
        force_reserve_digit: bool = False,
        drop_consecutive: bool = False,
        method: str = DEFAULT_METHOD,
        target_tokenizer: Any = None,
        granularity: str = DEFAULT_GRANULARITY,
        rank_by_question: bool = True,
        structure: str = "auto",
        code: str = "whole",
        **llmlingua_options: Any,
    ) -> dict:
        """The prompt-compression call many users already make (LLMLingua-2's signature and keys).

        With a question (and rank_by_question, the default), the context items are passages pruned
        for it (`prune(..., question=question)`): one budget of `rate` times their tokens (or
        target_token minus the instruction's and question's tokens) spent on their sentences most
        relevant to the question; an item that keeps nothing is left out of the prompt (its entry
        in compressed_prompt_list is ""), and `method` is not used. Otherwise each context item is
        pruned on its own at `rate` (or to its share of that target) by `method`. Instruction and
        question are kept whole. Parts are joined instruction, context..., question with "\\n\\n",
        empty ones left out. Token counts are of this model's tokenizer and add up over the parts (the
        "\\n\\n" joins are not counted): origin_tokens = sum of each part's tokens,
        compressed_tokens = sum of kept tokens. ratio = origin/compressed as "2.0x" and
        rate = compressed/origin as "50.0%", formatted as LLMLingua formats them. method and
        granularity: as in `prune`.

        LLMLingua's structured tags in context items are honoured (`<llmlingua, compress=False>`,
        `<llmlingua, rate=0.4>`; see llmlingua.py), and its other options are accepted at their
        defaults. target_tokenizer: the target model's tokenizer; target_token then counts its
        tokens in the whole compressed prompt, and target_origin_tokens / target_compressed_tokens
        are added to the answer. A tag with a rate keeps LLMLingua's per-span budgets: the context
        is then pruned item by item by `method`, not ranked by the question. structure, code: as in `prune`;
        a structured context item (JSON, Markdown, code) is pruned by its structure, not ranked by the question.
        """
        check_options(llmlingua_options)
        counter = load_target(target_tokenizer)
        if not isinstance(context, (str, list, tuple)):
            raise LiteError(f"context must be a string or a list of strings, got {type(context).__name__}")
        contexts = [context] if isinstance(context, str) else list(context)
        parts = [Segment(instruction, keep=True)] if instruction else []
        owners = [None] if instruction else []  # which context item each part belongs to (None: kept part)
        for i, item in enumerate(contexts):
            spans = split_tags(item, f"context[{i}]") if isinstance(item, str) else None
            if spans is None:
                parts += [Segment(item)] if item else []
                owners += [i] if item else []
                continue
            for text, own_rate, compress in spans:
                parts.append(Segment(text, rate=own_rate, keep=not compress))
                owners.append(i)
        parts += [Segment(question, keep=True)] if question else []
        owners += [None] if question else []
        # an <llmlingua, rate=...> tag sets a span's own budget, as in LLMLingua: the context is then not ranked
        ranked = bool(question) and rank_by_question and all(p.rate is None for p in parts)
        options = dict(force=force_tokens, force_digits=force_reserve_digit, drop_consecutive=drop_consecutive,
                       method=method, granularity=granularity, question=question if ranked else None,
                       structure=structure, code=code)
        PruneOptions(rate if target_token is None or target_token <= 0 else None, None, method,
                     force_tokens, structure=structure, code=code)  # bad options fail here, before any work

        def joined(result: PruneResult) -> tuple[str, list[str]]:
            """The compressed prompt and each context item's compressed text."""
            items: dict[int, list[str]] = {}
            blocks: list[str] = []
            for owner, piece in zip(owners, result.segments):
                if owner is None:
                    blocks.append(piece.text)
                elif owner in items:
                    items[owner].append(piece.text)
                else:
                    items[owner] = [piece.text]
                    blocks.append(items[owner])
            texts = ["".join(b) if isinstance(b, list) else b for b in blocks]
            return "\n\n".join(t for t in texts if t), ["".join(items[i]) for i in sorted(items)]

        def run(target: int | None) -> PruneResult:
            return pruner.prune(parts, rate=None if target else rate, target_tokens=target, **options)

        pruner = self
        if target_token is not None and target_token > 0 and counter is not None:
            pruner = remembering(self)
            high = sum(self.count_tokens(p.text) for p in parts if not p.keep and p.rate is None) or 1
            count = memo_counter(counter.count)
            result = largest_fitting(run, lambda r: count(joined(r)[0]), int(target_token), high)
        elif target_token is not None and target_token > 0:
            whole = sum(self.count_tokens(p.text) for p in parts if p.keep)
            result = run(max(1, target_token - whole))
        else:
            result = run(None)
        prompt, items = joined(result)
        ratio = result.origin_tokens / result.compressed_tokens if result.compressed_tokens else 1.0
        answer = {
            "compressed_prompt": prompt,
            "compressed_prompt_list": items,
            "origin_tokens": result.origin_tokens,
            "compressed_tokens": result.compressed_tokens,
            "ratio": f"{ratio:.1f}x",
            "rate": f"{100 / ratio:.1f}%",
        }
        if counter is not None:
            original = "\n\n".join([instruction] * bool(instruction) + [strip_tags(c) for c in contexts if c]
                                     + [question] * bool(question))
            answer["target_origin_tokens"] = counter.count(original)
            answer["target_compressed_tokens"] = counter.count(prompt)
        return answer


def chunked_importance(scorer: Scorer, ids: np.ndarray, method: str, chunk: int | None) -> np.ndarray:
    """Importance of each id, the ids scored in chunks of `chunk` (all at once when None), float32 [n].

    Each chunk is scored on its own (its scores sum to 1) and weighted by its share of the ids, so a
    token's score is comparable across chunks of different lengths and the whole still sums to 1.
    """
    n = len(ids)
    if chunk is None or chunk >= n:
        return scorer.importance(ids, method=method)  # [n]
    parts = [scorer.importance(ids[start : start + chunk], method=method) * np.float32(min(chunk, n - start) / n)
             for start in range(0, n, chunk)]  # [chunk] each
    return np.concatenate(parts).astype(np.float32)  # [n]


def guard_joined(guard: AddedTokenGuard, selected: list[tuple[Encoded, np.ndarray]], separator: str,
                 skip_empty: bool = False) -> None:
    """Keep units again (in place) where the joined output would hold an added token the input did not.

    The texts are seen joined as join_results joins them (with skip_empty, a separator next to an empty
    text is not part of the output); when keeping units again changes which texts are empty, the
    joined output is checked once more, until nothing changes.
    """
    for _ in range(len(selected) + 1):
        pieces: list[tuple[str, bool, tuple[int, int] | None]] = []  # text, kept, (text index, unit)
        shown = False
        for i, (encoded, keep) in enumerate(selected):
            spans = encoded.units.spans() if encoded.n_tokens else []
            nonempty = any(k and end > start for (start, end), k in zip(spans, keep)) if spans else bool(encoded.text)
            if i and separator:
                pieces.append((separator, not skip_empty or (shown and nonempty), None))
            shown = shown or nonempty
            if not spans:
                pieces.append((encoded.text, True, None))
            pieces.extend((encoded.text[a:b], bool(k), (i, u)) for u, ((a, b), k) in enumerate(zip(spans, keep)))
        repaired = guard.repair([t for t, _, _ in pieces], np.array([k for _, k, _ in pieces], dtype=bool))
        changed = False
        for (_, kept, where), now in zip(pieces, repaired):
            if where is not None and now and not kept:
                selected[where[0]][1][where[1]] = True
                changed = True
        if not changed:
            return


def kept_units(encoded: Encoded, keep: np.ndarray, options: PruneOptions) -> np.ndarray:
    """The selection, less forced strings that repeat the kept unit before them when drop_consecutive asks."""
    if not (options.drop_consecutive and options.force):
        return keep
    texts = [encoded.text[start:end] for start, end in encoded.units.spans()]
    return drop_consecutive_repeats(texts, keep, list(options.force))


def forced_units(text: str, units: Units, n_tokens: int, options: PruneOptions) -> np.ndarray:
    """Mask of the units that must be kept: forced strings, digits, the last N tokens."""
    ranges = [r for s in options.force for r in occurrences(text, s)]
    if options.force_digits:
        ranges += digit_ranges(text)
    forced = units_covering(units, ranges)  # [n_units]
    if options.keep_last > 0:
        forced[units.token_unit(n_tokens)[-options.keep_last :]] = True
    return forced


def join_results(results: list[PruneResult], separator: str, skip_empty: bool = False) -> PruneResult:
    """One result for segments pruned one by one: texts joined, token positions one after the other.

    skip_empty: results whose text is empty (a passage that gave its whole budget away) are left
    out of the join, and the separators around them are marked dropped in `pieces`.
    """
    kept: list[int] = []
    pieces: list[tuple[str, bool]] = []
    offset = 0
    shown = False  # has a non-empty text been joined yet
    for i, result in enumerate(results):
        if i and separator:
            pieces.append((separator, not skip_empty or (shown and bool(result.text))))
        shown = shown or bool(result.text)
        pieces.extend(result.pieces)
        kept.extend(position + offset for position in result.kept)
        offset += result.origin_tokens
    return PruneResult(
        text=separator.join(r.text for r in results if r.text or not skip_empty),
        kept=tuple(kept),
        origin_tokens=offset,
        compressed_tokens=len(kept),
        pieces=tuple(pieces),
        segments=tuple(results),
    )


def tokenizer_of(scorer: Scorer) -> Tokenizer:
    """The slice's tokenizer, encoding whole texts: no truncation, no padding."""
    try:
        tokenizer = Tokenizer.from_str(scorer.slice.tokenizer_json)
    except Exception as err:
        raise LiteError(f"{scorer.slice.path} holds a tokenizer.json that cannot be loaded ({err})") from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def load(model: str | os.PathLike, threads: int | None = None, *, revision: str | None = None,
         token: str | None = None) -> Pruner:
    """A pruner for a slice: its model for scoring and its tokenizer.

    model: a slice file, or a hub repo id (HuggingFaceTB/SmolLM2-135M-Instruct) sliced on first use
    into huggingface_hub's assets cache and loaded from there afterwards, offline too (see
    lite/slice/cache.py). revision: a branch, tag or commit of the repo (default main); token:
    for gated or private repos (default HF_TOKEN or `hf auth login`).
    """
    from ..slice.cache import resolve_model  # lite.slice imports the store and the model: only when loading

    return Pruner(Scorer(resolve_model(model, revision=revision, token=token), threads=threads))
