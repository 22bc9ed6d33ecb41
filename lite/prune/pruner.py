"""The pruner, lite's API: a model slice's scorer and its tokenizer, and five methods.

    pruner = lite.load()                         # the bundled default model; or a slice, a repo id, a .gguf
    result = pruner.prune(text, rate=0.8)        # or target_tokens=120; every option: lite.PruneOptions
    result.text, result.kept, result.origin_tokens, result.compressed_tokens
    pruner.prune_messages(messages, rate=0.7)    # chat messages (messages.py)
    pruner.compress_prompt(context, question=q)  # LLMLingua's call (llmlingua.py)
    pruner.importance(ids), pruner.count_tokens(text)

The output is cut from the original string along unit spans (see units.py), never decoded
from ids: it holds no broken characters and no special token the input did not have, and
rate=1.0 gives the input back exactly. Special tokens the tokenizer adds itself (a BOS) are
scored with the text, as the model sees them, but are never counted, selected or output. The work
is the engine's (engine.py); the options are PruneOptions' (options.py), checked before any work.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD
from ..score.scorer import Scorer
from .engine import Engine, run
from .llmlingua import compress
from .messages import MessagesResult, prune_chat
from .options import document, make_options
from .results import PruneResult, Segment


class Pruner:
    """A scorer (the model slice) and the tokenizer stored in the same slice."""

    def __init__(self, scorer: Scorer, tokenizer: Tokenizer | None = None):
        self.scorer = scorer  # anything with importance(ids, method=...) -> float32 [n] (and .slice if no tokenizer)
        self.tokenizer = tokenizer or tokenizer_of(scorer)
        self._engine = Engine(scorer, self.tokenizer)

    def prune(self, text: str | Sequence[str | Segment], rate: float | None = None, target_tokens: int | None = None,
              *, separator: str = "", **options: Any) -> PruneResult:
        """Keep the most important tokens of `text` in their original order.

        text: a string, or a list of strings / Segments each pruned on its own and joined with
        `separator` (with target_tokens, the segments share it in proportion to their lengths; with a
        question, they are passages sharing one budget). rate: the fraction of tokens to keep, in
        (0, 1] (default 0.9); target_tokens: how many to keep instead.
        """
        call = self._engine.call(make_options("text", dict(options, rate=rate, target_tokens=target_tokens)))
        return run(self._engine, text, call, separator)

    def prune_messages(self, messages: Sequence[dict], rate: float | None = None, target_tokens: int | None = None,
                       **options: Any) -> MessagesResult:
        """Prune OpenAI-style chat messages (see lite/prune/messages.py and docs/messages.md).

        Each text of a message whose role is in `roles` is pruned on its own at `rate`, or all of
        them together to `target_tokens` for the whole payload's text; the last user message is
        kept whole unless keep_last_user=False. System and developer messages, tool_calls,
        tool_call_id, name, non-text parts and unknown fields are returned unchanged; the input is
        not mutated. The result has .messages, .origin_tokens, .compressed_tokens, .per_message.
        """
        call = self._engine.call(make_options("messages", dict(options, rate=rate, target_tokens=target_tokens)))
        return prune_chat(self._engine, messages, call)

    def compress_prompt(self, context: list[str] | str, instruction: str = "", question: str = "",
                        rate: float = 0.5, target_token: int = -1,
                        force_tokens: list[str] = [],  # noqa: B006 - the signature users know; never mutated
                        force_reserve_digit: bool = False, drop_consecutive: bool = False,
                        rank_by_question: bool = True, **options: Any) -> dict:
        """The prompt-compression call many users already make (LLMLingua-2's signature and keys; see
        lite/prune/llmlingua.py and docs/budgets.md for what each part does).

        With a question (and rank_by_question, the default), the context items are passages pruned
        for it; otherwise each item is pruned on its own at `rate` (or its share of target_token).
        Instruction and question are kept whole; the parts are joined with "\\n\\n". options: lite's
        options (method, granularity, target_tokenizer, ...) and LLMLingua's, accepted at their defaults.
        """
        return compress(self._engine, context, instruction, question, rate, target_token, force_tokens,
                        force_reserve_digit, drop_consecutive, rank_by_question, options)

    def importance(self, ids: Sequence[int] | np.ndarray, method: str = DEFAULT_METHOD) -> np.ndarray:
        """Importance of each of the given token ids (float32 [n], sums to 1); no tokens added.

        method: one of lite.METHODS (default "rank_mix"); "attention" is the paper's exact score.
        """
        return self.scorer.importance(ids, method=method)

    def count_tokens(self, text: str) -> int:
        """The text's own tokens (without the special tokens the tokenizer adds)."""
        return self._engine.count_tokens(text)


document(Pruner.prune, "text")
document(Pruner.prune_messages, "messages")


def tokenizer_of(scorer: Scorer) -> Tokenizer:
    """The slice's tokenizer, encoding whole texts: no truncation, no padding."""
    try:
        tokenizer = Tokenizer.from_str(scorer.slice.tokenizer_json)
    except Exception as err:
        raise LiteError(f"{scorer.slice.path} holds a tokenizer.json that cannot be loaded ({err})") from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def load(model: str | os.PathLike | None = None, threads: int | None = None, *, revision: str | None = None,
         token: str | None = None) -> Pruner:
    """A pruner for a slice: its model for scoring and its tokenizer.

    model: a slice file, or a hub repo id (HuggingFaceTB/SmolLM2-135M-Instruct) sliced on first use
    into huggingface_hub's assets cache and loaded from there afterwards, offline too (see
    lite/slice/cache.py). revision: a branch, tag or commit of the repo (default main); token:
    for gated or private repos (default HF_TOKEN or `hf auth login`). Also a GGUF file or `ollama:NAME[:TAG]`
    (sliced once into the cache), and no model at all: the default, SmolLM2-135M-Instruct (lite/slice/default.py).
    """
    from ..slice.cache import resolve_model  # lite.slice imports the store and the model: only when loading

    return Pruner(Scorer(resolve_model(model, revision=revision, token=token), threads=threads))
