"""The ASGI application: routes, limits, keys, and errors as JSON.

    GET  /                      the playground page (ships in the package; no CDN)
    GET  /healthz               {"status": "ok", ...}: the model and the defaults; never needs a key
    GET  /metrics               Prometheus text (metrics.py)
    POST /v1/prune              {"text": ...} or {"messages": [...]} plus prune options -> the library's result
    POST /v1/chat/completions   messages pruned, then forwarded to the upstream; its answer relayed
    POST /v1/completions        prompt pruned, then forwarded likewise
    *    /v1/...                any other path forwarded unchanged (e.g. GET /v1/models)

Per-request prune options for the forwarded routes: the `X-Lite-Rate` header, or a `"lite": {...}`
object in the body (it wins over the header); both are removed before forwarding. With an API
key set, every route but /healthz and the page needs it: `Authorization: Bearer KEY` or
`X-Lite-Key: KEY` on lite's own routes, `X-Lite-Key: KEY` on forwarded ones (their Authorization
header belongs to the upstream).
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..errors import LiteError
from ..score import DEFAULT_METHOD, METHODS
from .errors import ApiError, error_response
from .metrics import CONTENT_TYPE, Metrics
from .options import (
    BUDGET,
    MESSAGE_OPTIONS,
    TEXT_OPTIONS,
    ServeConfig,
    check_options,
    header_rate,
    with_defaults,
)
from .pool import PrunePool
from .proxy import Upstream

log = logging.getLogger("lite.serve")

Handler = Callable[[Request], Awaitable[Response]]


def route_label(path: str) -> str:
    """The metrics label of a path: the route it belongs to, never the raw path."""
    if path in ("/", "/healthz", "/metrics", "/v1/prune", "/v1/chat/completions", "/v1/completions"):
        return path
    if path.startswith("/static/"):
        return "/static"
    return "/v1/*" if path.startswith("/v1/") else "other"


class Observe:
    """ASGI middleware: counts every answer by route and status, and logs one line per request
    (method, path, status, tokens, times: never headers, query strings or contents)."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = scope["path"]
            self.metrics.request(route_label(path), status[0])
            state = scope.get("state", {})
            counts = f" tokens {state['origin']}->{state['compressed']}" if "origin" in state else ""
            log.info("%s %s %d%s %.0f ms", scope["method"], path if route_label(path) != "other" else "(other)",
                     status[0], counts, 1000 * (time.perf_counter() - start))


def host_name(host: str) -> str:
    """The name in a Host header, without its port, lower-cased ("[::1]:8750" -> "[::1]")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


class AllowedHosts:
    """ASGI middleware: a request whose Host header names another server is refused (400)."""

    def __init__(self, app, hosts: tuple[str, ...]):
        self.app, self.hosts = app, frozenset(hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host_name(host) not in self.hosts:
                answer = error_response(400, f"the Host header is not a name of this server "
                                             f"(it answers to {', '.join(sorted(self.hosts))})")
                return await answer(scope, receive, send)
        return await self.app(scope, receive, send)


def answers_errors(handler: Handler) -> Handler:
    """Every failure of a handler as a JSON error answer; unexpected ones logged by type only
    (the traceback at DEBUG level), since a message may quote the request."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as err:
            log.debug("%s %s: %s", err.status, err.type, err.message)
            return err.response()
        except LiteError as err:
            return error_response(400, str(err))
        except Exception as err:
            log.error("internal error on %s: %s", request.url.path, type(err).__name__)
            log.debug("traceback", exc_info=True)
            return error_response(500, f"internal error ({type(err).__name__})")

    return wrapped


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, f"request body of {length} bytes is over this server's limit of {limit} (--max-body)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over this server's limit of {limit} bytes (--max-body)")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(body: bytes) -> dict:
    """The body as a JSON object whose strings are all valid Unicode; a 400 for anything else.

    A `\\ud800` escape is valid JSON but no text: it can neither be tokenized nor sent on as UTF-8.
    Nesting deeper than the parser's recursion limit is refused likewise, not answered with a 500.
    """
    try:
        payload = json.loads(body.decode("utf-8"))  # JSON on the wire is UTF-8 (RFC 8259); no guessing
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8") from None
    except json.JSONDecodeError as err:
        raise ApiError(400, f"request body is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") \
            from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "request body must be a JSON object")
    try:
        dumps(payload)  # every string encodable as UTF-8: no lone surrogate
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply") from None
    except UnicodeEncodeError:
        raise ApiError(400, "request body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff): not text") \
            from None
    return payload


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def counts(results: list) -> dict[str, int]:
    """Token counts added up over results: pruner's tokens, and the target's where the results have them."""
    out = {"origin": sum(r.origin_tokens for r in results), "compressed": sum(r.compressed_tokens for r in results)}
    for name in ("target_origin_tokens", "target_compressed_tokens"):
        values = [getattr(r, name, None) for r in results]
        if values and all(v is not None for v in values):
            out[name] = sum(values)
    return out


