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
z-score units, so sentences of the passage about the question rank first, and each passage's
first sentence gets OPENING_WEIGHT more z-score units (an opening names what its passage is
about, and a small budget spent on the best passages' openings keeps their subject). Inside the sentence
that the budget cuts, clauses (sentences.clause_spans) are ranked the same way among themselves.

How the choices (n-gram sizes, the neighbour weight, the passage and opening weights, Thai piece length in
sentences.py) were made, and what they measured: docs/pruning.md ("Passages and a question").

`term_ids` and `bm25_ids` do this for many texts at once with arrays (terms as packed integer ids,
the same floating-point operations in the same order); `words`, `terms` and `bm25` are their plain
references, and tests/test_passages.py holds the two equal to the bit. Sentences and their clauses
are scored in one pass (`sentences_and_clauses`), the clauses of each sentence being their own collection.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

from . import chars
from .chars import WORD, char_flags, code_points, folded_lengths

K1 = 1.2
B = 0.75
WORD_NGRAM = 3  # character n-grams of "#word#" in space-delimited scripts
HAN_NGRAM = 2  # Chinese, Japanese
THAI_NGRAM = 3  # Thai, Lao, Khmer, Myanmar
NEIGHBOUR_WEIGHT = 0.2  # share of the previous sentence's score a sentence adds to its own
PASSAGE_WEIGHT = 1.0  # weight of the passage's z-score against the sentence's
OPENING_WEIGHT = 2.0  # what a passage's first sentence adds, in z-score units, with several passages
HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # chars.HAN_RANGES
SOUTHEAST_ASIAN = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")  # chars.SOUTHEAST_ASIAN_RANGES
FIELD = 21  # bits of one character in a term id: code point + 1 (0: no character) < 2**21; three fit in an int64
BOUNDARY = ord("#")  # the mark around a word before its 3-grams are taken
HASH_BASE = np.uint64(1_000_003)  # of word_ids' polynomial hash (mod 2**64); exactness does not rest on it


def words(text: str) -> list[str]:
    """Runs of letters, digits and combining marks, casefolded (the reference of folded_words)."""
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
    """The text's terms for matching (see the module's docstring); whole_words: words, not their 3-grams.

    The plain reference of term_ids (tests/test_passages.py holds them equal)."""
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
    """BM25 score of each document (a list of terms) for the query's distinct terms: float64 [n_documents].

    The plain reference of bm25_ids (tests/test_passages.py holds them equal)."""
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


def script_in_word(flags: np.ndarray, script: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Does each word [start, end) hold a character with the script's bit: bool [n_words]."""
    inside = np.concatenate([[0], np.cumsum((flags & script) > 0)])  # [n_chars + 1] such characters before each
    return inside[ends] > inside[starts]  # [n_words]


def folded_words(texts: Sequence[str]) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The words of all the texts at once, as `words` finds them: (the texts joined by NUL and casefolded,
    its code points int64 [n_chars], each word's start and end in it int64 [n_words], each word's text
    int64 [n_words]). Casefolding is per character, so the casefolded words are runs of the folded text."""
    joined = "\0".join(texts)
    points = code_points(joined)  # [n_chars]
    word = (char_flags(points) & WORD) > 0  # [n_chars]
    sizes = np.array([len(text) + 1 for text in texts], dtype=np.int64)  # [n_texts] each with its NUL
    text_of = np.repeat(np.arange(len(texts)), sizes)[: len(points)]  # [n_chars]
    folded = joined.casefold()
    if len(folded) != len(joined):  # a character that folds to several ("ß" -> "ss"): they keep its word
        origin = np.repeat(np.arange(len(points)), folded_lengths(points))  # [n_folded]
        word, text_of = word[origin], text_of[origin]
    edges = np.diff(np.concatenate([[0], word.astype(np.int8), [0]]))  # [n_folded + 1]
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # [n_words]
    return folded, code_points(folded).astype(np.int64), starts, ends, text_of[starts]


def term_ids(texts: Sequence[str], whole_words: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """`terms` of every text at once, as integer ids (equal ids: equal terms): (the text of each term,
    its id), int64 [n_terms] each, text by text, each text's terms in order.

    A term of up to 3 characters is its code points + 1 packed FIELD bits apart (0 where it is shorter);
    a longer one (a whole word) gets a negative id, the same for the same word within one call only.
    """
    folded, points, starts, ends, text_of_word = folded_words(texts)
    length = ends - starts  # [n_words]
    flags = char_flags(points)  # [n_folded]
    southeast = script_in_word(flags, chars.SOUTHEAST_ASIAN, starts, ends)  # [n_words]
    han = script_in_word(flags, chars.HAN, starts, ends) & ~southeast  # [n_words]
    spaced = ~southeast & ~han  # [n_words]
    n = np.where(southeast, THAI_NGRAM, np.where(han, HAN_NGRAM, WORD_NGRAM))  # [n_words] n-gram size
    if whole_words:
        n = np.where(spaced, length, n)  # the word itself: one term
    pad = (spaced & (not whole_words)).astype(np.int64)  # [n_words] a BOUNDARY on each side
    padded = length + 2 * pad  # [n_words]
    # the padded words one after another, each character + 1, and two zeros after them to read past the end
    stream = np.full(int(padded.sum()) + 2, BOUNDARY + 1, dtype=np.int64)  # [n_stream + 2]
    stream[-2:] = 0
    into = np.cumsum(padded) - padded  # [n_words]
    within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)  # [n_word_chars]
    stream[np.repeat(into + pad, length) + within] = points[np.repeat(starts, length) + within] + 1
    grams = np.maximum(1, padded - n + 1)  # [n_words]
    gram_of = np.cumsum(grams) - grams  # [n_words] each word's first term
    first = np.repeat(into - gram_of, grams) + np.arange(int(grams.sum()))  # [n_terms]
    size = np.minimum(np.repeat(n, grams), np.repeat(into + padded, grams) - first)  # [n_terms]
    ids = np.zeros(len(first), dtype=np.int64)  # [n_terms]
    for k in range(3):
        ids = (ids << FIELD) | np.where(size > k, stream[first + k], 0)
    if whole_words:
        long = np.flatnonzero(spaced & (length > 3))  # [n_long] words beyond a packed id
        ids[gram_of[long]] = -1 - word_ids(folded, points, starts[long], ends[long])
    return np.repeat(text_of_word, grams), ids


def word_ids(text: str, points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For words (runs text[start:end], points: the text's code points), ids that are equal exactly when the
    words are: int64 [n_words] >= 0. Words are grouped by length and a 64-bit polynomial hash, and each is
    compared with the first of its group, character by character; if a hash ever joined two different
    words, a dictionary of the words themselves decides."""
    length = ends - starts  # [n_words]
    begin = np.cumsum(length) - length  # [n_words] each word's first character, the words one after another
    within = np.arange(int(length.sum())) - np.repeat(begin, length)  # [n_chars]
    chars = points[np.repeat(starts, length) + within].astype(np.uint64)  # [n_chars]
    powers = np.cumprod(np.full(int(length.max(initial=0)), HASH_BASE, dtype=np.uint64))  # base^(k+1), wrapping
    hashed = np.add.reduceat(chars * powers[within], begin) if len(begin) else begin.astype(np.uint64)
    order = np.lexsort((np.arange(len(length)), length, hashed))  # [n_words] equal keys together, first first
    key = np.stack([hashed[order].view(np.int64), length[order]])  # [2, n_words]
    new = np.concatenate([[True], (key[:, 1:] != key[:, :-1]).any(axis=0)])[: len(order)]  # [n_words]
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(new) - 1  # [n_words]
    first = order[new]  # [n_groups] the first word of each group
    if (chars != chars[np.repeat(begin[first[group]], length) + within]).any():  # a collision: rare as 2**-64
        seen: dict[str, int] = {}
        return np.array([seen.setdefault(text[a:b], len(seen)) for a, b in zip(starts.tolist(), ends.tolist())],
                        dtype=np.int64)
    return group


def question_terms(pieces: Sequence[str], question: str, whole_words: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pieces' terms and the question's, ids from one call: (piece of each term, its id) int64 [n_terms],
    and the question's ids int64 [n_question_terms]."""
    text_of, ids = term_ids([*pieces, question], whole_words)  # [n_terms + n_question_terms]
    split = int(np.searchsorted(text_of, len(pieces)))
    return text_of[:split], ids[:split], ids[split:]


def bm25_ids(document: np.ndarray, term: np.ndarray, query: np.ndarray, n_documents: int,
             group: np.ndarray | None = None) -> np.ndarray:
    """`bm25` over term ids (document of each term, its id: [n_terms]; the query's ids, from the same call
    of term_ids), each group of
    documents its own collection (all one when group is None): float64 [n_documents].

    The same floating-point operations in the same order as `bm25`: each document's sum is taken over
    its query terms in the order they first occur in it.
    """
    group = np.zeros(n_documents, dtype=np.int64) if group is None else np.asarray(group, dtype=np.int64)
    length = np.bincount(document, minlength=n_documents)  # [n_documents]
    wanted = np.unique(query)  # [n_wanted]
    slot = np.minimum(np.searchsorted(wanted, term), max(len(wanted) - 1, 0))  # [n_terms]
    hit = np.flatnonzero(wanted[slot] == term) if len(wanted) else slot[:0]  # [n_hits] positions of query terms
    if not len(hit):
        return np.zeros(n_documents)
    count = np.bincount(group, minlength=group.max() + 1)  # [n_groups] documents
    average = (np.bincount(group, weights=length) / np.maximum(count, 1))[group]  # [n_documents]
    norm = np.where(average > 0, K1 * (1 - B + B * length / np.where(average > 0, average, 1)), K1)  # [n_documents]
    key = document[hit] * len(wanted) + slot[hit]  # [n_hits] (document, query term)
    pairs, first, tf = np.unique(key, return_index=True, return_counts=True)  # [n_pairs]
    doc, which = pairs // len(wanted), pairs % len(wanted)  # [n_pairs]
    _, inverse, frequency = np.unique(group[doc] * len(wanted) + which, return_inverse=True, return_counts=True)
    frequency, size = frequency[inverse.ravel()], count[group[doc]]  # [n_pairs] documents with the term, in the group
    span = int(frequency.max()) + 1
    combos, combo = np.unique(size * span + frequency, return_inverse=True)  # [n_combos] (size, frequency)
    idf = np.array([math.log(1 + (c - f + 0.5) / (f + 0.5))
                    for c, f in zip((combos // span).tolist(), (combos % span).tolist())])  # [n_combos]
    score = idf[combo.ravel()] * tf * (K1 + 1) / (tf + norm[doc])  # [n_pairs]
    order = np.argsort(first)  # each document's terms in the order they first occur
    return np.bincount(doc[order], weights=score[order], minlength=n_documents)  # [n_documents]


def zscore(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def neighboured(own: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each piece's score plus NEIGHBOUR_WEIGHT times the previous piece's, when that one is in the same
    group (passage, sentence): float64 [n_pieces]."""
    previous = np.concatenate([[0.0], own[:-1]])  # [n_pieces]
    same = np.concatenate([[False], group[1:] == group[:-1]])  # [n_pieces]
    return own + NEIGHBOUR_WEIGHT * previous * same


def with_neighbours(pieces: Sequence[str], question: str, group: np.ndarray | None = None) -> np.ndarray:
    """BM25 of each piece (the pieces as the documents) plus NEIGHBOUR_WEIGHT times the previous piece's,
    when that one is in the same group (passage): float64 [n_pieces]."""
    own = bm25_ids(*question_terms(pieces, question), len(pieces))  # [n_pieces]
    return neighboured(own, np.zeros(len(pieces), dtype=np.int64) if group is None else group)


def passage_scores(sentences: Sequence[Sequence[str]], question: str) -> np.ndarray:
    """BM25 of each passage (its sentences joined) over whole-word terms, passages as the documents:
    float64 [n_passages]."""
    joined = ["".join(passage) for passage in sentences]
    return bm25_ids(*question_terms(joined, question, whole_words=True), len(sentences))  # [n_passages]


def with_passages(score: np.ndarray, passage_of: np.ndarray, passages: np.ndarray) -> np.ndarray:
    """Sentence scores (with neighbours) and their passages' scores, added in z-score units, and OPENING_WEIGHT
    for each passage's first sentence (passage_of: int64 [n_sentences], passage by passage): float64 [n_sentences]."""
    opening = np.diff(passage_of, prepend=-1) != 0  # [n_sentences] the first sentence of its passage
    return zscore(score) + PASSAGE_WEIGHT * zscore(passages)[passage_of] + OPENING_WEIGHT * opening


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
    return with_passages(score, passage_of, passage_scores(sentences, question))


def sentences_and_clauses(clauses: Sequence[str], sentence_of: np.ndarray, n_sentences: int,
                          question: str) -> tuple[np.ndarray, np.ndarray]:
    """BM25 of each sentence (the sentences as the documents) and of each clause (the clauses of its sentence
    as the documents), from the clauses that tile the sentences, in one pass over their terms: float64
    [n_sentences], float64 [n_clauses]. A clause ends after punctuation or a space, so a sentence's terms
    are its clauses' terms one after the other."""
    clause, ids, query = question_terms(clauses, question)  # [n_terms]
    document = np.concatenate([sentence_of[clause], n_sentences + clause])  # [2 n_terms] sentences, then clauses
    group = np.concatenate([np.zeros(n_sentences, dtype=np.int64), 1 + sentence_of])  # [n_sentences + n_clauses]
    own = bm25_ids(document, np.concatenate([ids, ids]), query, n_sentences + len(clauses), group)
    return own[:n_sentences], own[n_sentences:]


def ranks_in_groups(score: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each piece's rank (0: the highest score; ties: the earlier) among the pieces of its group: int64
    [n_pieces]. Groups are runs, in order."""
    order = np.lexsort((np.arange(len(score)), -score, group))  # [n_pieces] group by group, best first
    first = np.searchsorted(group, group, side="left")  # [n_pieces] each group's first piece
    found = np.empty(len(score), dtype=np.int64)
    found[order] = np.arange(len(score)) - first[order]
    return found  # [n_pieces]
