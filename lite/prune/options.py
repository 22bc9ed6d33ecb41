"""PruneOptions: how a text is pruned, checked once, where it is made.

`Pruner.prune` builds one from its keyword arguments, the command line from its flags, and the
JSONL batch hands the command line's to every worker; segments with their own rate or target
get a copy (`dataclasses.replace`, which checks again). A bad value is a one-line LiteError
before any work is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD, check_method
from .units import DEFAULT_GRANULARITY, GRANULARITIES

DEFAULT_RATE = 0.9


def check_rate(rate: float) -> float:
    """The rate as a float in (0, 1], or a LiteError saying what is wrong."""
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise LiteError(f"rate must be a number in (0, 1], got {rate!r}") from None
    if not 0.0 < value <= 1.0:  # also rejects NaN
        raise LiteError(f"rate must be in (0, 1] (the fraction of tokens to keep), got {rate!r}")
    return value


def check_target(target_tokens: int) -> int:
    if isinstance(target_tokens, bool) or not isinstance(target_tokens, (int, np.integer)) or target_tokens < 1:
        raise LiteError(f"target_tokens must be a whole number of at least 1, got {target_tokens!r}")
    return int(target_tokens)


@dataclass(frozen=True)
class PruneOptions:
    """The keyword arguments of Pruner.prune, checked: a rate in (0, 1] (default 0.9) or a target, not both."""

    rate: float | None = None  # fraction of tokens to keep; DEFAULT_RATE when neither it nor target_tokens is given
    target_tokens: int | None = None  # how many tokens to keep instead
    method: str = DEFAULT_METHOD  # the score that ranks the tokens, one of lite.METHODS
    force: tuple[str, ...] = ()  # strings whose every occurrence is kept
    force_digits: bool = False  # keep every digit
    keep_last: int = 0  # keep the last N tokens (of each plain-string segment)
    drop_consecutive: bool = False  # drop a forced string that repeats the kept unit just before it
    target_tokenizer: Any = None  # count in the target's tokens (target.py): a name, a path, a tokenizer, a callable
    granularity: str = DEFAULT_GRANULARITY  # "word": whole words (characters in zh/ja/th); "char": characters
    question: str | None = None  # prune the text as passages for this question (passages.py); method is then unused

    def __post_init__(self) -> None:
        rate, target = self.rate, self.target_tokens
        if rate is not None and target is not None:
            raise LiteError("give either rate or target_tokens, not both")
        if target is not None:
            object.__setattr__(self, "target_tokens", check_target(target))
        else:
            object.__setattr__(self, "rate", check_rate(DEFAULT_RATE if rate is None else rate))
        check_method(self.method)
        force = tuple(self.force)
        if not all(isinstance(s, str) for s in force):
            raise LiteError(f"force must be strings, got {force!r}")
        object.__setattr__(self, "force", force)
        if self.granularity not in GRANULARITIES:
            raise LiteError(f"granularity {self.granularity!r} is not one of {', '.join(GRANULARITIES)}")
        if isinstance(self.keep_last, bool) or not isinstance(self.keep_last, (int, np.integer)) or self.keep_last < 0:
            raise LiteError(f"keep_last must be 0 or more, got {self.keep_last}")
        if self.question is not None and (not isinstance(self.question, str) or not self.question.strip()):
            raise LiteError(f"question must be a non-empty string, got {self.question!r}")
        if self.target_tokenizer is not None:
            from .target import target_tokenizer

            target_tokenizer(self.target_tokenizer)  # one that cannot load fails here (names are cached)