def count_headers(total: dict[str, int]) -> dict[str, str]:
    headers = {"X-Lite-Origin-Tokens": str(total["origin"]), "X-Lite-Compressed-Tokens": str(total["compressed"])}
    if "target_origin_tokens" in total:
        headers["X-Lite-Target-Origin-Tokens"] = str(total["target_origin_tokens"])
        headers["X-Lite-Target-Compressed-Tokens"] = str(total["target_compressed_tokens"])
    return headers


class Service:
    """The routes' state: settings, the prune pool, the upstream client, the metrics."""

    def __init__(self, config: ServeConfig, pruner, upstream_transport=None):
        self.config = config
        self.metrics = Metrics()
        self.pool = PrunePool(pruner, config.workers, config.max_pending, config.max_input_tokens, self.metrics)
        self.upstream = Upstream(config.upstream, config.upstream_timeout, upstream_transport) if config.upstream \
            else None

    # --- keys ---------------------------------------------------------------------------------------------
    def check_key(self, request: Request, bearer: bool) -> None:
        key = self.config.api_key
        if key is None:
            return
        given = request.headers.get("x-lite-key")
        authorization = request.headers.get("authorization", "")
        if given is None and bearer and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if given is None or not hmac.compare_digest(given.encode(), key.encode()):
            where = "Authorization: Bearer KEY or X-Lite-Key: KEY" if bearer else "X-Lite-Key: KEY"
            raise ApiError(401, f"this server needs its API key ({where})")

    # --- lite's own routes ----------------------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        config = self.config
        return JSONResponse({
            "status": "ok",
            "version": __version__,
            "model": config.model,
            "rate": config.rate,
            "method": config.method,
            "methods": list(METHODS),
            "default_method": DEFAULT_METHOD,
            "upstream": config.upstream is not None,
            "target_tokenizers": list(config.target_tokenizers),
            "target_tokenizer": config.target_tokenizer,
            "max_input_tokens": config.max_input_tokens,
            "max_body": config.max_body,
            "api_key": config.api_key is not None,
        })

    async def metrics_text(self, request: Request) -> Response:
        self.check_key(request, bearer=True)
        return PlainTextResponse(self.metrics.render(), media_type=CONTENT_TYPE)

    async def prune(self, request: Request) -> Response:
        self.check_key(request, bearer=True)
        payload = parse_object(await read_body(request, self.config.max_body))
        pieces = payload.pop("pieces", False)
        if not isinstance(pieces, bool):
            raise ApiError(400, "'pieces' must be true or false")
        if ("text" in payload) == ("messages" in payload):
            raise ApiError(400, "give either 'text' (a string) or 'messages' (a list of chat messages)")
        if "text" in payload:
            text = payload.pop("text")
            if not isinstance(text, str):
                raise ApiError(400, "'text' must be a string")
            kwargs = with_defaults(check_options(payload, TEXT_OPTIONS, "the request"), self.config)
            result = await self.pool.prune_text(text, kwargs)
            out = result.to_dict()
            if pieces:
                out["pieces"] = [[piece, kept] for piece, kept in result.pieces]
        else:
            messages = payload.pop("messages")
            if not isinstance(messages, list):
                raise ApiError(400, "'messages' must be a list of chat messages")
            kwargs = with_defaults(check_options(payload, MESSAGE_OPTIONS, "the request"), self.config)
            result = await self.pool.prune_messages(messages, kwargs)
            out = result.to_dict()
            if pieces:  # what prune_messages did, per message (None where it left a message as it was)
                out["pieces"] = [None if shown is None else [[piece, kept] for piece, kept in shown]
                                 for shown in result.pieces]
        total = counts([result])
        request.state.origin, request.state.compressed = total["origin"], total["compressed"]
        return JSONResponse(out, headers=count_headers(total))

    # --- forwarded routes -----------------------------------------------------------------------------------
    def forward_options(self, request: Request, payload: dict, allowed: tuple[str, ...]) -> dict:
        """Prune options of a forwarded request: X-Lite-Rate, then the "lite" field (removed from the payload)."""
        options = header_rate(request.headers.get("x-lite-rate"))
        if "lite" in payload:
            own = check_options(payload.pop("lite"), allowed, "the 'lite' field")
            if any(name in own for name in BUDGET):  # the field's budget replaces the header's rate
                options = {}
            options.update(own)
        return with_defaults(options, self.config)

    def need_upstream(self, request: Request) -> Upstream:
        self.check_key(request, bearer=False)
        if self.upstream is None:
            raise ApiError(501, "this server has no upstream to forward to; start it with --upstream URL")
        return self.upstream

    async def forward(self, request: Request, path: str, body: bytes, total: dict[str, int] | None) -> Response:
        if total is not None:
            request.state.origin, request.state.compressed = total["origin"], total["compressed"]
        return await self.upstream.send(request.method, path, request.url.query, request.headers.raw, body,
                                        count_headers(total) if total is not None else {})

    async def chat_completions(self, request: Request) -> Response:
        self.need_upstream(request)
        payload = parse_object(await read_body(request, self.config.max_body))
        kwargs = self.forward_options(request, payload, MESSAGE_OPTIONS)
        messages = payload.get("messages")
        if not isinstance(messages, list):
            raise ApiError(400, "'messages' must be a list of chat messages")
        result = await self.pool.prune_messages(messages, kwargs)
        payload["messages"] = result.messages
        return await self.forward(request, "/chat/completions", dumps(payload), counts([result]))

    async def completions(self, request: Request) -> Response:
        self.need_upstream(request)
        payload = parse_object(await read_body(request, self.config.max_body))
        kwargs = self.forward_options(request, payload, TEXT_OPTIONS)
        prompt = payload.get("prompt")
        if isinstance(prompt, str):
            results = await self.pool.prune_prompts([prompt], kwargs)
            payload["prompt"] = results[0].text
        elif isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            results = await self.pool.prune_prompts(prompt, kwargs)
            payload["prompt"] = [r.text for r in results]
        else:  # token ids, or no prompt: nothing lite can prune; the upstream judges it
            results = []
        total = counts(results) if results else None
        return await self.forward(request, "/completions", dumps(payload), total)

    async def passthrough(self, request: Request) -> Response:
        if route_label(request.url.path) != "/v1/*":  # one of lite's routes, with another method
            raise ApiError(405, f"method {request.method} not allowed here")
        if ".." in request.url.path.split("/"):  # decoded: %2e%2e is caught too
            raise ApiError(400, "a path with '..' is not forwarded")
        raw = (request.scope.get("raw_path") or b"").decode("latin-1")  # as sent: an escaped / or ? stays put
        path = (raw if raw.startswith("/v1/") else request.url.path)[len("/v1"):]  # "/%761/...": the decoded one
        self.need_upstream(request)
        body = await read_body(request, self.config.max_body)
        return await self.forward(request, path, body, None)

    async def close(self) -> None:
        if self.upstream is not None:
            await self.upstream.aclose()
        self.pool.close()


