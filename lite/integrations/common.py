"""What the framework adapters share, so each adapter is only the translation to its framework's types.

- `resolve_pruner(model, pruner)`: the Pruner an adapter uses (a loaded one, or a slice loaded once).
- `check_options(call, options, probe)`: the keyword arguments every call of `call` (a Pruner's prune or
  prune_messages) will get, checked once when the adapter is made, by the same code that checks them
  in that call (a bad value is a one-line LiteError then, not on the first document). The names are
  lite.PruneOptions' (options.names), the same as the library's, the CLI's and the service's.
- `prune_text(pruner, text, options, query)`: one text pruned on its own; a non-blank query is passed as
  `question=` (question-aware pruning).
- `counts(result)`: the flat metadata keys an adapter adds (flat, because vector stores such as Chroma
  take only scalar metadata values); the target tokenizer's counts too when one was given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import LiteError
from ..prune import Pruner, PruneResult, load
from ..prune.options import AUTO, names

COUNT_KEYS = ("lite_origin_tokens", "lite_compressed_tokens", "lite_rate")
TARGET_COUNT_KEYS = ("lite_target_origin_tokens", "lite_target_compressed_tokens")  # with target_tokenizer=


def resolve_pruner(model: str | os.PathLike | None, pruner: Any) -> Pruner:
    """`pruner` if given (a lite Pruner), else `model` loaded (a slice file or a hub repo id); exactly one."""
    if (model is None) == (pruner is None):
        raise LiteError("give either model (a slice file or a hub repo id) or pruner (a lite.Pruner), not both "
                        "and not neither")
    if pruner is not None:
        if not isinstance(pruner, Pruner):
            raise LiteError(f"pruner must be a lite.Pruner (from lite.load), got {type(pruner).__name__}")
        return pruner
    if not isinstance(model, (str, os.PathLike)):
        raise LiteError(f"model must be a slice file or a hub repo id, got {type(model).__name__}")
    return load(model)


def check_options(call: Callable, options: Mapping[str, Any], probe: Any = "") -> dict[str, Any]:
    """The options without the ones left at None, checked: unknown names and bad values are a LiteError now.

    call: pruner.prune (probe "") or pruner.prune_messages (probe: one short user message): it is called once on the
    probe, which checks every value as each later call will (and loads a target tokenizer) and scores nothing.
    """
    known = names("messages" if call.__name__ == "prune_messages" else "text")
    given = {name: value for name, value in options.items() if value is not None}
    for name in given:
        if name not in known:
            raise LiteError(f"unknown option {name!r} for {call.__name__}; the options are: {', '.join(known)}")
    # rate auto needs a question: the adapters give the query as one, so the probe does too
    asks = call.__name__ == "prune" and given.get("rate") == AUTO and "question" not in given
    call(probe, **given, **({"question": "?"} if asks else {}))
    return given


def prune_text(pruner: Pruner, text: str, options: Mapping[str, Any], query: str | None = None) -> PruneResult:
    """`text` pruned on its own with `options`, for `query` when given (non-blank)."""
    if not isinstance(text, str):
        raise LiteError(f"text to prune must be a string, got {type(text).__name__}")
    if isinstance(query, str) and query.strip():
        return pruner.prune(text, **{**options, "question": query})
    return pruner.prune(text, **options)


def prune_together(pruner: Pruner, texts: list[str], options: Mapping[str, Any],
                   query: str | None = None) -> list[PruneResult | None]:
    """Each text pruned (see prune_text); with rate auto and a query, all of them in one call, as passages for the
    query, and None for a text that keeps nothing (an adapter leaves it out)."""
    if options.get("rate") == AUTO and isinstance(query, str) and query.strip():
        for text in texts:
            if not isinstance(text, str):
                raise LiteError(f"text to prune must be a string, got {type(text).__name__}")
        joined = pruner.prune(texts, **{**options, "question": query})
        return [result if result.compressed_tokens or not result.origin_tokens else None
                for result in joined.segments]
    return [prune_text(pruner, text, options, query) for text in texts]


def counts(result: PruneResult) -> dict[str, int | float]:
    """lite's counts for one pruned text, as flat metadata: tokens before and after, and their ratio
    (and before and after in the target's tokens, when a target tokenizer was given)."""
    found = dict(zip(COUNT_KEYS, (result.origin_tokens, result.compressed_tokens, round(result.rate, 6))))
    if result.target_origin_tokens is not None:
        found.update(zip(TARGET_COUNT_KEYS, (result.target_origin_tokens, result.target_compressed_tokens)))
    return found


def validation_error_line(err: Exception, known: list[str]) -> str:
    """A pydantic ValidationError as one line: the first problem, with the field it is about."""
    problems = err.errors() if hasattr(err, "errors") else []
    if not problems:
        return str(err).splitlines()[0]
    first = problems[0]
    loc = first.get("loc") or ("value",)
    field = str(loc[0])  # the field; the rest of loc names a union member or an item
    if first.get("type") == "extra_forbidden":
        return f"unknown option {field!r}; the options are: {', '.join(known)}"
    return f"{field}: {first.get('msg', 'invalid')}, got {first.get('input')!r}"
