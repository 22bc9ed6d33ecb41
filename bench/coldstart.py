"""Cold start: a fresh `python` process to its first importance of 512 tokens, timed from outside.

lite as it runs by default (`kernel="auto"`: numpy's kernel at this size, numba never imported); lite
forced onto its numba kernel with numba's cache warm, and with an empty NUMBA_CACHE_DIR (the first run
on a machine, compiling the kernels); the reference (load the whole model, then score).
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
    lite_s: list[float]
    lite_numba_s: list[float]
    lite_first_compile_s: float
    reference_s: list[float]

    @staticmethod
    def summary(times: list[float]) -> tuple[float, float, float]:
        return statistics.median(times), min(times), max(times)


def measure(lite_slice: Path, reference_folder: Path, threads: int, repeats: int, reference_repeats: int) -> ColdStart:
    def wall(side: str, path: Path, numba: bool = False, **env: str) -> float:
        run = run_child(side, path, COLD_TOKENS, 1, threads, cold=True, numba=numba, extra_env=env)
        if run.skipped:
            raise RuntimeError(f"cold start of {side}: {run.skipped}")
        return run.wall_s

    wall(LITE, lite_slice, numba=True)  # make sure numba's cache is filled
    default = [wall(LITE, lite_slice) for _ in range(repeats)]
    numba = [wall(LITE, lite_slice, numba=True) for _ in range(repeats)]
    with tempfile.TemporaryDirectory() as empty_cache:
        first = wall(LITE, lite_slice, numba=True, NUMBA_CACHE_DIR=empty_cache)
    reference = [wall(REFERENCE, reference_folder) for _ in range(reference_repeats)]
    print(f"  cold start: lite {statistics.median(default):.2f} s (numba kernel {statistics.median(numba):.2f} s, "
          f"first compile {first:.2f} s), reference {statistics.median(reference):.2f} s", flush=True)
    return ColdStart(default, numba, first, reference)
