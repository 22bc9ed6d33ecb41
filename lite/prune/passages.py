"""Passages pruned for a question: whole sentences ranked by relevance, kept in their original order.

    pruner.prune(passage, rate=0.5, question=q)             # one passage
    pruner.prune([p1, p2, p3], rate=0.5, question=q)         # several: one budget over all of them

The budget (round(rate * n) tokens over all the passages, or target_tokens) is spent on whole
sentences in order of relevance to the question (relevance.py: rare words shared with the
question, passages about the question first, and with several passages a bonus for each one's
opening sentence); the first sentence that does not fit whole is
cut to fill the budget with its most relevant clauses (in their order). With several passages, a
budget that holds whole passages first takes the best of them whole, as many as fit together in
WHOLE_SHARE of it (whole_passages_first), and spends the rest as above. Forced keeps are kept first, as in any prune.
Kept sentences stay in their original order and passages in theirs; the output is cut from
the original strings along the same whole-character units as any prune, so the budget is met
exactly as prune meets it (exact when units are single tokens, else short by less than a unit).

No model is run; why (what layer-0 attention from the question's tokens and a token-level stage
inside the kept sentences did on the dev split): docs/pruning.md ("Passages and a question").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from .relevance import neighboured, passage_scores, ranks_in_groups, sentences_and_clauses, with_passages
from .select import order_by, ranks_of
from .sentences import sentence_clauses, split_spans, unit_anchors

WHOLE_SHARE = 0.75  # several passages: the best ones whole come first, as many as fit in this share of the budget

Prioritize = Callable[[np.ndarray, Sequence[str], Sequence[Sequence[tuple[int, int]]], str], np.ndarray]


def default_priority(sentence_own: np.ndarray, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                     question: str, passage_score: np.ndarray | None = None) -> np.ndarray:
    """sentence_priority from the sentences' own BM25 (float64 [n_sentences]): with the previous sentence's share,
    and, for several passages, their passages' scores (passage_scores_of, float64 [n_passages]; computed when
    None) in z-score units and a bonus for each passage's first sentence (relevance.with_passages):
    float64 [n_sentences]."""
    passage_of = np.repeat(np.arange(len(texts)), [len(passage) for passage in spans])  # [n_sentences]
    score = neighboured(sentence_own, passage_of)  # [n_sentences] as sentence_priority has it
    if len(texts) > 1:
        passage_score = passage_scores_of(texts, question) if passage_score is None else passage_score
        score = with_passages(score, passage_of, passage_score)
    return score


def passage_scores_of(texts: Sequence[str], question: str) -> np.ndarray:
    """relevance.passage_scores of whole texts (a text's sentences tile it, so joined they are the text):
    float64 [n_passages]."""
    return passage_scores([[text] for text in texts], question)


def ranks(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], question: str,
          prioritize: Prioritize = default_priority) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
    """Each sentence's rank among all the sentences by `prioritize` (int64 [n_sentences]), each passage's clause
    starts (int64 [n_clauses] each), each clause's rank among the clauses of its sentence by relevance (int64
    [all clauses]), and the sentences' priorities (float64 [n_sentences])."""
    clauses = [sentence_clauses(text, passage) for text, passage in zip(texts, spans)]
    counts = np.array([len(sentence) for passage in clauses for sentence in passage], dtype=np.int64)
    pieces = [text[a:b] for text, passage in zip(texts, clauses) for sentence in passage for a, b in sentence]
    sentence_of = np.repeat(np.arange(len(counts)), counts)  # [n_clauses]
    sentence_own, clause_own = sentences_and_clauses(pieces, sentence_of, len(counts), question)
    score = prioritize(sentence_own, texts, spans, question)  # [n_sentences]
    clause_rank = ranks_in_groups(neighboured(clause_own, sentence_of), sentence_of)  # [n_clauses]
    starts = [np.array([a for sentence in passage for a, _ in sentence], dtype=np.int64) for passage in clauses]
    return ranks_of(order_by(score)), starts, clause_rank, score


