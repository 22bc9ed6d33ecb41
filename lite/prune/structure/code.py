"""Source code as a Layout: kept whole (code="whole"), or pruned by whole lines (code="lines").

By lines, the lines go in this order: comment lines and docstring lines first, then blank lines,
then the others, each tier the lowest-scored first (ranks.py). A line goes whole, with its line
break, so no token, identifier or string is ever cut.
"""

from __future__ import annotations

import re

from .layout import Layout, Span, in_order, line_spans
from .ranks import Ranker

COMMENT = re.compile(r"^[ \t]*(#|//|/\*|\*|--|<!--|;;)")
DOCSTRING = re.compile(r'^[ \t]*[rRbBuU]?("""|\'\'\')')
TIER_COMMENT, TIER_BLANK, TIER_CODE = 0, 1, 2


def line_tiers(text: str, lines: list[Span]) -> list[int]:
    """Each line's tier: a comment or docstring line, a blank line, or code."""
    tiers, quote = [], None
    for start, end in lines:
        line = text[start:end]
        if quote is not None:  # inside a docstring
            tiers.append(TIER_COMMENT)
            quote = None if quote in line else quote
            continue
        opened = DOCSTRING.match(line)
        if opened:
            rest = line[opened.end() :]
            quote = None if opened.group(1) in rest else opened.group(1)
            tiers.append(TIER_COMMENT)
        elif COMMENT.match(line):
            tiers.append(TIER_COMMENT)
        else:
            tiers.append(TIER_BLANK if not line.strip() else TIER_CODE)
    return tiers


def line_groups(text: str, start: int, end: int, ranker: Ranker) -> tuple[list[Span], list[int], list[float]]:
    """The lines of text[start:end], their tiers and their scores."""
    lines = line_spans(text, start, end)
    return lines, line_tiers(text, lines), list(ranker(lines))


def code_layout(text: str, code: str, ranker: Ranker) -> Layout:
    """A whole source file: fixed (code="whole"), or every line droppable (code="lines")."""
    if code == "whole":
        return Layout(text)
    lines, tiers, scores = line_groups(text, 0, len(text), ranker)
    groups, tiers = in_order(lines, tiers, scores)
    return Layout(text, groups=groups, tiers=tiers)
