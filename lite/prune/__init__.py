"""Pruning: `load(slice)` gives a `Pruner`; `python -m lite.prune` is its command line.

- options.py  PruneOptions: every option, written once (the surfaces derive theirs from it); flags.py: as CLI flags
- pruner.py   Pruner, the API: prune, prune_messages, compress_prompt, importance, count_tokens
- engine.py   the pipeline: text -> tokens -> units -> importance -> an order -> selection -> guard -> spans
- units.py    tokens grouped into whole-character (or word) units, and their spans of the text
- select.py   the one selection: forced units, then units in the order a mode gives, while they fit
- clauses.py  the order of whole clauses (the default); passages.py the order for a question
- sentences.py sentences and clauses of a text in every script of the data; relevance.py BM25 to a question
- budget.py   token budgets, one budget shared by several texts, and the search for a budget in the target's tokens
- target.py   the target model's tokenizer; specials.py the guard against created special tokens
- messages.py chat messages; llmlingua.py LLMLingua's compress_prompt; results.py Segment and PruneResult
- batch.py    JSONL files pruned on worker processes
"""

from .messages import MessageCount, MessagesResult
from .options import DEFAULT_MAX_TOKENS, DEFAULT_RATE, PruneOptions
from .pruner import Pruner, load
from .results import PruneResult, Segment

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_RATE", "MessageCount", "MessagesResult", "PruneOptions", "PruneResult",
           "Pruner", "Segment", "load"]
