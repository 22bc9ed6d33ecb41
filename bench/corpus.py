"""`python -m bench.corpus [--per-language N] [--rate R]`: pruning a corpus, the process pool against Ray Data.

The corpus is XQuAD contexts (bench/data/xquad: 12 languages, N passages each, 10 by default), as
JSONL. On the same corpus, same slice (SmolLM2-135M, the tests' fixture) and same options it times:

- the process pool, `lite.prune.batch.prune_jsonl`, with 1 and 2 worker processes;
- Ray Data, `lite.ray.prune_jsonl` (the `--engine ray` path), with at most 1 and 2 actors, on a local
  Ray started once (`ray.init(num_cpus=2)`; that start is timed on its own);

each end to end (workers or actors started, slice loaded, every passage pruned, the file written),
and checks that all outputs are byte-identical. Then it measures what one actor costs in memory: two
probe actors report their RSS, USS (private) and PSS before and after loading the slice and after
pruning passages. It writes bench/results/corpus.md (and prints it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from lite.prune import PruneOptions
from lite.prune.batch import prune_jsonl
from tools import fixtures, xquad

from .paths import RESULTS

LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "el", "hi", "ro", "th", "tr", "vi")
MiB = 1024 * 1024


def corpus(per_language: int) -> list[dict]:
    """The first `per_language` distinct XQuAD contexts of each language, as records {"id", "lang", "text"}."""
    records = []
    for lang in LANGUAGES:
        for i, context in enumerate(list(dict.fromkeys(p["context"] for p in xquad.paragraphs(lang)))[:per_language]):
            records.append({"id": f"{lang}-{i}", "lang": lang, "text": context})
    return records


def smollm2_slice(folder: Path) -> Path:
    """The SmolLM2-135M slice the tests use (made once into the fixture cache)."""
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder

    out = folder / "smollm2-135m-instruct.safetensors"
    if not out.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        make_slice(LocalFolder(fixtures.smollm2_folder()), out)
    return out


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def actor_memory(model: Path, texts: list[str], rate: float) -> list[dict]:
    """Two probe actors (one CPU each): their memory idle, with the slice loaded, and after pruning `texts`."""
    import psutil
    import ray

    @ray.remote(num_cpus=1)
    class Probe:
        def memory(self) -> dict:
            info = psutil.Process().memory_full_info()
            return {"rss": info.rss, "uss": info.uss, "pss": info.pss}

        def load(self) -> dict:
            start, cpu = time.perf_counter(), time.process_time()
            from lite.prune import load

            self.pruner = load(model, threads=1)
            return {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu, "tokens": 0}

        def prune(self) -> dict:
            start, cpu = time.perf_counter(), time.process_time()
            tokens = sum(self.pruner.prune(text, rate=rate).origin_tokens for text in texts)
            return {"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu, "tokens": tokens}

    probes = [Probe.remote() for _ in range(2)]
    stages = []
    for stage, call in (("idle Ray worker", None), ("slice loaded", "load"), ("after pruning", "prune")):
        timing = ray.get([getattr(p, call).remote() for p in probes]) if call else None
        stages.append({"stage": stage, "actors": ray.get([p.memory.remote() for p in probes]), "timing": timing})
    for probe in probes:
        ray.kill(probe)
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-language", type=int, default=10, help="XQuAD passages per language (12 languages)")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=2, help="runs of each configuration (the best is reported)")
    parser.add_argument("--out", type=Path, default=RESULTS / "corpus.md")
    args = parser.parse_args(argv)

    import ray

    import lite.ray

    work = Path(tempfile.mkdtemp(prefix="lite-corpus-"))
    model = smollm2_slice(fixtures.cache_dir() / "slices")
    records = corpus(args.per_language)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    options = PruneOptions(rate=args.rate)
    load_before = os.getloadavg()

    runs: dict[str, list[float]] = {}
    outputs: dict[str, bytes] = {}
    for workers in (1, 2):
        name = f"process pool, {workers} worker{'s' * (workers > 1)}"
        for _ in range(args.repeats):
            out = work / f"pool{workers}.jsonl"
            runs.setdefault(name, []).append(timed(lambda: prune_jsonl(model, data, out, options, workers=workers)))  # noqa: B023
        outputs[name] = out.read_bytes()
    ray_start = timed(lambda: ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False))
    try:
        for actors in (1, 2):
            name = f"Ray Data, {actors} actor{'s' * (actors > 1)}"
            for _ in range(args.repeats):
                out = work / f"ray{actors}.jsonl"
                runs.setdefault(name, []).append(
                    timed(lambda: lite.ray.prune_jsonl(model, data, out, options, actors=actors)))  # noqa: B023
            outputs[name] = out.read_bytes()
        memory = actor_memory(model, [r["text"] for r in records], args.rate)
    finally:
        ray.shutdown()
    load_after = os.getloadavg()

    pruned = [json.loads(line) for line in outputs["process pool, 1 worker"].splitlines()]
    tokens = sum(r["origin_tokens"] for r in pruned)
    identical = len(set(outputs.values())) == 1
    report = render(args, records, tokens, runs, ray_start, memory, identical, model, load_before, load_after)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0 if identical else 1


def render(args, records, tokens, runs, ray_start, memory, identical, model, load_before, load_after) -> str:
    lines = [
        "# Corpus pruning: the process pool against Ray Data",
        "",
        f"`python -m bench.corpus --per-language {args.per_language} --rate {args.rate} --repeats {args.repeats}`: "
        f"{len(records)} XQuAD passages ({args.per_language} in each of {len(LANGUAGES)} languages), "
        f"{tokens:,} SmolLM2 tokens, pruned at rate {args.rate} with SmolLM2-135M "
        f"({model.stat().st_size / MiB:.0f} MiB slice). Each run is end to end: workers or actors started, "
        "the slice loaded, every passage pruned, the output written. Best and worst of the runs.",
        "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), **shared with about "
        f"seven other busy agents**: load average {load_before[0]:.1f} before and {load_after[0]:.1f} after "
        "(on 2 cores). These are numbers for comparing the two engines side by side in one run, not "
        "lite's speed: rerun on an idle machine before quoting them.",
        "",
        "The pool with 1 worker prunes in the calling process (with lite's own scoring threads, one per "
        "core); with 2 it spawns 2 processes of one thread each. A Ray actor always scores with one thread.",
        "",
        "| engine | best s | worst s | documents/s | tokens/s |",
        "|---|---|---|---|---|",
    ]
    for name, times in runs.items():
        best = min(times)
        lines.append(f"| {name} | {best:.1f} | {max(times):.1f} | {len(records) / best:.1f} | {tokens / best:,.0f} |")
    lines += [
        "",
        f"Starting the local Ray itself (`ray.init(num_cpus=2)`) took {ray_start:.1f} s, not counted above.",
        f"All outputs byte-identical: **{'yes' if identical else 'NO'}**.",
        "",
        "## What one actor costs in memory",
        "",
        "Two probe actors on this node, one CPU each (MiB; USS is the actor's private memory, PSS counts "
        "pages shared with the other actor half each):",
        "",
        "| stage | RSS | USS | PSS |",
        "|---|---|---|---|",
    ]
    for stage in memory:
        m = {k: statistics.mean(a[k] for a in stage["actors"]) / MiB for k in ("rss", "uss", "pss")}
        lines.append(f"| {stage['stage']} | {m['rss']:.0f} | {m['uss']:.0f} | {m['pss']:.0f} |")
    load, pruning = memory[1]["timing"], memory[2]["timing"]
    per_cpu = [t["tokens"] / t["cpu"] for t in pruning]
    lines += [
        "",
        "## What one actor does per CPU-second",
        "",
        f"The same two actors, side by side, each loading the slice and then pruning the same "
        f"{pruning[0]['tokens']:,} tokens of passages: CPU time is what an actor costs whatever the "
        "contention; wall time is what it got on this machine.",
        "",
        "| actor | load: wall s | load: CPU s | prune: wall s | prune: CPU s | tokens per CPU-second | "
        "tokens per wall second |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (lo, pr) in enumerate(zip(load, pruning), start=1):
        lines.append(f"| {i} | {lo['wall']:.2f} | {lo['cpu']:.2f} | {pr['wall']:.1f} | {pr['cpu']:.1f} | "
                     f"{pr['tokens'] / pr['cpu']:,.0f} | {pr['tokens'] / pr['wall']:,.0f} |")
    lines += ["", f"Mean: {statistics.mean(per_cpu):,.0f} tokens per CPU-second per actor."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
