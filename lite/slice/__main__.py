"""Make a slice: `python -m lite.slice SOURCE [--out FILE] [--revision REV] [--token TOKEN] [--quiet]`.

Argument parsing only; the work is lite.slice.make_slice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import progress_bar, run_cli
from ..errors import LiteError
from ..store.atomic import check_not_an_input, check_writable
from ..store.open_source import open_source
from ..store.slicefile import WEIGHTS_DIR
from ..store.sources import Limits, LocalFolder
from .make import SliceReport, default_out, make_slice

HELP = "fetch a model's embedding and layer-0 attention into one small slice file"
DESCRIPTION = "Fetch the embedding and layer-0 attention of a model into one small slice file."
EXAMPLES = """examples:
  lite-pruner slice HuggingFaceTB/SmolLM2-135M-Instruct      # -> weights/SmolLM2-135M-Instruct.safetensors
  lite-pruner slice meta-llama/Llama-3.2-1B --revision main --out weights/llama.safetensors
  lite-pruner slice ./my-model-folder
  lite-pruner slice model.Q4_K_M.gguf                        # a llama.cpp GGUF file (dequantized)
  lite-pruner slice ollama:llama3.2:1b                       # a model installed by Ollama
  lite-pruner slice --list                                   # slices cached by lite.load(REPO_ID) / --model REPO_ID"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="a hub repo id (meta-llama/Llama-3.2-1B), a local model folder, "
                                                  "a GGUF file, or ollama:NAME[:TAG]")
    parser.add_argument("--out", type=Path, help="output file (default: weights/<model name>.safetensors)")
    parser.add_argument("--revision", help="branch, tag or commit on the hub (default: main)")
    parser.add_argument("--token", help="hub access token (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--list", action="store_true",
                        help="list the slices cached for models named by repo id (as `lite-pruner cache`) and exit")
    patience = parser.add_argument_group("patience with the hub")
    patience.add_argument("--timeout", type=float, default=Limits.timeout, metavar="S",
                          help=f"give up on a request after S seconds without a byte (default {Limits.timeout:g})")
    patience.add_argument("--deadline", type=float, default=Limits.deadline, metavar="S",
                          help="give up on one transfer (a file, or a 16 MiB part) after S seconds, retries included "
                               f"(default {Limits.deadline:g})")
    patience.add_argument("--retries", type=int, default=Limits.retries, metavar="N",
                          help="retry a busy answer (429, 5xx) or a broken connection N times "
                               f"(default {Limits.retries})")
    patience.add_argument("--max-wait", type=float, default=Limits.max_wait, metavar="S",
                          help="wait at most S seconds before a retry; a longer Retry-After is an error "
                               f"(default {Limits.max_wait:g})")


def run(args: argparse.Namespace) -> int:
    if args.list:
        given = [name for name in ("source", "out", "revision", "token") if getattr(args, name) is not None]
        if given:
            raise LiteError(f"--list takes no {' or '.join('SOURCE' if n == 'source' else '--' + n for n in given)}")
        from . import cache_cli

        return cache_cli.run(argparse.Namespace(remove=[], json=False))
    if args.source is None:
        raise LiteError("give a SOURCE (a hub repo id, a local model folder, a GGUF file or ollama:NAME), or --list")
    from .gguf import gguf_input, make_gguf_slice

    gguf = gguf_input(args.source)  # a GGUF file or ollama:NAME[:TAG]; else a folder or a repo id
    if gguf is not None:
        if args.revision is not None or args.token is not None:
            raise LiteError("--revision and --token go with a hub repo id, not a GGUF file or an Ollama model")
        out = check_writable(args.out or WEIGHTS_DIR / f"{gguf.model_name}.safetensors")
        check_not_an_input(out, [gguf.path])
        with progress_bar(not args.quiet, unit="B", desc="tensors") as progress:
            return print_report(make_gguf_slice(gguf, out, progress))
    limits = Limits(timeout=args.timeout, deadline=args.deadline, retries=args.retries, max_wait=args.max_wait)
    source = open_source(args.source, revision=args.revision, token=args.token, limits=limits)
    out = check_writable(args.out or default_out(source))  # before any byte is fetched
    if isinstance(source, LocalFolder):  # a local folder, or a snapshot in the Hugging Face cache
        check_not_an_input(out, source.root.rglob("*"))
    with progress_bar(not args.quiet, unit="B", desc="tensors") as progress:
        return print_report(make_slice(source, out, progress))


def print_report(report: SliceReport) -> int:
    mib = 1024 * 1024
    print(
        f"wrote {report.path} ({report.size / mib:.1f} MiB: {len(report.tensors)} tensors, "
        f"{report.tensor_bytes / mib:.1f} MiB of tensor data; {report.spec.family}, "
        f"{report.spec.n_heads} heads, {report.spec.n_kv_heads} kv heads, head_dim {report.spec.head_dim})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from ..commands import standalone

    return standalone(sys.modules[__name__], "python -m lite.slice", argv)


if __name__ == "__main__":
    run_cli(main)
