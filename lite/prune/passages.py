"""Passages pruned for a question: whole sentences ranked by relevance, kept in their original order.

    pruner.prune(passage, rate=0.5, question=q)             # one passage
    pruner.prune([p1, p2, p3], rate=0.5, question=q)         # several: one budget over all of them

The budget (round(rate * n) tokens over all the passages, or target_tokens) is spent on whole
sentences in order of relevance to the question (relevance.py: rare words shared with the
question, passages about the question first); the first sentence that does not fit whole is
cut to fill the budget with its most relevant clauses (in their order). Forced keeps are kept first, as in any prune.
Kept sentences stay in their original order and passages in theirs; the output is cut from
the original strings along the same whole-character units as any prune, so the budget is met
exactly as prune meets it (exact when units are single tokens, else short by less than a unit).

No model is run; why (what layer-0 attention from the question's tokens and a token-level stage
inside the kept sentences did on the dev split): docs/pruning.md ("Passages and a question").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .relevance import sentence_priority, with_neighbours
from .select import order_by, ranks_of
from .sentences import clause_spans, split_spans, unit_anchors


def clause_ranks(text: str, anchor: np.ndarray, sentence: np.ndarray, spans: Sequence[tuple[int, int]],
                 question: str) -> np.ndarray:
    """Rank of each unit's clause among the clauses of its sentence, by relevance: int64 [n_units]."""
    found = np.zeros(len(anchor), dtype=np.int64)  # [n_units]
    for k, (start, end) in enumerate(spans):
        clauses = clause_spans(text, start, end)
        if len(clauses) < 2:
            continue
        rank = ranks_of(order_by(with_neighbours([text[a:b] for a, b in clauses], question)))  # [n_clauses]
        starts = np.array([a for a, _ in clauses], dtype=np.int64)
        inside = sentence == k
        found[inside] = rank[np.maximum(np.searchsorted(starts, anchor[inside], side="right") - 1, 0)]
    return found


def passage_order(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str) -> np.ndarray:
    """The units of all the passages (numbered one passage after the other) in the order a budget takes
    them: whole sentences by relevance: int64 [all units].

    Units rank by their sentence's relevance (ties: the earlier sentence), then by their clause's
    relevance within the sentence, then by position: a budget filled in this order takes the best
    sentences whole and, of the next one, its most relevant clauses.
    """
    return order_of(*unit_ranks(texts, unit_starts, question, sentence_priority)[:2])


def order_of(by_sentence: np.ndarray, by_clause: np.ndarray) -> np.ndarray:
    """Units by their sentence's rank, then their clause's rank in it, then position: int64 [all units]."""
    return np.lexsort((np.arange(len(by_sentence)), by_clause, by_sentence))


def unit_ranks(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str,
               prioritize: Callable[[list[list[str]], str], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's sentence rank (0: the sentence `prioritize` puts first) and its clause's rank within the
    sentence, both int64 [all units], and the sentences' priorities, float64 [all sentences]."""
    spans = [split_spans(text) for text in texts]
    priority = prioritize([[t[a:b] for a, b in s] for t, s in zip(texts, spans)], question)  # [all sentences]
    sentence_rank = ranks_of(order_by(priority))
    offsets = np.cumsum([0] + [len(passage) for passage in spans])
    by_sentence, by_clause = [], []
    for offset, text, starts, passage in zip(offsets, texts, unit_starts, spans):
        anchor = unit_anchors(text, starts)  # [n_units]
        found = np.searchsorted([a for a, _ in passage], anchor, side="right") - 1 if passage else anchor * 0
        sentence = np.maximum(found, 0)  # [n_units]
        by_sentence.append(sentence_rank[offset + sentence] if passage else sentence)
        by_clause.append(clause_ranks(text, anchor, sentence, passage, question))
    return np.concatenate(by_sentence), np.concatenate(by_clause), priority
