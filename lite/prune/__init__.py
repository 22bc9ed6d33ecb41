"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line.

- options.py  PruneOptions: rate / target / method / forced keeps, checked once
- units.py    tokens grouped into whole-character units, and their spans of the text
- select.py   the token budget and which units to keep
- pruner.py   Pruner: text -> tokens -> importance -> units -> selection -> the kept spans
- batch.py    JSONL files pruned on worker processes
"""

from .options import DEFAULT_MAX_TOKENS, DEFAULT_RATE, PruneOptions
from .pruner import Pruner, PruneResult, Segment, load

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_RATE", "PruneOptions", "PruneResult", "Pruner", "Segment", "load"]
