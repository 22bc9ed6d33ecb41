"""lite: LitePruner on a CPU. Score prompt tokens with a small model's layer-0 attention, keep the top-k%.

    import lite
    pruner = lite.load("weights/Llama-3.2-1B.safetensors")
    pruner.importance(ids)          # float32 [n], sums to 1

torch and transformers are never imported here; numba compiles on first use and caches.
"""

from .errors import LiteError
from .spec import AttentionSpec

__version__ = "0.1.0"



def load(path, threads: int | None = None):
    """Load a slice file (memory-mapped) for scoring; `threads` defaults to $LITE_NUM_THREADS or all cores."""
    from .scorer import Scorer

    return Scorer(path, threads=threads)


__all__ = ["LiteError", "AttentionSpec", "load", "__version__"]
