"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line."""

from .messages import MessageCount, MessagesResult
from .pruner import DEFAULT_RATE, PruneResult, Pruner, Segment, load

__all__ = ["DEFAULT_RATE", "MessageCount", "MessagesResult", "PruneResult", "Pruner", "Segment", "load"]
