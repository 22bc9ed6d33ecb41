"""tools/labels.py and tools/head.py (issue 26's learned-head study): their pure parts, without a model."""

from __future__ import annotations

import numpy as np
import pytest

from tools import head, labels


def test_clauses_tile_the_text():
    text = "Roger has 5 balls, and buys 2 cans; each has 3. How many now? He has 11: the answer."
    spans = labels.clause_spans_of(text)
    assert "".join(text[a:b] for a, b in spans) == text
    assert [text[a:b] for a, b in spans][:2] == ["Roger has 5 balls, ", "and buys 2 cans; "]


def test_interleave_alternates_and_keeps_the_rest():
    assert labels.interleave([1, 2, 3], ["a"]) == [1, "a", 2, 3]


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))  # [N, 3]
    true = np.array([1.5, -2.0, 0.0, 0.5])  # [3 weights, bias]
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ true[:3] + true[3])))).astype(float)  # [N]
    w = head.fit_logistic(x, y, l2=1e-6)
    np.testing.assert_allclose(w, true, atol=0.15)
    # at the optimum the penalized gradient is zero
    w = head.fit_logistic(x, y, l2=10.0)
    z = np.hstack([x, np.ones((len(x), 1))])
    p = 1 / (1 + np.exp(-z @ w))
    np.testing.assert_allclose(z.T @ (p - y) + np.array([10.0, 10.0, 10.0, 0.0]) * w, 0, atol=1e-6)


def test_top_half_is_within_each_prompt():
    kl = np.array([0.1, 0.3, 0.2, 5.0, 1.0, 3.0])
    prompt = np.array([0, 0, 0, 1, 1, 1])
    assert head.top_half(kl, prompt).tolist() == [0, 1, 0, 1, 0, 0]


def test_spearman_by_hand():
    assert head.spearman(np.array([1, 2, 3, 4.0]), np.array([10, 20, 30, 40.0])) == pytest.approx(1.0)
    assert head.spearman(np.array([1, 2, 3, 4.0]), np.array([4, 3, 2, 1.0])) == pytest.approx(-1.0)
    # ranks (1, 2, 3) against (1, 3, 2): 1 - 6 * 2 / (3 * 8) = 0.5
    assert head.spearman(np.array([1, 2, 3.0]), np.array([1, 9, 5.0])) == pytest.approx(0.5)


def test_a_token_with_a_leading_space_belongs_to_the_clause_it_opens():
    text = "one two, three four"
    clauses = [{"start": a, "end": b} for a, b in labels.clause_spans_of(text)]
    offsets = [(0, 3), (3, 7), (7, 8), (8, 14), (14, 19)]  # "one", " two", ",", " three", " four"
    assert head.token_clauses(text, offsets, clauses).tolist() == [0, 0, 0, 1, 1]


def test_the_label_target_names_its_default_file():
    assert labels.parse_args([]).out.name == "labels-v1-smollm2.jsonl"
    assert labels.parse_args(["--target", "gemma3"]).out.name == "labels-v1-gemma3.jsonl"


def test_label_files_pair_on_the_same_prompts_and_clauses():
    from tools import head_transfer

    def record(key, segments=("ab cd",), ends=(3, 5)):
        clauses = [{"segment": 0, "start": a, "end": b, "kl": 0.1} for a, b in zip((0, *ends[:-1]), ends)]
        return {"kind": "xquad", "lang": "en", "key": key, "segments": list(segments), "clauses": clauses}

    first, second = [record("a"), record("b"), record("c")], [record("c"), record("a")]
    kept, other = head_transfer.paired(first, second)
    assert [r["key"] for r in kept] == ["a", "c"] and [r["key"] for r in other] == ["a", "c"]
    with pytest.raises(SystemExit, match="1 prompts differ"):
        head_transfer.paired(first, [record("a", ends=(2, 5))])
