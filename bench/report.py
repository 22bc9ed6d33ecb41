"""bench/results/RESULTS.md (tables, machine, versions, date, targets) and latency.png (log-log latency)."""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from lite.model import AttentionSpec

from .coldstart import ColdStart
from .floor import Rates, floor_seconds
from .latency import Run
from .paths import RESULTS
from .realtext import TextRun
from .slicer import SlicerResult

MIB = 2**20
CHANGES = RESULTS / "changes.md"  # what moved the numbers, kept by hand, appended to RESULTS.md
TARGET_SPEEDUP = {2048: 3.0, 4096: 5.0, 8192: 8.0}
TARGET_PEAK = {8192: 600 * 10**6, 32768: 1.5 * 10**9}
TARGET_COLD_S = 1.0
TARGET_FLOOR_RATIO = 1.7


@dataclass
class Results:
    quick: bool
    threads: int
    machine: dict[str, str]
    spec: AttentionSpec
    lite: list[Run]
    reference: list[Run]
    rates: Rates
    cold: ColdStart
    slicer: SlicerResult
    text: list[TextRun]


def machine_facts(threads: int, blas_env: dict[str, str]) -> dict[str, str]:
    import numba
    import numpy
    import psutil
    import torch
    import transformers

    from lite.score.threads import blas_core

    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
               platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    overrides = ", ".join(f"{k}={v}" for k, v in blas_env.items()) or "none set"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu} ({os.cpu_count()} cores, {' '.join(simd)})",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "threads": str(threads),
        "load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "versions": f"Python {platform.python_version()}, numpy {numpy.__version__}, numba {numba.__version__}, "
                    f"torch {torch.__version__}, transformers {transformers.__version__}",
        "OpenBLAS core": f"{blas_core()} (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the environment: {overrides}; "
                         "unset for this run)",
    }


def stats(run: Run | None) -> str:
    if run is None:
        return "–"
    if not run.times_s:
        return run.skipped or "–"
    return f"{run.median_s:.3f} ({min(run.times_s):.3f}–{max(run.times_s):.3f})"


def rss(run: Run | None) -> str:
    if run is None or not run.peak_rss_bytes:
        return "–"
    return f"{run.peak_rss_bytes / MIB:,.0f}" + (" ¹" if run.trimmed else "")


def by_n(runs: list[Run]) -> dict[int, Run]:
    return {run.n: run for run in runs}


def speedup(lite: Run | None, reference: Run | None) -> float | None:
    if lite is None or reference is None or not lite.times_s or not reference.times_s:
        return None
    return reference.median_s / lite.median_s


def latency_table(results: Results) -> list[str]:
    lite, reference = by_n(results.lite), by_n(results.reference)
    lines = ["| n | lite s, median (min–max) | reference s, median (min–max) | speed-up | lite peak RSS MiB "
             "| reference peak RSS MiB | floor s | lite / floor |", "|---|---|---|---|---|---|---|---|"]
    for n in sorted(set(lite) | set(reference)):
        ratio = speedup(lite.get(n), reference.get(n))
        floor = floor_seconds(n, results.spec, results.rates)
        of_floor = f"{lite[n].median_s / floor:.2f}x" if n in lite and lite[n].times_s else "–"
        lines.append(f"| {n} | {stats(lite.get(n))} | {stats(reference.get(n))} | "
                     f"{f'{ratio:.1f}x' if ratio else '–'} | {rss(lite.get(n))} | {rss(reference.get(n))} | "
                     f"{floor:.3f} | {of_floor} |")
    if any(run.trimmed for run in results.reference):
        lines += ["", "¹ After loading the whole model, layers 1-15 were dropped to leave room for the "
                  "[heads, n, n] attention weights (the time is that of layer 0 either way); the peak includes "
                  "the whole model's load."]
    return lines


def targets(results: Results) -> list[str]:
    lite, reference = by_n(results.lite), by_n(results.reference)
    rows = []
    for n, want in TARGET_SPEEDUP.items():
        got = speedup(lite.get(n), reference.get(n))
        rows.append((f"≥ {want:g}x faster than the reference at n = {n}", f"{got:.1f}x" if got else "not measured",
                     got is not None and got >= want))
    for n, limit in TARGET_PEAK.items():
        run = lite.get(n)
        got = run.peak_rss_bytes if run and run.times_s else None
        rows.append((f"peak RSS at n = {n} < {limit / 1e6:,.0f} MB", f"{got / 1e6:,.0f} MB" if got else "not measured",
                     got is not None and got < limit))
    cold = ColdStart.summary(results.cold.lite_s)[0]
    rows.append((f"cold start < {TARGET_COLD_S:g} s", f"{cold:.2f} s", cold < TARGET_COLD_S))
    for n in sorted(n for n in lite if n >= 2048 and lite[n].times_s):
        ratio = lite[n].median_s / floor_seconds(n, results.spec, results.rates)
        rows.append((f"within {TARGET_FLOOR_RATIO}x of the floor at n = {n}", f"{ratio:.2f}x",
                     ratio <= TARGET_FLOOR_RATIO))
    return ["| target | measured | met |", "|---|---|---|"] + [
        f"| {what} | {got} | {'yes' if ok else '**no**'} |" for what, got, ok in rows]


