"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line.

- options.py  PruneOptions: rate / target / method / forced keeps, checked once
- units.py    tokens grouped into whole-character units, and their spans of the text
- select.py   the token budget and which units to keep
- sentences.py sentences (and clauses) of a text in every script of the data, tiling it
- relevance.py how relevant each sentence and passage is to a question, from words alone (BM25)
- passages.py the order in which a question-aware prune takes units: whole sentences by relevance
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
