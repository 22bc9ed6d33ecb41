"""Units and selection on SmolLM2's real tokenizer: whole characters, spans that tile the text."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from tokenizers import Tokenizer

from lite.prune.budget import shared_budgets, token_budget
from lite.prune.chars import UNSPACED_SCRIPTS
from lite.prune.select import order_by, select_in_order, unit_importance
from lite.prune.sentences import unit_anchors
from lite.prune.units import group_units, grouped_loop, units_covering, units_of_texts, word_units
from lite.store.slicefile import SliceFile


@pytest.fixture(scope="module")
def tokenizer(smollm2_slice) -> Tokenizer:
    return Tokenizer.from_str(SliceFile(smollm2_slice).tokenizer_json)


def test_units_are_whole_characters_and_tile_every_mgsm_text(tokenizer, mgsm_texts):
    multi_token_chars = {}
    for lang, texts in mgsm_texts.items():
        for text in texts:
            encoding = tokenizer.encode(text)
            units = group_units(text, encoding.offsets)
            spans = units.spans()
            assert "".join(text[s:e] for s, e in spans) == text
            assert all(s < e for s, e in spans)
            starts = {s for s, _ in spans}
            for start, end in encoding.offsets:  # no token crosses a unit boundary
                assert not any(start < b < end for b in starts)
            for s, _ in spans[1:]:  # no unit starts with a combining mark
                assert not unicodedata.category(text[s]).startswith("M")
            multi_token_chars[lang] = multi_token_chars.get(lang, 0) + int((units.sizes(len(encoding.ids)) > 1).sum())
    for lang in ("bn", "te", "th", "zh", "ja"):  # the scripts byte-level BPE splits: the test has teeth
        assert multi_token_chars[lang] > 0, lang
    assert multi_token_chars["en"] == 0


def test_split_character_is_one_unit(tokenizer):
    text = "ab 你好 ধারণা"
    encoding = tokenizer.encode(text)
    units = group_units(text, encoding.offsets)
    pieces = [text[s:e] for s, e in units.spans()]
    assert "你" in pieces and "好" in pieces
    assert all("\ufffd" not in p for p in pieces)
    assert units.sizes(len(encoding.ids)).max() >= 2


def test_zero_width_token_joins_the_next_one():
    units = group_units("hi there", [(0, 0), (0, 2), (2, 8)])
    assert units.first_token.tolist() == [0, 2]
    assert units.spans() == [(0, 2), (2, 8)]


def test_units_covering_maps_character_ranges():
    units = group_units("aa bb cc", [(0, 2), (2, 5), (5, 8)])
    assert units_covering(units, [(3, 4)]).tolist() == [False, True, False]
    assert units_covering(units, [(1, 6)]).tolist() == [True, True, True]
    assert units_covering(units, [(4, 4)]).tolist() == [False, False, False]


def test_token_budget_rounds_and_clamps():
    assert token_budget(10, rate=0.84) == 8
    assert token_budget(10, rate=0.01) == 1
    assert token_budget(10, target_tokens=25) == 10
    assert token_budget(0, rate=0.5) == 0


def test_selection_takes_ranked_units_that_fit_and_ties_by_position():
    scores = np.array([0.2, 0.5, 0.2, 0.1], dtype=np.float32)
    sizes = np.array([1, 3, 1, 1])
    order = order_by(scores)
    assert order.tolist() == [1, 0, 2, 3]
    none = np.zeros(4, dtype=bool)
    assert select_in_order(order, sizes, 4, none).tolist() == [True, True, False, False]
    assert select_in_order(order, sizes, 2, none).tolist() == [True, False, True, False]  # unit 1 does not fit
    forced = np.array([False, False, False, True])
    assert select_in_order(order, sizes, 2, forced).tolist() == [True, False, False, True]
    assert select_in_order(order, np.array([5, 5, 5, 5]), 2, none).tolist() == [False, True, False, False]


def test_unit_importance_is_the_mean_of_its_tokens():
    importance = np.array([0.1, 0.3, 0.5, 0.1], dtype=np.float32)
    got = unit_importance(importance, np.array([0, 1, 3]), np.array([1, 2, 1]))
    np.testing.assert_allclose(got, [0.1, 0.4, 0.1], rtol=1e-6)


def test_shared_budgets_are_proportional_and_add_up():
    assert shared_budgets([10, 30, 60], 10) == [1, 3, 6]
    assert sum(shared_budgets([5, 5, 5], 7)) == 7
    assert shared_budgets([50, 50], 1) == [1, 1]  # every pruned part keeps at least one token
    assert shared_budgets([0, 10], 4) == [0, 4]


def word_pieces(tokenizer, text):
    units = word_units(text, group_units(text, tokenizer.encode(text).offsets))
    return [text[s:e] for s, e in units.spans()]


def test_word_units_keep_spaced_words_whole_and_unspaced_scripts_per_character(tokenizer):
    pieces = word_pieces(tokenizer, "Réponse: 15 boîtes.\n问题：罗杰有 5 个网球。สวัสดีครับ")
    assert "".join(pieces) == "Réponse: 15 boîtes.\n问题：罗杰有 5 个网球。สวัสดีครับ"
    assert pieces[:6] == ["Réponse", ":", " 15", " boîtes", ".", "\n"]  # a number with its space
    assert {"问", "题", "罗", "杰", "网", "球"} <= set(pieces)  # Chinese: one unit per character
    assert all(len(p.strip()) <= 2 for p in pieces[pieces.index("。") + 1 :])  # Thai: characters


def test_word_units_tile_every_mgsm_text_and_never_cut_a_character_unit(tokenizer, mgsm_texts):
    for lang, texts in mgsm_texts.items():
        for text in texts:
            chars = group_units(text, tokenizer.encode(text).offsets)
            words = word_units(text, chars)
            assert "".join(text[s:e] for s, e in words.spans()) == text
            assert set(words.span_start.tolist()) <= set(chars.span_start.tolist())  # merges only, never a new cut
            if lang in ("en", "fr", "ru", "bn"):
                assert words.count < chars.count, lang  # spaced scripts: words span several character units


# ---- the array forms against plain per-token references ----

def reference_select(order, sizes, budget, forced):
    """select_in_order one unit at a time, as it is specified."""
    keep = forced.copy()
    kept = int(sizes[keep].sum())
    for unit in order:
        if kept >= budget:
            break
        if not keep[unit] and kept + sizes[unit] <= budget:
            keep[unit] = True
            kept += int(sizes[unit])
    if not keep.any() and len(order) and budget > 0:
        keep[order[0]] = True
    return keep


def test_select_in_order_is_the_greedy_rule_on_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        n = int(rng.integers(0, 30))
        sizes = rng.integers(1, int(rng.integers(2, 8)), n)
        order = rng.permutation(n)
        forced = rng.random(n) < rng.random() * 0.3
        budget = int(rng.integers(0, int(sizes.sum()) + 3))
        assert select_in_order(order, sizes, budget, forced).tolist() == \
            reference_select(order, sizes, budget, forced).tolist()


def reference_word_starts(text, spans):
    """word_units' rule per unit, with str methods."""
    def joins(char):
        return ((char.isalnum() or unicodedata.category(char).startswith("M") or char in "\u200c\u200d")
                and not any(low <= ord(char) <= high for low, high in UNSPACED_SCRIPTS))

    starts = [0][: len(spans)]
    for u in range(1, len(spans)):
        (a, b), (pa, pb) = spans[u], spans[u - 1]
        blank = pb > pa and all(c in " \t\u00a0" for c in text[pa:pb])
        if not (a < b and pa < pb and joins(text[a]) and (joins(text[pb - 1]) or blank)):
            starts.append(u)
    return starts


