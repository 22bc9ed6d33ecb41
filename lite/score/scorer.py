"""Scorer: a slice file loaded for scoring; `importance(ids, method=...)` is the per-token score.

It maps the slice (lite/store/slicefile.py), reads its spec (lite/model) and widens the layer-0
weights once; each call gathers the distinct ids' embedding rows, runs the forward on the kernel
pair chosen for the call's size (lite/score/kernels.py), and hands the products to the method.
OpenBLAS runs on one thread for the call (its count restored after it, lite/score/threads.py): every
product is a fixed block on one of `threads` worker threads, so the score does not depend on the count.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..errors import LiteError
from ..model import load_weights, spec_from_config
from ..store.slicefile import SliceFile
from . import forward, methods
from .kernels import kernel_name, kernels
from .threads import one_blas_thread, resolve_threads


class Scorer:
    """Layer-0 attention importance of token ids, from a slice file (memory-mapped)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.slice = SliceFile(path)
        entries = self.slice.header.entries
        self.spec = spec_from_config(self.slice.config).locate(entries)
        missing = [name for name in self.spec.required_tensors() if name not in entries]
        if missing:
            raise LiteError(f"{self.slice.path} lacks {missing[0]!r}; make the slice again")
        self.spec.check_shapes({name: entry.shape for name, entry in entries.items()}, str(self.slice.path))
        self.weights = load_weights(self.slice.float32, entries, self.spec, str(self.slice.path))
        self.vocab_rows = entries[self.spec.embed_name].shape[0]
        self.threads = resolve_threads(threads)

    def check_ids(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.size == 0:
            raise LiteError(f"ids must be a non-empty 1-D sequence of token ids, got shape {ids.shape}")
        if not np.issubdtype(ids.dtype, np.integer):
            raise LiteError(f"ids must be integers, got {ids.dtype}")
        bad = (ids < 0) | (ids >= self.vocab_rows)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise LiteError(
                f"token id {int(ids[first])} at position {first} is outside the vocabulary (0..{self.vocab_rows - 1})"
            )
        return ids.astype(np.int64)

    def importance(
        self, ids: Sequence[int] | np.ndarray, kernel: str = "auto", method: str = methods.DEFAULT_METHOD,
        queries: int | None = None,
    ) -> np.ndarray:
        """float32 [n], sums to 1: by default (method="attention", the paper's score) the mean over
        heads and queries of the layer-0 attention each token receives; see lite/score/methods.py for the others.

        kernel: "numba", "numpy", or "auto" (numpy for small inputs, numba above kernels.NUMPY_UP_TO).
        queries: when fewer than n, the sum over queries is taken over this many, evenly spaced
        (forward.sampled_positions), every key still scored: O(n * queries) time; None: every query.
        """
        ids = self.check_ids(ids)
        methods.check_method(method)
        positions = None
        if queries is not None and queries < len(ids):
            methods.check_sampled(method)
            positions = forward.sampled_positions(len(ids), queries)  # [m]
        size = len(ids) if positions is None else int(np.sqrt(len(ids) * len(positions)))
        pair = kernels(kernel_name(kernel, size, self.spec.n_heads))
        distinct, inverse = np.unique(ids, return_inverse=True)  # [u], [n]
        with one_blas_thread():  # the worker threads give the parallelism (lite/score/workers.py)
            parts = methods.ForwardParts(ids, self.slice.float32_rows(self.spec.embed_name, distinct),  # [u, dim]
                                         inverse, self.weights, self.spec, pair, self.threads, method, positions)
            return methods.score(method, parts)
