"""LLMLingua's calling conventions, so that code written for it runs on lite unchanged.

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


def check_options(options: dict[str, Any]) -> None:
    """Accept LLMLingua options at their defaults; anything else is a LiteError naming the option."""
    for name, value in options.items():
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
