"""`lite-pruner serve`: the pruning service on uvicorn (see app.py for the routes).

    lite-pruner serve --model HuggingFaceTB/SmolLM2-135M-Instruct --upstream https://api.openai.com/v1
    # then, in the client: OpenAI(base_url="http://127.0.0.1:8750/v1")

`add_arguments(parser)` and `run(args)` are the subcommand's two halves; `python -m lite.serve`
runs them on their own.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import os
import socket

from ..errors import LiteError
from ..score import DEFAULT_METHOD, METHODS
from .options import LOOPBACK_HOSTS, ServeConfig

DEFAULT_PORT = 8750
HELP = "a pruning service and OpenAI-compatible proxy (needs lite-pruner[serve])"
DESCRIPTION = ("Serve POST /v1/prune, an OpenAI-compatible proxy (/v1/chat/completions, /v1/completions) that "
               "prunes prompts before forwarding them to --upstream, /metrics, /healthz and a playground page at /.")
EXAMPLES = """examples:
  lite-pruner serve --model HuggingFaceTB/SmolLM2-135M-Instruct --upstream https://api.openai.com/v1
      then: OpenAI(base_url="http://127.0.0.1:8750/v1"), or OPENAI_BASE_URL=http://127.0.0.1:8750/v1
  lite-pruner serve --rate 0.7 --port 9000       # no upstream: /v1/prune and the playground only
