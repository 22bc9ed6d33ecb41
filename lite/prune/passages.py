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

from collections.abc import Sequence

import numpy as np

from .relevance import neighboured, passage_scores, ranks_in_groups, sentences_and_clauses, with_passages
from .select import order_by, ranks_of
from .sentences import sentence_clauses, split_spans, unit_anchors


def ranks(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], question: str
          ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Each sentence's rank among all the sentences by sentence_priority (int64 [n_sentences]), each
    passage's clause starts (int64 [n_clauses] each), and each clause's rank among the clauses of its
    sentence by relevance (int64 [all clauses])."""
    clauses = [sentence_clauses(text, passage) for text, passage in zip(texts, spans)]
    counts = np.array([len(sentence) for passage in clauses for sentence in passage], dtype=np.int64)
    pieces = [text[a:b] for text, passage in zip(texts, clauses) for sentence in passage for a, b in sentence]
    sentence_of = np.repeat(np.arange(len(counts)), counts)  # [n_clauses]
    sentence_own, clause_own = sentences_and_clauses(pieces, sentence_of, len(counts), question)
    passage_of = np.repeat(np.arange(len(texts)), [len(passage) for passage in spans])  # [n_sentences]
    score = neighboured(sentence_own, passage_of)  # [n_sentences] as sentence_priority has it
    if len(texts) > 1:
        score = with_passages(score, passage_of, passage_scores([[t[a:b] for a, b in s] for t, s in zip(texts, spans)],
                                                                question))
    clause_rank = ranks_in_groups(neighboured(clause_own, sentence_of), sentence_of)  # [n_clauses]
    starts = [np.array([a for sentence in passage for a, _ in sentence], dtype=np.int64) for passage in clauses]
    return ranks_of(order_by(score)), starts, clause_rank


def passage_order(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str) -> np.ndarray:
    """The units of all the passages (numbered one passage after the other) in the order a budget takes
    them: whole sentences by relevance: int64 [all units].

    Units rank by their sentence's relevance (sentence_priority; ties: the earlier sentence), then by their
    clause's relevance within the sentence, then by position: a budget filled in this order takes the best
    sentences whole and, of the next one, its most relevant clauses.
    """
    spans = [split_spans(text) for text in texts]
    sentence_rank, clause_starts, clause_rank = ranks(texts, spans, question)
    shift = np.cumsum([0] + [len(text) for text in texts])  # where each text starts in them all, joined
    starts = np.concatenate([np.asarray(s, dtype=np.int64) + at for s, at in zip(unit_starts, shift)]
                            + [np.zeros(0, dtype=np.int64)])  # [all units]
    anchor = unit_anchors("".join(texts), starts)  # [all units] (a text's last unit ends where the next text starts)
    sentence_starts = np.array([a + at for passage, at in zip(spans, shift) for a, _ in passage], dtype=np.int64)
    clauses = np.concatenate([s + at for s, at in zip(clause_starts, shift)] + [np.zeros(0, dtype=np.int64)])
    sentence = np.maximum(np.searchsorted(sentence_starts, anchor, side="right") - 1, 0)  # [all units]
    clause = np.maximum(np.searchsorted(clauses, anchor, side="right") - 1, 0)  # [all units]
    sentence_order, clause_order = sentence_rank[sentence], clause_rank[clause]  # [all units]
    return np.lexsort((np.arange(len(sentence_order)), clause_order, sentence_order))  # [all units]
