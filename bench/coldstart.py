"""Cold start: a fresh `python` process to its first importance of 512 tokens, timed from outside.

lite with numba's cache warm (the usual case), lite with an empty NUMBA_CACHE_DIR (the first run
on a machine, compiling the kernels), and the reference (load the whole model, then score).
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .latency import LITE, REFERENCE, run_child

COLD_TOKENS = 512


@dataclass(frozen=True)
class ColdStart:
    lite_warm_cache_s: list[float]
    lite_first_compile_s: float
    reference_s: list[float]

    @staticmethod
    def summary(times: list[float]) -> tuple[float, float, float]:
        return statistics.median(times), min(times), max(times)


def measure(lite_slice: Path, reference_folder: Path, threads: int, repeats: int, reference_repeats: int) -> ColdStart:
    def wall(side: str, path: Path, **env: str) -> float:
        run = run_child(side, path, COLD_TOKENS, 1, threads, cold=True, extra_env=env)
        if run.skipped:
            raise RuntimeError(f"cold start of {side}: {run.skipped}")
        return run.wall_s

    wall(LITE, lite_slice)  # make sure numba's cache is filled
    warm = [wall(LITE, lite_slice) for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as empty_cache:
        first = wall(LITE, lite_slice, NUMBA_CACHE_DIR=empty_cache)
    reference = [wall(REFERENCE, reference_folder) for _ in range(reference_repeats)]
    print(f"  cold start: lite {statistics.median(warm):.2f} s (first compile {first:.2f} s), "
          f"reference {statistics.median(reference):.2f} s", flush=True)
    return ColdStart(warm, first, reference)
