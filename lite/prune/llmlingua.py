"""LLMLingua's calling conventions, so that code written for it runs on lite unchanged: compress_prompt.

`compress` is Pruner.compress_prompt: the context items (and their tagged spans) become Segments,
the instruction and the question Segments kept whole, and one `run` of the engine prunes them (with a
question, as passages for it); the parts are then joined with "\n\n" and counted as LLMLingua counts.
With a target tokenizer, target_token counts the target's tokens in the whole compressed prompt (the
budget is searched as any target budget is: budget.py), and the output creates none of its special
tokens. Token counts are of the pruner's tokenizer and add up over the parts (the "\n\n" joins are
not counted); ratio and rate are formatted as LLMLingua formats them.

Structured tags in a context item (LLMLingua's structured_compress_prompt):

    "<llmlingua, compress=False>Question: </llmlingua><llmlingua, rate=0.4>a long passage</llmlingua>"

Each tagged span is pruned on its own: `compress=False` keeps it whole (it wins over a rate),
`rate=R` prunes it at R, no option prunes it at the call's rate. Text outside tags is pruned at the
call's rate. The spans of one item are joined with nothing between them; the tags themselves are
never in the output. An unclosed trailing tag is closed at the end of the item, as LLMLingua does.

LLMLingua's other options are accepted at their default values, so a call that spells them out
still runs; a value that asks for something lite does not do is a one-line LiteError.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import LiteError
from .budget import fit_target
from .engine import Engine, run
from .options import AUTO, make_options, names
from .results import PruneResult, Segment

TAG = re.compile(r"<llmlingua\s*((?:,\s*\w+\s*=\s*[^,>\s]+\s*)*)>(.*?)</llmlingua>", re.DOTALL)
OPTION = re.compile(r",\s*(\w+)\s*=\s*([^,>\s]+)")
OPEN, CLOSE = "<llmlingua", "</llmlingua>"

# LLMLingua(-2) options with no effect on how lite prunes, and the only value each may take here
ACCEPTED_AT_DEFAULT: dict[str, Any] = {
    "iterative_size": 200,
    "force_context_ids": None,
    "force_context_number": None,
    "use_sentence_level_filter": False,
    "use_context_level_filter": False,
    "use_token_level_filter": True,
    "keep_split": False,
    "keep_first_sentence": 0,
    "keep_last_sentence": 0,
    "keep_sentence_number": 0,
    "high_priority_bonus": 100,
    "context_budget": "+100",
    "token_budget_ratio": 1.4,
    "condition_in_question": "none",
    "reorder_context": "original",
    "dynamic_context_compression_ratio": 0.0,
    "condition_compare": False,
    "add_instruction": False,
    "rank_method": "llmlingua",
    "concate_question": True,
    "target_context": -1,
    "context_level_rate": 1.0,
    "context_level_target_token": -1,
    "return_word_label": False,
    "word_sep": "\t\t|\t\t",
    "label_sep": " ",
    "token_to_word": "mean",
    "chunk_end_tokens": [".", "\n"],
    "strict_preserve_uncompressed": True,
}
EMPTY_MEANS_DEFAULT = {"force_context_ids"}  # LLMLingua-2's default is [] where LLMLingua's is None
# lite's options that compress_prompt takes under LLMLingua's names (rate, target_token, force_tokens, ...)
SPELLED_AS_LLMLINGUA = ("rate", "target_tokens", "question", "force", "force_digits", "drop_consecutive")


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """lite's own options among `options` (method, granularity, target_tokenizer, ...); LLMLingua's are accepted
    at their defaults; anything else is a LiteError naming the option."""
    own = {name: value for name, value in options.items()
           if name in names("text") and name not in SPELLED_AS_LLMLINGUA}
    for name, value in options.items():
        if name in own:
            continue
        if name not in ACCEPTED_AT_DEFAULT:
            raise LiteError(f"compress_prompt() got an unknown option {name!r}")
        default = ACCEPTED_AT_DEFAULT[name]
        if value == default or (name in EMPTY_MEANS_DEFAULT and not value):
            continue
        if name == "use_context_level_filter" and value is True:
            continue  # LLMLingua's default; with no context budget it drops no context here either way
        raise LiteError(
            f"compress_prompt option {name}={value!r} is not supported by lite (it prunes tokens only); "
            f"leave it at {default!r}"
        )
    return own


def parse_tag_options(options: str, where: str) -> tuple[float | None, bool]:
    """(rate or None, compress) from the text between `<llmlingua` and `>`."""
    rate, compress = None, True
    for name, value in OPTION.findall(options):
        if name == "rate":
            try:
                rate = float(value)
            except ValueError:
                raise LiteError(f"{where}: rate={value} in an <llmlingua> tag is not a number") from None
            if not 0.0 < rate <= 1.0:
                raise LiteError(f"{where}: rate={value} in an <llmlingua> tag must be in (0, 1]")
        elif name == "compress":
            if value not in ("True", "False"):
                raise LiteError(f"{where}: compress={value} in an <llmlingua> tag must be True or False")
            compress = value == "True"
        else:
            raise LiteError(f"{where}: unknown option {name!r} in an <llmlingua> tag (rate and compress are known)")
    return rate, compress


def split_tags(text: str, where: str) -> list[tuple[str, float | None, bool]] | None:
    """The item's spans as (text, rate or None, compress), or None when it holds no tag.

    A closing tag with no opening one is malformed like any other: left in, it would be pruned as
    text and its pieces (say `</m>`) would reach the output.
    """
    if OPEN not in text and CLOSE not in text:
        return None
    if text.count(OPEN) > text.count(CLOSE):
        text += CLOSE  # an unclosed last tag runs to the end of the item
    spans: list[tuple[str, float | None, bool]] = []
    position = 0
    for match in TAG.finditer(text):
        outside = text[position : match.start()]
        if outside:
            spans.append((outside, None, True))
        rate, compress = parse_tag_options(match.group(1), where)
        spans.append((match.group(2), rate, compress))
        position = match.end()
    if text[position:]:
        spans.append((text[position:], None, True))
    for span, _, _ in spans:
        if OPEN in span or CLOSE in span:
            raise LiteError(
                f"{where}: an <llmlingua> tag is malformed or nested (tags are <llmlingua, rate=0.4>...</llmlingua>)"
            )
    return [s for s in spans if s[0]]


def strip_tags(text: str) -> str:
    """The item as it reads without its tags (what a target would see uncompressed)."""
    spans = split_tags(text, "context")
    return text if spans is None else "".join(span for span, _, _ in spans)


def context_parts(context: Any, instruction: str, question: str) -> tuple[list[Segment], list[int | None], list[str]]:
    """The prompt's parts as Segments, the context item each belongs to (None: instruction or question), and
    the items."""
    if not isinstance(context, (str, list, tuple)):
        raise LiteError(f"context must be a string or a list of strings, got {type(context).__name__}")
    contexts = [context] if isinstance(context, str) else list(context)
    parts = [Segment(instruction, keep=True)] if instruction else []
    owners: list[int | None] = [None] if instruction else []
    for i, item in enumerate(contexts):
        spans = split_tags(item, f"context[{i}]") if isinstance(item, str) else None
        if spans is None:
            parts += [Segment(item)] if item else []
            owners += [i] if item else []
            continue
        for text, own_rate, compress_span in spans:
            parts.append(Segment(text, rate=own_rate, keep=not compress_span))
            owners.append(i)
    parts += [Segment(question, keep=True)] if question else []
    owners += [None] if question else []
    return parts, owners, contexts


def joined(result: PruneResult, owners: list[int | None]) -> tuple[str, list[str]]:
    """The compressed prompt (parts joined with "\n\n", empty ones left out) and each context item's text."""
    items: dict[int, list[str]] = {}
    blocks: list[str | list[str]] = []
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


