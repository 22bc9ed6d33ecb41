"""Texts longer than max_tokens (issue 25): every key scored, the sum over queries taken over sampled ones.

The sampled score against transformers' attention probabilities averaged over the same queries, on tiny
random models of every family; where prune switches to it; a 128k-token text on a tiny model.
"""

from __future__ import annotations

import numpy as np
import pytest

from lite.prune import Pruner
from lite.prune.options import DEFAULT_MAX_TOKENS, SAMPLED_QUERIES
from lite.score.forward import sampled_positions
from lite.score.scorer import Scorer
from tests.helpers import assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import layer0_attention

FAMILIES = sorted(fixtures.TINY_MODELS) + sorted(fixtures.TINY_FAMILIES)


def test_sampled_positions_are_spread_evenly():
    positions = sampled_positions(1000, 10)  # [10]
    assert positions.tolist() == [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]
    for n, m in ((7, 3), (1001, 1000), (131072, SAMPLED_QUERIES)):
        positions = sampled_positions(n, m)
        assert len(positions) == m and positions[0] >= 0 and positions[-1] < n and np.all(np.diff(positions) > 0)


@pytest.mark.parametrize("name", FAMILIES)
def test_sampled_queries_match_transformers_over_the_same_queries(name, slices_dir):
    folder = fixtures.tiny(name)
    scorer = Scorer(make_slice(folder, slices_dir / f"{name}-False.safetensors"))
    n, m = 300, 37
    ids = np.random.default_rng(n).integers(0, scorer.spec.vocab_size, n)
    probabilities, _ = layer0_attention(folder, ids)  # [H, n, n]
    received = probabilities[:, sampled_positions(n, m), :].sum(axis=(0, 1))  # [n]
    for kernel in ("numba", "numpy"):
        scores = scorer.importance(ids, kernel=kernel, method="attention", queries=m)  # [n]
        assert_matches_reference(scores, received / received.sum())
    whole = scorer.importance(ids, method="attention")  # [n]
    assert np.array_equal(scorer.importance(ids, method="attention", queries=n), whole)


class Recording:
    """A scorer that records how many queries each call asked for."""

    def __init__(self, scorer):
        self.scorer, self.slice, self.calls = scorer, scorer.slice, []

    def importance(self, ids, method="attention", queries=None):
        self.calls.append((len(ids), queries))
        return self.scorer.importance(ids, method=method, queries=queries)


@pytest.fixture(scope="module")
def tiny_pruner(slices_dir):
    path = make_slice(fixtures.tiny("llama3-gqa"), slices_dir / "llama3-gqa-False.safetensors")
    return Pruner(Recording(Scorer(path)))


def test_the_default_switches_to_sampled_queries_past_max_tokens_only(tiny_pruner):
    text = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning. " * 120
    n = tiny_pruner.count_tokens(text)
    assert SAMPLED_QUERIES < n < DEFAULT_MAX_TOKENS
    calls = tiny_pruner.scorer.calls
    for max_tokens, queries in ((n, None), (n - 1, SAMPLED_QUERIES)):
        calls.clear()
        tiny_pruner.prune(text, rate=0.5, max_tokens=max_tokens)
        assert calls == [(n, queries)]
    calls.clear()
    tiny_pruner.prune(text, rate=0.5, max_tokens=n - 1, chunk=1000)  # chunks: every query of each chunk
    assert calls == [(1000, None)] * (n // 1000) + [(n % 1000, None)]


def test_a_text_of_128k_tokens_is_pruned(tiny_pruner):
    from bench.window import long_text

    text = long_text(tiny_pruner.tokenizer, 131072)
    tiny_pruner.scorer.calls.clear()
    result = tiny_pruner.prune(text, rate=0.7)
    assert result.origin_tokens == 131072 and 0.69 * 131072 < result.compressed_tokens <= round(0.7 * 131072)
    assert tiny_pruner.scorer.calls == [(131072, SAMPLED_QUERIES)]
