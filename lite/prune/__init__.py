"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line."""

from .pruner import DEFAULT_MAX_TOKENS, DEFAULT_RATE, PruneResult, Pruner, Segment, load

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_RATE", "PruneResult", "Pruner", "Segment", "load"]
