"""compress_prompt as LLMLingua code calls it: structured <llmlingua> tags and LLMLingua's option names."""

from __future__ import annotations

import pytest

from lite import LiteError
from lite.prune.llmlingua import split_tags

PASSAGE = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for "
    "her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg."
)
NOTE = "Roger has 5 tennis balls. He buys 2 more cans of tennis balls. Each can has 3 tennis balls."


def test_split_tags_reads_llmlingua_tags():
    item = f"<llmlingua, compress=False>Question: </llmlingua><llmlingua, rate=0.4>{PASSAGE}</llmlingua>"
    assert split_tags(item, "c") == [("Question: ", None, False), (PASSAGE, 0.4, True)]
    assert split_tags("<llmlingua, rate=0.3, compress=True>a</llmlingua>", "c") == [("a", 0.3, True)]
    assert split_tags("<llmlingua, compress=False, rate=0.3>a</llmlingua>", "c") == [("a", 0.3, False)]
    assert split_tags("<llmlingua>a</llmlingua>", "c") == [("a", None, True)]
    assert split_tags("x<llmlingua, compress=False>{</llmlingua>y", "c") == [
        ("x", None, True),
        ("{", None, False),
        ("y", None, True),
    ]
    assert split_tags("<llmlingua, rate=0.5>open to the end", "c") == [
        ("open to the end", 0.5, True)
    ]  # closed at the end
    assert split_tags("<llmlingua, rate=0.5>a <b>bold</b> word</llmlingua>", "c") == [("a <b>bold</b> word", 0.5, True)]
    assert split_tags("no tags here", "c") is None


def test_tagged_spans_pruned_on_their_own_and_untagged_items_as_before(pruner):
    item = f"<llmlingua, compress=False>Question: </llmlingua><llmlingua, rate=0.4>{PASSAGE}</llmlingua>"
    out = pruner.compress_prompt([item, NOTE], instruction="Answer with a number.", question="How much?", rate=0.6)
    passage = pruner.prune(PASSAGE, rate=0.4)
    note = pruner.prune(NOTE, rate=0.6)
    assert out["compressed_prompt_list"] == ["Question: " + passage.text, note.text]
    assert out["compressed_prompt"] == "\n\n".join(
        ["Answer with a number.", "Question: " + passage.text, note.text, "How much?"]
    )
    kept_whole = sum(pruner.count_tokens(t) for t in ("Answer with a number.", "Question: ", "How much?"))
    assert out["origin_tokens"] == kept_whole + passage.origin_tokens + note.origin_tokens
    assert out["compressed_tokens"] == kept_whole + passage.compressed_tokens + note.compressed_tokens
    assert "<llmlingua" not in out["compressed_prompt"]
    # compress=False wins over a rate; text outside tags goes at the call's rate
    mixed = pruner.compress_prompt([f"<llmlingua, compress=False, rate=0.2>{NOTE}</llmlingua> {PASSAGE}"], rate=0.5)
    assert mixed["compressed_prompt"] == NOTE + pruner.prune(" " + PASSAGE, rate=0.5).text
    # no tags: exactly what compress_prompt gave before (each item a segment at the rate)
    plain = pruner.compress_prompt([PASSAGE, NOTE], rate=0.5)
    assert plain["compressed_prompt_list"] == [pruner.prune(PASSAGE, rate=0.5).text, pruner.prune(NOTE, rate=0.5).text]


def test_llmlingua_json_helper_output(pruner):
    """The shape LLMLingua's process_structured_json_data produces for a JSON object."""
    item = (
        '<llmlingua, compress=False>{</llmlingua><llmlingua, compress=False>"story": </llmlingua>'
        f"<llmlingua, rate=0.5>{PASSAGE}</llmlingua><llmlingua, compress=False>, </llmlingua>"
        '<llmlingua, compress=False>"id": 7</llmlingua><llmlingua, compress=False>}</llmlingua>'
    )
    out = pruner.compress_prompt([item], rate=0.9)
    assert out["compressed_prompt"] == '{"story": ' + pruner.prune(PASSAGE, rate=0.5).text + ', "id": 7}'


def test_llmlingua_option_names(pruner):
    same = pruner.compress_prompt([PASSAGE], rate=0.5)
    spelled_out = pruner.compress_prompt(
        [PASSAGE],
        rate=0.5,
        use_context_level_filter=False,
        use_token_level_filter=True,
        force_context_ids=[],
        chunk_end_tokens=[".", "\n"],
        return_word_label=False,
        token_to_word="mean",
        target_context=-1,
        iterative_size=200,
        keep_split=False,
    )
    assert spelled_out == same
    forced = pruner.compress_prompt(
        [PASSAGE], rate=0.3, force_tokens=["\n", "$"], force_reserve_digit=True, drop_consecutive=True
    )
    assert all(s in forced["compressed_prompt"] for s in ("16", "$2"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"use_token_level_filter": False}, "use_token_level_filter=False is not supported by lite"),
        ({"return_word_label": True}, "return_word_label=True is not supported by lite"),
        ({"no_such_option": 1}, "unknown option 'no_such_option'"),
        (
            {"context": ["<llmlingua, rate=1.5>x</llmlingua>"]},
            "context[0]: rate=1.5 in an <llmlingua> tag must be in (0, 1]",
        ),
        (
            {"context": ["<llmlingua, compress=maybe>x</llmlingua>"]},
            "compress=maybe in an <llmlingua> tag must be True or False",
        ),
        ({"context": ["ok", "<llmlingua, ratio=2>x</llmlingua>"]}, "context[1]: unknown option 'ratio'"),
        ({"context": ["<llmlingua>a<llmlingua>b</llmlingua></llmlingua>"]}, "malformed or nested"),
        ({"context": ["a passage with a stray </llmlingua> closing tag in it"]}, "malformed or nested"),
    ],
)
def test_bad_options_and_tags_are_one_line_errors(pruner, kwargs, message):
    kwargs = {"context": [PASSAGE], **kwargs}
    with pytest.raises(LiteError) as err:
        pruner.compress_prompt(rate=0.5, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)
