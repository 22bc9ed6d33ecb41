"""How many cores lite uses: the forward's worker threads, and OpenBLAS's for the projections.

The count comes from the `threads=` argument, else the LITE_NUM_THREADS environment variable,
else all cores. numpy's BLAS is told through its own `*_set_num_threads` entry point (found
in the loaded OpenBLAS, as threadpoolctl does); where the BLAS is another one, it keeps its
own default. During the scores the forward runs that many worker threads, each with a
single-threaded BLAS product beside the serial numba kernel (`single_threaded_blas`).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
from functools import lru_cache
from typing import Iterator

from .errors import LiteError

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
    setter = _blas_function(_SETTERS)
    if setter is not None:
        setter.argtypes = [ctypes.c_int]
        setter(threads)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """OpenBLAS on one thread inside the block (each worker thread then runs its own product)."""
    getter = _blas_function(_GETTERS)
    before = getter() if getter is not None else None
    set_blas_threads(1)
    try:
        yield
    finally:
        if before is not None:
            set_blas_threads(before)


def apply_threads(threads: int) -> None:
    """Use `threads` cores in numpy's OpenBLAS from now on (the forward starts as many workers)."""
    set_blas_threads(threads)