def test_units_words_and_anchors_match_their_references(tokenizer, mgsm_texts):
    extra = ["", " ", "a\u0301bc", "x\u200dy \u0e01\u0e34", "  \t\u00a0 x", "é ü\n\n", "Rép onse 15 ok."]
    for text in [t for texts in mgsm_texts.values() for t in texts] + extra:
        offsets = tokenizer.encode(text).offsets
        for given in (offsets, [(0, 0), *offsets, (len(text), len(text))]):  # with zero-width tokens: the loop
            units = group_units(text, given)
            starts, ends = zip(*given) if given else ((), ())
            expected = grouped_loop(text, starts, ends)
            assert units.first_token.tolist() == expected
        units = group_units(text, offsets)
        words = word_units(text, units)
        assert words.first_token.tolist() == units.first_token[reference_word_starts(text, units.spans())].tolist()
        anchors = [a + len(text[a:b]) - len(text[a:b].lstrip()) if text[a:b].strip() else a for a, b in words.spans()]
        assert unit_anchors(text, words.span_start).tolist() == anchors


def test_units_of_many_texts_at_once_are_each_texts_own(tokenizer, mgsm_texts):
    texts = [t for texts in mgsm_texts.values() for t in texts[:3]]
    texts += ["\u0301x", "\u0e34abc", " ", "a\u200db", "x\n\n"]  # a text that starts with a mark starts anew
    offsets = [np.array(tokenizer.encode(text).offsets, dtype=np.int64).reshape(-1, 2) for text in texts]
    for words in (False, True):
        for found, text, bounds in zip(units_of_texts(texts, offsets, words), texts, offsets):
            expected = word_units(text, group_units(text, bounds)) if words else group_units(text, bounds)
            assert found.first_token.tolist() == expected.first_token.tolist()
            assert found.span_start.tolist() == expected.span_start.tolist()
            assert found.text_length == expected.text_length
