"""lite: LitePruner on a CPU. Score prompt tokens with a small model's layer-0 attention, keep the top-k%.

    import lite
    pruner = lite.load("weights/Llama-3.2-1B.safetensors")
    pruner.prune(text, rate=0.8).text    # the top 80% of tokens, in order
    pruner.importance(ids)               # float32 [n], sums to 1
    pruner.prune(text, rate=0.8, method="attention")    # the paper's exact score; lite.METHODS lists all

One subpackage per extension point: lite.model (a model family: config -> AttentionSpec, rope,
layer-0 weights), lite.store (weight files and where their bytes come from: safetensors, the
slice file, folders, the hub), lite.score (ids -> importance: the forward, kernels, methods),
lite.prune (text -> pruned text), lite.slice (making a slice). torch and transformers are never
imported here; numba is imported (and compiles, once per machine) only when an input is large
enough for its kernels.
"""

from types import MappingProxyType

from .errors import LiteError
from .model import AttentionSpec
from .prune import DEFAULT_RATE, MessagesResult, PruneOptions, Pruner, PruneResult, Segment, load
from .score import DEFAULT_METHOD
from .score.methods import DESCRIPTIONS as _DESCRIPTIONS

__version__ = "0.1.0"
# scoring options for method=: name -> one line on what it computes, the default (rank_mix) first;
# "attention" is the paper's exact score. Iterating gives the names.
METHODS = MappingProxyType(dict(_DESCRIPTIONS))


__all__ = ["LiteError", "AttentionSpec", "load", "Pruner", "PruneOptions", "PruneResult", "MessagesResult", "Segment",
           "DEFAULT_RATE", "METHODS", "DEFAULT_METHOD", "__version__"]
