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

JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: they shape the characters around them


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


def group_units(text: str, offsets: Sequence[tuple[int, int]]) -> Units:
    """Group tokens (their (start, end) character offsets, in order) into whole-character units.

    A token starts a new unit when it begins at or after the end of the current unit and is not
    a combining mark; a zero-width token joins the token after it.
    """
    first_token: list[int] = []
    span_start: list[int] = []
    unit_end = 0
    for position, (start, end) in enumerate(offsets):
        open_unit = bool(first_token) and (start < unit_end or span_start[-1] == unit_end)
        if first_token and not open_unit and starts_with_mark(text, start):
            open_unit = True
        if open_unit:
            unit_end = max(unit_end, end)
            continue
        first_token.append(position)
        span_start.append(start)
        unit_end = end
    if span_start:
        span_start[0] = 0
    return Units(
        first_token=np.asarray(first_token, dtype=np.int64),
        span_start=np.asarray(span_start, dtype=np.int64),
        text_length=len(text),
    )


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
# Scripts written without spaces between words: their characters stay the units under granularity="word".
UNSPACED_SCRIPTS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x0F00, 0x0FFF),  # Tibetan
    (0x2E80, 0x9FFF),  # CJK radicals, kana, CJK ideographs (and their punctuation)
    (0xA960, 0xA97F), (0xAC00, 0xD7FF),  # Hangul is spaced, but its syllables are whole words' parts: kept per char
    (0xF900, 0xFAFF), (0xFF66, 0xFF9F),  # CJK compatibility ideographs, half-width katakana
    (0x20000, 0x3FFFF),  # CJK extensions
)


def joins_words(char: str) -> bool:
    """Is the character part of a word of a spaced script (a letter, digit or mark outside UNSPACED_SCRIPTS)?"""
    if not (char.isalnum() or unicodedata.category(char).startswith("M") or char in JOINERS):
        return False
    code = ord(char)
    return not any(low <= code <= high for low, high in UNSPACED_SCRIPTS)


def is_blank(piece: str) -> bool:
    """Spaces or tabs only (not a line break): such a unit belongs to the word after it."""
    return bool(piece) and all(c in " \t\u00a0" for c in piece)


def word_units(text: str, units: Units) -> Units:
    """Merge character units into whole words where the script separates words with spaces.

    A unit continues the word before it when it does not start with whitespace, its first character
    is a word character (letter, digit, mark) of a spaced script, and the previous unit ends with one
    or is only spaces: "Rép"+"onse", " "+"1"+"6" become one unit; " tennis", "." and "\\n" start
    their own; Chinese, Japanese and Thai characters are never merged.
    """
    if units.count < 2:
        return units
    spans = units.spans()
    starts = [0]
    for u in range(1, units.count):
        start, end = spans[u]
        prev_start, prev_end = spans[u - 1]
        continues = start < end and prev_start < prev_end and joins_words(text[start]) and (
            joins_words(text[prev_end - 1]) or is_blank(text[prev_start:prev_end]))
        if not continues:
            starts.append(u)
    keep = np.asarray(starts, dtype=np.int64)  # [n_words]
    return Units(first_token=units.first_token[keep], span_start=units.span_start[keep], text_length=units.text_length)
