"""Tokens grouped into units that are whole characters, and each unit's span of the original text.

A byte-level BPE tokenizer (Llama 3, SmolLM2, Qwen) splits one character of Bengali, Thai or
Chinese over several tokens; each of those tokens reports the same character offsets. Tokens
whose offsets overlap form one unit, so a unit always covers whole characters and the pruned
text is cut from the original string at character boundaries: it can never hold a broken byte
sequence. A unit that would start with a combining mark (a vowel sign, a virama, a Thai tone
mark) or a zero-width joiner is joined to the unit before it, so no mark is left without its base.

A unit's span runs from its first character to the next unit's first character: text between
tokens (a space a tokenizer trimmed, text a normalizer removed) stays with the unit before it,
the first unit starts at 0 and the last ends at len(text). The spans tile the text, so keeping
every unit returns the input exactly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chars import ATTACHES, BLANK, JOINERS, JOINS_WORDS, char_flags, code_points


@dataclass(frozen=True)
class Units:
    """A text's tokens grouped into units. Token positions count only the text's own tokens."""

    first_token: np.ndarray  # [n_units] int64, position of each unit's first token
    span_start: np.ndarray  # [n_units] int64, character where each unit's span starts (span_start[0] == 0)
    text_length: int

    @property
    def count(self) -> int:
        return len(self.first_token)

    def sizes(self, n_tokens: int) -> np.ndarray:
        """Tokens in each unit."""
        return np.diff(np.append(self.first_token, n_tokens))  # [n_units]

    def token_unit(self, n_tokens: int) -> np.ndarray:
        """The unit of each token."""
        return np.repeat(np.arange(self.count), self.sizes(n_tokens))  # [n_tokens]

    def spans(self) -> list[tuple[int, int]]:
        """(start, end) character span of each unit; together they tile the whole text."""
        ends = np.append(self.span_start[1:], self.text_length)
        return list(zip(self.span_start.tolist(), ends.tolist()))


def starts_with_mark(text: str, at: int) -> bool:
    """Does the character at `at` attach to the one before it (combining mark or joiner)?"""
    if at >= len(text):
        return False
    char = text[at]
    return char in JOINERS or unicodedata.category(char).startswith("M")


def grouped_loop(text: str, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
    """The first token of each unit, one token at a time (the rule in full, zero-width tokens included)."""
    first_token: list[int] = []
    span_start: list[int] = []
    unit_end = 0
    for position, (start, end) in enumerate(zip(starts, ends)):
        open_unit = bool(first_token) and (start < unit_end or span_start[-1] == unit_end)
        if first_token and not open_unit and starts_with_mark(text, start):
            open_unit = True
        if open_unit:
            unit_end = max(unit_end, end)
            continue
        first_token.append(position)
        span_start.append(start)
        unit_end = end
    return first_token


def opens_unit(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Does each token start a unit (tokens without zero-width ones): it begins at or after the furthest end
    so far and is not a combining mark; the first always: bool [n]."""
    reach = np.maximum.accumulate(ends)  # [n] the end of the unit each token closes
    flags = np.append(char_flags(code_points(text)), 0)  # [n_chars + 1]
    attaches = (flags[np.minimum(starts, len(text))] & ATTACHES) > 0  # [n]
    return np.concatenate([[True], (starts[1:] >= reach[:-1]) & ~attaches[1:]])[: len(starts)]  # [n]


def group_units(text: str, offsets: Sequence[tuple[int, int]] | np.ndarray) -> Units:
    """Group tokens (their (start, end) character offsets, in order) into whole-character units.

    A token starts a new unit when it begins at or after the end of the current unit and is not
    a combining mark; a zero-width token joins the token after it. Without zero-width tokens the end of
    the current unit is the furthest end so far, so the rule is a few array operations (opens_unit); with
    one, the tokens are taken one at a time (grouped_loop).
    """
    bounds = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)  # [n, 2]
    starts, ends = bounds[:, 0], bounds[:, 1]  # [n]
    if (ends <= starts).any():
        first_token = np.asarray(grouped_loop(text, starts.tolist(), ends.tolist()), dtype=np.int64)
    else:
        first_token = np.flatnonzero(opens_unit(text, starts, ends))  # [n_units]
    return units_of(starts, first_token, len(text))


def units_of(starts: np.ndarray, first_token: np.ndarray, text_length: int) -> Units:
    """The units whose first tokens are `first_token` (tokens' starts: int64 [n]); the first unit's span from 0."""
    span_start = starts[first_token]  # [n_units]
    if len(span_start):
        span_start[0] = 0
    return Units(first_token=first_token, span_start=span_start, text_length=text_length)


