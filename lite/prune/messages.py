"""Prune OpenAI-style chat messages: each prunable text on its own, everything else untouched.

    result = pruner.prune_messages(messages, rate=0.7)
    result.messages          # a new list; the input is never changed
    result.origin_tokens, result.compressed_tokens, result.per_message

A message is pruned when its role is in `roles` (default user, assistant, tool), except the last
user message (the question) unless keep_last_user=False. Its content is a string, or a list of
parts of which only {"type": "text"} parts are pruned, each on its own. Nothing else is touched:
system and developer messages (unless named in `roles`), tool_calls, tool_call_id, name,
non-text parts (images, audio, files) and any field lite does not know come back as they were.
With rank_by_question=True the last user message is the question, and the prunable texts are
pruned as passages for it (passages.py): one budget over all of them, spent on their sentences
most relevant to the question.

Counts are of text only (no chat-template tokens), summed over every message: untouched text is
counted in both the origin and the compressed totals. With target_tokens=N the whole payload's
text is to hold at most N tokens: the untouched text's tokens are taken off N first and the rest
is shared by the prunable texts in proportion to their lengths (as compress_prompt does). With a
target tokenizer, N counts its tokens (each text counted on its own, summed) and the pruner's
budget is searched until the texts fit (budget.py); the counts are then given in both tokenizers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import LiteError
from .budget import fit_target, shared_budgets
from .engine import Call, Engine, own_budget, run
from .options import KNOWN_ROLES, check_question_for_auto
from .results import PruneResult

TEXT_PART = "text"  # the part type whose "text" is pruned; every other part type is left alone

Counter = Callable[[str], int]


@dataclass(frozen=True)
class MessageCount:
    """Token counts of one pruned message's text (all its text parts together)."""

    origin_tokens: int
    compressed_tokens: int
    target_origin_tokens: int | None = None
    target_compressed_tokens: int | None = None

    def to_dict(self) -> dict:
        return {
            "origin_tokens": self.origin_tokens,
            "compressed_tokens": self.compressed_tokens,
            "target_origin_tokens": self.target_origin_tokens,
            "target_compressed_tokens": self.target_compressed_tokens,
        }


@dataclass(frozen=True)
class MessagesResult:
    """New messages and their text's token counts, in the pruner's tokenizer and (if given) the target's.

    per_message[i] is the counts of message i if it was pruned, None if it was left untouched;
    pieces[i] likewise its text parts' (piece, kept) pairs, one part after the other, as `prune`
    gives them (the pieces join to the message's old text, the kept ones to its new text).
    """

    messages: list[dict]
    origin_tokens: int
    compressed_tokens: int
    per_message: list[MessageCount | None]
    target_origin_tokens: int | None = None
    target_compressed_tokens: int | None = None
    pieces: list[tuple[tuple[str, bool], ...] | None] = field(default_factory=list, repr=False)

    @property
    def rate(self) -> float:
        """Fraction of the text's tokens kept (1.0 when there is no text)."""
        return self.compressed_tokens / self.origin_tokens if self.origin_tokens else 1.0

    def to_dict(self) -> dict:
        return {
            "messages": self.messages,
            "origin_tokens": self.origin_tokens,
            "compressed_tokens": self.compressed_tokens,
            "rate": round(self.rate, 6),
            "target_origin_tokens": self.target_origin_tokens,
            "target_compressed_tokens": self.target_compressed_tokens,
            "per_message": [None if c is None else c.to_dict() for c in self.per_message],
        }


@dataclass(frozen=True)
class Slot:
    """One text in the messages: where it is (message, part or None for string content), and whether it is pruned."""

    message: int
    part: int | None
    text: str
    prunable: bool


def text_slots(messages: Sequence[Any], roles: tuple[str, ...], keep_last_user: bool) -> list[Slot]:
    """Every text of the messages, in order, checked; a one-line LiteError for anything malformed."""
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Sequence):
        raise LiteError(f"messages must be a list of {{'role', 'content'}} objects, got {type(messages).__name__}")
    last_user = None
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise LiteError(f"messages[{i}] must be an object with a role, got {type(message).__name__}")
        role = message.get("role")
        if role not in KNOWN_ROLES:
            raise LiteError(f"messages[{i}] has unknown role {role!r}; known roles: {', '.join(KNOWN_ROLES)}")
        if role == "user":
            last_user = i
    slots = []
    for i, message in enumerate(messages):
        prunable = message["role"] in roles and not (keep_last_user and i == last_user)
        content = message.get("content")
        if content is None:
            continue
        if isinstance(content, str):
            slots.append(Slot(i, None, content, prunable))
            continue
        if not isinstance(content, list):
            raise LiteError(f"messages[{i}].content must be a string or a list of parts, got {type(content).__name__}")
        for j, part in enumerate(content):
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise LiteError(f"messages[{i}].content[{j}] must be an object with a type, got {part!r:.60}")
            if part["type"] != TEXT_PART:
                continue
            text = part.get("text")
            if not isinstance(text, str):
                raise LiteError(f"messages[{i}].content[{j}].text must be a string, got {type(text).__name__}")
            slots.append(Slot(i, j, text, prunable))
    return slots


