"""The physical floor: this machine's sgemm and exp throughput, and the least time n tokens can take.

Counts (DESIGN.md section 5): projections 2·n·dim·(H+KV)·D flops, scores 2·n²·H·D flops, n²·H
exponentials. floor(n) = flops / sgemm rate + exps / exp rate, both on all the benchmark's threads.
The exp rate is the better of numpy's float32 np.exp and lite's vectorized polynomial
(`lite.score.kernels_numba.exp_negative_array`), each run on `threads` Python threads over cache-sized arrays.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from lite.model import AttentionSpec
from lite.score.threads import set_blas_threads

SGEMM_SIZE = 3072
EXP_VALUES = 1 << 18  # 1 MiB of float32 per thread: the L2/L3 working set of one score block
EXP_CALLS = 400
REPEATS = 3


@dataclass(frozen=True)
class Rates:
    sgemm_flops: float  # flop/s, numpy float32 matmul
    numpy_exp: float  # exp/s, np.exp on float32
    lite_exp: float  # exp/s, lite's polynomial exp

    @property
    def best_exp(self) -> float:
        return max(self.numpy_exp, self.lite_exp)


def sgemm_rate(threads: int) -> float:
    set_blas_threads(threads)
    a = np.random.default_rng(0).standard_normal((SGEMM_SIZE, SGEMM_SIZE), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, a, out=out)
    best = min(timed(lambda: np.matmul(a, a, out=out)) for _ in range(REPEATS))
    return 2 * SGEMM_SIZE**3 / best


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def exp_rate(exp, threads: int) -> float:
    """Exponentials per second with `threads` threads each exponentiating its own array (exp(x, out))."""
    arrays = [-np.random.default_rng(t).random(EXP_VALUES, dtype=np.float32) * 20 for t in range(threads)]
    outs = [np.empty_like(x) for x in arrays]
    exp(arrays[0], outs[0])  # compile / warm up

    def work(t: int) -> None:
        for _ in range(EXP_CALLS):
            exp(arrays[t], outs[t])

    def all_threads() -> None:
        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    best = min(timed(all_threads) for _ in range(REPEATS))
    return threads * EXP_CALLS * EXP_VALUES / best


def measure(threads: int) -> Rates:
    from lite.score.kernels_numba import exp_negative_array

    rates = Rates(sgemm_rate(threads), exp_rate(lambda x, out: np.exp(x, out=out), threads),
                  exp_rate(exp_negative_array, threads))
    print(f"  floor: sgemm {rates.sgemm_flops / 1e9:.1f} GFLOP/s, exp numpy {rates.numpy_exp / 1e9:.2f} "
          f"/ lite {rates.lite_exp / 1e9:.2f} Gexp/s", flush=True)
    return rates


def flops(n: int, spec: AttentionSpec) -> float:
    projections = 2 * n * spec.hidden_size * (spec.n_heads + spec.n_kv_heads) * spec.head_dim
    scores = 2 * n * n * spec.n_heads * spec.head_dim
    return float(projections + scores)


def exps(n: int, spec: AttentionSpec) -> float:
    return float(n * n * spec.n_heads)


def floor_seconds(n: int, spec: AttentionSpec, rates: Rates) -> float:
    return flops(n, spec) / rates.sgemm_flops + exps(n, spec) / rates.best_exp
