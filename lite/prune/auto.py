"""rate="auto": with a question, keep the sentences relevant to it, however many that is.

    pruner.prune(passages, rate="auto", question=q)                      # no rate to guess
    pruner.prune(passages, rate="auto", question=q, target_tokens=500)   # at most 500 tokens

Each sentence gets two shares, each relative to the best of its kind in the call, in [0, 1]:
its own relevance (relevance.with_neighbours: BM25 of the question's terms, plus a share of the
previous sentence's) over the best sentence's, and its passage's relevance (BM25 of the question's
whole words, the passages as the documents) over the best passage's. A sentence is kept when the
two add up to at least KEEP_AT: so the best passage keeps all its sentences, a passage half as
relevant keeps those at least half as relevant as the best sentence, and a passage that shares
nothing with the question keeps only sentences as relevant as the best one. Both shares are ratios
to the best, so the rule does not depend on how many passages there are. Passages are the strings
given; a single string is cut into passages at its blank lines. A share whose best is 0 (nothing
in the call shares a term with the question) is 1 for all: without evidence nothing is dropped.

The kept sentences are then taken as any budget takes them (passages.py's order: most relevant
first, in their original order in the output), so forced keeps and the guard work as at a fixed
rate; with target_tokens the budget is the smaller of the two. How KEEP_AT was chosen on the dev
split, and what it keeps on the test split: docs/pruning.md ("rate auto").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .passages import order_of, unit_ranks
from .relevance import neighboured, passage_scores

KEEP_AT = 1.0  # a sentence is kept when its share plus its passage's share reaches this
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
PARAGRAPH_END = re.compile(r"\n[^\S\n]*\n\s*$")  # a sentence that ends a paragraph: a blank line after it


def share_of_best(values: np.ndarray) -> np.ndarray:
    """Each value over the largest, in [0, 1]; all 1 when the largest is not positive: float64 [n]."""
    best = values.max(initial=0.0)
    return values / best if best > 0 else np.ones_like(values)


def passages_of(sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """The passage of each sentence: its string's, or for a single string its paragraph's: int64 [n_sentences]."""
    if len(sentences) != 1:
        return np.repeat(np.arange(len(sentences)), [len(passage) for passage in sentences])
    ends = [bool(PARAGRAPH_END.search(sentence)) for sentence in sentences[0]]
    return np.concatenate([[0], np.cumsum(ends[:-1])]).astype(np.int64) if ends else np.zeros(0, dtype=np.int64)


def auto_priority(sentence_own: np.ndarray, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                  question: str) -> np.ndarray:
    """Each sentence's share plus its passage's share (see the module's docstring), from the sentences' own
    BM25 (float64 [n_sentences], the sentences as the documents): float64 [n_sentences]."""
    sentences = [[text[a:b] for a, b in passage] for text, passage in zip(texts, spans)]
    passage = passages_of(sentences)  # [n_sentences]
    own = share_of_best(neighboured(sentence_own, passage))  # [n_sentences]
    flat = [sentence for text in sentences for sentence in text]
    starts = np.flatnonzero(np.diff(passage, prepend=-1))  # [n_passages] each passage's first sentence
    whole = share_of_best(passage_scores([flat[a:b] for a, b in zip(starts, [*starts[1:], len(flat)])], question))
    return own + whole[passage]  # [n_sentences]


def one_passage(texts: Sequence[str]) -> bool:
    """Whether the texts are one passage (one string without a blank line inside): then every sentence is in the
    best passage and auto keeps it all, with nothing to score."""
    return len(texts) == 1 and not BLANK_LINE.search(texts[0].strip())


def auto_order(texts: Sequence[str], unit_starts: Sequence[np.ndarray], sizes: np.ndarray,
               question: str) -> tuple[np.ndarray | None, int]:
    """The units of all the passages in passages.py's order, with auto_priority ranking the sentences, and the
    budget: the tokens of the sentences that reach KEEP_AT. Returns (int64 [all units], budget); one passage is
    kept whole without scoring (order None)."""
    if one_passage(texts):
        return None, int(sizes.sum())
    by_sentence, by_clause, priority = unit_ranks(texts, unit_starts, question, auto_priority)  # [all units] x2
    passing = int(np.count_nonzero(priority >= KEEP_AT))
    return order_of(by_sentence, by_clause), int(sizes[by_sentence < passing].sum())
