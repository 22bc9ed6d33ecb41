"""Shared pieces of the serve tests: a running lite service per configuration, and HTTP helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from lite.serve import ServeConfig, create_app
from tools.fake_upstream import FakeUpstream, ServerThread


@contextlib.contextmanager
def running(pruner, upstream_url: str | None = None, **settings) -> Iterator[httpx.Client]:
    """A lite service on a loopback port (uvicorn in a thread) and a client for it."""
    config = ServeConfig(model="smollm2", upstream=upstream_url, **settings)
    with ServerThread(create_app(config, pruner)) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> str:
    """The error's message, after checking the status and the JSON shape {"error": {"message", "type"}}."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "\n" not in body["error"]["message"]
    return body["error"]["message"]


__all__ = ["FakeUpstream", "ServerThread", "error_of", "running"]
