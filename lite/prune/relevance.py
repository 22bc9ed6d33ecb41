"""How relevant each sentence (and each passage) is to a question, from the words alone: no model.

Terms are taken from words (runs of letters, digits and combining marks, casefolded):
- in space-delimited scripts, the character 3-grams of "#word#" (so inflected forms still share
  most of their terms: "Warsaw" / "Warsaw's", "Варшава" / "Варшаве");
- in scripts written without spaces between words, character n-grams of each run: bigrams in
  Chinese and Japanese, trigrams in Thai.

A sentence's score is BM25 (k1 = 1.2, b = 0.75) of the question's distinct terms, with the
sentences of all the passages as the documents: a term's weight is its rarity among those
sentences, so words every sentence shares count little and the question's rare words decide.
Each sentence then gets NEIGHBOUR_WEIGHT of the score of the sentence before it in its passage
(an answer often follows the sentence that names the question's subject). With several
passages, each passage's BM25 over whole-word terms (passages as the documents) is added in
z-score units, so sentences of the passage about the question rank first. Inside the sentence
that the budget cuts, clauses (sentences.clause_spans) are ranked the same way among themselves.

How the choices (n-gram sizes, the neighbour weight, the passage weight, Thai piece length in
sentences.py) were made, and what they measured: docs/pruning.md ("Passages and a question").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

K1 = 1.2
B = 0.75
WORD_NGRAM = 3  # character n-grams of "#word#" in space-delimited scripts
HAN_NGRAM = 2  # Chinese, Japanese
THAI_NGRAM = 3  # Thai, Lao, Khmer, Myanmar
NEIGHBOUR_WEIGHT = 0.2  # share of the previous sentence's score a sentence adds to its own
PASSAGE_WEIGHT = 1.0  # weight of the passage's z-score against the sentence's
HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SOUTHEAST_ASIAN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")


def words(text: str) -> list[str]:
    """Runs of letters, digits and combining marks, casefolded."""
    found: list[str] = []
    current: list[str] = []
    for char in text:
        if unicodedata.category(char)[0] in "LNM":
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return [word.casefold() for word in found]


def ngrams(text: str, n: int) -> list[str]:
    return [text[i : i + n] for i in range(max(1, len(text) - n + 1))]


def terms(text: str, whole_words: bool = False) -> list[str]:
    """The text's terms for matching (see the module's docstring); whole_words: words, not their 3-grams."""
    found: list[str] = []
    for word in words(text):
        if SOUTHEAST_ASIAN.search(word):
            found += ngrams(word, THAI_NGRAM)
        elif HAN.search(word):
            found += ngrams(word, HAN_NGRAM)
        elif whole_words:
            found.append(word)
        else:
            found += ngrams(f"#{word}#", WORD_NGRAM)
    return found


def bm25(documents: Sequence[Sequence[str]], query: Sequence[str]) -> np.ndarray:
    """BM25 score of each document (a list of terms) for the query's distinct terms: float64 [n_documents]."""
    count = len(documents)
    frequency = Counter(term for document in documents for term in set(document))
    average = sum(len(document) for document in documents) / count if count else 0.0
    wanted = set(query)
    scores = np.zeros(count)  # [n_documents]
    for i, document in enumerate(documents):
        found = Counter(term for term in document if term in wanted)
        norm = K1 * (1 - B + B * len(document) / average) if average else K1
        for term, tf in found.items():
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            scores[i] += idf * tf * (K1 + 1) / (tf + norm)
    return scores


def zscore(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def with_neighbours(pieces: Sequence[str], question: str, group: np.ndarray | None = None) -> np.ndarray:
    """BM25 of each piece (the pieces as the documents) plus NEIGHBOUR_WEIGHT times the previous piece's,
    when that one is in the same group (passage): float64 [n_pieces]."""
    own = bm25([terms(piece) for piece in pieces], terms(question))  # [n_pieces]
    previous = np.concatenate([[0.0], own[:-1]])  # [n_pieces]
    if group is None:
        group = np.zeros(len(pieces), dtype=np.int64)
    same = np.concatenate([[False], group[1:] == group[:-1]])  # [n_pieces]
    return own + NEIGHBOUR_WEIGHT * previous * same


def sentence_priority(sentences: Sequence[Sequence[str]], question: str) -> np.ndarray:
    """Priority of each sentence (higher first), for one or several passages.

    sentences[k] holds the sentences of passage k, in order. Returns float64 [total sentences],
    passage by passage.
    """
    flat = [sentence for passage in sentences for sentence in passage]
    passage_of = np.repeat(np.arange(len(sentences)), [len(passage) for passage in sentences])  # [n_sentences]
    score = with_neighbours(flat, question, passage_of)  # [n_sentences]
    if len(sentences) < 2:
        return score
    passages = bm25([terms("".join(passage), whole_words=True) for passage in sentences], terms(question, True))
    return zscore(score) + PASSAGE_WEIGHT * zscore(passages)[passage_of]
