"""granularity="clause" (the default): the order in which whole clauses are taken, by their tokens' ranks.

    pruner.prune(text, rate=0.8, granularity="clause")

The text is cut into clauses (sentences.split_spans, each sentence cut after its commas,
semicolons, colons and spaced dashes by sentences.clause_spans). A clause's score is the mean,
over its tokens, of each token's rank among the text's tokens by the method's score (ranks, so a
heavy-tailed score does not let one token decide its clause). Clauses are taken whole from the
highest score down, each kept in its place; the first clause that does not fit gives its first
words (the units are words, characters in unspaced scripts), and smaller units after it fill what
is left, as any selection does (select.py). The text's first clause goes first, when it costs at
most half the budget (a text's opening names what it is about). A line break (a unit of whitespace
holding one) belongs to the clause after it: it is kept with that clause, and a line break whose
next word is dropped is dropped too (`drop_hanging_breaks`), so two kept line breaks never meet
with nothing between them (which would make a run of line breaks the input did not have there).
Forced keeps are kept first, as in any prune. Why clauses, and what was measured: docs/quality.md
("The default granularity") and docs/pruning.md ("Line breaks").
"""

from __future__ import annotations

import numpy as np

from ..score.methods import mean_ranks
from .select import order_by
from .sentences import clause_spans, split_spans, unit_anchors

LEAD_SHARE = 0.5  # the opening clause goes first when it costs at most this share of the budget


def clause_of_units(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """The clause each unit belongs to (by where its text begins, past leading spaces; a line break: the
    clause of the next unit that is not one): int64 [n_units]."""
    starts = [a for start, end in split_spans(text) for a, _ in clause_spans(text, start, end)] or [0]
    anchor = unit_anchors(text, unit_starts)  # [n_units]
    nexts = next_words(text, unit_starts)  # [n_units]
    breaks = line_breaks(text, unit_starts)
    anchor[breaks] = anchor[nexts[breaks]]
    found = np.searchsorted(np.asarray(starts, dtype=np.int64), anchor, side="right") - 1
    return np.maximum(found, 0)  # [n_units]


def token_ranks(importance: np.ndarray) -> np.ndarray:
    """Each token's rank by importance in [0, 1] (0: the least; ties share their mean rank): float64 [n]."""
    return (mean_ranks(np.asarray(importance, dtype=np.float64)) - 1.0) / max(1, len(importance) - 1)  # [n]


def line_breaks(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """The units that are whitespace holding a line break, in order: int64 [n_breaks]."""
    ends = np.append(unit_starts[1:], len(text))
    return np.array([u for u, (a, b) in enumerate(zip(unit_starts.tolist(), ends.tolist()))
                     if "\n" in text[a:b] and not text[a:b].strip()], dtype=np.int64)


def next_words(text: str, unit_starts: np.ndarray) -> np.ndarray:
    """For each unit, the first unit from it on that is not whitespace (itself when it is not; itself when
    only whitespace follows): int64 [n_units]."""
    ends = np.append(unit_starts[1:], len(text))
    blank = np.array([not text[a:b].strip() for a, b in zip(unit_starts.tolist(), ends.tolist())], dtype=bool)
    found = np.arange(len(unit_starts))  # [n_units]
    following = -1
    for u in range(len(unit_starts) - 1, -1, -1):
        if not blank[u]:
            following = u
        found[u] = following if following >= u else u
    return found


def drop_hanging_breaks(text: str, unit_starts: np.ndarray, keep: np.ndarray, forced: np.ndarray) -> np.ndarray:
    """The selection less the kept line breaks (not forced) whose next word is dropped, unless that would
    leave nothing: bool [n_units]."""
    breaks = line_breaks(text, unit_starts)
    if len(breaks) == 0:
        return keep
    nexts = next_words(text, unit_starts)[breaks]  # [n_breaks]
    hanging = breaks[keep[breaks] & ~forced[breaks] & ~keep[nexts] & (nexts != breaks)]
    if len(hanging) == int(keep.sum()):
        return keep
    keep = keep.copy()
    keep[hanging] = False
    return keep


def clause_order(text: str, unit_starts: np.ndarray, sizes: np.ndarray, importance: np.ndarray,
                 budget: int) -> np.ndarray:
    """The units in the order a budget takes them: the opening clause first (within its share of the
    budget), then whole clauses by their mean token rank, each clause's units in text order: int64 [n_units].

    importance: float [n_tokens], the method's score of each of the text's tokens (finite); sizes: int64
    [n_units], tokens per unit; budget: the tokens to keep.
    """
    n_units = len(unit_starts)
    if n_units == 0:
        return np.zeros(0, dtype=np.int64)
    clause = clause_of_units(text, unit_starts)  # [n_units]
    ranks = token_ranks(importance)  # [n_tokens]
    token_clause = np.repeat(clause, sizes)  # [n_tokens]
    count = clause.max() + 1
    mean = np.bincount(token_clause, weights=ranks, minlength=count) / np.maximum(
        np.bincount(token_clause, minlength=count), 1)  # [n_clauses]
    clause_rank = np.empty(count, dtype=np.int64)
    clause_rank[order_by(mean)] = np.arange(count)  # best clause first, ties: the earlier
    by_clause = np.lexsort((np.arange(n_units), clause_rank[clause]))  # [n_units]
    if sizes[clause == 0].sum() > LEAD_SHARE * budget:
        return by_clause
    lead = clause[by_clause] == 0
    return np.concatenate([by_clause[lead], by_clause[~lead]])  # [n_units]: the opening clause first, in order
