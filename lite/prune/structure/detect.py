"""Which structure a text has: "json", "jsonl", "markdown", "code" or "text" (prose).

Cheap, and wrong only towards prose: a text is JSON only when it parses (a whole document that
is an object or an array, or two or more lines that each are one); Markdown only with strong
signals at line starts; code only when most of its lines look like code. Anything else is prose
and is pruned exactly as with structure="text".
"""

from __future__ import annotations

import json
import re

HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)  # an ATX heading at a line start
FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.M)
TABLE_RULE = re.compile(r"^[ ]{0,3}\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.M)
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.M)
INLINE = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*|`[^`\n]+`")  # a link, strong emphasis, inline code
CODE_KEYWORD = re.compile(
    r"^[ \t]*(def |class |import |from \S+ import |function |const |let |var |#include|package |public |private |"
    r"fn |func |return\b|if \(|for \(|while \(|@\w+)", re.M)
CODE_LINE = re.compile(r"([;{}(),:\[\]]|=>|\\)[ \t]*$|^[ \t]*(#|//|/\*|\*|\})|^[ \t]*[\w.\[\]]+[ \t]*[-+*/]?=[^=]|"
                       r"^[ \t]*(return|if|elif|else|for|while|raise|yield|pass|break|continue|try|except|finally|"
                       r"with|import|from|def|class|assert|del|async|await|@)\b")
DOCSTRING = re.compile(r'^[ \t]*[rRbBuU]?("""|\'\'\')')
MIN_CODE_LINES = 4
CODE_SHARE = 0.6  # the least share of non-blank lines that must look like code
KINDS = ("json", "jsonl", "markdown", "code", "text")


def parses(text: str) -> bool:
    """Is the text one JSON object or array?"""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def is_json_lines(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) >= 2 and all(parses(line) for line in lines)


def fence_pairs(text: str) -> int:
    """How many fenced blocks open and close (a fence closes with the same character, at least as long)."""
    pairs, opened = 0, None
    for match in FENCE.finditer(text):
        mark = match.group(1)
        if opened is None:
            opened = mark
        elif mark[0] == opened[0] and len(mark) >= len(opened):
            pairs, opened = pairs + 1, None
    return pairs


def has_table(text: str) -> bool:
    """A pipe table: a rule row (|---|---|) under a header row holding a pipe."""
    for match in TABLE_RULE.finditer(text):
        if "|" not in match.group(0):
            continue
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if "|" in before:
            return True
    return False


def is_markdown(text: str) -> bool:
    """Strong Markdown signals: a closed fence, a pipe table, two headings, or a heading / lists with inline markup."""
    if fence_pairs(text) or has_table(text):
        return True
    headings = len(HEADING.findall(text))
    items = len(LIST_ITEM.findall(text))
    inline = bool(INLINE.search(text))
    return headings >= 2 or (headings == 1 and (items >= 2 or inline)) or (items >= 3 and inline)


def outside_docstrings(text: str) -> list[str]:
    """The non-blank lines of a text that are not inside a triple-quoted block."""
    lines, quote = [], None
    for line in text.splitlines():
        if quote is not None:
            quote = None if quote in line else quote
            continue
        opened = DOCSTRING.match(line)
        if opened:
            quote = None if opened.group(1) in line[opened.end() :] else opened.group(1)
        elif line.strip():
            lines.append(line)
    return lines


def is_code(text: str) -> bool:
    """A whole source file: two keyword lines (def, class, import, ...), and most other lines (outside
    docstrings) end or start like code."""
    if len(CODE_KEYWORD.findall(text)) < 2:
        return False
    lines = outside_docstrings(text)
    if len(lines) < MIN_CODE_LINES:
        return False
    return sum(bool(CODE_LINE.search(line)) for line in lines) >= CODE_SHARE * len(lines)


def detect(text: str, structure: str = "auto") -> str:
    """The structure to prune `text` by: one of KINDS. structure: "auto", "text", or the kind the caller says.

    A kind the caller names is still checked: JSON that does not parse is pruned as prose.
    """
    if structure == "text" or not isinstance(text, str) or not text.strip():  # not a string: prune's own error
        return "text"
    if structure in ("auto", "json"):
        if parses(text):
            return "json"
        if is_json_lines(text):
            return "jsonl"
        if structure == "json":
            return "text"
    if structure == "markdown":
        return "markdown"
    if structure == "code":
        return "code"
    if not fence_pairs(text) and is_code(text):  # before Markdown: a "# comment" line looks like a heading
        return "code"
    return "markdown" if is_markdown(text) else "text"
