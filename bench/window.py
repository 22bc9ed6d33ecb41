"""Windowed scoring of long texts without a question: the kept set against full attention, time against the floor.

    python -m bench.window [--quick] [--threads N]     # writes bench/results/window.md

The text is real: XQuAD passages and MGSM questions (bench/data) in blocks of ten, the languages taken in
turn, cut at a token boundary to n tokens. The model is the default one (SmolLM2-135M-Instruct).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tools import mgsm

from .paths import RESULTS, child_env, python_module

XQUAD = Path(__file__).resolve().parent / "data" / "xquad"
XQUAD_LANGS = ("en", "de", "zh", "ru", "ar", "hi", "th", "es", "el", "tr", "vi", "ro")
MGSM_LANGS = ("en", "fr", "ja", "bn", "te", "sw")
BLOCK = 10  # passages (or questions) of one language in a row


def passages(lang: str) -> list[str]:
    """XQuAD's distinct contexts of a language, in file order."""
    with open(XQUAD / f"xquad_{lang}.jsonl", encoding="utf-8") as f:
        return list(dict.fromkeys(json.loads(line)["context"] for line in f))


def blocks() -> list[str]:
    """Blocks of BLOCK passages of one language, XQuAD languages in turn, an MGSM block after each round."""
    sources = {lang: passages(lang) for lang in XQUAD_LANGS}
    questions = {lang: [q for q, _ in mgsm.questions(lang)] for lang in MGSM_LANGS}
    found = []
    for round_ in range(max(len(p) for p in sources.values()) // BLOCK):
        for lang in XQUAD_LANGS:
            found.append("\n\n".join(sources[lang][round_ * BLOCK : (round_ + 1) * BLOCK]))
        lang = MGSM_LANGS[round_ % len(MGSM_LANGS)]
        found.append("\n".join(questions[lang][round_ * BLOCK : (round_ + 1) * BLOCK]))
    return [b for b in found if b]


def long_text(tokenizer, n_tokens: int) -> str:
    """The first n_tokens tokens' worth of the blocks (cut where token n_tokens + 1 starts)."""
    text = "\n\n".join(blocks())
    encoding = tokenizer.encode(text, add_special_tokens=False)
    if len(encoding.ids) <= n_tokens:
        raise ValueError(f"the data holds {len(encoding.ids)} tokens, fewer than {n_tokens}")
    return text[: encoding.offsets[n_tokens][0]]


# --- the kept set against full attention --------------------------------------------------------------

RATE = 0.7
SELECTIONS = {"default (rank_mix, clauses)": {}, "the paper's score, tokens": {"method": "attention",
                                                                              "granularity": "char"}}


class Arm:
    """A scorer standing for one way of scoring a long text, timing the forward passes it runs.

    queries: None, every query (the exact score); m, the score from m sampled queries; chunk: chunks of W.
    """

    def __init__(self, scorer, name: str, queries: int | None = None, chunk: int | None = None):
        self.scorer, self.slice, self.name, self.queries, self.chunk = scorer, scorer.slice, name, queries, chunk
        self.seconds = 0.0

    def importance(self, ids, method="attention", queries=None):
        start = time.perf_counter()
        scores = self.scorer.importance(ids, method=method, queries=self.queries)  # [n]
        self.seconds += time.perf_counter() - start
        return scores

    def options(self, n: int) -> dict:
        if self.chunk is not None:
            return {"chunk": self.chunk, "max_tokens": max(n, self.chunk)}
        return {"max_tokens": n if self.queries is None else n - 1}


def arms(scorer, queries: tuple[int, ...], chunks: tuple[int, ...]) -> list[Arm]:
    return ([Arm(scorer, "full attention")] + [Arm(scorer, f"{m} sampled queries", queries=m) for m in queries]
            + [Arm(scorer, f"chunks of {w}", chunk=w) for w in chunks])


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def kept_sets(scorer, sizes: list[int], queries: tuple[int, ...], chunks: tuple[int, ...]) -> list[dict]:
    """Per n and arm: the Jaccard of the kept tokens against full attention at RATE, per selection, and
    the seconds its forward passes took (summed over the selections' calls, each scoring once)."""
    from lite.prune import Pruner

    rows = []
    for n in sizes:
        text = long_text(Pruner(scorer).tokenizer, n)
        full = None
        for arm in arms(scorer, queries, chunks):
            pruner = Pruner(arm, Pruner(scorer).tokenizer)
            kept = {name: set(pruner.prune(text, rate=RATE, **opts, **arm.options(n)).kept)
                    for name, opts in SELECTIONS.items()}
            full = full or kept
            row = {"n": n, "arm": arm.name, "seconds": arm.seconds / len(SELECTIONS),
                   **{name: jaccard(kept[name], full[name]) for name in SELECTIONS}}
            print(f"  n={n} {arm.name}: {row['seconds']:.2f} s, Jaccard "
                  + ", ".join(f"{row[name]:.3f}" for name in SELECTIONS), flush=True)
            rows.append(row)
    return rows


# --- time against the floor, and peak memory, one fresh process per measurement -------------------------

def score_call(scorer, arm: str, ids: np.ndarray):
    """The call an arm makes: "full", "sampled" (SAMPLED_QUERIES queries) or "chunk:W"."""
    from lite.prune.engine import scored_importance
    from lite.prune.options import SAMPLED_QUERIES, PruneOptions

    n = len(ids)
    if arm == "full":
        options = PruneOptions(method="attention", max_tokens=n)
    elif arm == "sampled":
        options = PruneOptions(method="attention", max_tokens=SAMPLED_QUERIES)
    else:
        width = int(arm.split(":")[1])
        options = PruneOptions(method="attention", chunk=width, max_tokens=width)
    return lambda: scored_importance(scorer, ids, options)


def child(arm: str, ids_file: str, threads: int, repeats: int) -> dict:
    """In a fresh process: time `repeats` calls of the arm (after a warm-up at 128 tokens), each followed by the
    floor's rates (the machine is shared: a call and the rates right after it see about the same load); peak RSS."""
    from lite import load

    from .child import peak_rss_bytes

    pruner = load(threads=threads)
    if arm == "prune":  # the whole pipeline on the text, default options
        text = Path(ids_file).read_text(encoding="utf-8")
        pruner.prune(text[:2000], rate=RATE)
        call = lambda: pruner.prune(text, rate=RATE)  # noqa: E731
    else:
        ids = np.load(ids_file)  # [n]
        score_call(pruner.scorer, "full", ids[:128])()
        score_call(pruner.scorer, arm, ids[:4096])()  # the numba kernel warmed up too
        call = score_call(pruner.scorer, arm, ids)
    times, rates = [], []
    for _ in range(repeats):  # each timed call paired with the floor's rates measured right after it
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        if not rates:
            peak = peak_rss_bytes()  # before the floor's own arrays
        rates.append(rates_measured(threads))
    return {"times_s": times, "peak_rss_bytes": peak, "rates": rates}


def rates_measured(threads: int) -> dict:
    """The floor's rates (bench/floor.py), measured here and now: the machine is shared, its load moves."""
    from . import floor

    found = floor.measure(threads)
    return {**dataclasses.asdict(found), "best_exp": found.best_exp}


def run_child(*args: object) -> dict:
    proc = subprocess.run(python_module("bench.window", "--child", *args), capture_output=True, text=True,
                          env=child_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.window child {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def floor_of(arm: str, n: int, spec, rates, projections: bool = True) -> float:
    """The least time the arm's work can take here: its flops at the sgemm rate, its exps at the exp rate
    (bench/floor.py): the projections of n tokens (unless not asked for), and the logits of each query
    scored on each key."""
    from lite.prune.options import SAMPLED_QUERIES

    projections = projections * 2 * n * spec.hidden_size * (spec.n_heads + spec.n_kv_heads) * spec.head_dim
    projections /= rates.sgemm_flops
    if arm == "full":
        return projections + scores_seconds(n, n, spec, rates)
    if arm == "sampled":
        return projections + scores_seconds(min(SAMPLED_QUERIES, n), n, spec, rates)
    width = int(arm.split(":")[1])
    return projections + sum(scores_seconds(min(width, n - s), min(width, n - s), spec, rates)
                             for s in range(0, n, width))


def scores_seconds(queries: int, keys: int, spec, rates) -> float:
    """The floor of the logits of `queries` queries on `keys` keys, every head: their flops and exps."""
    return (2 * queries * keys * spec.n_heads * spec.head_dim / rates.sgemm_flops
            + queries * keys * spec.n_heads / rates.best_exp)


SPEED_ARMS = {16384: ("full", "sampled", "chunk:2048", "prune"), 32768: ("full", "sampled", "chunk:2048", "prune"),
              65536: ("sampled", "chunk:2048", "prune"), 131072: ("sampled", "chunk:2048", "prune")}


def speed(tokenizer, sizes: list[int], threads: int, repeats: int) -> list[dict]:
    """Per n and arm (in its own process): median seconds, peak RSS; the floor added by the caller."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="lite-window-") as work:
        for n in sizes:
            text = long_text(tokenizer, n)
            ids_file, text_file = Path(work) / f"{n}.npy", Path(work) / f"{n}.txt"
            np.save(ids_file, np.asarray(tokenizer.encode(text).ids, dtype=np.int64))
            text_file.write_text(text, encoding="utf-8")
            for arm in SPEED_ARMS[n]:
                reps = 1 if arm == "full" and n > 16384 else repeats
                found = run_child(arm, text_file if arm == "prune" else ids_file, threads, reps)
                rows.append({"n": n, "arm": arm, "seconds": statistics.median(found["times_s"]),
                             "times_s": found["times_s"], "peak_mib": found["peak_rss_bytes"] / 2**20,
                             "rates": found["rates"]})
                print(f"  n={n} {arm}: {rows[-1]['seconds']:.2f} s, {rows[-1]['peak_mib']:.0f} MiB", flush=True)
    return rows


KEPT_SIZES, QUICK_KEPT_SIZES = [4096, 8192, 16384, 32768], [4096, 8192]
QUERIES, CHUNKS = (512, 1024, 2048), (512, 1024, 2048, 4096)


def arm_label(arm: str) -> str:
    from lite.prune.options import SAMPLED_QUERIES

    return {"full": "full attention", "sampled": f"{SAMPLED_QUERIES} sampled queries (the default)",
            "prune": "the whole prune, default options"}.get(arm, arm.replace("chunk:", "chunks of "))


def markdown(machine: dict, spec, kept: list[dict], timed: list[dict]) -> str:
    lines = ["# Long texts without a question: sampled queries and chunks against full attention", "",
             "Written by `python -m bench.window`. SmolLM2-135M-Instruct (the default model); XQuAD passages and "
             "MGSM questions in blocks of ten, 12 + 6 languages in turn (bench/data), cut to n tokens.", "",
             *[f"- {k}: {v}" for k, v in machine.items()],
             "", f"## The kept set against full attention (Jaccard at rate {RATE})", "",
             "Seconds: the forward passes of one selection (one process, warm).", "",
             "| n | arm | seconds | " + " | ".join(f"Jaccard, {name}" for name in SELECTIONS) + " |",
             "|---|---|---|" + "---|" * len(SELECTIONS)]
    lines += [f"| {r['n']:,} | {r['arm']} | {r['seconds']:.2f} | " + " | ".join(f"{r[name]:.3f}" for name in SELECTIONS)
              + " |" for r in kept]
    lines += ["", "## Time against the floor, and peak memory", "",
              "One fresh process per row: the median of the timed calls after a warm-up; peak RSS is the process's "
              "VmHWM. The floor is the arm's own work (projections of n tokens, then each query's logits on each key "
              "it sees: every key for full attention and sampled queries, its chunk's for chunks) at the sgemm and "
              "exp rates (bench/floor.py) measured in the same process right after each timed call (the machine is "
              "shared: its load moves during a run); the ratios are the medians of each call's time over the floor "
              "measured right after it. lite projects each distinct id once (a few thousand in real "
              "text), so it can beat the floor's projections of all n tokens: the last ratio leaves them out, "
              "against the floor of the logits alone. The whole prune has no floor: it adds tokenizing, units, "
              "clauses and the selection.", "",
              "| n | arm | seconds | sgemm GFLOP/s, exp Gexp/s | floor s | / floor | / floor of the logits | "
              "peak RSS MiB |", "|---|---|---|---|---|---|---|---|"]
    for r in timed:
        pairs = [(seconds, rates_of(found)) for seconds, found in zip(r["times_s"], r["rates"])]
        measured = (f"{statistics.median(rates.sgemm_flops for _, rates in pairs) / 1e9:.1f}, "
                    f"{statistics.median(rates.best_exp for _, rates in pairs) / 1e9:.2f}")
        if r["arm"] == "prune":
            floors = "– | – | –"
        else:
            floor, over_floor, over_logits = paired_ratios(r["arm"], r["n"], spec, pairs)
            floors = f"{floor:.2f} | {over_floor:.2f}x | {over_logits:.2f}x"
        lines.append(f"| {r['n']:,} | {arm_label(r['arm'])} | {r['seconds']:.2f} | {measured} | {floors} | "
                     f"{r['peak_mib']:,.0f} |")
    return "\n".join(lines) + "\n"


def paired_ratios(arm: str, n: int, spec, pairs: list) -> tuple[float, float, float]:
    """The median floor, and the medians over the timed calls of each call's time over the floor at the rates
    measured right after it (with and without the projections of n tokens)."""
    floors = [floor_of(arm, n, spec, rates, True) for _, rates in pairs]
    logits = [floor_of(arm, n, spec, rates, False) for _, rates in pairs]
    return (statistics.median(floors), statistics.median(s / f for (s, _), f in zip(pairs, floors)),
            statistics.median(s / f for (s, _), f in zip(pairs, logits)))


def rates_of(found: dict):
    from .floor import Rates

    return Rates(found["sgemm_flops"], found["numpy_exp"], found["lite_exp"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.window", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the kept set at 4k and 8k, time at 16k and 32k")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", type=Path, default=RESULTS / "window.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        arm, path, threads, repeats = args.child
        print(json.dumps(child(arm, path, int(threads), int(repeats))))
        return 0
    from lite import load

    from .report import machine_facts

    pruner = load(threads=args.threads)
    machine = machine_facts(args.threads, {})
    print("the kept set against full attention", flush=True)
    pruner.scorer.importance(np.arange(4096) % 1000, method="attention")  # numba warmed up
    kept = kept_sets(pruner.scorer, QUICK_KEPT_SIZES if args.quick else KEPT_SIZES, QUERIES, CHUNKS)
    print("time and memory", flush=True)
    sizes = [16384, 32768] if args.quick else sorted(SPEED_ARMS)
    timed = speed(pruner.tokenizer, sizes, args.threads, repeats=3)
    machine["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    args.out.write_text(markdown(machine, pruner.scorer.spec, kept, timed), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