"""
log = logging.getLogger("lite.serve")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..prune.__main__ import add_model_arguments

    add_model_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="bound to loopback, lite answers only to loopback Host names; also answer to NAME "
                             "(the name a reverse proxy in front of it passes on); repeatable")
    parser.add_argument("--upstream", help="OpenAI-compatible base URL to forward chat/completions to, "
                        "e.g. https://api.openai.com/v1 (without it those routes answer 501)")
    parser.add_argument("--rate", type=float, help="default fraction of tokens to keep (default: the library's, 0.9)")
    parser.add_argument("--method", default=DEFAULT_METHOD, choices=list(METHODS), help="default scoring method")
    parser.add_argument("--target-tokenizer", action="append", default=[], metavar="TOK",
                        help="load a target model's tokenizer (a tokenizer.json, a hub repo id or a tiktoken encoding "
                             "such as cl100k_base) to count in its tokens; repeatable, the first is the default, a "
                             "request names another by the same string")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="prune threads sharing the slice (default: cores, at most 4)")
    parser.add_argument("--max-body", type=int, default=ServeConfig.max_body, metavar="BYTES",
                        help=f"largest request body (default {ServeConfig.max_body})")
    parser.add_argument("--max-input-tokens", type=int, default=ServeConfig.max_input_tokens, metavar="N",
                        help=f"most text tokens in one request (default {ServeConfig.max_input_tokens})")
    parser.add_argument("--max-pending", type=int, default=ServeConfig.max_pending, metavar="N",
                        help=f"prune jobs waiting or running before answering 503 (default {ServeConfig.max_pending})")
    parser.add_argument("--upstream-timeout", type=float, default=ServeConfig.upstream_timeout, metavar="SECONDS")
    parser.add_argument("--api-key", default=os.environ.get("LITE_API_KEY"),
                        help="require this key (default: $LITE_API_KEY; none if unset)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def check(args: argparse.Namespace) -> None:
    for name in ("workers", "max_body", "max_input_tokens", "max_pending"):
        if getattr(args, name) < 1:
            raise LiteError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.port <= 65535:
        raise LiteError(f"--port must be 0..65535, not {args.port}")
    if args.rate is not None and not 0 < args.rate <= 1:
        raise LiteError(f"--rate must be in (0, 1], not {args.rate}")
    from ..prune.__main__ import check_model_arguments

    check_model_arguments(args)
    if args.upstream is not None:
        check_upstream(args.upstream)


def check_upstream(url: str) -> None:
    """A base URL the routes' paths are appended to: http(s), a host, no query or fragment to split them off."""
    from urllib.parse import urlsplit

    if not url.startswith(("http://", "https://")):
        raise LiteError(f"--upstream must be an http:// or https:// URL, not {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as err:
        raise LiteError(f"--upstream {url!r} is not a URL ({err})") from None
    if not parts.hostname:
        raise LiteError(f"--upstream {url!r} names no host")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise LiteError(f"--upstream {url!r} must be a base URL, without a query or fragment "
                        "(the paths /chat/completions, ... are appended to it)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, or a one-line LiteError: a port in use or an address this
    machine does not have is said at once, before the model is loaded."""
    try:
        # proto IPPROTO_TCP, as getaddrinfo gives it: asyncio sets TCP_NODELAY on accepted connections only then
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise LiteError(f"--host {host}: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: restart right after a stop
    try:
        sock.bind(address)
        sock.listen(2048)  # uvicorn's backlog; a client that comes while the model loads waits, is not refused
    except OSError as err:
        sock.close()
        raise LiteError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def loopback_names(host: str, also: list[str] = ()) -> tuple[str, ...]:
    """The Host names a server bound to loopback `host` answers to: the usual ones, `host` itself, and `also`."""
    names = [f"[{name}]" if ":" in name and not name.startswith("[") else name for name in (host, *also)]
    return tuple(dict.fromkeys((*LOOPBACK_HOSTS, *(name.lower() for name in names))))


def load_pruner(args: argparse.Namespace):
    """(what the model is called in /healthz, the Pruner): cores / workers scoring threads per prune thread."""
    from ..prune import load
    from ..prune.__main__ import chosen_model

    path = chosen_model(args)
    threads = None if os.environ.get("LITE_NUM_THREADS") else max(1, (os.cpu_count() or 1) // args.workers)
    return args.model or str(path), load(path, threads=threads)


def load_targets(specs: list[str]) -> dict:
    """name -> loaded target tokenizer, each loaded once at start (a bad one fails here, before serving)."""
    from ..prune.target import target_tokenizer

    return {spec: target_tokenizer(spec) for spec in dict.fromkeys(specs)}


def run(args: argparse.Namespace) -> int:
    check(args)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as err:  # the serve extra is not installed
        raise LiteError(f"`lite-pruner serve` needs the serve extra: pip install 'lite-pruner[serve]' "
                        f"({err.name or err} is missing)") from None
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sock = bind(args.host, args.port)  # before the model loads: a port in use is said at once
    with contextlib.closing(sock):
        return serve(args, sock, uvicorn, create_app)


def serve(args: argparse.Namespace, sock: socket.socket, uvicorn, create_app) -> int:
    """Load the model and the target tokenizers, then answer on `sock` until stopped."""
    targets = load_targets(args.target_tokenizer)
    model, pruner = load_pruner(args)
    config = ServeConfig(
        model=model, upstream=args.upstream, rate=args.rate, method=args.method, workers=args.workers,
        max_pending=args.max_pending, max_body=args.max_body, max_input_tokens=args.max_input_tokens,
        api_key=args.api_key or None, upstream_timeout=args.upstream_timeout,
        target_tokenizers=targets, target_tokenizer=args.target_tokenizer[0] if args.target_tokenizer else None,
        allowed_hosts=loopback_names(args.host, args.allow_host) if is_loopback(args.host) else None,
    )
    if not is_loopback(args.host) and config.api_key is None:
        log.warning("listening on %s without --api-key: anyone who can reach this address can use it", args.host)
    port = sock.getsockname()[1]  # the port chosen, with --port 0
    url = f"http://[{args.host}]:{port}" if ":" in args.host else f"http://{args.host}:{port}"
    log.info("serving %s: running on %s (upstream: %s)", model, url, args.upstream or "none")
    server = uvicorn.Server(uvicorn.Config(create_app(config, pruner), host=args.host, port=port,
                                           log_config=None, log_level=args.log_level, access_log=False,
                                           server_header=False))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it stopped on: a normal stop here
        server.run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    import sys

    from ..commands import standalone

    return standalone(sys.modules[__name__], "python -m lite.serve", argv)
