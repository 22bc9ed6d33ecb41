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

from ..errors import LiteError
from ..score import DEFAULT_METHOD, METHODS
from .options import ServeConfig

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
    parser.add_argument("--model", help="slice file, or a hub repo id sliced on first use into the cache "
                                        "(default: the only *.safetensors under weights/)")
    parser.add_argument("--revision", help="with a repo id for --model: its branch, tag or commit (default: main)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
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
    if args.revision is not None and args.model is None:
        raise LiteError("--revision goes with --model REPO_ID")
    if args.upstream is not None and not args.upstream.startswith(("http://", "https://")):
        raise LiteError(f"--upstream must be an http:// or https:// URL, not {args.upstream!r}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_pruner(args: argparse.Namespace):
    """(what the model is called in /healthz, the Pruner): cores / workers scoring threads per prune thread."""
    from ..prune import load
    from ..prune.__main__ import default_model

    model = args.model or str(default_model())
    threads = None if os.environ.get("LITE_NUM_THREADS") else max(1, (os.cpu_count() or 1) // args.workers)
    return model, load(model, threads=threads, revision=args.revision)


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
    targets = load_targets(args.target_tokenizer)
    model, pruner = load_pruner(args)
    config = ServeConfig(
        model=model, upstream=args.upstream, rate=args.rate, method=args.method, workers=args.workers,
        max_pending=args.max_pending, max_body=args.max_body, max_input_tokens=args.max_input_tokens,
        api_key=args.api_key or None, upstream_timeout=args.upstream_timeout,
        target_tokenizers=targets, target_tokenizer=args.target_tokenizer[0] if args.target_tokenizer else None,
    )
    if not is_loopback(args.host) and config.api_key is None:
        log.warning("listening on %s without --api-key: anyone who can reach this address can use it", args.host)
    log.info("serving %s on http://%s:%d (upstream: %s)", model, args.host, args.port, args.upstream or "none")
    server = uvicorn.Server(uvicorn.Config(create_app(config, pruner), host=args.host, port=args.port,
                                           log_config=None, log_level=args.log_level, access_log=False,
                                           server_header=False))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it stopped on: a normal stop here
        server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    import sys

    from ..commands import standalone

    return standalone(sys.modules[__name__], "python -m lite.serve", argv)
