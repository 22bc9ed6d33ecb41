"""lite.integrations.litellm against the real litellm: LiteGuardrail made from the proxy config documented in
docs/integrations.md, the way the proxy makes it, and its pre-call hook on real chat payloads."""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import os
import re
import threading
import time

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no price map fetched from the internet at import

import pytest
import yaml
from litellm.proxy.types_utils.utils import get_instance_fn
from litellm.types.guardrails import GuardrailEventHooks, LitellmParams

from lite.errors import LiteError
from lite.integrations.litellm import LiteGuardrail
from lite.prune import Pruner
from tests.helpers import PASSAGES, REPO

PROXY_EXCLUDED = ("guardrail", "mode", "default_on", "stream_scope")  # what the proxy keeps for itself


def documented_guardrail() -> dict:
    """The `guardrails:` entry of the proxy config in docs/integrations.md."""
    text = (REPO / "docs" / "integrations.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    [config] = [b for b in blocks if "guardrails" in b]
    return config["guardrails"][0]


def made_like_the_proxy(entry: dict, config_path) -> LiteGuardrail:
    """What litellm's GuardrailRegistry.initialize_custom_guardrail does with a config entry (the registry
    itself needs litellm[proxy])."""
    params = LitellmParams(**entry["litellm_params"])
    cls = get_instance_fn(params.guardrail, config_file_path=str(config_path))
    extra = {k: v for k, v in params.model_dump(exclude_none=True).items() if k not in PROXY_EXCLUDED}
    return cls(guardrail_name=entry["guardrail_name"], event_hook=params.mode, default_on=params.default_on, **extra)


def chat() -> list[dict]:
    """Few-shot turns, a tool call with JSON arguments and its result, an image part, and the question."""
    return [
        {"role": "system", "content": "Answer with a number."},
        {"role": "user", "content": PASSAGES[0] + " How much does she make every day?"},
        {"role": "assistant", "content": "She sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "lookup", "arguments": json.dumps({"city": "Paris", "fields": ["river", "region"]})}}]},
        {"role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": PASSAGES[1]},
        {"role": "user", "content": [
            {"type": "text", "text": PASSAGES[2]},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
        ], "x-trace": {"span": 7}},
        {"role": "user", "content": "Where does the Rhine flow into the sea?"},
    ]


@pytest.fixture(scope="module")
def guardrail(tmp_path_factory, smollm2_slice) -> LiteGuardrail:
    entry = documented_guardrail()
    assert entry["litellm_params"]["guardrail"] == "lite.integrations.litellm.LiteGuardrail"
    assert entry["litellm_params"]["mode"] == "pre_call"
    entry["litellm_params"]["lite_model"] = str(smollm2_slice)  # the documented file, made by the test fixture
    return made_like_the_proxy(entry, tmp_path_factory.mktemp("proxy") / "config.yaml")


def test_documented_config_prunes_messages_like_prune_messages(guardrail, pruner):
    messages = chat()
    data = {"model": "gpt-4o-mini", "messages": messages, "metadata": {"user": "u1"}}
    assert guardrail.should_run_guardrail(data, GuardrailEventHooks.pre_call)
    assert not guardrail.should_run_guardrail(data, GuardrailEventHooks.post_call)
    out = asyncio.run(guardrail.async_pre_call_hook(None, None, data, "acompletion"))
    expected = pruner.prune_messages(chat(), rate=0.7, roles=["user", "assistant", "tool"], keep_last_user=True)
    assert out["messages"] == expected.messages
    assert messages == chat() and data["messages"] is messages  # the request is not changed in place
    assert out["model"] == "gpt-4o-mini"
    assert out["metadata"] == {"user": "u1", "lite": {"origin_tokens": expected.origin_tokens,
                                                      "compressed_tokens": expected.compressed_tokens,
                                                      "rate": round(expected.rate, 6)}}
    assert expected.compressed_tokens < expected.origin_tokens
    before, after = chat(), out["messages"]
    pruned = {1, 2, 4, 5}
    for i, (old, new) in enumerate(zip(before, after)):
        if i not in pruned:  # system, the tool call, the question: byte-identical
            assert json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True)
    assert after[4]["tool_call_id"] == "call_1" and after[4]["name"] == "lookup"
    assert after[5]["content"][1] == before[5]["content"][1] and after[5]["x-trace"] == {"span": 7}
    for i in pruned:
        assert after[i]["content"] != before[i]["content"]


class SlowPruner(Pruner):
    """prune_messages that takes a while and records the thread it ran on."""

    def __init__(self, base: Pruner):
        super().__init__(base.scorer, base.tokenizer)
        self.threads: list[int] = []

    @functools.wraps(Pruner.prune_messages)  # its signature: the guardrail checks its options against it
    def prune_messages(self, messages, *args, **kwargs):
        self.threads.append(threading.get_ident())
        time.sleep(0.3)
        return super().prune_messages(messages, *args, **kwargs)


def test_pruning_runs_in_a_thread_while_the_event_loop_goes_on(pruner):
    slow = SlowPruner(pruner)
    guard = LiteGuardrail(pruner=slow, rate=0.5, event_hook="pre_call")
    data = {"messages": chat()}

    async def scenario():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        out = await guard.async_pre_call_hook(None, None, data, "completion")
        task.cancel()
        return out, ticks, threading.get_ident()

    out, ticks, loop_thread = asyncio.run(scenario())
    assert len(slow.threads) == 2 and slow.threads[-1] != loop_thread  # [0]: the options check at construction
    assert ticks >= 5  # the loop ran on while the 0.3 s prune did
    assert out["messages"] == pruner.prune_messages(chat(), rate=0.5).messages


def test_requests_without_messages_and_bad_payloads(pruner):
    guard = LiteGuardrail(pruner=pruner, rate=0.5)
    embedding = {"model": "text-embedding-3-small", "input": ["a", "b"]}
    assert asyncio.run(guard.async_pre_call_hook(None, None, embedding, "aembedding")) is embedding
    bad = {"messages": [{"role": "robot", "content": "beep"}]}
    with pytest.raises(LiteError, match=r"^LiteGuardrail: messages\[0\] has unknown role 'robot'"):
        asyncio.run(guard.async_pre_call_hook(None, None, bad, "completion"))
    skipping = LiteGuardrail(pruner=pruner, rate=0.5, on_error="skip")
    assert asyncio.run(skipping.async_pre_call_hook(None, None, copy.deepcopy(bad), "completion")) == bad


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 2}, "LiteGuardrail: rate must be in (0, 1]"),
    ({"target_tokens": 0}, "LiteGuardrail: target_tokens must be a whole number of at least 1"),
    ({"roles": ["robot"]}, "LiteGuardrail: unknown role 'robot' in roles"),
    ({"ratio": 3}, "LiteGuardrail: unknown option 'ratio'; lite's options are: lite_model, pruner, "
                   "on_error, rate, target_tokens, method"),
    ({"on_error": "ignore"}, "LiteGuardrail: on_error must be one of raise, skip"),
    ({"event_hook": "post_call"}, "LiteGuardrail: Event hook GuardrailEventHooks.post_call is not in the supported"),
    ({"lite_model": "missing.safetensors"}, "LiteGuardrail: give either model"),
    ({"pruner": None, "lite_model": "missing.safetensors"}, "LiteGuardrail: no slice file at missing.safetensors"),
])
def test_bad_options_are_one_line_errors(pruner, kwargs, message):
    with pytest.raises(LiteError) as err:
        LiteGuardrail(**{"pruner": pruner, **kwargs})
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_missing_slice_in_the_proxy_config(tmp_path):
    entry = documented_guardrail()
    entry["litellm_params"]["lite_model"] = str(tmp_path / "missing.safetensors")
    with pytest.raises(LiteError, match="^LiteGuardrail: no slice file at .*missing.safetensors"):
        made_like_the_proxy(entry, tmp_path / "config.yaml")
