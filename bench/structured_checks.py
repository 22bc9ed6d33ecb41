"""Is a pruned structured text still what it was? JSON, Markdown, code and chat checks, and fact retention.

Used by bench/structured.py and tests/test_structure*.py. Each check takes the input and the
output texts and answers True or False; none looks at how the output was made.
"""

from __future__ import annotations

import json
import re

FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.M)
HEADING = re.compile(r"^#{1,6}[ \t]+\S.*$", re.M)
URL = re.compile(r"https?://[^\s)\]\"'<>]+")


def key_paths(doc, path: str = "$") -> set[str]:
    """Every object key's path, array indices written [*]."""
    if isinstance(doc, dict):
        return {p for k, v in doc.items() for p in {f"{path}.{k}"} | key_paths(v, f"{path}.{k}")}
    if isinstance(doc, list):
        return {p for v in doc for p in key_paths(v, f"{path}[*]")}
    return set()


def is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(c in chars for c in short)


def sub_document(src, out) -> bool:
    """out is src with members or elements left out and strings shortened: same types, same scalars."""
    if isinstance(src, dict):
        if not isinstance(out, dict) or not is_subsequence(list(out), list(src)):
            return False
        return all(sub_document(src[k], out[k]) for k in out)
    if isinstance(src, list):
        if not isinstance(out, list):
            return False
        at = 0
        for element in out:  # each output element matches a later input element
            while at < len(src) and not sub_document(src[at], element):
                at += 1
            if at == len(src):
                return False
            at += 1
        return True
    if isinstance(src, str):
        return isinstance(out, str) and is_subsequence(out, src)
    return type(out) is type(src) and (out == src or (out != out and src != src))


def documents(text: str, lines: bool) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()] if lines else [json.loads(text)]


def json_valid(src: str, out: str, lines: bool = False, same_keys: bool = True) -> bool:
    """out parses, is a sub-document of src, and (same_keys) has the same key paths."""
    try:
        before, after = documents(src, lines), documents(out, lines)
    except ValueError:
        return False
    if lines:
        before, after = [before], [after]
    return all(sub_document(a, b) and (not same_keys or key_paths(a) == key_paths(b)) for a, b in zip(before, after))


def fenced_blocks(text: str) -> list[str]:
    """The fenced blocks of a Markdown text, fences included; a text whose fences do not close gives None."""
    blocks, opened = [], None
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if not match:
            continue
        if opened is None:
            opened = (i, match.group(1))
        elif match.group(1)[0] == opened[1][0] and len(match.group(1)) >= len(opened[1]) and \
                not line[match.end():].strip():
            blocks.append("".join(lines[opened[0] : i + 1]))
            opened = None
    return None if opened is not None else blocks


def headings(text: str) -> list[str]:
    """The ATX headings outside fenced blocks (a "# comment" in a code block is not one)."""
    blocks = fenced_blocks(text) or []
    for block in blocks:
        text = text.replace(block, "")
    return HEADING.findall(text)


def markdown_valid(src: str, out: str, code_whole: bool = True) -> bool:
    """Every heading kept, in order; fences balanced, each block whole (code_whole); table rows and URLs whole."""
    if headings(out) != headings(src):
        return False
    src_blocks, out_blocks = fenced_blocks(src), fenced_blocks(out)
    if out_blocks is None or (code_whole and src_blocks is not None and not all(b in src_blocks for b in out_blocks)):
        return False
    src_lines = set(src.splitlines())
    rows = [line for line in out.splitlines() if line.lstrip().startswith("|")]
    if not all(row in src_lines for row in rows):
        return False
    urls = set(URL.findall(src))
    return all(url in urls for url in URL.findall(out))


def code_valid(src: str, out: str) -> bool:
    """Whole lines of src, in order."""
    return is_subsequence_lines(out.splitlines(keepends=True), src.splitlines(keepends=True))


def is_subsequence_lines(short: list[str], long: list[str]) -> bool:
    items = iter(long)
    return all(line in items for line in short)


def kind_of(name: str) -> str:
    return "jsonl" if name.endswith(".jsonl") else name.split("_", 1)[0]


def valid(name: str, src: str, out: str, same_keys: bool = False, code_whole: bool = True) -> bool:
    """The check for a corpus document by its file name (json_, jsonl_, md_, code_); same_keys: JSON's key
    paths too; code_whole: Markdown's fenced blocks whole (else whole lines of them, as code="lines" prunes)."""
    kind = kind_of(name)
    if kind in ("json", "jsonl"):
        return json_valid(src, out, lines=kind == "jsonl", same_keys=same_keys)
    if kind == "md":
        return markdown_valid(src, out, code_whole) and (code_whole or all(
            code_valid(a, b) for a, b in zip(fenced_blocks(src) or [], fenced_blocks(out) or [])))
    return code_valid(src, out)


def messages_valid(before: list[dict], after: list[dict]) -> bool:
    """tool_calls unchanged (their arguments parse); a tool content that was JSON (or Markdown) stays valid."""
    for old, new in zip(before, after):
        if old.get("tool_calls") != new.get("tool_calls"):
            return False
        for call in new.get("tool_calls") or []:
            try:
                json.loads(call["function"]["arguments"])
            except ValueError:
                return False
        content = old.get("content")
        if isinstance(content, str) and content.strip().startswith(("{", "[")):
            if not json_valid(content, new.get("content") or "", same_keys=False):
                return False
        elif isinstance(content, str) and content.startswith("#") and not markdown_valid(content, new["content"]):
            return False
    return len(before) == len(after)


def messages_text(messages: list[dict]) -> str:
    """All the text of the messages: contents and tool-call arguments."""
    parts = [m.get("content") or "" for m in messages]
    parts += [c["function"]["arguments"] for m in messages for c in m.get("tool_calls") or []]
    return "\n".join(p for p in parts if isinstance(p, str))


def retention(out: str, facts: list[str]) -> float:
    """The share of the facts found verbatim in the output."""
    return sum(fact in out for fact in facts) / len(facts)
