"""How many cores lite uses, and OpenBLAS's thread count while it scores.

The count comes from the `threads=` argument, else the LITE_NUM_THREADS environment variable,
else all cores. numpy's BLAS is told through its own `*_set_num_threads` entry point (found
in the loaded OpenBLAS, as threadpoolctl does); where the BLAS is another one, it keeps its
own default (the score is then the same to the bit for any thread count only if that BLAS's
products do not depend on its own thread count).

Scoring runs OpenBLAS on one thread, inside `one_blas_thread()`: the count in force before is
restored when the last scope still open in the process leaves (scopes on several threads at once,
as the service's prune threads, share one), so a library call leaves the process's BLAS as it
found it and no call changes the count while another one multiplies. The parallelism is the
`threads` worker threads (lite/score/workers.py), each running a single-threaded product on a
fixed block beside a serial kernel. A multi-threaded sgemm would make the score depend on the
thread count: OpenBLAS splits the product by thread count, and with its Haswell kernels (its
pick on AVX2 CPUs without AVX-512) a row's last bits depend on the piece it falls in.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import threading
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


_scopes = threading.Lock()
_open_scopes = 0
_count_before: int | None = None  # the count to restore when the last scope leaves (None: nothing to restore)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """OpenBLAS on one thread inside the block; the count before the first open scope restored after the last."""
    global _open_scopes, _count_before
    with _scopes:
        if _open_scopes == 0:
            before = blas_thread_count()
            _count_before = before if before not in (None, 1) else None
            if _count_before is not None:
                set_blas_threads(1)
        _open_scopes += 1
    try:
        yield
    finally:
        with _scopes:
            _open_scopes -= 1
            if _open_scopes == 0 and _count_before is not None:
                set_blas_threads(_count_before)
                _count_before = None
