"""Passages pruned for a question: whole sentences ranked by relevance, kept in their original order.

    pruner.prune(passage, rate=0.5, question=q)             # one passage
    pruner.prune([p1, p2, p3], rate=0.5, question=q)         # several: one budget over all of them

The budget (round(rate * n) tokens over all the passages, or target_tokens) is spent on whole
sentences in order of relevance to the question (relevance.py: rare words shared with the
question, passages about the question first); the first sentence that does not fit whole is
cut to fill the budget with its first tokens. Forced keeps are kept first, as in any prune.
Kept sentences stay in their original order and passages in theirs; the output is cut from
the original strings along the same whole-character units as any prune, so the budget is met
exactly as prune meets it (exact when units are single tokens, else short by less than a unit).

No model is run: on the dev split, neither layer-0 attention from the question's tokens nor a
token-level stage inside the kept sentences kept more answers than this (docs/pruning.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .relevance import sentence_priority
from .sentences import split_spans


def anchors(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """Where each unit's text begins after its leading whitespace (byte-level BPE glues a space to the
    next word: " Its" belongs to the sentence of "Its"): int64 [n_units]."""
    ends = np.append(unit_starts[1:], len(text))
    found = np.array(unit_starts, dtype=np.int64)  # [n_units]
    for u, (start, end) in enumerate(zip(unit_starts.tolist(), ends.tolist())):
        stripped = len(text[start:end]) - len(text[start:end].lstrip())
        if stripped < end - start:
            found[u] = start + stripped
    return found


def sentence_of_units(text: str, unit_starts: np.ndarray, sentence_spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Index of the sentence each unit belongs to (the one its first non-space character is in): int64 [n_units]."""
    starts = np.array([start for start, _ in sentence_spans], dtype=np.int64)  # [n_sentences]
    return np.maximum(np.searchsorted(starts, anchors(text, unit_starts), side="right") - 1, 0)  # [n_units]


def unit_order_scores(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str) -> list[np.ndarray]:
    """A score per unit of each passage such that ranking units by it takes whole sentences by relevance.

    Units rank by their sentence's relevance (ties: the earlier sentence), then by position in it,
    so a budget filled in this order takes the best sentences whole and cuts the next one short.
    Returns one float64 [n_units] array per passage (higher first).
    """
    spans = [split_spans(text) for text in texts]
    priority = sentence_priority([[text[a:b] for a, b in passage] for text, passage in zip(texts, spans)], question)
    sentence_rank = np.empty(len(priority), dtype=np.int64)  # [n_sentences], 0 = most relevant
    sentence_rank[np.lexsort((np.arange(len(priority)), -priority))] = np.arange(len(priority))
    offsets = np.cumsum([0] + [len(passage) for passage in spans])
    unit_rank = np.concatenate(
        [sentence_rank[offset + sentence_of_units(text, starts, passage)] if passage else np.zeros(len(starts), np.int64)
         for offset, text, starts, passage in zip(offsets, texts, unit_starts, spans)]
    )  # [all units]
    order = np.lexsort((np.arange(len(unit_rank)), unit_rank))  # sentence rank, then position
    scores = np.empty(len(unit_rank))  # [all units]
    scores[order] = -np.arange(len(unit_rank), dtype=np.float64)
    bounds = np.cumsum([0] + [len(starts) for starts in unit_starts])
    return [scores[a:b] for a, b in zip(bounds, bounds[1:])]
