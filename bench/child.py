"""One measurement in a fresh process: load a scorer, time `repeats` importance calls at n tokens.

    python -m bench.child lite SLICE N REPEATS THREADS [cold] [numba]
    python -m bench.child reference FOLDER N REPEATS THREADS [cold]

Prints one JSON line: load_s (import and load), times_s, peak_rss_bytes (VmHWM of this process)
and, for the reference, `trimmed` when layers 1.. were dropped after the load to make room for
the [heads, n, n] attention weights. A first call at min(n, 128) tokens warms each side up,
except with `cold`, where the first timed call is the process's first score. `numba` makes lite use
its numba kernel whatever n (by default `kernel="auto"` picks numpy for small inputs).
Ids are random (seed n) over the first 49152 ids, the SmolLM2 tokenizer's range.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

ID_RANGE = 49152
WARMUP_TOKENS = 128
RESERVE_BYTES = 1 << 30  # head room kept free besides the attention weights


def ids_for(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(0, ID_RANGE, n)


def peak_rss_bytes() -> int:
    """This process's peak resident memory: VmHWM, the high-water mark of its own address space.

    Not ru_maxrss: Linux carries the parent's peak into a child's ru_maxrss when it forks and execs,
    so every child of the benchmark would report at least the benchmark's own size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux: KiB, an upper bound


def lite_scorer(path: str, threads: int, kernel: str):
    from lite.score import Scorer

    scorer = Scorer(path, threads=threads)
    return (lambda ids: scorer.importance(ids, kernel=kernel, method="attention")), {}


def reference_scorer(folder: str, threads: int, n: int):
    """transformers' Algorithm 1: the whole model on CPU, fp32, eager; layer 0's attention weights."""
    import psutil
    import torch

    from tools.reference import decoder, layer0_attention_mean, load_model

    torch.set_num_threads(threads)
    model = load_model(folder)
    config = model.config
    needed = 2 * config.num_attention_heads * n * n * 4 + RESERVE_BYTES  # scores and softmax, float32
    info = {}
    if psutil.virtual_memory().available < needed:
        del decoder(model).layers[1:]  # what the score reads stays; the time is unchanged
        import gc

        gc.collect()
        info["trimmed"] = True
        if psutil.virtual_memory().available < needed:
            info["skipped"] = f"needs {needed / 2**30:.1f} GiB for the attention weights"
    return (lambda ids: layer0_attention_mean(model, ids)), info


def main(argv: list[str]) -> int:
    side, path, n, repeats, threads = argv[0], argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    cold, kernel = "cold" in argv[5:], "numba" if "numba" in argv[5:] else "auto"
    start = time.perf_counter()
    score, info = lite_scorer(path, threads, kernel) if side == "lite" else reference_scorer(path, threads, n)
    load_s = time.perf_counter() - start
    result = {"side": side, "n": n, "threads": threads, "load_s": load_s, **info}
    if "skipped" not in info:
        if not cold:
            score(ids_for(min(n, WARMUP_TOKENS)))
        ids, times = ids_for(n), []
        for _ in range(repeats):
            start = time.perf_counter()
            score(ids)
            times.append(time.perf_counter() - start)
        result["times_s"] = times
    result["peak_rss_bytes"] = peak_rss_bytes()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