def passage_order(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str,
                  whole: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """The units of all the passages (numbered one passage after the other) in the order a budget takes
    them: whole sentences by relevance: int64 [all units].

    Units rank by their sentence's relevance (sentence_priority; ties: the earlier sentence), then by their
    clause's relevance within the sentence, then by position: a budget filled in this order takes the best
    sentences whole and, of the next one, its most relevant clauses. With several passages and `whole` =
    (what taking each passage whole costs, int64 [n_passages]; the budget those costs are paid from), the best
    passages whole come first, as many as fit in WHOLE_SHARE of that budget (whole_passages_first).
    """
    if len(texts) < 2 or whole is None:
        return order_of(*unit_ranks(texts, unit_starts, question)[:2])
    order, passage_score = sentence_order(texts, unit_starts, question)  # [all units], [n_passages]
    unit_counts = np.array([len(starts) for starts in unit_starts], dtype=np.int64)  # [n_passages]
    token_counts, budget = whole
    return whole_passages_first(order, unit_counts, np.asarray(token_counts), passage_score, budget)  # [all units]


def sentence_order(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Several passages' units in the order of their sentences' priority (before whole passages are put first),
    int64 [all units], and the passages' scores it used, float64 [n_passages] (each computed once)."""
    passage_score = passage_scores_of(texts, question)  # [n_passages]
    by_sentence, by_clause, _ = unit_ranks(texts, unit_starts, question,
                                           partial(default_priority, passage_score=passage_score))  # [all units] x2
    return order_of(by_sentence, by_clause), passage_score


def whole_passages_first(order: np.ndarray, unit_counts: np.ndarray, token_counts: np.ndarray,
                         passage_score: np.ndarray, budget: int, share: float | None = None) -> np.ndarray:
    """The order (int64 [all units]) with the best passages' units first: passages by score (ties: the earlier),
    as long as they fit, whole, together in share * budget tokens (unit_counts, token_counts, passage_score: per
    passage, [n_passages]); the first that does not fit ends them. Those go best passage first, each in the
    order's order; then the rest as the order has them (share None: WHOLE_SHARE): int64 [all units]."""
    best = order_by(passage_score)  # [n_passages]
    share = WHOLE_SHARE if share is None else share
    taken = int(np.searchsorted(np.cumsum(token_counts[best]), share * budget, side="right"))
    if not taken:
        return order
    place = np.full(len(passage_score), len(passage_score), dtype=np.int64)  # [n_passages] rank among those taken
    place[best[:taken]] = np.arange(taken)
    unit_place = np.repeat(place, unit_counts)[order]  # [all units] in the order's order
    return order[np.argsort(unit_place, kind="stable")]  # taken passages first (best first), then the rest


def order_of(by_sentence: np.ndarray, by_clause: np.ndarray) -> np.ndarray:
    """Units by their sentence's rank, then their clause's rank in it, then position: int64 [all units]."""
    return np.lexsort((np.arange(len(by_sentence)), by_clause, by_sentence))


def unit_ranks(texts: Sequence[str], unit_starts: Sequence[np.ndarray], question: str,
               prioritize: Prioritize = default_priority) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's sentence rank (0: the sentence `prioritize` puts first) and its clause's rank within the
    sentence, both int64 [all units], and the sentences' priorities, float64 [all sentences]."""
    spans = [split_spans(text) for text in texts]
    sentence_rank, clause_starts, clause_rank, priority = ranks(texts, spans, question, prioritize)
    shift = np.cumsum([0] + [len(text) for text in texts])  # where each text starts in them all, joined
    starts = np.concatenate([np.asarray(s, dtype=np.int64) + at for s, at in zip(unit_starts, shift)]
                            + [np.zeros(0, dtype=np.int64)])  # [all units]
    anchor = unit_anchors("".join(texts), starts)  # [all units] (a text's last unit ends where the next text starts)
    sentence_starts = np.array([a + at for passage, at in zip(spans, shift) for a, _ in passage], dtype=np.int64)
    clauses = np.concatenate([s + at for s, at in zip(clause_starts, shift)] + [np.zeros(0, dtype=np.int64)])
    sentence = np.maximum(np.searchsorted(sentence_starts, anchor, side="right") - 1, 0)  # [all units]
    clause = np.maximum(np.searchsorted(clauses, anchor, side="right") - 1, 0)  # [all units]
    return sentence_rank[sentence], clause_rank[clause], priority  # [all units] x2, [n_sentences]
