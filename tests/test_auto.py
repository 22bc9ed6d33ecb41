"""rate="auto": the rule against an independent computation, its ceiling, its errors, and every surface."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from bench.rag.contexts import answer_kept, xquad_contexts
from lite import LiteError
from lite.prune.auto import KEEP_AT
from lite.prune.relevance import NEIGHBOUR_WEIGHT, terms
from lite.prune.sentences import split_spans
from lite.serve.options import header_rate
from tests.helpers import REPO
from tests.serve_support import running


def independent_bm25(documents: list[list[str]], query: list[str]) -> list[float]:
    """BM25 (k1 1.2, b 0.75) written out again, term by term, without numpy."""
    n = len(documents)
    average = sum(map(len, documents)) / n
    scores = []
    for document in documents:
        counts = Counter(document)
        score = 0.0
        for term in set(query):
            if counts[term]:
                df = sum(term in d for d in documents)
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * counts[term] * 2.2 / (counts[term] + 1.2 * (0.25 + 0.75 * len(document) / average))
        scores.append(score)
    return scores


def expected_kept(passages: list[str], question: str) -> list[list[str]]:
    """The sentences of each passage that the documented rule keeps: share + passage share >= KEEP_AT."""
    sentences = [[p[a:b] for a, b in split_spans(p)] for p in passages]
    flat = [(k, s) for k, passage in enumerate(sentences) for s in passage]
    own = independent_bm25([terms(s) for _, s in flat], terms(question))
    with_previous = [o + (NEIGHBOUR_WEIGHT * own[i - 1] if i and flat[i - 1][0] == k else 0.0)
                     for i, ((k, _), o) in enumerate(zip(flat, own))]
    whole = independent_bm25([terms("".join(p), whole_words=True) for p in sentences], terms(question, True))
    best_own, best_whole = max(with_previous), max(whole)
    kept: list[list[str]] = [[] for _ in passages]
    for (k, sentence), score in zip(flat, with_previous):
        if score / best_own + whole[k] / best_whole >= KEEP_AT - 1e-12:
            kept[k].append(sentence)
    return kept


@pytest.mark.parametrize("lang", ["en", "zh", "th", "hi", "ar", "ru"])
def test_auto_keeps_the_sentences_the_rule_names(pruner, lang):
    for context in xquad_contexts(lang, "dev", 10, "hard")[:6]:
        result = pruner.prune(list(context.passages), rate="auto", question=context.question)
        expected = expected_kept(list(context.passages), context.question)
        # a sentence's units are its tokens: the space before its first word may come with it (whitespace aside)
        assert [" ".join(segment.text.split()) for segment in result.segments] == \
            [" ".join("".join(k).split()) for k in expected]
        assert result.rate == result.compressed_tokens / result.origin_tokens < 1


def test_auto_keeps_the_answer_and_little_else_on_twenty_passages(pruner):
    contexts = xquad_contexts("en", "dev", 20, "hard")[:20]
    results = [pruner.prune(list(c.passages), rate="auto", question=c.question) for c in contexts]
    kept = [answer_kept(r.segments[c.gold].text, c) for r, c in zip(results, contexts)]
    assert np.mean(kept) >= 0.9 and np.mean([r.rate for r in results]) <= 0.15


def test_a_passage_that_shares_nothing_keeps_nothing(pruner):
    passages = ["Warsaw is the capital of Poland. It lies on the Vistula.", "Bananas are yellow. Apples are red."]
    result = pruner.prune(passages, rate="auto", question="What river does Warsaw lie on?")
    assert result.segments[1].text == "" and "Warsaw" in result.text


def test_no_evidence_drops_nothing(pruner):
    passages = ["Bananas are yellow.", "Apples are red."]
    assert pruner.prune(passages, rate="auto", question="qqq zzz?").text == "".join(passages)


def test_one_string_is_cut_into_passages_at_blank_lines(pruner):
    text = "Bananas are yellow. They grow in bunches.\n\nWarsaw is the capital of Poland. It is on the Vistula."
    assert pruner.prune(text, rate="auto", question="What is the capital of Poland?").text.startswith("Warsaw is")
    assert pruner.prune(text.replace("\n\n", " "), rate="auto", question="What is the capital of Poland?").text \
        == text.replace("\n\n", " ")  # one paragraph: the best passage, kept whole
    capped = pruner.prune(text.replace("\n\n", " "), rate="auto", question="What is the capital of Poland?",
                          target_tokens=8)
    assert capped.compressed_tokens <= 8 and "Poland" in capped.text  # its most relevant sentence first


def test_target_tokens_is_a_ceiling(pruner):
    context = xquad_contexts("de", "dev", 20, "hard")[0]
    free = pruner.prune(list(context.passages), rate="auto", question=context.question)
    capped = pruner.prune(list(context.passages), rate="auto", question=context.question, target_tokens=10)
    assert capped.compressed_tokens <= 10 < free.compressed_tokens
    loose = pruner.prune(list(context.passages), rate="auto", question=context.question, target_tokens=100000)
    assert loose.text == free.text


def test_messages_and_compress_prompt_take_auto(pruner):
    context = xquad_contexts("en", "dev", 5, "hard")[1]
    direct = pruner.prune(list(context.passages), rate="auto", question=context.question)
    messages = [{"role": "tool", "content": p} for p in context.passages] + [{"role": "user",
                                                                            "content": context.question}]
    chat = pruner.prune_messages(messages, rate="auto", rank_by_question=True)
    assert [m["content"] for m in chat.messages[:-1]] == [s.text for s in direct.segments]
    with pytest.raises(LiteError, match="rate auto keeps what is relevant to a question"):
        pruner.prune_messages(messages[-1:], rate="auto")  # nothing to prune, but no question either
    compressed = pruner.compress_prompt(list(context.passages), question=context.question, rate="auto")
    assert compressed["compressed_tokens"] == direct.compressed_tokens + pruner.count_tokens(context.question)


@pytest.mark.parametrize("kwargs, message", [
    (dict(rate="auto"), "rate auto keeps what is relevant to a question"),
    (dict(rate="auto", structure="text"), "rate auto keeps what is relevant to a question"),
    (dict(rate="automatic"), "rate must be a number in (0, 1] or auto"),
    (dict(rate="auto", question="cats?", structure="json"), "this text is json"),
])
def test_auto_errors_are_one_line(pruner, kwargs, message):
    with pytest.raises(LiteError, match=None) as err:
        pruner.prune('{"a": "cats"}', **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_auto_through_the_cli_and_the_service(pruner, smollm2_slice, tmp_path):
    context = xquad_contexts("es", "dev", 5, "hard")[2]
    text = "\n\n".join(context.passages)
    expected = pruner.prune(text, rate="auto", question=context.question).text
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "lite.prune", "--model", str(smollm2_slice), "--rate", "auto"]
    done = subprocess.run([*cli, "--question", context.question], input=text.encode(), capture_output=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0 and done.stdout.decode() == expected
    refused = subprocess.run(cli, input=text.encode(), capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert refused.returncode != 0 and len(refused.stderr.decode().strip().splitlines()) == 1
    with running(pruner) as client:
        served = client.post("/v1/prune", json={"text": text, "rate": "auto", "question": context.question})
        assert served.status_code == 200 and served.json()["text"] == expected
        assert client.post("/v1/prune", json={"text": text, "rate": "auto"}).status_code == 400
    assert header_rate(" Auto") == {"rate": "auto"}  # a forwarded request's X-Lite-Rate


def test_a_batch_takes_each_record_s_question(smollm2_slice, tmp_path):
    records = [{"context": "Bananas are yellow.\n\nWarsaw is the capital of Poland. It lies on the Vistula.",
                "question": "What is the capital of Poland?"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "lite.prune", "--model", str(smollm2_slice), "--rate", "auto", "--jsonl",
           str(source), "--field", "context", "--out", str(tmp_path / "out.jsonl")]
    done = subprocess.run([*cli, "--question-field", "question"], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    out = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert out["context"] == "Warsaw is the capital of Poland. It lies on the Vistula."
    refused = subprocess.run(cli, capture_output=True, env=env, timeout=120)  # no question anywhere: before any work
    assert refused.returncode == 2 and "rate auto" in refused.stderr.decode()
    assert len(refused.stderr.decode().strip().splitlines()) == 1


def test_the_guardrail_refuses_auto_without_rank_by_question(pruner):
    from lite.integrations.litellm import LiteGuardrail

    with pytest.raises(LiteError, match="rate auto keeps what is relevant to a question"):
        LiteGuardrail(pruner=pruner, rate="auto")
    assert LiteGuardrail(pruner=pruner, rate="auto", rank_by_question=True) is not None


def test_adapters_rank_the_documents_together_and_leave_out_the_irrelevant(pruner):
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    from lite.integrations.langchain import LiteCompressor
    from lite.integrations.llamaindex import LitePostprocessor

    passages = ["Warsaw is the capital of Poland. It lies on the Vistula.", "Bananas are yellow. Apples are red."]
    question = "What river does Warsaw lie on?"
    expected = pruner.prune(passages, rate="auto", question=question).segments[0].text
    docs = LiteCompressor(pruner=pruner, rate="auto").compress_documents([Document(page_content=p) for p in passages],
                                                                         question)
    assert [d.page_content for d in docs] == [expected]
    nodes = [NodeWithScore(node=TextNode(text=p), score=1.0) for p in passages]
    post = LitePostprocessor(pruner=pruner, rate="auto").postprocess_nodes(nodes, query_str=question)
    assert [n.node.text for n in post] == [expected]
