"""JSON (one document, or JSON lines) as a Layout: only string values are pruned, only whole members go.

The raw source is kept as it is written (its indentation, its separators, its escapes): keys,
brackets, colons, commas, numbers, booleans and nulls are fixed. A string value of at least
MIN_WORDS words that is not one atomic token (no spaces: an id, a URL, a hash, a date, an enum)
is prose, pruned in its raw escaped form with every escape (\\n, \\", \\uXXXX, a surrogate pair)
an atom, and URLs, ids, dates inside it atoms too. Strings get the budget longest first (see
search.py). When the budget needs it, the layout's line breaks and indentation go first (the
document becomes one line), then strings shrink, to nothing if need be; only then whole members
go: first array elements (or JSON lines), never the last one of an array, the lowest-scored
first (ranks.py); then object members and those last elements. A dropped member takes one
separator with it, so what stays still parses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring
from json.scanner import NUMBER_RE

import numpy as np

from .layout import ATOM, Layout, Span, atoms_in
from .ranks import Ranker

MIN_WORDS = 4  # a shorter string value is kept whole (or goes with its member)
WS = re.compile(r"[ \t\n\r]*")
LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
LAYOUT_BREAK = re.compile(r"[ \t\r]*\n[ \t\r\n]*")  # a JSON string holds no raw line break: these are layout
ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\.")


@dataclass
class Node:
    """A JSON value's span in the source; containers hold their members' spans and values."""

    start: int
    end: int
    kind: str  # "object", "array", "lines" (JSON lines), "string", "scalar"
    members: list[Span] = field(default_factory=list)  # an object member runs from its key to its value's end
    values: list[Node] = field(default_factory=list)


def skip(text: str, at: int) -> int:
    return WS.match(text, at).end()


def scan(text: str, at: int) -> Node:
    """The value starting at (or after whitespace from) `at`; the text is known to parse."""
    at = skip(text, at)
    char = text[at]
    if char == '"':
        return Node(at, scanstring(text, at + 1, True)[1], "string")
    if char in "{[":
        return scan_container(text, at)
    for literal in LITERALS:
        if text.startswith(literal, at):
            return Node(at, at + len(literal), "scalar")
    return Node(at, NUMBER_RE.match(text, at).end(), "scalar")


def scan_container(text: str, at: int) -> Node:
    is_object = text[at] == "{"
    node = Node(at, at, "object" if is_object else "array")
    close = "}" if is_object else "]"
    at = skip(text, at + 1)
    while text[at] != close:
        first = at
        if is_object:
            at = skip(text, scan(text, at).end) + 1  # past the key and its colon
        value = scan(text, at)
        node.members.append((first, value.end))
        node.values.append(value)
        at = skip(text, value.end)
        at = skip(text, at + 1) if text[at] == "," else at
    node.end = at + 1
    return node


def scan_lines(text: str) -> Node:
    """JSON lines: a container without brackets whose members are the lines' documents."""
    node = Node(0, len(text), "lines")
    at = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            value = scan(text, at)
            node.members.append((value.start, value.end))
            node.values.append(value)
        at += len(line)
    return node


def walk(node: Node):
    yield node
    for value in node.values:
        yield from walk(value)


def is_prose(text: str, node: Node) -> bool:
    value = json.loads(text[node.start : node.end])
    return len(value.split()) >= MIN_WORDS and not ATOM.fullmatch(value.strip())


def removed(node: Node, gone: set[int]) -> list[Span]:
    """What leaves the source when these members of a container go: each with one separator."""
    kept = [i for i in range(len(node.members)) if i not in gone]
    first, last = node.members[0][0], node.members[-1][1]
    if not kept:
        return [(first, last)]
    spans = [(first, node.members[kept[0]][0]), (node.members[kept[-1]][1], last)]
    for a, b in zip(kept, kept[1:]):  # between two kept members: the separator after the first stays
        spans.append((node.members[a + 1][0] if b > a + 1 else node.members[b][0], node.members[b][0]))
    return [(a, b) for a, b in spans if b > a]


def json_layout(text: str, ranker: Ranker, lines: bool = False) -> Layout:
    """The Layout of a JSON document (or of JSON lines)."""
    root = scan_lines(text) if lines else scan(text, 0)
    prose = [(n.start + 1, n.end - 1) for n in walk(root) if n.kind == "string" and is_prose(text, n)]
    containers = [n for n in walk(root) if n.kind in ("object", "array", "lines") and n.members]
    droppable = [(c, i) for c in containers for i in range(len(c.members))]
    scores = ranker([c.members[i] for c, i in droppable])  # [n_droppable]
    best: dict[int, tuple[float, int]] = {}  # each array's best element: never dropped before the members
    for (c, i), score in zip(droppable, scores):
        best[id(c)] = max(best.get(id(c), (-1.0, -1)), (float(score), -i))
    tier = [0 if c.kind != "object" and best[id(c)][1] != -i else 1 for c, i in droppable]
    order = sorted(range(len(droppable)), key=lambda k: (tier[k], float(scores[k]), -k))
    ordered = [droppable[k] for k in order]

    breaks = [] if lines else [(m.start(), m.end()) for m in LAYOUT_BREAK.finditer(text)]

    def dropper(mask: np.ndarray, dropped: Sequence[int]) -> None:
        gone: dict[int, set[int]] = {}
        for k in dropped:
            if k == 0:  # the layout's line breaks and indentation
                for start, end in breaks:
                    mask[start:end] = False
                continue
            container, i = ordered[k - 1]
            gone.setdefault(id(container), set()).add(i)
        for container in containers:
            for start, end in removed(container, gone.get(id(container), set())) if id(container) in gone else ():
                mask[start:end] = False

    atoms = atoms_in(text, prose, ESCAPE) + atoms_in(text, prose)
    return Layout(text, prose=prose, atoms=atoms, dropper=dropper, early=1, floor=0.0,
                  drop_spans=[(0, 0)] + [c.members[i] for c, i in ordered],
                  tiers=[-1] + sorted(tier), valid=lambda out: parses_as(out, lines))


def parses_as(text: str, lines: bool) -> bool:
    try:
        for line in text.splitlines() if lines else [text]:
            if line.strip() or not lines:
                json.loads(line)
    except ValueError:
        return False
    return True
