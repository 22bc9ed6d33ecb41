"""granularity="clause": whole clauses by their tokens' mean rank, line breaks with the clause after them, the
budget met."""

from __future__ import annotations

import numpy as np
import pytest

from lite.prune import Pruner
from lite.prune.clauses import clause_of_units, token_ranks
from lite.prune.sentences import clause_spans, split_spans

TEXT = ("The rain fell all night, and the river rose. The mayor, Anna Berg, closed the bridge at noon.\n"
        "The school stayed open.")


class WordScorer:
    """Importance 1 for the tokens of the given words (however the tokenizer splits them), 0 elsewhere."""

    def __init__(self, tokenizer, text: str, words: set[str]):
        encoding = tokenizer.encode(text)
        self.ids = encoding.ids
        self.scores = np.array([float(text[a:b].strip() in words) for a, b in encoding.offsets], dtype=np.float32)

    def importance(self, ids, method=None):
        assert list(ids) == self.ids
        return self.scores


def clauses(text: str) -> list[str]:
    return [text[a:b] for start, end in split_spans(text) for a, b in clause_spans(text, start, end)]


def test_the_opening_and_the_best_clause_whole(pruner):
    scorer = WordScorer(pruner.tokenizer, TEXT, {"bridge", "noon", "closed"})
    opening, clause = "The rain fell all night, ", "closed the bridge at noon."
    assert clauses(TEXT)[0] == opening and clause + "\n" in clauses(TEXT)
    # a byte-level BPE glues each space to the word after it: "night," then " closed"
    budget = pruner.count_tokens(opening.rstrip()) + pruner.count_tokens(" " + clause)
    result = Pruner(scorer, pruner.tokenizer).prune(TEXT, target_tokens=budget, granularity="clause")
    assert result.text == opening.rstrip() + " " + clause  # the line break goes with the next line's clause
    assert result.compressed_tokens == budget
    # by words, the same scores keep the three words and spend the rest on the first words
    by_words = Pruner(scorer, pruner.tokenizer).prune(TEXT, target_tokens=budget, granularity="word")
    assert by_words.text.strip() != clause


def test_clauses_of_units_follow_the_text():
    text = "One, two. Three\nFour"
    starts = np.array([0, 3, 4, 8, 9, 15, 16])  # "One" "," " two" "." " Three" "\n" "Four"
    assert clauses(text) == ["One, ", "two. ", "Three\n", "Four"]
    assert clause_of_units(text, starts).tolist() == [0, 0, 1, 1, 2, 3, 3]  # the line break: the clause after it


def test_token_ranks_share_ties():
    assert token_ranks(np.array([0.5, 0.1, 0.5, 0.9])).tolist() == pytest.approx([0.5, 0.0, 0.5, 1.0])
    assert token_ranks(np.array([3.0])).tolist() == [0.0]


def partial_clauses(result) -> int:
    """Clauses of the input with some but not all of their non-space characters kept."""
    kept = np.zeros(sum(len(p) for p, _ in result.pieces), dtype=bool)
    at = 0
    for piece, keep in result.pieces:
        kept[at : at + len(piece)] = keep
        at += len(piece)
    text = "".join(p for p, _ in result.pieces)
    count = 0
    for start, end in split_spans(text):
        for a, b in clause_spans(text, start, end):
            inside = [kept[i] for i in range(a, b) if not text[i].isspace()]
            count += 0 < sum(inside) < len(inside)
    return count


@pytest.mark.parametrize("lang", ["en", "fr", "ru", "zh", "th", "bn"])
def test_real_text_keeps_whole_clauses_within_the_budget(pruner, mgsm_texts, lang):
    by_words = 0
    for text in mgsm_texts[lang][3:]:  # the worked exemplars: several lines and clauses
        for rate in (0.9, 0.7, 0.5):
            result = pruner.prune(text, rate=rate, granularity="clause")
            budget = max(1, round(rate * result.origin_tokens))
            assert result.compressed_tokens <= budget and "".join(p for p, _ in result.pieces) == text
            assert result.text == "".join(p for p, k in result.pieces if k) and "\ufffd" not in result.text
            # a kept line break is followed by kept text: two never meet, none hangs at the end
            assert "\n\n" not in result.text or "\n\n" in text
            assert not result.text.endswith("\n") or text.endswith("\n")
            # whole clauses but the one the budget cuts and the few small units that fill the rest
            assert partial_clauses(result) <= 3, (lang, rate)
            by_words += partial_clauses(pruner.prune(text, rate=rate, granularity="word"))
    assert by_words > 3 * 6  # word by word, clauses are cut all over: the check above has teeth


def test_line_breaks_go_with_their_lines_and_the_opening_takes_a_bounded_share(pruner):
    """A list of short lines at a low rate keeps items, each with the line break before it, never two line
    breaks with nothing between; a long opening clause is ranked like any other clause."""
    listing = "\n".join(f"- item {i}: a thing" for i in range(40))
    result = pruner.prune(listing, rate=0.1)
    assert len(result.text.replace("\n", "")) > 0.8 * len(result.text)
    assert "\n\n" not in result.text and not result.text.endswith("\n")
    assert result.text.count("item") >= 3
    opening = "The committee that was formed in the spring to review every proposal for the new bridge met twice. "
    text = opening + "It chose the design by Anna Berg. Work began in May."
    scorer = WordScorer(pruner.tokenizer, text, {"Anna", "Berg", "design", "chose"})
    budget = pruner.count_tokens(" It chose the design by Anna Berg.")
    kept = Pruner(scorer, pruner.tokenizer).prune(text, target_tokens=budget, granularity="clause").text
    assert "chose the design by Anna Berg." in kept and "committee" not in kept


def test_non_finite_scores_are_refused(pruner):
    class Broken:
        def importance(self, ids, method=None):
            scores = np.ones(len(ids), dtype=np.float32)
            scores[1] = np.nan
            return scores

    from lite import LiteError

    with pytest.raises(LiteError, match="not finite"):
        Pruner(Broken(), pruner.tokenizer).prune(TEXT, rate=0.5, granularity="clause")
