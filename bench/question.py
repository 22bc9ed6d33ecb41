"""Question mode against the tokenizer, side by side: `prune(passages, rate=r, question=q)` and tokenizing
the same passages, in one process, from about 1k to 128k tokens, in CPU time (and wall time).

    python -m bench.question                 # 1k .. 128k tokens, rates 0.1, 0.5, auto; writes results/question.md
    python -m bench.question --repeats 3     # fewer repeats

Passages are XQuAD paragraphs (bench/data/xquad, dev and test), the 12 languages in turn, taken until
the size is reached; the question is the first one of the first passage. The pruner is the SmolLM2-135M
slice the tests build (the default model's tokenizer); no model runs in question mode. Each repeat
times, one after another, the prune, `tokenizer.encode` of each passage, and `tokenizer.encode_batch`
of all of them, so the three see the same load (more repeats below 16k tokens: scaled_repeats); the
table reports the fastest repeat of each, in CPU time and wall time, and the ratios prune / tokenize.
The machine may be shared: the load average is recorded beside the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench.paths import RESULTS

SIZES = (1_000, 4_000, 16_000, 64_000, 128_000)  # tokens, about: whole passages are taken until reached
RATES = (0.1, 0.5, "auto")  # auto: rate="auto", the relevant sentences (lite/prune/auto.py)
OUT = RESULTS / "question.md"


def passages_of(tokenizer, size: int) -> tuple[list[str], str, int]:
    """XQuAD paragraphs, the languages in turn, until `size` tokens: (passages, question, tokens)."""
    from tools import xquad

    pool = [xquad.paragraphs(lang)[k] for k in range(120) for lang in xquad.LANGUAGES]
    passages, tokens = [], 0
    while tokens < size:
        paragraph = pool[len(passages) % len(pool)]  # cycles when the pool runs out
        passages.append(paragraph["context"])
        tokens += len(tokenizer.encode(paragraph["context"]).ids)
    return passages, pool[0]["qas"][0]["question"], tokens


def scaled_repeats(repeats: int, tokens: int) -> int:
    """More repeats for small inputs (cheap, and the noisiest): `repeats` at 16k tokens and above, up to 40x below."""
    return max(repeats, min(40 * repeats, repeats * 16_000 // max(tokens, 1)))


def fastest(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """The fastest of `repeats` runs of each call, (CPU seconds of this process, wall seconds), the calls
    taking turns. CPU time is what a call costs whatever else the machine runs; wall time on a shared
    machine also holds the time the call waited for a core, more of it the longer the call."""
    best = dict.fromkeys(calls, (float("inf"), float("inf")))
    for _ in range(repeats):
        for name, call in calls.items():
            cpu, wall = time.process_time(), time.perf_counter()
            call()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return best


def calls_for(pruner, passages: list[str], question: str, rates: tuple[float, ...]) -> dict[str, Callable[[], object]]:
    """The timed calls on one set of passages: tokenizing them two ways, and pruning them at each rate."""
    tokenizer = pruner.tokenizer
    calls: dict[str, Callable[[], object]] = {
        "encode": lambda: [tokenizer.encode(p) for p in passages],
        "encode_batch": lambda: tokenizer.encode_batch(passages),
    }
    for rate in rates:
        calls[f"prune {rate}"] = lambda r=rate: pruner.prune(passages, rate=r, question=question)
    return calls


def measure(pruner, sizes: tuple[int, ...], rates: tuple[float, ...], repeats: int) -> list[dict]:
    rows = []
    for size in sizes:
        passages, question, tokens = passages_of(pruner.tokenizer, size)
        pruner.prune(passages, rate=rates[0], question=question)  # warm: tables of the characters seen
        best = fastest(calls_for(pruner, passages, question, rates), scaled_repeats(repeats, tokens))
        for rate in rates:
            rows.append({"tokens": tokens, "passages": len(passages), "rate": rate, "prune": best[f"prune {rate}"],
                         "encode": best["encode"], "encode_batch": best["encode_batch"]})
        print(f"{tokens} tokens, CPU: " + ", ".join(f"{k} {v[0] * 1e3:.1f} ms" for k, v in best.items()), flush=True)
    return rows


def markdown(rows: list[dict], repeats: int) -> str:
    import numpy
    import tokenizers

    lines = [
        "# Question mode against the tokenizer",
        "",
        "Written by `python -m bench.question` (bench/question.py). `prune(passages, rate=r, question=q)` with the",
        "SmolLM2-135M slice, against tokenizing the same passages with its tokenizer, in one process; the fastest",
        f"of {repeats} repeats each ({repeats}x16k/tokens below 16k tokens), the calls taking turns. Passages:",
        "XQuAD paragraphs, 12 languages in turn (the first, Arabic, alone is the ~1k row).",
        "",
        "| tokens | passages | rate | prune CPU ms | encode CPU ms | encode_batch CPU ms | prune / encode | "
        "prune / encode_batch | prune / encode, wall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        prune, encode, batch = row["prune"], row["encode"], row["encode_batch"]  # (CPU s, wall s) each
        lines.append(f"| {row['tokens']:,} | {row['passages']} | {row['rate']} | {prune[0] * 1e3:.1f} | "
                     f"{encode[0] * 1e3:.1f} | {batch[0] * 1e3:.1f} | **{prune[0] / encode[0]:.2f}** | "
                     f"{prune[0] / batch[0]:.2f} | {prune[1] / encode[1]:.2f} |")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines += [
        "",
        "`encode`: `tokenizer.encode` of each passage, one after another (what question mode does);",
        "`encode_batch`: one `tokenizer.encode_batch` call (its CPU time counts the tokenizers library's own",
        "threads). Ratios are of CPU time (this process's), but the last, of wall time: on a shared machine",
        "a longer call waits longer for a core, which wall time counts against it.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average {load} (1, 5, 15 min) at the end;",
        f"Python {platform.python_version()}, numpy {numpy.__version__}, tokenizers {tokenizers.__version__};",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.question", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="tokens, about")
    parser.add_argument("--slice", type=Path, default=None, help="a slice file (default: the tests' SmolLM2-135M)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from bench.structured import default_slice
    from lite import load

    pruner = load(args.slice or default_slice())
    rows = measure(pruner, tuple(args.sizes), RATES, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, args.repeats), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
