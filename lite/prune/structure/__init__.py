"""Structure-aware pruning: JSON stays JSON, Markdown keeps its headings and fences, code stays whole.

    result = prune_structured(pruner, text, options)   # None: prose, prune it as before

One entry, called by Pruner.run before a text is pruned as prose. It detects the text's
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

from ..options import PruneOptions
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


def prune_document(pruner: Any, text: str, options: PruneOptions) -> Any:
    kind = detect(text, options.structure)
    if kind == "text":
        return None
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
    """Segments of which one at least is structured: each pruned on its own (prose ones as before)."""
    from ..pruner import Segment, join_results  # pruner.py imports this package
    from ..select import split_budget

    segments = [s if isinstance(s, Segment) else Segment(s, keep_last=options.keep_last) for s in items]
    if all(s.keep or detect(s.text, options.structure) == "text" for s in segments):
        return None
    sharing = [i for i, s in enumerate(segments) if not s.keep and s.rate is None and s.target_tokens is None]
    shares: dict[int, int] = {}
    if options.target_tokens is not None:
        shares = dict(zip(sharing, split_budget(options.target_tokens, [pruner.count_tokens(segments[i].text)
                                                                        for i in sharing])))
    results = []
    for i, segment in enumerate(segments):
        rate, target = (1.0, None) if segment.keep else (segment.rate, segment.target_tokens)
        if rate is None and target is None:
            rate, target = (None, shares[i]) if i in shares else (options.rate, None)
        if target == 0:
            rate, target = 1.0, None
        results.append(pruner.run(segment.text, replace(options, rate=rate, target_tokens=target,
                                                        keep_last=segment.keep_last)))
    return join_results(results, separator)
