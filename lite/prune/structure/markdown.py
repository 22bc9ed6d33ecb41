"""Markdown as a Layout: headings, fences, table headers, list and quote markers fixed; prose pruned.

Line by line:
- an ATX heading, a Setext heading (its text and its underline), a thematic break: fixed, never dropped;
- a fenced code block: droppable whole (code="whole"), or its fence lines fixed and its lines
  droppable as in code.py (code="lines");
- a pipe table: its header row and rule row fixed, each body row droppable whole (pipes and all);
- an HTML block (to the next blank line), a line of images or badges only: droppable whole, early;
- a list item or a block quote: its marker fixed, its text prose;
- consecutive plain lines: one paragraph of prose.
Inside prose, a link's text is pruned as prose, its brackets and url kept with it (or the whole
link gone); images and badges, inline code, strong emphasis, bare URLs and ids are atoms: kept
whole or gone whole. HTML lines and lines of images only go first, before any prose is pruned;
table rows and code blocks go by their score, the lowest first (ranks.py), once prose is down to
its floor; under code="lines", comment lines first.
"""

from __future__ import annotations

import re

from .code import TIER_CODE, line_groups
from .detect import FENCE, HEADING, TABLE_RULE
from .layout import ATOM, Layout, Span, atoms_in, in_order, line_spans
from .ranks import Ranker

MARKER = re.compile(r"^[ \t]*(?:(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?[ \t]+|(?:>[ \t]?)+)", re.M)
SETEXT = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$", re.M)
BREAK = re.compile(r"^[ ]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.M)
IMAGE = re.compile(r"\[!\[[^\]\n]*\]\([^)\s]*\)\]\([^)\s]*\)|!\[[^\]\n]*\]\([^)\s]*\)")  # an image, a linked badge
INLINE_ATOM = re.compile(IMAGE.pattern + r"|`[^`\n]+`|\*\*[^*\n]+\*\*|<https?://[^>\s]+>")
LINK = re.compile(r"(?<![!\]])\[([^\[\]\n]+)\]\([^)\s]+\)")
TIER_EARLY = -1  # HTML lines and lines of images only: dropped before any prose is pruned


def fence_end(text: str, lines: list[Span], i: int) -> int:
    """The index of the line closing the fence opened at line i (the last line if none closes it)."""
    opened = FENCE.match(text, *lines[i]).group(1)
    for j in range(i + 1, len(lines)):
        found = FENCE.match(text, *lines[j])
        if found and found.group(1)[0] == opened[0] and len(found.group(1)) >= len(opened) and \
                not text[found.end() : lines[j][1]].strip():
            return j
    return len(lines) - 1


def is_fixed(text: str, lines: list[Span], i: int) -> bool:
    """A heading line, a Setext heading's text or underline, a thematic break."""
    line = text[lines[i][0] : lines[i][1]]
    underline = bool(i) and bool(SETEXT.match(line)) and bool(text[lines[i - 1][0] : lines[i - 1][1]].strip())
    if HEADING.match(line) or BREAK.match(line) or underline:
        return True
    return i + 1 < len(lines) and bool(line.strip()) and bool(SETEXT.match(text, *lines[i + 1]))


def is_table_start(text: str, lines: list[Span], i: int) -> bool:
    return i + 1 < len(lines) and "|" in text[lines[i][0] : lines[i][1]] and \
        bool(TABLE_RULE.match(text, *lines[i + 1])) and "|" in text[lines[i + 1][0] : lines[i + 1][1]]


class Builder:
    """Walks the lines once, collecting prose spans and droppable groups (with their tiers)."""

    def __init__(self, text: str, code: str, ranker: Ranker):
        self.text, self.code, self.ranker = text, code, ranker
        self.lines = line_spans(text)
        self.prose: list[Span] = []
        self.groups: list[Span] = []
        self.tiers: list[int] = []
        self.scores: list[float] = []
        self.paragraph: Span | None = None

    def close(self) -> None:
        if self.paragraph is not None:
            self.prose.append(self.paragraph)
            self.paragraph = None

    def droppable(self, spans: list[Span], tiers: list[int], scores: list[float] | None = None) -> None:
        self.groups += spans
        self.tiers += tiers
        self.scores += list(self.ranker(spans)) if scores is None else scores

    def kind(self, i: int) -> str:
        """What line i starts: fence, table, fixed (a heading), blank, html, images (only), item, or plain."""
        text, lines = self.text, self.lines
        line = text[lines[i][0] : lines[i][1]]
        checks = (("fence", lambda: FENCE.match(line)), ("table", lambda: is_table_start(text, lines, i)),
                  ("fixed", lambda: is_fixed(text, lines, i)), ("blank", lambda: not line.strip()),
                  ("html", lambda: line.lstrip().startswith("<")), ("images", lambda: not IMAGE.sub("", line).strip()),
                  ("item", lambda: MARKER.match(line)))
        return next((name for name, check in checks if check()), "plain")

    def until(self, i: int, keeps) -> int:
        """The first line from i on for which keeps(line) is false (or the end)."""
        while i < len(self.lines) and keeps(self.text[self.lines[i][0] : self.lines[i][1]]):
            i += 1
        return i

    def block(self, i: int) -> int:
        """Take the block starting at line i; the index of the next line."""
        text, lines, kind = self.text, self.lines, self.kind(i)
        start, end = lines[i]
        body_end = end - (text[end - 1 : end] == "\n")
        if kind == "plain":  # a paragraph goes on
            self.paragraph = (start if self.paragraph is None else self.paragraph[0], body_end)
            return i + 1
        self.close()
        if kind == "fence":
            j = fence_end(text, lines, i)
            if self.code == "whole" or j == i:
                self.droppable([(start, lines[j][1])], [TIER_CODE])
            else:
                self.droppable(*line_groups(text, lines[i][1], lines[j][0], self.ranker))
            return j + 1
        if kind == "table":
            j = self.until(i + 2, lambda line: "|" in line and line.strip())
            self.droppable(lines[i + 2 : j], [TIER_CODE] * (j - i - 2))
            return j
        if kind == "html":  # an HTML block runs to a blank line
            j = self.until(i + 1, lambda line: line.strip())
            self.droppable([(start, lines[j - 1][1])], [TIER_EARLY])
            return j
        if kind == "images":
            self.droppable([(start, end)], [TIER_EARLY])
        elif kind == "item":
            self.prose.append((MARKER.match(text, start, body_end).end(), body_end))
        return i + 1

    def layout(self) -> Layout:
        i = 0
        while i < len(self.lines):
            i = self.block(i)
        self.close()
        prose = [(a, b) for a, b in self.prose if b > a]
        links = [(m.start(), m.end(), m.start(1), m.end(1)) for a, b in prose for m in LINK.finditer(self.text, a, b)]
        atoms = atoms_in(self.text, prose, INLINE_ATOM) + atoms_in(self.text, prose, ATOM)
        groups, tiers = in_order(self.groups, self.tiers, self.scores)
        return Layout(self.text, prose=prose, atoms=atoms, links=links, early=tiers.count(TIER_EARLY),
                      groups=groups, tiers=tiers)


def markdown_layout(text: str, code: str, ranker: Ranker) -> Layout:
    return Builder(text, code, ranker).layout()
