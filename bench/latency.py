"""Latency and peak memory: one fresh process per (side, n), so each peak RSS belongs to one n alone."""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .paths import REPO, child_env, python_module

LITE, REFERENCE = "lite", "reference"


@dataclass
class Run:
    """What one child process measured (see bench/child.py)."""

    side: str
    n: int
    times_s: list[float] = field(default_factory=list)
    peak_rss_bytes: int = 0
    load_s: float = 0.0
    wall_s: float = 0.0  # the whole process, from outside
    trimmed: bool = False
    skipped: str = ""

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)


def run_child(side: str, path: Path, n: int, repeats: int, threads: int, cold: bool = False, numba: bool = False,
              extra_env: dict[str, str] | None = None) -> Run:
    flags = (["cold"] if cold else []) + (["numba"] if numba else [])
    command = python_module("bench.child", side, path, n, repeats, threads, *flags)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=child_env(**(extra_env or {})), capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        reason = "killed (out of memory?)" if done.returncode < 0 else done.stderr.strip().splitlines()[-1:]
        return Run(side, n, wall_s=wall, skipped=f"failed: {reason}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(side, n, result.get("times_s", []), result["peak_rss_bytes"], result["load_s"], wall,
               bool(result.get("trimmed")), result.get("skipped", ""))


def measure(side: str, path: Path, sizes: list[int], repeats: dict[int, int], threads: int) -> list[Run]:
    runs = []
    for n in sizes:
        run = run_child(side, path, n, repeats[n], threads)
        runs.append(run)
        shown = f"median {run.median_s:.3f} s" if run.times_s else run.skipped
        print(f"  {side:9s} n={n:6d}: {shown}, peak RSS {run.peak_rss_bytes / 2**20:.0f} MiB", flush=True)
    return runs
