"""The tiled column sums against whole rows of logits, side by side in one process.

    python -m bench.tiles [--threads N] [--repeats R]     # writes bench/results/tiles.md

From forward.TILED_FROM keys on, lite multiplies and exponentiates a tile of keys at a time
(lite/score/forward.py, `tiled_colsums`). This A/B scores the same real text (bench.window's blocks
of XQuAD and MGSM) with the default model both ways, the two arms taking turns in one warm process,
every query on every key (the exact score), and the sampled-query path of long texts; it reports the
median seconds of each, their ratio and the largest relative difference of the scores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .paths import RESULTS

SIZES = (2048, 4096, 8192, 16384, 32768)
SAMPLED = (65536, 131072)  # past max_tokens: the default's 1,024 sampled queries on every key
WHOLE_ROWS = 1 << 62  # a TILED_FROM no input reaches: every block as whole rows of logits


def timed_arms(scorer, ids: np.ndarray, queries: int | None, repeats: int) -> dict:
    """Both arms in turn, `repeats` times each: median seconds, and the largest relative difference."""
    from lite.score import forward

    tiled_from = forward.TILED_FROM
    times: dict[str, list[float]] = {"whole rows": [], "tiles": []}
    scores = {}
    try:
        for _ in range(repeats):
            for arm, threshold in (("whole rows", WHOLE_ROWS), ("tiles", 0)):
                forward.TILED_FROM = threshold
                start = time.perf_counter()
                scores[arm] = scorer.importance(ids, method="attention", queries=queries)  # [n]
                times[arm].append(time.perf_counter() - start)
    finally:
        forward.TILED_FROM = tiled_from
    difference = float(np.abs(scores["tiles"] - scores["whole rows"]).max() / scores["whole rows"].max())
    return {arm: statistics.median(found) for arm, found in times.items()} | {"difference": difference}


def markdown(machine: dict, rows: list[dict]) -> str:
    lines = ["# Tiled column sums against whole rows of logits", "",
             "Written by `python -m bench.tiles`. SmolLM2-135M-Instruct (the default model) on bench.window's real "
             "text, the paper's score; the two arms take turns in one warm process (median seconds). Whole rows: "
             "each block of query rows multiplied on every key, then the softmax over the whole rows in memory. "
             "Tiles: lite's path from TILED_FROM keys on.", "",
             *[f"- {k}: {v}" for k, v in machine.items()], "",
             "| n | queries | whole rows s | tiles s | tiles / whole rows | largest relative difference |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['n']:,} | {r['queries']} | {r['whole rows']:.2f} | {r['tiles']:.2f} | "
              f"{r['tiles'] / r['whole rows']:.2f} | {r['difference']:.1e} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tiles", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "tiles.md")
    args = parser.parse_args(argv)
    from lite import load
    from lite.prune.options import SAMPLED_QUERIES

    from .report import machine_facts
    from .window import long_text

    pruner = load(threads=args.threads)
    machine = machine_facts(args.threads, {})
    ids = np.asarray(pruner.tokenizer.encode(long_text(pruner.tokenizer, max(SAMPLED))).ids, dtype=np.int64)
    pruner.scorer.importance(ids[:4096], method="attention")  # numba warmed up
    rows = []
    for n, queries in [(n, None) for n in SIZES] + [(n, SAMPLED_QUERIES) for n in SAMPLED]:
        found = timed_arms(pruner.scorer, ids[:n], queries, args.repeats)
        rows.append({"n": n, "queries": "all" if queries is None else queries, **found})
        print(f"  n={n}: whole rows {found['whole rows']:.2f} s, tiles {found['tiles']:.2f} s", flush=True)
    machine["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    args.out.write_text(markdown(machine, rows), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