def compress(engine: Engine, context: Any, instruction: str, question: str, rate: float, target_token: int | None,
             force_tokens: list[str], force_reserve_digit: bool, drop_consecutive: bool, rank_by_question: bool,
             options: dict[str, Any]) -> dict:
    """Pruner.compress_prompt (see the module docstring)."""
    own = check_options(options)
    parts, owners, contexts = context_parts(context, instruction, question)
    # an <llmlingua, rate=...> tag sets a span's own budget, as in LLMLingua: the context is then not ranked
    ranked = bool(question) and rank_by_question and all(p.rate is None for p in parts)
    targeted = target_token is not None and target_token > 0
    asked = None if targeted and rate != AUTO else rate  # rate auto stays, target_token its ceiling
    call = engine.call(make_options("text", dict(own, rate=asked, force=force_tokens,
                                                 force_digits=force_reserve_digit, drop_consecutive=drop_consecutive,
                                                 question=question if ranked else None)))
    target = call.target
    plain = call.in_pruner_tokens()

    def pruned(on: Engine, budget: int | None) -> PruneResult:
        return run(on, parts, plain.with_options(target_tokens=budget) if budget else plain.with_options(rate=rate))

    if targeted and target is not None:
        high = sum(engine.count_tokens(p.text) for p in parts if not p.keep and p.rate is None) or 1
        result = fit_target(engine, pruned, lambda r: [joined(r, owners)[0]], target.count, int(target_token), high)
    elif targeted:
        whole = sum(engine.count_tokens(p.text) for p in parts if p.keep)
        result = pruned(engine, max(1, target_token - whole))
    else:
        result = pruned(engine, None)
    return answer(result, owners, contexts, instruction, question, target)


def answer(result: PruneResult, owners: list[int | None], contexts: list, instruction: str, question: str,
           target: Any) -> dict:
    """LLMLingua's answer keys (and the target's counts, when there is a target)."""
    prompt, items = joined(result, owners)
    ratio = result.origin_tokens / result.compressed_tokens if result.compressed_tokens else 1.0
    found = {
        "compressed_prompt": prompt,
        "compressed_prompt_list": items,
        "origin_tokens": result.origin_tokens,
        "compressed_tokens": result.compressed_tokens,
        "ratio": f"{ratio:.1f}x",
        "rate": f"{100 / ratio:.1f}%",
    }
    if target is not None:
        original = "\n\n".join([instruction] * bool(instruction) + [strip_tags(c) for c in contexts if c]
                                + [question] * bool(question))
        found["target_origin_tokens"] = target.count(original)
        found["target_compressed_tokens"] = target.count(prompt)
    return found
