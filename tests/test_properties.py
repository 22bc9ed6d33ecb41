"""Property-based tests (hypothesis): the pruner's invariants over the whole option space, on random text in
every script of the data (the characters of MGSM and XQuAD, all 23 of their languages).

- rate 1 returns the input; the output is the input's units in order (the pieces tile the input);
- no U+FFFD, and no special or added token of the pruner's tokenizer or the target's, is created;
- the budget holds (in the pruner's tokens, and in the target's with a target tokenizer);
- the result is deterministic, the same for any thread count, and the same from the library and the service.
Examples are derandomized, so a run in CI is the same run every time.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from tests.serve_support import running
from tools import fixtures, mgsm, xquad

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: bounded time in CI
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MARKUP = set("<>|[]{}")  # no special-token syntax in the random text: every added token in an output is created


@functools.cache
def alphabet() -> str:
    """Every character of the data's texts (all its scripts), less markup and control characters."""
    texts = [t for lang in mgsm.LANGUAGES for t in mgsm.exemplars(lang)]
    texts += [p["context"] for lang in xquad.LANGUAGES for p in xquad.paragraphs(lang)[:3]]
    return "".join(sorted({c for t in texts for c in t if c.isprintable() and c not in MARKUP and not c.isspace()}))


def texts() -> st.SearchStrategy[str]:
    word = st.text(alphabet=alphabet(), min_size=1, max_size=8)
    gap = st.sampled_from([" ", " ", " ", ", ", ". ", "\n", "\n\n", "? ", "。", "، "])
    return st.lists(st.tuples(word, gap), min_size=1, max_size=40).map(lambda ws: "".join(w + g for w, g in ws))


def options() -> st.SearchStrategy[dict]:
    budget = st.one_of(st.fixed_dictionaries({"rate": st.floats(0.05, 1.0)}),
                       st.fixed_dictionaries({"target_tokens": st.integers(1, 60)}))
    optional = {
        "granularity": st.sampled_from(["clause", "word", "char"]),
        "method": st.sampled_from(["rank_mix", "attention", "rarity"]),
        "force": st.lists(st.sampled_from(["\n", "?", ",", "。"]), max_size=2),
        "force_digits": st.booleans(),
        "keep_last": st.integers(0, 4),
        "drop_consecutive": st.booleans(),
        "question": st.sampled_from(["How many eggs are left?", "Wer hat das gebaut?", "他有多少个球？"]),
        "chunk": st.integers(8, 32),
    }
    return st.tuples(budget, st.fixed_dictionaries({}, optional=optional)).map(lambda pair: {**pair[0], **pair[1]})


@pytest.fixture(scope="module")
def gemma() -> Tokenizer:
    return Tokenizer.from_file(str(fixtures.gemma3_270m_folder() / "tokenizer.json"))


def added(tokenizer: Tokenizer, text: str) -> Counter:
    decoder = tokenizer.get_added_tokens_decoder()
    return Counter(i for i in tokenizer.encode(text, add_special_tokens=False).ids if i in decoder)


def created(tokenizer: Tokenizer, text: str, output: str) -> Counter:
    """Added tokens the output holds more often than its input (Gemma's line breaks are added tokens)."""
    return added(tokenizer, output) - added(tokenizer, text)


def within_budget(pruner, text: str, result, options: dict) -> bool:
    """Kept tokens within the budget, or one unit alone (a unit is never split; at least one is kept), or
    forced keeps beyond it."""
    n = result.origin_tokens
    budget = options["target_tokens"] if "target_tokens" in options else round(options["rate"] * n)
    if result.compressed_tokens <= max(1, min(budget, n)):
        return True
    forcing = options.get("force") or options.get("force_digits") or options.get("keep_last")
    return bool(forcing) or sum(kept for _, kept in result.pieces) == 1


@SETTINGS
@given(text=texts(), opts=options())
def test_the_output_is_the_input_in_order_within_budget_and_creates_nothing(pruner, gemma, text, opts):
    result = pruner.prune(text, **opts)
    assert "".join(piece for piece, _ in result.pieces) == text
    assert "".join(piece for piece, kept in result.pieces if kept) == result.text
    assert "\ufffd" not in result.text
    assert not created(pruner.tokenizer, text, result.text)
    assert within_budget(pruner, text, result, opts)
    assert pruner.prune(text, **opts) == result  # deterministic
    whole = {k: v for k, v in opts.items() if k not in ("rate", "target_tokens")}
    assert pruner.prune(text, rate=1.0, **whole).text == text


@SETTINGS
@given(text=texts(), opts=options())
def test_a_target_budget_holds_and_no_target_token_is_created(pruner, gemma, text, opts):
    opts.pop("chunk", None)
    result = pruner.prune(text, target_tokenizer=gemma, **opts)
    assert not created(gemma, text, result.text) and not created(pruner.tokenizer, text, result.text)
    assert result.target_compressed_tokens == len(gemma.encode(result.text, add_special_tokens=False).ids)
    if "target_tokens" in opts and result.target_compressed_tokens > opts["target_tokens"]:
        smallest = pruner.prune(text, target_tokens=1, **{k: v for k, v in opts.items() if k != "target_tokens"})
        assert result.text == smallest.text  # over the target only when even the smallest output is


@pytest.fixture(scope="module")
def threaded(smollm2_slice):
    """The same slice loaded with one scoring thread and with two."""
    from lite import load

    return load(smollm2_slice, threads=1), load(smollm2_slice, threads=2)


@SETTINGS
@given(text=texts(), opts=options())
def test_any_thread_count_and_the_service_give_the_library_text(threaded, text, opts):
    one, two = threaded
    expected = one.prune(text, **opts)
    assert two.prune(text, **opts).text == expected.text
    with running(two) as client:
        served = client.post("/v1/prune", json={"text": text, **opts})
    assert served.status_code == 200, served.text
    assert served.json()["text"] == expected.text
