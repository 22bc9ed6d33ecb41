"""How many cores lite uses: numba's threads for the softmax kernel, OpenBLAS's for the matmuls.

The count comes from the `threads=` argument, else the LITE_NUM_THREADS environment variable,
else all cores. numpy's BLAS is told through its own `*_set_num_threads` entry point (found
in the loaded OpenBLAS, as threadpoolctl does); where the BLAS is another one, only numba's
count is set and the BLAS keeps its own default.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import lru_cache

from .errors import LiteError

ENV_VAR = "LITE_NUM_THREADS"
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads")


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


@lru_cache(maxsize=1)
def _blas_setter():
    import numpy as np

    libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in _SETTERS:
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter.argtypes = [ctypes.c_int]
                return setter
    return None


def apply_threads(threads: int) -> None:
    """Use `threads` cores in numba kernels and numpy's OpenBLAS from now on."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    setter = _blas_setter()
    if setter is not None:
        setter(threads)
