"""Every option of lite.PruneOptions, through every surface: the library, the CLI, the service over real HTTP,
the LangChain and LlamaIndex adapters, LiteLLM's guardrail (chat options) and Ray's option check give the
library's answer under the same name. The cases are made from the schema: an option without a sample
value here fails the test, so a new option cannot miss a surface."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from lite.prune.flags import flag
from lite.prune.options import SPEC, names
from tests.helpers import REPO
from tests.serve_support import running


def samples(tokenizer_path: str) -> dict:
    """A value for each option that changes what a prune gives (a budget beside it unless it is one)."""
    return {
        "rate": 0.6, "target_tokens": 30, "method": "attention", "granularity": "word",
        "question": "How many tennis balls does he have now?", "force": ["?", "\n"], "force_digits": True,
        "keep_last": 5, "drop_consecutive": True, "target_tokenizer": tokenizer_path, "max_tokens": 4096,
        "chunk": 16, "structure": "text", "code": "lines", "roles": ["user", "tool"], "keep_last_user": False,
        "rank_by_question": True,
    }


# these change only what is not prose: tried on a Markdown file and on a Python file
STRUCTURED = {"structure": "md_httpx.md", "code": "code_urllib3_retry.py"}


@pytest.fixture(scope="module")
def text(mgsm):
    return mgsm.exemplars("en")[0] + "\n\n" + mgsm.exemplars("en")[1]


def structured(name: str) -> str:
    return (REPO / "bench" / "data" / "structured" / STRUCTURED[name]).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tokenizer_path(smollm2) -> str:
    return str(smollm2 / "tokenizer.json")


def with_budget(name: str, value) -> dict:
    """The option, with what it works with: a rate (or a target, for a target tokenizer), forced strings."""
    if name in ("rate", "target_tokens"):
        return {name: value}
    if name == "target_tokenizer":
        return {name: value, "target_tokens": 30}
    return {name: value, "rate": 0.5, **({"force": ["\n"]} if name == "drop_consecutive" else {})}


def cli_args(options: dict) -> list[str]:
    args = []
    for name, value in options.items():
        if isinstance(value, bool):
            args += [flag(name)] if value else []
        elif isinstance(value, list):
            args += [part for item in value for part in (flag(name), item)]
        else:
            args += [flag(name), str(value)]
    return args


def test_every_option_has_a_sample(tokenizer_path):
    assert set(samples(tokenizer_path)) == set(names("messages"))


def test_text_options_agree_on_every_surface(pruner, smollm2_slice, text, tokenizer_path, tmp_path):
    from langchain_core.documents import Document
    from llama_index.core.schema import NodeWithScore, TextNode

    from lite.integrations.langchain import LiteCompressor
    from lite.integrations.llamaindex import LitePostprocessor
    from lite.prune.target import target_tokenizer
    from lite.ray import options_of

    loaded = {"smollm2": target_tokenizer(tokenizer_path)}
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    prose = text
    with running(pruner, target_tokenizers=loaded) as client:
        for name in names("text"):
            text = structured(name) if name in STRUCTURED else prose
            options = with_budget(name, samples(tokenizer_path)[name])
            expected = pruner.prune(text, **options).text
            assert expected != pruner.prune(text, rate=0.5).text or name in ("max_tokens", "rate"), name
            cli = subprocess.run([sys.executable, "-m", "lite.prune", "--model", str(smollm2_slice),
                                  *cli_args(options)], input=text.encode(), capture_output=True, env=env,
                                 cwd=tmp_path, timeout=120)
            assert cli.returncode == 0, (name, cli.stderr.decode())
            assert cli.stdout.decode() == expected, name
            body = {**options, "target_tokenizer": "smollm2"} if name == "target_tokenizer" else options
            served = client.post("/v1/prune", json={"text": text, **body})
            assert served.status_code == 200, (name, served.text)
            assert served.json()["text"] == expected, name
            question = options.pop("question", None)  # the adapters take the question as the query
            compressor = LiteCompressor(pruner=pruner, **options)
            assert compressor.compress_documents([Document(page_content=text)], question)[0].page_content == \
                expected, name
            post = LitePostprocessor(pruner=pruner, **options)
            node = NodeWithScore(node=TextNode(text=text), score=1.0)
            assert post.postprocess_nodes([node], query_str=question)[0].node.text == expected, name
            assert options_of(with_budget(name, samples(tokenizer_path)[name])) is not None


def test_chat_options_agree_on_every_surface(pruner, mgsm, tokenizer_path):
    from lite.integrations.litellm import LiteGuardrail

    shots = mgsm.exemplars("de")[:3]
    messages = [{"role": "system", "content": "Solve it."}]
    for shot in shots:
        ask, answer = shot.split("\n", 1)
        messages += [{"role": "user", "content": ask}, {"role": "assistant", "content": answer}]
    messages.append({"role": "tool", "content": shots[0]})
    with running(pruner) as client:
        for name in names("messages"):
            if SPEC[name].scope != "messages":
                continue
            options = with_budget(name, samples(tokenizer_path)[name])
            expected = pruner.prune_messages(messages, **options).messages
            assert expected != pruner.prune_messages(messages, rate=0.5).messages, name
            served = client.post("/v1/prune", json={"messages": messages, **options})
            assert served.status_code == 200, (name, served.text)
            assert served.json()["messages"] == expected, name
            guard = LiteGuardrail(pruner=pruner, **options)
            data = asyncio.run(guard.async_pre_call_hook(None, None, {"messages": json.loads(json.dumps(messages))},
                                                         "completion"))
            assert data["messages"] == expected, name


def test_the_options_doc_is_written_from_the_schema(tmp_path):
    from bench.quality.report import write_docs
    from lite.prune.options import options_table

    doc = REPO / "docs" / "options.md"
    copy = tmp_path / "options.md"
    copy.write_text(doc.read_text(encoding="utf-8"), encoding="utf-8")
    assert "options" in write_docs({"options": options_table()}, files=[copy]).written
    assert copy.read_text(encoding="utf-8") == doc.read_text(encoding="utf-8"), "run python -m tools.options_doc"
