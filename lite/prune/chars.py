"""Per-character properties of a whole text at once, as numpy arrays: what the sentence splitter, the
unit grouping and the relevance terms ask of each character, without a Python call per character.

    points = code_points(text)      # uint32 [n_chars]
    flags = char_flags(points)      # uint16 [n_chars]: WORD | MARK | JOINS_WORDS | SPACE | ... bits

A table over all code points holds each property bit; a code point's entry is computed (with
unicodedata and str methods, exactly as a per-character test would) the first time a text holds it,
so a text costs one gather once its characters have been seen. Lone surrogates pass through
("surrogatepass"): they are code points like any other here.
"""

from __future__ import annotations

import unicodedata

import numpy as np

WORD = 1  # a letter, digit or combining mark (category L*, N*, M*): part of a relevance word
MARK = 2  # a combining mark (category M*)
JOINS_WORDS = 4  # a letter, digit, mark or joiner outside UNSPACED_SCRIPTS: part of a word of a spaced script
SPACE = 8  # str.isspace
BLANK = 16  # a space or tab (" \t\u00a0"): such a unit belongs to the word after it (units.word_units)
ATTACHES = 32  # a combining mark or a joiner: it attaches to the character before it (units.group_units)
HAN = 64  # Chinese or Japanese: relevance terms are its bigrams (relevance.HAN_NGRAM)
SOUTHEAST_ASIAN = 128  # Thai, Lao, Khmer, Myanmar: relevance terms are its trigrams (relevance.THAI_NGRAM)
KNOWN = 1 << 15  # the entry has been computed (the highest bit: an entry below it is not)
N_CODE_POINTS = 0x110000
JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: they shape the characters around them
HAN_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))  # relevance.HAN's
SOUTHEAST_ASIAN_RANGES = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF))  # relevance.SOUTHEAST_ASIAN's
UNSPACED_SCRIPTS = (  # scripts written without spaces between words (units.py explains)
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x0F00, 0x0FFF),  # Tibetan
    (0x2E80, 0x9FFF),  # CJK radicals, kana, CJK ideographs (and their punctuation)
    (0xA960, 0xA97F), (0xAC00, 0xD7FF),  # Hangul is spaced, but its syllables are whole words' parts: kept per char
    (0xF900, 0xFAFF), (0xFF66, 0xFF9F),  # CJK compatibility ideographs, half-width katakana
    (0x20000, 0x3FFFF),  # CJK extensions
)

TABLE = np.zeros(N_CODE_POINTS, dtype=np.uint16)  # [code points] property bits, filled as characters are seen
FOLDED_LENGTH = np.zeros(N_CODE_POINTS, dtype=np.uint8)  # [code points] len(char.casefold()), filled with TABLE


def code_points(text: str) -> np.ndarray:
    """The text's code points: uint32 [len(text)]."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)  # [n_chars]


def in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


def flags_of(char: str) -> int:
    """One character's property bits (the per-character definition the table caches)."""
    category = unicodedata.category(char)
    mark = category.startswith("M")
    found = KNOWN | (WORD if category[0] in "LNM" else 0) | (MARK if mark else 0)
    if (char.isalnum() or mark or char in JOINERS) and not in_ranges(ord(char), UNSPACED_SCRIPTS):
        found |= JOINS_WORDS
    if in_ranges(ord(char), HAN_RANGES):
        found |= HAN
    if in_ranges(ord(char), SOUTHEAST_ASIAN_RANGES):
        found |= SOUTHEAST_ASIAN
    if char.isspace():
        found |= SPACE
    if char in " \t\u00a0":
        found |= BLANK
    if mark or char in JOINERS:
        found |= ATTACHES
    return found


def learn(points: np.ndarray) -> None:
    """Compute the table's entries of the code points not seen yet."""
    unknown = points[(TABLE[points] & KNOWN) == 0]  # [n_unknown]
    for code in np.unique(unknown).tolist():
        char = chr(code)
        FOLDED_LENGTH[code] = len(char.casefold())
        TABLE[code] = flags_of(char)


def char_flags(points: np.ndarray) -> np.ndarray:
    """The property bits of each code point: uint16 [n_chars]."""
    found = TABLE[points]  # [n_chars]
    if len(found) and found.min() < KNOWN:
        learn(points)
        found = TABLE[points]  # [n_chars]
    return found


def folded_lengths(points: np.ndarray) -> np.ndarray:
    """len(chr(code).casefold()) of each code point: uint8 [n_chars]."""
    char_flags(points)
    return FOLDED_LENGTH[points]  # [n_chars]
