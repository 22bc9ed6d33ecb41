"""What the server is told: its settings (`ServeConfig`) and each request's prune options.

A request gives options as JSON (the body of `/v1/prune`, the `"lite"` field of a proxied
request) or as the `X-Lite-Rate` header, under the names of lite.PruneOptions (every option of
the library, from its schema). They are checked here for names and JSON types; the
values themselves (a rate outside (0, 1], an unknown role...) are checked by the library,
whose `LiteError` becomes a 400 like these. A request's budget (rate or target_tokens)
replaces the server's default budget as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..prune.options import AUTO, SPECS, is_auto, names
from ..score import DEFAULT_METHOD
from .errors import ApiError

MiB = 1024 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ServeConfig:
    """How the service runs; `lite-pruner serve` fills it from the command line."""

    model: str = ""  # what --model named, for /healthz
    upstream: str | None = None  # base URL the OpenAI-style routes forward to, e.g. https://api.openai.com/v1
    rate: float | None = None  # default rate; None: the library's default
    method: str = DEFAULT_METHOD
    workers: int = 2  # prune threads sharing the one memory-mapped slice
    max_pending: int = 64  # prune jobs waiting or running before a 503
    max_body: int = 8 * MiB  # request body bytes
    max_input_tokens: int = 32768  # text tokens (pruner's tokenizer) in one request
    api_key: str | None = None  # required on every route but /healthz and the page, when set
    upstream_timeout: float = 600.0  # seconds to wait for the upstream's answer
    target_tokenizers: Mapping[str, Any] = field(default_factory=dict)  # name -> loaded target tokenizer
    target_tokenizer: str | None = None  # the name used when a request names none
    # Host names answered to (no port; lower case); None: any. A loopback server answers only to
    # loopback names, so a web page whose own name a DNS rebinding pointed at 127.0.0.1 gets nothing.
    allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# the JSON type of each kind of option (lite.prune.options.KINDS); the values are checked by the library
JSON_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "rate": (lambda v: _number(v) or is_auto(v), "a number or \"auto\""),
    "count": (_integer, "an integer"),
    "choice": (lambda v: isinstance(v, str), "a string"),
    "text": (lambda v: isinstance(v, str), "a string"),
    "strings": (_strings, "a list of strings"),
    "switch": (lambda v: isinstance(v, bool), "true or false"),
    "tokenizer": (lambda v: isinstance(v, str), "a string (a tokenizer this server loaded)"),
}
CHECKS = {spec.name: JSON_TYPES[spec.kind] for spec in SPECS}
TEXT_OPTIONS = names("text")  # /v1/prune with "text", /v1/completions
MESSAGE_OPTIONS = names("messages")  # /v1/prune with "messages", /v1/chat/completions
BUDGET = ("rate", "target_tokens")


def check_options(given: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    """The options as given, after checking their names and JSON types (400 otherwise)."""
    if not isinstance(given, dict):
        raise ApiError(400, f"{where} must be a JSON object of prune options")
    for name, value in given.items():
        if name not in allowed:
            raise ApiError(400, f"unknown option {name!r} in {where}; known: {', '.join(allowed)}")
        check, expected = CHECKS[name]
        if not check(value):
            raise ApiError(400, f"option {name!r} in {where} must be {expected}")
    return dict(given)


def header_rate(value: str | None) -> dict[str, Any]:
    """The options the X-Lite-Rate header gives: {} without it, {"rate": r} with it (r a number or auto)."""
    if value is None:
        return {}
    if is_auto(value):
        return {"rate": AUTO}
    try:
        return {"rate": float(value)}
    except ValueError:
        raise ApiError(400, "header X-Lite-Rate must be a number, e.g. 0.7, or auto") from None


def with_defaults(options: dict[str, Any], config: ServeConfig) -> dict[str, Any]:
    """Keyword arguments for the library: the request's options over the server's defaults.

    The request's budget, if it gives one, replaces the server's default rate; a target tokenizer
    is named by the request (or the server's default) and must be one the server loaded.
    """
    kwargs: dict[str, Any] = {"method": config.method}
    if config.rate is not None and not any(name in options for name in BUDGET):
        kwargs["rate"] = config.rate
    kwargs.update({name: value for name, value in options.items() if name != "target_tokenizer"})
    name = options.get("target_tokenizer", config.target_tokenizer)
    if name is not None:
        if name not in config.target_tokenizers:
            known = ", ".join(config.target_tokenizers) or "none (start the server with --target-tokenizer)"
            raise ApiError(400, f"target tokenizer {name!r} is not loaded by this server; loaded: {known}")
        kwargs["target_tokenizer"] = config.target_tokenizers[name]
    return kwargs
