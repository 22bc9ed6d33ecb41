"""The score: token ids -> importance, in O(n) memory (a new method or kernel goes here).

- forward.py        the layer-0 forward: norm, projections, RoPE, blockwise softmax column sums
- kernels_numpy.py  the plain numpy kernels (the reference) and `soft_cap`, the one place logits are capped
- kernels_numba.py  the same kernels in numba (serial, GIL released), tested against the reference
- kernels.py        the kernel pair chosen once per call, by name ("auto" by size)
- workers.py        the one worker model: (kv group, row block) tasks dealt to threads, single-threaded BLAS
- threads.py        how many threads; OpenBLAS on one thread while scoring, scoped
- methods.py        the scoring methods (METHODS) over the forward's products
- scorer.py         Scorer: a slice file loaded for scoring
"""

from .methods import DEFAULT_METHOD, METHODS
from .scorer import Scorer

__all__ = ["DEFAULT_METHOD", "METHODS", "Scorer"]
