"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line.

- options.py  PruneOptions: rate / target / method / forced keeps, checked once
- units.py    tokens grouped into whole-character units, and their spans of the text
- select.py   the token budget and which units to keep
- pruner.py   Pruner: text -> tokens -> importance -> units -> selection -> the kept spans
- messages.py chat messages: each prunable text on its own, everything else untouched
- target.py   the target model's tokenizer (budgets in its tokens); budget.py the search that meets them
- llmlingua.py  LLMLingua's structured tags and option names, for compress_prompt
- batch.py    JSONL files pruned on worker processes
"""

from .messages import MessageCount, MessagesResult
from .options import DEFAULT_MAX_TOKENS, DEFAULT_RATE, PruneOptions
from .pruner import Pruner, PruneResult, Segment, load

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_RATE", "MessageCount", "MessagesResult", "PruneOptions", "PruneResult",
           "Pruner", "Segment", "load"]
