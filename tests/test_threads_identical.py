"""The score is the same to the bit whatever the thread count (issue 16, item 9)."""

from __future__ import annotations

import numpy as np
import pytest

from lite import METHODS
from lite.score.forward import attention_colsums
from lite.score.kernels import kernels
from lite.score.scorer import Scorer


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_column_sums_do_not_depend_on_the_worker_count(kernel):
    """The float64 sums before the float32 cast: a partition of the work by worker would change their last bits."""
    rng = np.random.default_rng(16)
    n, groups, rep, d = 700, 2, 3, 16
    queries = (rng.standard_normal((groups, n * rep, d)) * 2).astype(np.float32)  # [KV, n * rep, D]
    keys_t = rng.standard_normal((groups, d, n)).astype(np.float32)  # [KV, D, n]
    first = attention_colsums(queries, keys_t, 0.0, kernels(kernel), workers=1, block_rows=64)  # [KV, n]
    for workers in (2, 3, 4, 7):
        again = attention_colsums(queries, keys_t, 0.0, kernels(kernel), workers=workers, block_rows=64)
        assert np.array_equal(first, again), (workers, float(np.abs(first - again).max()))


def test_importance_is_bit_identical_for_any_thread_count(pruner, smollm2_slice, mgsm_texts):
    ids = pruner.tokenizer.encode(" ".join(mgsm_texts["bn"][3:5])).ids[:3000]
    scorers = {threads: Scorer(smollm2_slice, threads=threads) for threads in (1, 2, 3)}
    for method in METHODS:
        for kernel in ("numpy", "numba"):
            first = scorers[1].importance(ids, kernel=kernel, method=method)  # [n]
            for threads in (2, 3):
                again = scorers[threads].importance(ids, kernel=kernel, method=method)
                assert np.array_equal(first, again), (method, kernel, threads)


def test_every_product_runs_on_one_blas_thread(smollm2_slice, monkeypatch):
    """A multi-threaded sgemm splits by thread count, and on OpenBLAS's Haswell kernels (AVX2 CPUs) a row's
    last bits depend on its piece: the test above passes on other cores either way, so this checks the cause,
    with calls on several threads at once (as the service makes them) and a caller's count of 2 in force."""
    from concurrent.futures import ThreadPoolExecutor

    from lite.score import forward
    from lite.score.threads import blas_thread_count, set_blas_threads

    seen = []

    def project(*args):
        seen.append(blas_thread_count())
        return project_before(*args)

    def block_logits(*args):
        seen.append(blas_thread_count())
        return block_logits_before(*args)

    project_before, block_logits_before = forward.project, forward.block_logits
    monkeypatch.setattr(forward, "project", project)
    monkeypatch.setattr(forward, "block_logits", block_logits)
    before = blas_thread_count()
    set_blas_threads(2)  # what a caller may have set: the scorer must not use it
    try:
        scorer = Scorer(smollm2_slice, threads=2)
        with ThreadPoolExecutor(3) as pool:
            calls = [pool.submit(scorer.importance, np.arange(1000 + 100 * i), kernel="numpy", method=method)
                     for i, method in enumerate(("attention", "value_norm", "no_self"))]
            for call in calls:
                call.result()
        assert blas_thread_count() == 2
    finally:
        set_blas_threads(before)
    assert seen and set(seen) == {1}, sorted(set(seen))