def cold_table(cold: ColdStart) -> list[str]:
    def row(what: str, times: list[float]) -> str:
        median, low, high = ColdStart.summary(times)
        return f"| {what} | {median:.2f} ({low:.2f}–{high:.2f}) |"

    return ["| fresh `python` to the first importance of 512 tokens | s, median (min–max) |", "|---|---|",
            row("lite, default (`kernel=\"auto\"`: numpy's kernel at 512 tokens, numba not imported)", cold.lite_s),
            row("lite, numba kernel, numba's cache warm", cold.lite_numba_s),
            row("lite, numba kernel, first run on the machine (empty NUMBA_CACHE_DIR: compiles the kernels)",
                [cold.lite_first_compile_s]),
            row("reference (load the whole model, then score)", cold.reference_s)]


def slicer_table(s: SlicerResult) -> list[str]:
    fetched = s.storage_bytes + s.hub_bytes
    return ["| repo | full repo | fetched (storage + hub) | slice file | fetched / repo | time on loopback |",
            "|---|---|---|---|---|---|",
            f"| {s.repo_id} | {s.repo_bytes / MIB:,.1f} MiB | {fetched / MIB:,.1f} MiB ({s.storage_bytes:,} + "
            f"{s.hub_bytes:,} bytes, {s.ranges} ranges) | {s.slice_bytes / MIB:,.1f} MiB | "
            f"{fetched / s.repo_bytes:.1%} | {s.seconds:.1f} s |"]


def text_table(runs: list[TextRun]) -> list[str]:
    return ["| language | tokens | distinct ids | median s | tokens/s |", "|---|---|---|---|---|"] + [
        f"| {r.lang} | {r.tokens} | {r.distinct} | {r.median_s:.4f} | {r.tokens_per_s:,.0f} |" for r in runs]


def write_markdown(results: Results, path: Path, plot: Path) -> None:
    rates = results.rates
    lines = [f"# Benchmark results{' (--quick)' if results.quick else ''}", "",
             "Written by `python -m bench`; see docs/benchmarks.md for how to read it.", ""]
    lines += [f"- **{key}**: {value}" for key, value in results.machine.items()]
    lines += ["", "Model: Llama-3.2-1B-shaped, random bf16 weights (hidden 2048, 32 heads, 8 kv heads, head_dim 64). "
              "Random token ids. lite scores from its slice; the reference is transformers (whole model, fp32, eager, "
              "layer 0's attention weights, no mask) on the same threads.", "",
              "## Latency, memory and the floor", ""] + latency_table(results)
    lines += ["", f"![latency against tokens]({plot.name})", "",
              f"Floor: sgemm {rates.sgemm_flops / 1e9:.1f} GFLOP/s (numpy float32 {3072}² matmul); exp "
              f"{rates.best_exp / 1e9:.2f} G/s (numpy np.exp {rates.numpy_exp / 1e9:.2f}, lite's polynomial "
              f"{rates.lite_exp / 1e9:.2f}), all threads.", "", "## Targets", ""] + targets(results)
    lines += ["", "## Cold start", ""] + cold_table(results.cold)
    lines += ["", "## The slicer", ""] + slicer_table(results.slicer)
    lines += ["", "## Real text: MGSM 8-shot prompts, SmolLM2-135M slice", ""] + text_table(results.text)
    lines += ["", f"- **load average at end**: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", ""]
    if CHANGES.is_file():
        lines += ["", CHANGES.read_text().strip(), ""]
    path.write_text("\n".join(lines))


def write_plot(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for runs, label, style in ((results.lite, "lite", "o-"), (results.reference, "reference (transformers)", "s-")):
        timed = [r for r in runs if r.times_s]
        ns = [r.n for r in timed]
        medians = [r.median_s for r in timed]
        errors = [[m - min(r.times_s) for m, r in zip(medians, timed)],
                  [max(r.times_s) - m for m, r in zip(medians, timed)]]
        ax.errorbar(ns, medians, yerr=errors, fmt=style, capsize=3, label=label)
    ns = sorted({r.n for r in results.lite} | {r.n for r in results.reference})
    ax.plot(ns, [floor_seconds(n, results.spec, results.rates) for n in ns], "k--", label="floor (sgemm + exp)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("tokens n")
    ax.set_ylabel("importance latency, s (median, min–max)")
    ax.set_title(f"Llama-3.2-1B-shaped layer-0 importance, {results.threads} threads")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
