"""A document cut for pruning: fixed text, prose spans the pruner prunes, atoms, and droppable groups.

Every structure (JSON, Markdown, code) is turned into one Layout over the original string:
- prose spans: pruned by the ordinary prune (clauses, words), each on its own with its own budget;
- everything outside them is fixed: kept, unless a droppable group holding it is dropped;
- atoms (an escape, a URL, an image, inline code): kept whole when any of their characters is kept;
- links ([text](url)): the text pruned as prose; the brackets and the url kept when any of the text
  is, the whole link gone when none is;
- droppables: whole parts (a JSON member, a code block, a table row, a line of code), in the order
  they are to be dropped, the first first; `drop(mask, gone)` removes those whose indices are given.
The output is the original string's kept characters, in order: rate=1.0 gives the input back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

Span = tuple[int, int]
FLOOR = 0.2  # by default prose keeps this share of each span's tokens before droppables (but early ones) go
# strings kept whole or dropped whole inside prose: URLs, e-mails, hex hashes and ids, dates, times, versions
ATOM = re.compile(
    r"https?://[^\s)\]\"'<>]+|www\.[^\s)\]\"'<>]+|[\w.+-]+@[\w-]+\.[\w.-]+|\b[0-9a-fA-F]{7,}\b|"
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b|"
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{1,2}:\d{2}\b|"
    r"\bv?\d+(?:\.\d+){1,3}\b|\b\w+(?:[_/]\w+)+\b|\b[a-z]+[A-Z]\w*\b")


@dataclass
class Layout:
    """A document as fixed text, prose spans, atoms and droppable groups (see the module docstring)."""

    text: str
    prose: list[Span] = field(default_factory=list)
    atoms: list[Span] = field(default_factory=list)
    groups: list[Span] = field(default_factory=list)  # droppable spans, first dropped first
    dropper: Callable[[np.ndarray, Sequence[int]], None] | None = None  # removes droppables (default: groups)
    drop_spans: list[Span] | None = None  # the spans of the dropper's droppables, in its order (default: groups)
    tiers: list[int] | None = None  # each droppable's tier, ascending: a tier goes after the ones before it
    valid: Callable[[str], bool] | None = None  # a check the output must pass (else the input is returned)
    early: int = 0  # the first `early` droppables go before any prose is pruned (layout whitespace, HTML, badges)
    floor: float = FLOOR  # prose keeps this share of each span's tokens before other droppables go
    links: list[tuple[int, int, int, int]] = field(default_factory=list)  # (start, end, text start, text end)

    @property
    def droppables(self) -> list[Span]:
        return self.groups if self.drop_spans is None else self.drop_spans

    def drop(self, mask: np.ndarray, gone: Sequence[int]) -> None:
        """Unkeep (in place, mask: bool [len(text)]) the characters of these droppables (indices in order)."""
        if self.dropper is not None:
            self.dropper(mask, gone)
            return
        for k in gone:
            start, end = self.groups[k]
            mask[start:end] = False


def apply_atoms(layout: Layout, mask: np.ndarray) -> None:
    """Atoms kept whole when any of their characters is kept; links' syntax with their text (mask: in place)."""
    for start, end in layout.atoms:
        if mask[start:end].any():
            mask[start:end] = True
    for start, end, text_start, text_end in layout.links:
        kept = mask[text_start:text_end].any()
        mask[start:text_start] = kept
        mask[text_end:end] = kept


def atoms_in(text: str, spans: list[Span], pattern: re.Pattern = ATOM) -> list[Span]:
    """The pattern's matches inside the given spans (each cut to its span)."""
    found = []
    for start, end in spans:
        found += [(m.start(), m.end()) for m in pattern.finditer(text, start, end)]
    return found


def in_order(groups: list[Span], tiers: list[int], scores: np.ndarray) -> tuple[list[Span], list[int]]:
    """Groups in the order they go (lower tier first, then the lower score, then the later), and their tiers."""
    order = sorted(range(len(groups)), key=lambda i: (tiers[i], float(scores[i]), -i))
    return [groups[i] for i in order], [tiers[i] for i in order]


def line_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """(start, end) of each line in text[start:end], each with its line break."""
    end = len(text) if end is None else end
    spans, at = [], start
    while at < end:
        stop = text.find("\n", at, end)
        stop = end if stop < 0 else stop + 1
        spans.append((at, stop))
        at = stop
    return spans
