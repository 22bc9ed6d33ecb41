"""Prune text: `python -m lite.prune --model FILE [--rate 0.9 | --target-tokens N] [FILE|-]`.

Prints the pruned text; --json prints it with the counts; --show prints the input with the
dropped parts marked. `--jsonl IN --out OUT` prunes a field of every line of a JSONL file on
every core. --model defaults to the only slice under ./weights/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Iterable, Iterator

from ..atomic import check_not_an_input, check_writable
from ..errors import LiteError, exit_on_error
from ..inputs import read_bounded
from ..threads import available_cores
from ..methods import DEFAULT_METHOD, METHODS
from .batch import PruneOptions, prune_jsonl
from .pruner import DEFAULT_MAX_TOKENS, DEFAULT_RATE, Limits, PruneResult, load
from .select import token_budget

WEIGHTS = Path("weights")
STRIKE, RESET = "\x1b[9;2;31m", "\x1b[0m"  # dropped text: struck through, dim red


def default_model() -> Path:
    """The only slice under ./weights/, or a LiteError saying why there is none."""
    found = sorted(WEIGHTS.glob("*.safetensors")) if WEIGHTS.is_dir() else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise LiteError("no slice under weights/; make one with `python -m lite.slice MODEL` or give --model FILE")
    names = ", ".join(p.name for p in found)
    raise LiteError(f"{len(found)} slices under weights/ ({names}); choose one with --model FILE")


def read_text(source: str) -> str:
    """The text of a file or of stdin ("-"), as UTF-8 (at most MAX_INPUT_BYTES of it)."""
    data = read_bounded(source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LiteError(f"{'stdin' if source == '-' else source} is not UTF-8 text (byte {err.start})") from None


def marked(result: PruneResult, colour: bool) -> str:
    """The input with the dropped parts struck through (colour) or in [brackets]."""
    out: list[str] = []
    dropped: list[str] = []
    for piece, kept in (*result.pieces, ("", True)):
        if not kept:
            dropped.append(piece)
            continue
        if dropped:
            text = "".join(dropped)
            out.append(f"{STRIKE}{text}{RESET}" if colour else f"[{text}]")
            dropped = []
        out.append(piece)
    return "".join(out)


@contextlib.contextmanager
def line_progress(enabled: bool) -> Iterator:
    """Wraps an iterator of known length in a progress bar on stderr, or leaves it as it is."""
    if not enabled:
        yield None
        return
    from huggingface_hub.utils import tqdm

    def wrap(items: Iterable, total: int) -> Iterable:
        return tqdm(items, total=total, unit="line", desc="pruning", file=sys.stderr)

    yield wrap


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lite.prune",
        description="Keep the most important tokens of a text, in their order, scored by a model slice.",
    )
    parser.add_argument("input", nargs="?", default="-", help="text file to prune, or - for stdin (default)")
    parser.add_argument("--model", type=Path, help="slice file (default: the only *.safetensors under weights/)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--rate", type=float, help=f"fraction of tokens to keep, in (0, 1] (default {DEFAULT_RATE})")
    budget.add_argument("--target-tokens", type=int, metavar="N", help="number of tokens to keep")
    parser.add_argument("--force", action="append", default=[], metavar="STR", help="always keep STR (repeatable)")
    parser.add_argument("--force-digits", action="store_true", help="always keep digits")
    parser.add_argument("--keep-last", type=int, default=0, metavar="N", help="always keep the last N tokens")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, metavar="N",
                        help=f"the most tokens scored at once; a longer text is an error unless --chunk "
                             f"(default {DEFAULT_MAX_TOKENS})")
    parser.add_argument("--chunk", type=int, metavar="W",
                        help="score a long text in chunks of W tokens, each on its own (attention does not cross "
                             "chunks); time O(n W), memory that of W tokens")
    parser.add_argument("--target-tokenizer", type=Path, metavar="FILE",
                        help="the target model's tokenizer.json: the pruned text creates none of its special tokens")
    parser.add_argument("--method", choices=list(METHODS), default=DEFAULT_METHOD,
                        help=f"the score that ranks tokens (default {DEFAULT_METHOD}: the paper's layer-0 attention)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the result with its token counts as JSON")
    output.add_argument("--show", action="store_true", help="print the input with the dropped parts marked")
    batch = parser.add_argument_group("batch (JSONL)")
    batch.add_argument("--jsonl", type=Path, metavar="IN", help="prune one field of every line of a JSONL file")
    batch.add_argument("--field", default="text", help="the field to prune (default: text)")
    batch.add_argument("--out", type=Path, help="output JSONL file (required with --jsonl)")
    batch.add_argument("--workers", type=int, help="worker processes (default: one per core; at most one per core "
                                                   "unless --force-workers)")
    batch.add_argument("--force-workers", action="store_true", help="use --workers even when it exceeds the cores")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.jsonl is not None and args.out is None:
        parser.error("--jsonl needs --out FILE")
    if args.jsonl is not None and (args.json or args.show or args.input != "-"):
        parser.error("--jsonl takes no input file and no --json or --show")
    if args.out is not None and args.jsonl is None:
        parser.error("--out goes with --jsonl (the pruned text of one input goes to stdout)")
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    if args.keep_last < 0:
        parser.error(f"--keep-last must be 0 or more, not {args.keep_last}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rate = DEFAULT_RATE if args.rate is None and args.target_tokens is None else args.rate
    token_budget(1, rate, args.target_tokens)  # a bad rate fails here, before any work
    Limits.checked(args.max_tokens, args.chunk)  # and a bad --max-tokens or --chunk
    model = args.model or default_model()
    if args.jsonl is not None:
        check_writable(args.out)  # before any work
        check_not_an_input(args.out, [p for p in (args.jsonl, model, args.target_tokenizer) if p and str(p) != "-"])
        return run_batch(args, model, rate)
    text = read_text(args.input)
    line_end = "\n" if text.endswith("\n") else ""  # the file's last line end is not pruned
    text = text[: len(text) - len(line_end)]
    result = load(model, target_tokenizer=args.target_tokenizer).prune(
        text,
        rate=rate,
        target_tokens=args.target_tokens,
        force=args.force,
        force_digits=args.force_digits,
        keep_last=args.keep_last,
        method=args.method,
        max_tokens=args.max_tokens,
        chunk=args.chunk,
    )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    elif args.show:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(marked(result, colour) + line_end)
    else:
        sys.stdout.write(result.text + line_end)
    return 0


def run_batch(args: argparse.Namespace, model: Path, rate: float | None) -> int:
    options = PruneOptions(args.field, rate, args.target_tokens, tuple(args.force), args.force_digits, args.keep_last,
                           args.method, args.max_tokens, args.chunk)
    with line_progress(not args.quiet and sys.stderr.isatty()) as progress:
        report = prune_jsonl(model, args.jsonl, args.out, options, args.workers, progress, args.target_tokenizer,
                             force_workers=args.force_workers)
    if report.requested_workers is not None:
        print(f"note: {report.requested_workers} workers asked, this machine has {available_cores()} cores; used "
              f"{report.workers} (--force-workers to use more)", file=sys.stderr)
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.errors:
        print(
            f"error: {len(report.errors)} of {report.lines} lines failed (see above); "
            f"{args.out} has an \"error\" field in their place",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {args.out} ({report.lines} lines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    exit_on_error(main)