def units_of_texts(texts: Sequence[str], offsets: Sequence[np.ndarray], words: bool) -> list[Units]:
    """group_units of each text (offsets: int64 [n_k, 2] each), then word_units when `words`, for all the
    texts at once: the same units. Joined, each text's tokens start after the text before it ends, so only
    each text's first token (and first unit) must be told to start anew. Texts one at a time when one has
    no token or a zero-width token."""
    counts = [len(bounds) for bounds in offsets]
    if len(texts) < 2 or 0 in counts or any((bounds[:, 1] <= bounds[:, 0]).any() for bounds in offsets):
        found = [group_units(text, bounds) for text, bounds in zip(texts, offsets)]
        return [word_units(text, u) for text, u in zip(texts, found)] if words else found
    shift = np.cumsum([0] + [len(text) for text in texts])[:-1]  # [n_texts] each text's place, joined
    first = np.cumsum([0] + counts)[:-1]  # [n_texts] each text's first token, joined
    bounds = np.concatenate([b + at for b, at in zip(offsets, shift)])  # [n, 2]
    joined = "".join(texts)
    opens = opens_unit(joined, bounds[:, 0], bounds[:, 1])  # [n]
    opens[first] = True
    if words:
        unit = np.flatnonzero(opens)  # [n_units] each unit's first token, joined
        leading = np.searchsorted(unit, first)  # [n_texts] each text's first unit
        spans = np.append(bounds[unit, 0], len(joined))  # [n_units + 1]
        spans[leading] = shift  # a text's first unit spans from the text's start
        merged = continues_word(joined, spans[:-1], spans[1:])  # [n_units]
        merged[leading] = False
        opens[unit[merged]] = False
    return [units_of(b[:, 0], np.flatnonzero(opens[at : at + n]), len(text))
            for text, b, at, n in zip(texts, offsets, first.tolist(), counts)]


def units_covering(units: Units, char_ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mask of the units whose spans overlap any of the (start, end) character ranges."""
    mask = np.zeros(units.count, dtype=bool)  # [n_units]
    for start, end in char_ranges:
        if end <= start or units.count == 0:
            continue
        first = np.searchsorted(units.span_start, start, side="right") - 1
        last = np.searchsorted(units.span_start, end - 1, side="right") - 1
        mask[first : last + 1] = True
    return mask


def occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    """(start, end) of every non-overlapping occurrence of `needle` in `text`."""
    found: list[tuple[int, int]] = []
    if not needle:
        return found
    at = text.find(needle)
    while at >= 0:
        found.append((at, at + len(needle)))
        at = text.find(needle, at + len(needle))
    return found


def digit_ranges(text: str) -> list[tuple[int, int]]:
    """(i, i + 1) for every decimal digit of any script (0-9, ০-৯, ๐-๙, ...)."""
    return [(i, i + 1) for i, char in enumerate(text) if char.isdecimal()]


GRANULARITIES = ("clause", "word", "char")  # clause: whole clauses by their tokens' mean rank (clauses.py), word units
DEFAULT_GRANULARITY = "clause"


def continues_word(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Does each unit (its span [start, end)) continue the word of the unit before it (word_units' rule; the
    first never): bool [n_units]."""
    flags = np.append(char_flags(code_points(text)), 0)  # [n_chars + 1]
    joins = (flags & JOINS_WORDS) > 0  # [n_chars + 1]
    blanks = np.concatenate([[0], np.cumsum((flags[:-1] & BLANK) > 0)])  # [n_chars + 1] blanks before each char
    filled = ends > starts  # [n_units]
    blank = filled & (blanks[ends] - blanks[starts] == ends - starts)  # [n_units] spaces or tabs only
    return np.concatenate([[False], filled[1:] & filled[:-1] & joins[starts[1:]]
                           & (joins[np.maximum(ends[:-1] - 1, 0)] | blank[:-1])])[: len(starts)]  # [n_units]


def word_units(text: str, units: Units) -> Units:
    """Merge character units into whole words where the script separates words with spaces.

    A unit continues the word before it when it does not start with whitespace, its first character
    is a word character (letter, digit, mark, joiner) of a spaced script (chars.JOINS_WORDS: outside
    chars.UNSPACED_SCRIPTS), and the previous unit ends with one or is only spaces or tabs:
    "Rép"+"onse", " "+"1"+"6" become one unit; " tennis", "." and "\\n" start their own;
    Chinese, Japanese and Thai characters are never merged.
    """
    if units.count < 2:
        return units
    starts = units.span_start  # [n_units]
    keep = np.flatnonzero(~continues_word(text, starts, np.append(starts[1:], units.text_length)))  # [n_words]
    return Units(first_token=units.first_token[keep], span_start=units.span_start[keep], text_length=units.text_length)
