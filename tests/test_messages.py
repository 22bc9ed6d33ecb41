"""Pruner.prune_messages on real chat payloads with the real SmolLM2-135M slice."""

from __future__ import annotations

import copy
import json

import pytest

from lite import LiteError

IMAGE = {
    "type": "image_url",
    "image_url": {
        "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
        "wAAAABJRU5ErkJggg==",
        "detail": "low",
    },
}
AUDIO = {
    "type": "input_audio",
    "input_audio": {"data": "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=", "format": "wav"},
}


def canon(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def few_shot_chat(mgsm, lang: str, shots: int = 3) -> list[dict]:
    """The paper's multi-turn setting: exemplars as user/assistant turns, then the question."""
    messages = [{"role": "system", "content": "Solve the math problem step by step. End with 'The answer is N'."}]
    for shot in mgsm.exemplars(lang)[:shots]:
        question, answer = shot.split("\n", 1)
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": mgsm.questions(lang)[0][0]})
    return messages


def tool_chat() -> list[dict]:
    """A tool round trip: a call with JSON arguments, its result, an image part and unknown fields."""
    arguments = json.dumps({"city": "Zürich", "days": 3, "units": "metric", "fields": ["temp", "rain"]})
    weather = {
        "city": "Zürich",
        "forecast": [
            {
                "day": "Monday",
                "summary": "Light rain in the morning, clearing up in the afternoon with a cool wind from the north.",
                "high": 11,
                "low": 4,
            },
            {
                "day": "Tuesday",
                "summary": "Sunny and dry all day, a few clouds in the evening, little wind.",
                "high": 14,
                "low": 5,
            },
            {
                "day": "Wednesday",
                "summary": "Heavy showers and thunderstorms expected from noon, strong gusts near the lake.",
                "high": 9,
                "low": 3,
            },
        ],
    }
    return [
        {"role": "developer", "content": "You are a travel assistant. Answer briefly and cite the forecast."},
        {
            "role": "user",
            "name": "anna",
            "content": [
                {
                    "type": "text",
                    "text": "I am planning a three-day trip to Zürich next week and I would like to know what the "
                    "weather will be like, so that I can decide what to pack.",
                },
                IMAGE,
                {
                    "type": "text",
                    "text": "This is the jacket I was planning to bring; it is not waterproof, as far as I know.",
                },
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_8Jx2", "type": "function", "function": {"name": "get_forecast", "arguments": arguments}},
            ],
            "refusal": None,
        },
        {"role": "tool", "tool_call_id": "call_8Jx2", "content": json.dumps(weather, ensure_ascii=False)},
        {
            "role": "assistant",
            "content": "Expect rain on Monday and storms on Wednesday, with Tuesday sunny and dry in between; "
            "highs between 9 and 14 degrees.",
            "x_vendor": {"trace": [1, 2, 3]},
        },
        {
            "role": "user",
            "content": [{"type": "text", "text": "So should I buy a waterproof jacket before I go?"}, AUDIO],
        },
    ]


def test_few_shot_chat_prunes_the_shots_and_keeps_the_rest(pruner, mgsm):
    for lang in ("en", "zh", "bn"):
        messages = few_shot_chat(mgsm, lang)
        before = copy.deepcopy(messages)
        result = pruner.prune_messages(messages, rate=0.6)
        assert messages == before  # the input is not mutated
        assert result.messages is not messages and len(result.messages) == len(messages)
        assert canon(result.messages[0]) == canon(messages[0])  # system
        assert canon(result.messages[-1]) == canon(messages[-1])  # the question, the last user message
        assert result.per_message[0] is None and result.per_message[-1] is None
        for i, (old, new) in enumerate(zip(messages[1:-1], result.messages[1:-1]), start=1):
            alone = pruner.prune(old["content"], rate=0.6)  # each message is pruned on its own
            assert new == {"role": old["role"], "content": alone.text}, (lang, i)
            count = result.per_message[i]
            assert (count.origin_tokens, count.compressed_tokens) == (alone.origin_tokens, alone.compressed_tokens)
            assert count.target_origin_tokens is None and count.target_compressed_tokens is None
        fixed = pruner.count_tokens(messages[0]["content"]) + pruner.count_tokens(messages[-1]["content"])
        pruned = [c for c in result.per_message if c is not None]
        assert result.origin_tokens == fixed + sum(c.origin_tokens for c in pruned)
        assert result.compressed_tokens == fixed + sum(c.compressed_tokens for c in pruned)
        assert result.compressed_tokens < result.origin_tokens
        assert result.target_origin_tokens is None and result.target_compressed_tokens is None
        data = result.to_dict()
        assert json.loads(json.dumps(data))["messages"] == result.messages
        assert data["per_message"][0] is None and data["per_message"][1]["origin_tokens"] == pruned[0].origin_tokens


def test_tool_call_tool_result_and_image_parts(pruner):
    messages = tool_chat()
    before = canon(messages)
    result = pruner.prune_messages(messages, rate=0.5)
    assert canon(messages) == before
    out = result.messages
    # untouched: developer, the call (content None, tool_calls with JSON arguments), the last user message
    for i in (0, 2, 5):
        assert canon(out[i]) == canon(messages[i]), i
        assert result.per_message[i] is None
    assert json.loads(out[2]["tool_calls"][0]["function"]["arguments"])["city"] == "Zürich"
    # the user message with an image: its name, the image part and the parts' order kept; its texts pruned
    user = out[1]
    assert user["name"] == "anna" and [p["type"] for p in user["content"]] == ["text", "image_url", "text"]
    assert canon(user["content"][1]) == canon(IMAGE)
    for j in (0, 2):
        assert user["content"][j]["text"] == pruner.prune(messages[1]["content"][j]["text"], rate=0.5).text
        assert len(user["content"][j]["text"]) < len(messages[1]["content"][j]["text"])
    # the tool result: tool_call_id kept, content pruned
    assert out[3]["tool_call_id"] == "call_8Jx2" and set(out[3]) == {"role", "tool_call_id", "content"}
    assert out[3]["content"] == pruner.prune(messages[3]["content"], rate=0.5).text
    # an unknown field on a pruned message comes back as it was
    assert out[4]["x_vendor"] == {"trace": [1, 2, 3]} and out[4]["content"] != messages[4]["content"]
    # the copies are independent of the input
    out[1]["content"][1]["image_url"]["detail"] = "high"
    assert messages[1]["content"][1]["image_url"]["detail"] == "low"
    counts = result.per_message[1]
    assert counts.origin_tokens == sum(pruner.count_tokens(messages[1]["content"][j]["text"]) for j in (0, 2))


def test_roles_and_keep_last_user(pruner, mgsm):
    messages = few_shot_chat(mgsm, "en", shots=2)
    only_assistant = pruner.prune_messages(messages, rate=0.5, roles=("assistant",))
    for i, m in enumerate(messages):
        touched = m["role"] == "assistant"
        assert (only_assistant.messages[i] == m) != touched, i
        assert (only_assistant.per_message[i] is None) != touched
    everything = pruner.prune_messages(messages, rate=0.5, keep_last_user=False)
    assert everything.messages[-1]["content"] == pruner.prune(messages[-1]["content"], rate=0.5).text
    assert everything.messages[0] == messages[0]  # system stays unless named in roles
    with_system = pruner.prune_messages(messages, rate=0.5, roles=("system",))
    assert with_system.messages[0]["content"] != messages[0]["content"]
    assert with_system.messages[1:] == messages[1:]


def test_target_tokens_is_for_the_whole_payload(pruner, mgsm):
    messages = few_shot_chat(mgsm, "en")
    full = pruner.prune_messages(messages, rate=1.0)
    assert full.messages == messages and full.compressed_tokens == full.origin_tokens
    n = full.origin_tokens // 2
    result = pruner.prune_messages(messages, target_tokens=n)
    assert n - 8 <= result.compressed_tokens <= n  # shares rounded per message, single-token units (English)
    assert result.messages[0] == messages[0] and result.messages[-1] == messages[-1]


def test_empty_and_options(pruner):
    assert pruner.prune_messages([]).messages == [] and pruner.prune_messages([]).origin_tokens == 0
    messages = [
        {"role": "user", "content": ""},
        {"role": "assistant", "content": "Order 12 apples and 7 pears: 19 fruits."},
        {"role": "user", "content": "How many?"},
    ]
    result = pruner.prune_messages(messages, rate=0.3, force_digits=True, force=[":"])
    text = result.messages[1]["content"]
    assert all(d in text for d in ("12", "7", "19", ":"))
    assert result.messages[0] == messages[0] and result.per_message[0].origin_tokens == 0


@pytest.mark.parametrize(
    "messages, kwargs, message",
    [
        ([{"role": "robot", "content": "hi"}], {}, "messages[0] has unknown role 'robot'"),
        ([{"content": "hi"}], {}, "messages[0] has unknown role None"),
        ([{"role": "user", "content": 42}], {}, "messages[0].content must be a string or a list of parts, got int"),
        (
            [{"role": "user", "content": {"text": "hi"}}],
            {},
            "messages[0].content must be a string or a list of parts, got dict",
        ),
        ([{"role": "user", "content": ["hi"]}], {}, "messages[0].content[0] must be an object with a type"),
        (
            [{"role": "user", "content": [{"type": "text", "text": None}]}],
            {},
            "messages[0].content[0].text must be a string, got NoneType",
        ),
        (["hello"], {}, "messages[0] must be an object with a role, got str"),
        ("hello", {}, "messages must be a list"),
        ([{"role": "user", "content": "hi"}], {"roles": ("user", "bot")}, "unknown role 'bot' in roles"),
        (
            [{"role": "user", "content": "hi"}],
            {"target_tokens": 0},
            "target_tokens must be a whole number of at least 1",
        ),
        ([{"role": "user", "content": "hi"}], {"rate": 1.5}, "rate must be in (0, 1]"),
        ([{"role": "user", "content": "hi"}], {"rate": 0.5, "target_tokens": 3}, "either rate or target_tokens"),
        ([{"role": "user", "content": "hi"}], {"method": "nope"}, "nope"),
        ([{"role": "user", "content": "hi"}], {"roles": None}, "roles must be a list of role names, got NoneType"),
        ([{"role": "user", "content": "hi"}], {"keep_last_user": "no"}, "keep_last_user must be True or False"),
    ],
)
def test_bad_input_is_one_line_lite_error(pruner, messages, kwargs, message):
    with pytest.raises(LiteError) as err:
        pruner.prune_messages(messages, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_field_nested_too_deeply_to_copy_is_a_lite_error(pruner):
    deep: list = []
    for _ in range(5000):  # built without recursion; copying it recurses once per level
        deep = [deep]
    messages = [{"role": "user", "content": "Janet's ducks lay sixteen eggs.", "x_trace": deep},
                {"role": "user", "content": "How many?"}]
    with pytest.raises(LiteError, match=r"^messages\[0\] is nested too deeply to copy$"):
        pruner.prune_messages(messages, rate=0.5)
