"""lite: LitePruner on a CPU. Score prompt tokens with a small model's layer-0 attention, keep the top-k%.

    import lite
    pruner = lite.load("weights/Llama-3.2-1B.safetensors")
    pruner.prune(text, rate=0.8).text    # the top 80% of tokens, in order
    pruner.importance(ids)               # float32 [n], sums to 1
    pruner.prune(text, rate=0.8, method="value_norm")   # another score: one of lite.METHODS

torch and transformers are never imported here; numba compiles on first use and caches.
"""

from .errors import LiteError
from .methods import DEFAULT_METHOD, METHODS as _METHOD_FUNCTIONS
from .prune import DEFAULT_RATE, MessagesResult, PruneResult, Pruner, Segment, load
from .spec import AttentionSpec

__version__ = "0.1.0"
METHODS = tuple(_METHOD_FUNCTIONS)  # scoring options for method=; DEFAULT_METHOD ("attention") is the paper's score


__all__ = ["LiteError", "AttentionSpec", "load", "Pruner", "PruneResult", "MessagesResult", "Segment", "DEFAULT_RATE", "METHODS", "DEFAULT_METHOD",
           "__version__"]
