"""`lite-pruner compare SLICE_A SLICE_B FILES...`: argument parsing and printing only (the work is compare.py)."""

from __future__ import annotations

import argparse
import json

from ..cli import read_text
from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD, METHODS
from .compare import RATES, Comparison, compare

HELP = "compare two slices on the same texts: RAD, cosine, kept-set overlap, chrF of the outputs"
DESCRIPTION = (
    "Compare two slices on the same texts, as the paper's section 5 does: RAD (mean absolute difference of "
    "importance) and cosine similarity when both tokenize the texts alike, the Jaccard overlap of the kept sets "
    "at each rate, and the chrF of B's pruned text against A's. Each file is one text (UTF-8)."
)
EXAMPLES = """examples:
  lite-pruner compare meta-llama/Llama-3.2-3B meta-llama/Llama-3.2-1B prompt1.txt prompt2.txt
  lite-pruner compare weights/a.safetensors weights/b.safetensors --rates 0.9,0.5 --json prompt.txt"""


def parse_rates(value: str) -> tuple[float, ...]:
    try:
        rates = tuple(float(r) for r in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    if not rates or not all(0 < r <= 1 for r in rates):
        raise argparse.ArgumentTypeError(f"rates must be in (0, 1], got {value!r}")
    return tuple(dict.fromkeys(rates))  # a rate given twice is one row (and one key in --json)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="SLICE_A", help="the reference: a slice file or a hub repo id")
    parser.add_argument("b", metavar="SLICE_B", help="the candidate: a slice file or a hub repo id")
    parser.add_argument("texts", nargs="+", metavar="TEXT_FILE", help="texts to compare on, one per file (- for stdin)")
    parser.add_argument(
        "--rates",
        type=parse_rates,
        default=RATES,
        metavar="R,R,...",
        help="rates for the kept-set overlap and chrF (default 0.9,0.8,0.7)",
    )
    parser.add_argument(
        "--method", choices=list(METHODS), default=DEFAULT_METHOD, help="the score (default: attention)"
    )
    parser.add_argument("--json", action="store_true", help="print the comparison, per text too, as JSON")


def table(c: Comparison) -> str:
    def number(value: float | None, digits: int = 4) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        f"A = {c.a}",
        f"B = {c.b}",
        f"{len(c.texts)} text(s), method {c.method}; "
        + ("same tokenizer" if c.same_tokenizer else "different tokenizers: no RAD or cosine, overlap of characters"),
    ]
    lines.append(f"RAD (mean |importance A - importance B|)  {number(c.rad, 6)}")
    lines.append(f"cosine(importance A, importance B)       {number(c.cosine)}")
    lines.append("")
    overlap = f"Jaccard(kept {c.jaccard_unit})"
    lines.append(f"rate  {overlap}  chrF(B's output vs A's)")
    for rate in c.rates:
        lines.append(f"{rate:<4}  {number(c.jaccard[rate]):<{len(overlap)}}  {c.chrf[rate]:.1f}")
    return "\n".join(lines)


def read_texts(paths: list[str]) -> list[tuple[str, str]]:
    if paths.count("-") > 1:
        raise LiteError("stdin (-) can be given once")
    return [(path, read_text(path)) for path in paths]


def run(args: argparse.Namespace) -> int:
    from ..prune import load

    texts = read_texts(args.texts)
    a, b = load(args.a), load(args.b)
    comparison = compare(a, b, texts, rates=args.rates, method=args.method, names=(args.a, args.b))
    print(json.dumps(comparison.to_dict(), ensure_ascii=False) if args.json else table(comparison))
    return 0
