"""The kernels, chosen once per call, by name, as a pair: numpy (lite/score/kernels_numpy.py) or numba.

A pair is the softmax column sum every method needs (whole rows, or a tile of keys at a time for
long inputs) and the row log-sum-exp of the no_self method;
both sides of a pair come from the same module, so a run is all numpy or all numba.
`kernel="auto"` takes numpy up to NUMPY_UP_TO score elements (n² · heads; 512 tokens of
Llama-3.2-1B), numba above: numba's one-off start-up in a fresh process (import, cached machine
code) outweighs its speed on small inputs (measured: docs/benchmarks.md). The choice depends on
the size alone, never on timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LiteError

KERNELS = ("auto", "numba", "numpy")
NUMPY_UP_TO = 1 << 23


@dataclass(frozen=True)
class Kernels:
    name: str  # "numpy" or "numba"
    softmax_colsum: Callable[[np.ndarray, np.ndarray], None]  # (logits [rows, n] f32, acc [n] f64)
    row_logsumexp: Callable[[np.ndarray, np.ndarray], None]  # (logits [rows, n] f32, out [rows] f64)
    tile_exp: Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # (tile [w, rows] f32, peaks, sums [rows] f64)
    weighted_key_sums: Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # (tile [w, rows], weights [rows], acc [w])


def kernel_name(kernel: str, n: int, n_heads: int) -> str:
    """The kernels to use for n tokens and n_heads heads: "numpy" or "numba" ("auto" decided by size)."""
    if kernel not in KERNELS:
        raise LiteError(f"kernel {kernel!r} is not one of {', '.join(KERNELS)}")
    if kernel == "auto":
        return "numpy" if n * n * n_heads <= NUMPY_UP_TO else "numba"
    return kernel


def kernels(name: str) -> Kernels:
    """The named pair; numba is imported only when its pair is asked for."""
    if name == "numpy":
        from . import kernels_numpy as module
    elif name == "numba":
        from . import kernels_numba as module
    else:
        raise LiteError(f"kernel {name!r} is not one of numba, numpy")
    return Kernels(name, module.softmax_colsum, module.row_logsumexp, module.tile_exp, module.weighted_key_sums)
