"""The one worker model of the score: (kv group, row block) tasks dealt to threads.

Every pass over n x n logits (the softmax column sums of every method, no_self's row
log-sum-exp, value_norm's value projections) is a list of tasks (kv group, first row of a
block) dealt to `workers` threads in a fixed order: worker w takes tasks w, w + workers, ...,
so a run is reproducible to the bit. Each worker owns its buffers and runs a single-threaded
BLAS product, then a serial kernel, on each of its tasks: while one core exponentiates, the
other multiplies, and no two thread pools compete for the cores. numpy's matmul and the
kernels release the GIL. A worker's exception is raised in the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from .threads import one_blas_thread

Task = tuple[int, int]  # (kv group, first row of the block)
T = TypeVar("T")


def group_blocks(n_groups: int, rows: int, block_rows: int) -> list[Task]:
    """Tasks covering `rows` rows of each of `n_groups` groups, `block_rows` rows at a time."""
    return [(group, start) for group in range(n_groups) for start in range(0, rows, block_rows)]


def deal(tasks: Sequence[T], work: Callable[[int, Sequence[T]], None], workers: int) -> None:
    """Run work(w, tasks[w::workers]) for each worker w on its own thread, with single-threaded BLAS."""
    workers = max(1, min(workers, len(tasks)))
    failures: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            work(worker, tasks[worker::workers])
        except BaseException as err:
            failures.append(err)

    with one_blas_thread():
        if workers == 1:
            run(0)
        else:
            threads = [threading.Thread(target=run, args=(w,), name=f"lite-score-{w}") for w in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    if failures:
        raise failures[0]
