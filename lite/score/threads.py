"""How many cores lite uses, and OpenBLAS's thread count while it scores.

The count comes from the `threads=` argument, else the LITE_NUM_THREADS environment variable,
else all cores. numpy's BLAS is told through its own `*_set_num_threads` entry point (found
in the loaded OpenBLAS, as threadpoolctl does); where the BLAS is another one, it keeps its
own default. `blas_threads(n)` is scoped: the count in force before is restored on leaving, so
a library call leaves the process's BLAS as it found it. The scorer runs OpenBLAS on one thread:
its `threads` worker threads (lite/score/workers.py) each run a single-threaded product on a fixed
block beside a serial kernel. A multi-threaded sgemm would make the score depend on the thread
count: OpenBLAS splits the product by thread count, and on some cores (Haswell's kernels, as on
Zen) a row's last bits depend on the piece it falls in.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from collections.abc import Iterator
from functools import lru_cache

from ..errors import LiteError

ENV_VAR = "LITE_NUM_THREADS"
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_threads(threads: int | None) -> int:
    """The thread count to use: the argument, else $LITE_NUM_THREADS, else every core."""
    if threads is None:
        env = os.environ.get(ENV_VAR, "").strip()
        if env:
            try:
                threads = int(env)
            except ValueError:
                raise LiteError(f"{ENV_VAR}={env!r} is not a whole number") from None
    if threads is None:
        return os.cpu_count() or 1
    if threads < 1:
        raise LiteError(f"threads must be at least 1, not {threads}")
    return int(threads)


_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads")
_CORENAMES = ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename")


@lru_cache(maxsize=1)
def _openblas():
    """numpy's bundled OpenBLAS as a ctypes library, or None."""
    import numpy as np

    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _blas_function(symbols: tuple[str, ...]):
    lib = _openblas()
    for symbol in symbols if lib is not None else ():
        function = getattr(lib, symbol, None)
        if function is not None:
            return function
    return None


def blas_core() -> str | None:
    """The kernel family numpy's OpenBLAS picked for this CPU (e.g. 'Haswell'), or None."""
    corename = _blas_function(_CORENAMES)
    if corename is None:
        return None
    corename.restype = ctypes.c_char_p
    return corename().decode()


def set_blas_threads(threads: int) -> None:
    """Set OpenBLAS's thread count for the whole process (the benchmark's floor measurement uses this)."""
    setter = _blas_function(_SETTERS)
    if setter is not None:
        setter.argtypes = [ctypes.c_int]
        setter(threads)


def blas_thread_count() -> int | None:
    """OpenBLAS's current thread count, or None where numpy's BLAS is not an OpenBLAS lite can find."""
    getter = _blas_function(_GETTERS)
    return int(getter()) if getter is not None else None


@contextlib.contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """OpenBLAS on `threads` threads inside the block, its previous count restored after it."""
    before = blas_thread_count()
    if before is None or before == threads:
        yield
        return
    set_blas_threads(threads)
    try:
        yield
    finally:
        set_blas_threads(before)
