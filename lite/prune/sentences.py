"""Sentences of a text, without dependencies: spans that tile the text (joined, they give it back).

    split_spans("Hi there. How are you?")  ->  [(0, 10), (10, 22)]   # "Hi there. ", "How are you?"

A sentence holds its terminator, any closing quotes or brackets after it, and the whitespace
after those; the next sentence starts at the next non-space character. Rules, by script:

- Latin, Cyrillic, Greek, Arabic, Devanagari: `.` `!` `?` `…` end a sentence when whitespace
  follows. A `.` does not end one after an initial ("J. K.", "जॉन सी."), a one- or two-digit
  ordinal ("am 8. Februar"), a Roman numeral ("XIV. Louis"), a dotted abbreviation ("U.S.",
  "z.B.") or a listed one ("Dr.", "Mio.", "т.е."), nor when the next word starts in lowercase.
  A Greek question mark (`;` or U+037E after a Greek letter) ends one.
- Chinese and Japanese `。！？`, Hindi `।` `॥`, Arabic `؟` and Urdu `۔` end a sentence whatever follows.
- A line break always ends one.
- Thai writes no sentence marks: a space next to a Thai letter ends a piece, and pieces shorter
  than THAI_MIN_CHARS characters are joined to the next (a single space also separates names and
  phrases, so each space alone would cut too finely).

Joining the pieces gives the text back exactly; no character is lost or added. `clause_spans`
cuts one sentence further, after commas, semicolons, colons and spaced dashes.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

import numpy as np

from .chars import SPACE, char_flags, code_points

SPACED_END = ".!?…"  # end a sentence only before whitespace
BARE_END = "。！？｡।॥؟۔"  # end a sentence whatever follows
GREEK_QUESTION = ";\u037e"  # the Greek question mark, after a Greek letter
CLOSERS = "\"'”’»)]}」』）〉》›"
ABBREVIATION_WORDS = (  # casefolded, without their dots
    "mr mrs ms dr prof st jr sr vs etc cf no mt gen col lt sgt capt inc ltd co corp fig approx ca "  # English
    "jan feb mar apr jun jul aug sep sept oct nov dec "  # months
    "nr bzw usw sog vgl evtl ggf hr fr str mio mrd "  # German
    "sra srta ud uds pág núm vol ed eds pp "  # Spanish
    "т г гг др им ул проф акад стр см рис млн млрд тыс вв "  # Russian
    "δηλ σελ βλ vb"  # Greek, Turkish
)
ABBREVIATIONS = frozenset(ABBREVIATION_WORDS.split())
ROMAN = re.compile(r"[IVXLC]{1,6}")
THAI = re.compile(r"[\u0e00-\u0e7f]")
CLAUSE_END = re.compile(r"[,;:،؛]\s+|[，；：、]\s*|\s[–—-]\s")  # a comma, semicolon, colon or dash, and spaces
THAI_MIN_CHARS = 100
MAYBE_END = re.compile("[" + re.escape(SPACED_END + BARE_END + GREEK_QUESTION) + "\n]")


def is_greek(char: str) -> bool:
    return "\u0370" <= char <= "\u03ff" or "\u1f00" <= char <= "\u1fff"


def is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def word_before(text: str, end: int) -> str:
    """The word (letters, digits, marks and inner dots) that ends at `end`, exclusive."""
    start = end
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "." or is_mark(text[start - 1])):
        start -= 1
    return text[start:end]


def is_abbreviation(text: str, dot: int) -> bool:
    """Is the '.' at `dot` part of an initial, ordinal, Roman numeral or abbreviation, not a sentence end?"""
    word = word_before(text, dot)
    letters = "".join(char for char in word if not is_mark(char))
    if not letters:
        return False
    if len(letters) == 1 and letters.isalpha():  # an initial
        return True
    if word.isdigit() and len(word) <= 2:  # an ordinal
        return True
    if ROMAN.fullmatch(word):
        return True
    if word.casefold().strip(".") in ABBREVIATIONS:
        return True
    parts = [part for part in word.split(".") if part]
    return len(parts) > 1 and all(len(part) <= 2 for part in parts)  # U.S., z.B., т.е.


def next_word_is_lower(text: str, at: int) -> bool:
    while at < len(text) and text[at].isspace():
        at += 1
    return at < len(text) and text[at].islower()


def sentence_starts(text: str) -> list[int]:
    """Where each sentence after the first starts, ascending, all inside (0, len(text))."""
    starts: list[int] = []
    n, i = len(text), 0
    while i < n:
        found = MAYBE_END.search(text, i)  # the characters below are the only ones that can end a sentence
        if found is None:
            break
        i = found.start()
        char = text[i]
        bare = char in BARE_END or char == "\n" or (char in GREEK_QUESTION and i > 0 and is_greek(text[i - 1]))
        if not bare and char not in SPACED_END:
            i += 1
            continue
        end = i + 1
        while end < n and (text[end] in SPACED_END or text[end] in BARE_END):  # "?!", "..."
            end += 1
        while end < n and text[end] in CLOSERS:
            end += 1
        spaced = end < n and text[end].isspace()
        while end < n and text[end].isspace():
            end += 1
        if end >= n:
            break
        if bare or (spaced and not (char == "." and (is_abbreviation(text, i) or next_word_is_lower(text, end)))):
            starts.append(end)
        i = end
    return starts


def thai_starts(text: str, start: int, end: int, min_chars: int) -> list[int]:
    """Cuts inside [start, end) after whitespace next to a Thai letter, pieces at least min_chars long."""
    starts: list[int] = []
    last = start
    for match in re.finditer(r"\s+", text[start:end]):
        before, after = start + match.start(), start + match.end()
        if before == start or after >= end:
            continue
        if not (THAI.match(text[before - 1]) or THAI.match(text[after])):
            continue
        if after - last >= min_chars and end - after >= min_chars // 2:
            starts.append(after)
            last = after
    return starts


def split_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; together they tile the text (an empty text has none)."""
    if not text:
        return []
    cuts = [0, *sentence_starts(text), len(text)]
    points = [0]
    for start, end in zip(cuts, cuts[1:]):
        if THAI.search(text, start, end):
            points += thai_starts(text, start, end, THAI_MIN_CHARS)
        points.append(end)
    return list(zip(points, points[1:]))


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`; "".join(split_sentences(text)) == text."""
    return [text[start:end] for start, end in split_spans(text)]


def clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of the sentence text[start:end], cut after a comma, semicolon, colon or a spaced dash
    (Latin, Arabic and CJK forms) with the spaces after it; they tile [start, end). Thai has none."""
    points = [start]
    for match in CLAUSE_END.finditer(text, start, end):
        if match.end() < end:
            points.append(match.end())
    points.append(end)
    return list(zip(points, points[1:]))


def sentence_clauses(text: str, spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """clause_spans of each sentence (spans: split_spans(text)), from one scan of the text; a match that would
    run across a sentence's start sends that text back to one scan per sentence, which cannot see it."""
    cuts = [(m.start(), m.end()) for m in CLAUSE_END.finditer(text)]
    starts = [a for a, _ in spans]
    sentence_of = [bisect_right(starts, a) - 1 for a, _ in cuts]  # the sentence each match starts in
    if any(b > spans[k][1] for (_, b), k in zip(cuts, sentence_of)):
        return [clause_spans(text, a, b) for a, b in spans]
    points: list[list[int]] = [[a] for a in starts]
    for (_, b), k in zip(cuts, sentence_of):
        if b < spans[k][1]:
            points[k].append(b)
    return [list(zip(p, [*p[1:], end])) for p, (_, end) in zip(points, spans)]


def unit_anchors(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """Where each unit's text begins after its leading whitespace (byte-level BPE glues a space to the
    next word: " Its" belongs to the sentence of "Its"); a unit of whitespace alone, where it starts:
    int64 [n_units]."""
    starts = np.asarray(unit_starts, dtype=np.int64)  # [n_units]
    ends = np.append(starts[1:], len(text))  # [n_units]
    filled = np.flatnonzero((char_flags(code_points(text)) & SPACE) == 0)  # [n_filled] characters not whitespace
    first = np.searchsorted(filled, starts)  # [n_units] the first one at or after each unit's start
    at = np.append(filled, len(text))[first]  # [n_units]
    return np.where(at < ends, at, starts)  # [n_units]
