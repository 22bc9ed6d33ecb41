"""A local stand-in for an OpenAI-compatible API, and a way to run any ASGI app on a loopback port.

`FakeUpstream` answers `/v1/chat/completions`, `/v1/completions` and `/v1/models` at once and
records every request it received (method, path, query, headers as sent, body bytes). With
`"stream": true` it answers SSE events one by one; `gate` (a threading.Event) makes it wait
after the first event until the test has seen that event, which proves a proxy relays chunk by
chunk instead of buffering. `fail` makes the next answers an error (status, body).
Used by tests/test_serve*.py and bench/serve.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


class ServerThread:
    """Run an ASGI app with uvicorn on 127.0.0.1 (a free port) in a daemon thread; a context manager."""

    def __init__(self, app, host: str = "127.0.0.1", log_level: str = "warning"):
        # proto IPPROTO_TCP, as getaddrinfo gives it: asyncio sets TCP_NODELAY on accepted connections only
        # then (with proto 0, Nagle and delayed ACKs add ~40 ms to every answer on a kept-alive connection)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]  # as they arrived, names lower-cased
    body: bytes
    raw_path: str = ""  # the path as sent, percent-escapes and all

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeUpstream:
    chunks: int = 5  # SSE events before [DONE]
    received: list[Received] = field(default_factory=list)
    fail: tuple[int, bytes, str] | None = None  # status, body, content type of every answer while set
    gate: threading.Event | None = None  # when set up: wait for it after the first SSE event
    gate_timeout: float = 10.0
    gate_timed_out: bool = False

    def reset(self) -> None:
        self.received.clear()
        self.fail, self.gate, self.gate_timed_out = None, None, False

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/chat/completions", self.answer, methods=["POST"]),
            Route("/v1/completions", self.answer, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/files/{rest:path}", self.models, methods=["GET"]),
        ])

    async def record(self, request: Request) -> Received:
        received = Received(request.method, request.url.path, request.url.query,
                            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
                            await request.body(), request.scope.get("raw_path", b"").decode("latin-1"))
        self.received.append(received)
        return received

    async def models(self, request: Request) -> Response:
        await self.record(request)
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def answer(self, request: Request) -> Response:
        received = await self.record(request)
        if self.fail is not None:
            status, body, content_type = self.fail
            return Response(body, status_code=status, media_type=content_type)
        payload = received.json()
        if payload.get("stream"):
            return StreamingResponse(self.events(payload), media_type="text/event-stream",
                                     headers={"X-Upstream": "fake"})
        text = json.dumps(payload.get("messages", payload.get("prompt")), ensure_ascii=False)
        words = len(text.split())
        return JSONResponse({
            "id": "cmpl-fake", "object": "chat.completion", "model": payload.get("model", "fake-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"echo {len(text)}"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": words, "completion_tokens": 2, "total_tokens": words + 2},
        }, headers={"X-Upstream": "fake", "Set-Cookie": "a=1"})

    async def events(self, payload: dict):
        for i, event in enumerate(expected_events(self.chunks)[:-1]):
            yield event
            if i == 0 and self.gate is not None:
                deadline = time.monotonic() + self.gate_timeout
                while not self.gate.is_set():
                    if time.monotonic() > deadline:
                        self.gate_timed_out = True
                        break
                    await asyncio.sleep(0.01)
        yield b"data: [DONE]\n\n"


def expected_events(chunks: int) -> list[bytes]:
    """The SSE events FakeUpstream sends for a stream, in order."""
    events = []
    for i in range(chunks):
        event = {"id": "chunk", "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": f"part{i} "}, "finish_reason": None}]}
        events.append(f"data: {json.dumps(event)}\n\n".encode())
    return [*events, b"data: [DONE]\n\n"]
