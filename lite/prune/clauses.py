"""granularity="clause": the budget goes to whole clauses, ranked by their tokens' scores.

    pruner.prune(text, rate=0.8, granularity="clause")

The text is cut into clauses (sentences.split_spans, each sentence cut after its commas,
semicolons, colons and spaced dashes by sentences.clause_spans). A clause's score is the mean,
over its tokens, of each token's rank among the text's tokens by the method's score (ranks, so a
heavy-tailed score does not let one token decide its clause). Clauses are taken whole from the
highest score down, each kept in its place; the first clause that does not fit gives its first
words (the units are words, characters in unspaced scripts), and smaller units after it fill what
is left, as any selection does (select.py). Two things go first: the text's first clause, when it
costs at most half the budget (a text's opening names what it is about; on the XQuAD dev
split keeping it lowered the target's KL on passages, on 6-12 questions a cell, and changed
nothing on MGSM), and line breaks (a unit of whitespace holding one), the earliest first, up to a
tenth of the budget (so kept clauses keep their lines, and a list of short lines still keeps
content). Forced keeps are kept first, as in any prune.

Why: pruned text that keeps whole clauses stays readable, and on the MGSM dev split the target's
answer moved much less than with words chosen one by one (docs/quality.md).
"""

from __future__ import annotations

import numpy as np

from ..score.methods import mean_ranks
from .passages import anchors
from .select import require_finite
from .sentences import clause_spans, split_spans

LEAD_FIRST = True  # the text's first clause is taken first: a text's opening names its subject
LEAD_SHARE = 0.5  # ... when it costs at most this share of the budget (a longer opening is ranked like any clause)
BREAK_SHARE = 0.10  # line breaks are taken first up to this share of the budget (a list keeps content, not breaks)


def clause_of_units(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """The clause each unit belongs to (by where its text begins, past leading spaces): int64 [n_units]."""
    starts = [a for start, end in split_spans(text) for a, _ in clause_spans(text, start, end)] or [0]
    found = np.searchsorted(np.asarray(starts, dtype=np.int64), anchors(text, unit_starts), side="right") - 1
    return np.maximum(found, 0)  # [n_units]


def token_ranks(importance: np.ndarray) -> np.ndarray:
    """Each token's rank by importance in [0, 1] (0: the least; ties share their mean rank): float64 [n]."""
    return (mean_ranks(np.asarray(importance, dtype=np.float64)) - 1.0) / max(1, len(importance) - 1)  # [n]


def clause_order_scores(text: str, unit_starts: np.ndarray, first_token: np.ndarray, importance: np.ndarray,
                        budget: int) -> np.ndarray:
    """A score per unit such that taking units by it takes the opening clause and the line breaks first
    (each within its share of the budget), then whole clauses by their mean token rank, each clause's
    units in text order: float64 [n_units] (higher first).

    importance: float [n_tokens], the method's score of each of the text's tokens; first_token: int64
    [n_units], each unit's first token; budget: the tokens to keep.
    """
    n_units = len(unit_starts)
    if n_units == 0:
        return np.zeros(0, dtype=np.float64)
    require_finite(np.asarray(importance), "tokens")
    sizes = np.diff(np.append(first_token, len(importance)))  # [n_units] tokens per unit
    clause = clause_of_units(text, unit_starts)  # [n_units]
    token_clause = np.repeat(clause, sizes)  # [n_tokens]
    ranks = token_ranks(np.asarray(importance, dtype=np.float64))  # [n_tokens]
    count = clause.max() + 1
    mean = np.bincount(token_clause, weights=ranks, minlength=count) / np.maximum(
        np.bincount(token_clause, minlength=count), 1)  # [n_clauses]
    order = np.lexsort((np.arange(count), -mean))  # best clause first, ties: the earlier
    clause_rank = np.empty(count, dtype=np.int64)
    clause_rank[order] = np.arange(count)
    scores = -(clause_rank[clause] * (n_units + 1) + np.arange(n_units)).astype(np.float64)  # [n_units]
    ends = np.append(unit_starts[1:], len(text))
    breaks = [u for u, (a, b) in enumerate(zip(unit_starts.tolist(), ends.tolist()))
              if "\n" in text[a:b] and not text[a:b].strip()]
    spent = 0
    for u in breaks:  # line breaks (alone in their unit) first, the earliest, up to BREAK_SHARE of the budget
        if spent + sizes[u] > BREAK_SHARE * budget:
            break
        scores[u] = 1.0
        spent += int(sizes[u])
    if LEAD_FIRST and sizes[clause == 0].sum() <= LEAD_SHARE * budget:
        scores[clause == 0] += 2.0 * (n_units + 1) * (count + 1)  # the opening clause first, in its order
    return scores
