"""Structure-aware pruning: JSON stays JSON, Markdown keeps its headings and fences, code stays whole.

    result = prune_structured(host, text, options)   # None: prose, prune it as before

One entry, called by the engine (engine.run_plain) before a text is pruned as prose; `host` is the
engine's view for this package (engine.StructureHost: run, count_tokens, tokenize, guard, scores),
so nothing here imports the engine. It detects the text's
structure (detect.py; options.structure="auto", or the kind the caller names, "text" for none),
turns the document into a Layout (layout.py: fixed text, prose spans, atoms, droppable groups;
json_doc.py, markdown.py, code.py) and meets the budget on the output itself (search.py). The
result is a PruneResult cut from the original string like any other: rate=1.0 gives the input
back, and a budget in a target's tokens composes (budget.py searches over whole prunes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ...errors import LiteError
from ..budget import shared_budgets
from ..options import AUTO, PruneOptions
from ..results import Segment, join_results
from .code import code_layout
from .detect import detect
from .json_doc import json_layout
from .markdown import markdown_layout
from .ranks import span_ranker
from .search import prune_layout

__all__ = ["detect", "prune_structured"]


def prune_structured(pruner: Any, text: str | Sequence[Any], options: PruneOptions, separator: str = "") -> Any:
    """The PruneResult of a structured text (or of segments, when one of them is structured); None for prose."""
    if options.structure == "text":
        return None
    if isinstance(text, str):
        return prune_document(pruner, text, options)
    return prune_list(pruner, list(text), options, separator)


def refuse_auto(options: PruneOptions, kind: str) -> None:
    """rate auto ranks prose sentences for a question: a structured text is a one-line LiteError."""
    if options.rate == AUTO:
        raise LiteError(f"rate auto keeps the prose sentences relevant to a question, and this text is {kind}: give "
                        "a rate, or structure='text' (--structure text) to take it as prose")


def prune_document(pruner: Any, text: str, options: PruneOptions) -> Any:
    kind = detect(text, options.structure)
    if kind == "text":
        return None
    refuse_auto(options, kind)
    ranker = span_ranker(pruner, text, options)
    if kind in ("json", "jsonl"):
        try:
            layout = json_layout(text, ranker, lines=kind == "jsonl")
        except RecursionError:  # nested deeper than Python's stack: pruned as prose, as before
            return None
        return prune_layout(pruner, layout, options, longest_first=True)
    if kind == "markdown":
        return prune_layout(pruner, markdown_layout(text, options.code, ranker), options)
    return prune_layout(pruner, code_layout(text, options.code, ranker), options)


def prune_list(pruner: Any, items: list[Any], options: PruneOptions, separator: str) -> Any:
    """Segments of which one at least is structured: each structured one pruned on its own by its structure;
    the prose ones as before (with a question: ranked together for it, on their share of the budget)."""

    segments = [s if isinstance(s, Segment) else Segment(s, keep_last=options.keep_last) for s in items]
    structured = [i for i, s in enumerate(segments) if not s.keep and detect(s.text, options.structure) != "text"]
    if not structured:
        return None
    refuse_auto(options, detect(segments[structured[0]].text, options.structure))
    ranked = [] if options.question is None else [i for i in range(len(segments)) if i not in structured]
    parts = [[i] for i in range(len(segments)) if i not in ranked] + ([ranked] if ranked else [])
    sharing = [k for k, part in enumerate(parts) if any(not segments[i].keep and segments[i].rate is None
                                                        and segments[i].target_tokens is None for i in part)]
    shares: dict[int, int] = {}
    if options.target_tokens is not None:
        lengths = [sum(pruner.count_tokens(segments[i].text) for i in parts[k] if not segments[i].keep)
                   for k in sharing]
        shares = dict(zip(sharing, shared_budgets(lengths, options.target_tokens)))
    results: list[Any] = [None] * len(segments)
    for k, part in enumerate(parts):
        together, segment = part is ranked, segments[part[0]]
        rate, target = (None, None) if together else (segment.rate, segment.target_tokens)
        if not together and segment.keep:
            rate, target = 1.0, None
        if rate is None and target is None:
            rate, target = (None, shares[k]) if k in shares else (options.rate, None)
        if target == 0:
            rate, target = 1.0, None
        own = replace(options, rate=rate, target_tokens=target, keep_last=segment.keep_last,
                      question=options.question if together else None)
        result = pruner.run([segments[i] for i in part] if together else segment.text, own, separator)
        for i, piece in zip(part, result.segments if together else [result]):
            results[i] = piece
    return join_results(results, separator, skip_empty=options.question is not None)
