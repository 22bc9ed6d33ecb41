"""The upstream: an OpenAI-compatible API the chat and completion routes forward to, over httpx.

A request goes out with the client's own headers (Authorization included), less the hop-by-hop
ones, `Host`, `Content-Length` (the body changed) and lite's own `X-Lite-*`. The answer comes back
as the upstream sent it: its status, its headers (less hop-by-hop ones) and its body bytes
undecoded, relayed chunk by chunk as they arrive, so a `stream: true` answer (SSE) reaches the
client event by event and an error answer (429, 401, 500...) reaches it with its status and body.
"""

from __future__ import annotations

import http.cookiejar
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from .errors import ApiError

log = logging.getLogger("lite.serve")

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
    "trailer", "trailers", "transfer-encoding", "upgrade",
})
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}
NOT_RELAYED = HOP_BY_HOP | {"content-length", "date", "server"}  # framed and dated by this server itself


RawHeaders = list[tuple[bytes, bytes]]


def connection_listed(headers: RawHeaders) -> set[str]:
    """Header names the Connection header marks as hop-by-hop."""
    return {name.strip().lower() for key, value in headers if key.lower() == b"connection"
            for name in value.decode("latin-1").split(",")}


def without(headers: RawHeaders, dropped: frozenset[str]) -> RawHeaders:
    """The headers (raw bytes, in order, duplicates kept) but the dropped names, those the Connection
    header lists, and lite's own X-Lite-*; names lower-cased."""
    dropped = dropped | connection_listed(headers)
    kept = [(k.lower(), v) for k, v in headers]
    return [(k, v) for k, v in kept if k.decode("latin-1") not in dropped and not k.startswith(b"x-lite-")]


class Upstream:
    def __init__(self, base_url: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        self.base = base_url.rstrip("/")
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            follow_redirects=False,
            transport=transport,
            # no cookie jar: one client's upstream cookies must never ride on another client's request
            cookies=http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        )
        for name in ("accept", "accept-encoding", "user-agent"):  # httpx's own defaults: send only the client's
            del self.client.headers[name]

    def url(self, path: str, query: str) -> str:
        """The upstream URL for a path under /v1 (e.g. "/chat/completions")."""
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    async def send(
        self, method: str, path: str, query: str, headers: RawHeaders, body: bytes,
        extra_headers: dict[str, str],
    ) -> StreamingResponse:
        """Send the request; answer with the upstream's answer, streamed, plus `extra_headers`."""
        request = self.client.build_request(method, self.url(path, query), headers=without(headers, NOT_FORWARDED),
                                            content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise ApiError(504, f"the upstream {self.base} did not answer in time") from None
        except httpx.HTTPError as err:
            raise ApiError(502, f"the upstream {self.base} cannot be reached ({type(err).__name__})") from None
        answer = StreamingResponse(relay(response), status_code=response.status_code,
                                   background=BackgroundTask(response.aclose))
        answer.raw_headers = without(response.headers.raw, NOT_RELAYED) + [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra_headers.items()
        ]
        return answer

    async def aclose(self) -> None:
        await self.client.aclose()


async def relay(response: httpx.Response) -> AsyncIterator[bytes]:
    """The upstream's body bytes as they arrive (undecoded: gzip stays gzip)."""
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.HTTPError as err:  # the status is sent already: all that can be done is to stop
        log.warning("upstream answer cut off: %s", type(err).__name__)
    finally:
        await response.aclose()