async def not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    message = "no such route" if status == 404 else f"method {request.method} not allowed here"
    return error_response(status, message)


def create_app(config: ServeConfig, pruner, upstream_transport=None) -> Starlette:
    """The service for a loaded Pruner. `upstream_transport` replaces httpx's network transport (tests)."""
    service = Service(config, pruner, upstream_transport)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await service.close()

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/healthz", answers_errors(service.healthz), methods=["GET"]),
        Route("/metrics", answers_errors(service.metrics_text), methods=["GET"]),
        Route("/v1/prune", answers_errors(service.prune), methods=["POST"]),
        Route("/v1/chat/completions", answers_errors(service.chat_completions), methods=["POST"]),
        Route("/v1/completions", answers_errors(service.completions), methods=["POST"]),
        Route("/v1/{path:path}", answers_errors(service.passthrough),
              methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Mount("/static", StaticFiles(packages=[("lite.serve", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_found})
    app.state.service = service
    if config.allowed_hosts is not None:
        app.add_middleware(AllowedHosts, hosts=config.allowed_hosts)
    app.add_middleware(Observe, metrics=service.metrics)  # outermost: it counts the refused ones too
    return app


@functools.lru_cache(maxsize=1)
def page_html() -> bytes:
    from importlib.resources import files

    return files("lite.serve").joinpath("static", "index.html").read_bytes()


async def page(request: Request) -> Response:
    return Response(page_html(), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-cache", "Content-Security-Policy":
                             "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:"})
