"""bench.quality's pure parts: equal kept counts, the question part, answer parsing, resource bins."""

from __future__ import annotations

import numpy as np
import pytest

from bench.quality import prompts
from bench.quality.strategies import ExemplarScores, runs, strategy_names, top_positions
from bench.quality.target import final_number, first_line
from lite.prune.select import token_budget


def test_every_language_is_in_one_resource_bin():
    binned = [lang for langs in prompts.RESOURCE_BINS.values() for lang in langs]
    assert sorted(binned) == sorted(prompts.LANGUAGES)


@pytest.mark.parametrize("lang", prompts.LANGUAGES)
def test_question_part_uses_the_exemplars_labels(mgsm, lang):
    part = prompts.question_part(lang, 3)
    first_q, first_a = mgsm.exemplars(lang)[0].split("\n", 1)
    assert part.startswith(prompts.label(first_q)) and part.endswith(prompts.label(first_a))
    assert mgsm.questions(lang)[3][0] in part


def test_all_strategies_keep_exactly_the_same_count(pruner, mgsm):
    exemplar = ExemplarScores(pruner, mgsm.exemplars("th")[2], 2)
    n = len(exemplar.own)
    for rate in (0.9, 0.8, 0.7):
        kept = {(s, seed): top_positions(exemplar.scores(s, seed), token_budget(n, rate)) for s, seed in runs()}
        assert {len(k) for k in kept.values()} == {token_budget(n, rate)}
        assert all(np.all(np.diff(k) > 0) for k in kept.values())
    assert len({tuple(k) for k in kept.values()}) == len(kept)  # the strategies differ
    assert strategy_names()[:3] == ["lite", "random", "inverse"]


def test_top_positions_breaks_ties_by_position():
    assert top_positions(np.array([1.0, 2.0, 2.0, 0.5]), 2).tolist() == [1, 2]
    assert top_positions(np.zeros(5), 3).tolist() == [0, 1, 2]


def test_answer_parsing():
    assert final_number("So 5 + 6 = 11. The answer is 1,100.") == "1100"
    assert final_number("no number") is None
    assert first_line("  18 eggs.\nThen more") == "18 eggs."