def last_user_text(messages: Sequence[dict], slots: list[Slot]) -> str:
    """The text of the last user message (its text parts joined by newlines): the question."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    text = "\n".join(s.text for s in slots if users and s.message == users[-1])
    if not text.strip():
        raise LiteError("rank_by_question needs a last user message with text (the question)")
    return text


def rebuilt(messages: Sequence[dict], slots: list[Slot], texts: list[str]) -> list[dict]:
    """Deep copies of the messages with each pruned slot's text replaced (the input stays as it was)."""
    out = []
    for i, message in enumerate(messages):
        try:
            out.append(copy.deepcopy(message))
        except RecursionError:  # a field nested hundreds of levels deep: one line, not a traceback
            raise LiteError(f"messages[{i}] is nested too deeply to copy") from None
    for slot, text in zip(slots, texts):
        if not slot.prunable:
            continue
        if slot.part is None:
            out[slot.message]["content"] = text
        else:
            out[slot.message]["content"][slot.part]["text"] = text
    return out


def prune_texts(engine: Engine, slots: list[Slot], call: Call, share: int | None) -> list[PruneResult | None]:
    """The prune result of each prunable slot (None for the others): at the call's rate, or sharing `share` tokens.

    With a question, the prunable texts are passages for it: one budget over all of them (passages.py).
    """
    prunable = [k for k, s in enumerate(slots) if s.prunable]
    results: list[PruneResult | None] = [None] * len(slots)
    if call.options.question is not None:
        if prunable:
            own = call if share is None else call.with_options(target_tokens=max(1, share))
            joined = run(engine, [slots[k].text for k in prunable], own)
            for k, result in zip(prunable, joined.segments, strict=True):
                results[k] = result
        return results
    shares: dict[int, int | None] = dict.fromkeys(prunable)
    if share is not None:
        lengths = [engine.count_tokens(slots[k].text) for k in prunable]
        shares = dict(zip(prunable, shared_budgets(lengths, share), strict=True))
    for k in prunable:
        own = call if shares[k] is None else call.with_options(**own_budget(call.options.rate, shares[k]))
        results[k] = run(engine, slots[k].text, own)
    return results


def prune_chat(engine: Engine, messages: Sequence[dict], call: Call) -> MessagesResult:
    """See Pruner.prune_messages; the call's target_tokens is for the whole payload's text."""
    options = call.options
    check_question_for_auto(options, options.question is not None or options.rank_by_question)
    slots = text_slots(messages, options.roles, options.keep_last_user)
    if options.rank_by_question:
        call = call.with_options(question=last_user_text(messages, slots))
    target = call.target
    plain = call.in_pruner_tokens()  # each text on its own; the payload's target budget is searched here
    if options.target_tokens is not None and target is not None:  # N of the target's tokens: search the budget
        high = max(1, sum(engine.count_tokens(s.text) for s in slots if s.prunable))
        results = fit_target(
            engine, lambda twin, budget: prune_texts(twin, slots, plain, budget),
            lambda found: [s.text if r is None else r.text for s, r in zip(slots, found)],
            target.count, options.target_tokens, high)
    elif options.target_tokens is not None:
        fixed = sum(engine.count_tokens(s.text) for s in slots if not s.prunable)
        results = prune_texts(engine, slots, plain, max(1, options.target_tokens - fixed))
    else:
        results = prune_texts(engine, slots, plain, None)
    return assemble(messages, slots, results, engine.count_tokens, None if target is None else target.count)


def assemble(
    messages: Sequence[dict],
    slots: list[Slot],
    results: list[PruneResult | None],
    count: Counter,
    target_counter: Counter | None,
) -> MessagesResult:
    """The new messages and every count, from each slot's prune result."""
    texts = [s.text if r is None else r.text for s, r in zip(slots, results)]
    origin = compressed = 0
    target_origin = target_compressed = 0
    per: dict[int, list[int]] = {}
    pieces: list[tuple[tuple[str, bool], ...] | None] = [None] * len(messages)
    for slot, result, text in zip(slots, results, texts):
        before = count(slot.text) if result is None else result.origin_tokens
        after = before if result is None else result.compressed_tokens
        t_before = target_counter(slot.text) if target_counter else 0
        t_after = (t_before if result is None else target_counter(text)) if target_counter else 0
        origin, compressed = origin + before, compressed + after
        target_origin, target_compressed = target_origin + t_before, target_compressed + t_after
        if slot.prunable:
            sums = per.setdefault(slot.message, [0, 0, 0, 0])
            for i, value in enumerate((before, after, t_before, t_after)):
                sums[i] += value
            pieces[slot.message] = (pieces[slot.message] or ()) + tuple(result.pieces)
    per_message: list[MessageCount | None] = [None] * len(messages)
    for i, (b, a, tb, ta) in per.items():
        per_message[i] = MessageCount(b, a, tb if target_counter else None, ta if target_counter else None)
    return MessagesResult(
        messages=rebuilt(messages, slots, texts),
        origin_tokens=origin,
        compressed_tokens=compressed,
        per_message=per_message,
        target_origin_tokens=target_origin if target_counter else None,
        target_compressed_tokens=target_compressed if target_counter else None,
        pieces=pieces,
    )
