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
# The most tokens scored at once. The score costs O(n²) time and O(n) memory: at 32,768 tokens about
# 2 minutes and 0.8 GiB per worker for Llama-3.2-1B on this machine (2 cores, 23 GB). Past it, a text is
# refused unless it is scored in chunks (chunk=W): then time is O(n W) and memory that of W tokens.
DEFAULT_MAX_TOKENS = 32768
STRUCTURES = ("auto", "text", "json", "markdown", "code")  # see lite/prune/structure/
CODE_MODES = ("whole", "lines")


def check_rate(rate: float) -> float:
    """The rate as a float in (0, 1], or a LiteError saying what is wrong (a bool or a string is not a rate)."""
    if isinstance(rate, (bool, str, bytes)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise LiteError(f"rate must be a number in (0, 1], got {rate!r}")
    value = float(rate)
    if not 0.0 < value <= 1.0:  # also rejects NaN
        raise LiteError(f"rate must be in (0, 1] (the fraction of tokens to keep), got {rate!r}")
    return value


def check_count(value, name: str, minimum: int = 1) -> int:
    """A whole number (not a bool, not a string) of at least `minimum`, or a LiteError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LiteError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)


def check_target(target_tokens: int) -> int:
    return check_count(target_tokens, "target_tokens")


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
    granularity: str = DEFAULT_GRANULARITY  # "clause" (whole clauses), "word" (characters in zh/ja/th), "char"
    question: str | None = None  # prune the text as passages for this question (passages.py); method is then unused
    max_tokens: int = DEFAULT_MAX_TOKENS  # the most tokens of one string scored at once; more is an error unless chunk
    chunk: int | None = None  # score a longer string in chunks of this many tokens, each on its own
    # the target whose special tokens the output must not create: target_tokenizer's, set by itself, and kept
    # when a search for a budget in the target's tokens sets target_tokenizer aside
    guard_target: Any = None
    structure: str = "auto"  # "auto" (detect JSON / Markdown / code), "text" (prose, as before), or one of STRUCTURES
    code: str = "whole"  # code blocks and files: "whole" (kept or dropped whole) or "lines" (pruned by whole lines)

    def __post_init__(self) -> None:
        if self.target_tokenizer is not None and self.guard_target is None:
            object.__setattr__(self, "guard_target", self.target_tokenizer)
        rate, target = self.rate, self.target_tokens
        if rate is not None and target is not None:
            raise LiteError("give either rate or target_tokens, not both")
        if target is not None:
            object.__setattr__(self, "target_tokens", check_target(target))
        else:
            object.__setattr__(self, "rate", check_rate(DEFAULT_RATE if rate is None else rate))
        check_method(self.method)
        if isinstance(self.force, (str, bytes)) or not isinstance(self.force, (list, tuple)):
            raise LiteError(f"force must be a list of strings (e.g. ['\\n', '?']), got {self.force!r}")
        force = tuple(self.force)
        if not all(isinstance(s, str) and s for s in force):
            raise LiteError(f"force must be non-empty strings, got {force!r}")
        object.__setattr__(self, "force", force)
        if self.granularity not in GRANULARITIES:
            raise LiteError(f"granularity {self.granularity!r} is not one of {', '.join(GRANULARITIES)}")
        for name in ("force_digits", "drop_consecutive"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise LiteError(f"{name} must be True or False, got {getattr(self, name)!r}")
        object.__setattr__(self, "max_tokens", check_count(self.max_tokens, "max_tokens"))
        if self.chunk is not None:
            object.__setattr__(self, "chunk", check_count(self.chunk, "chunk"))
            if self.chunk > self.max_tokens:
                raise LiteError(f"chunk ({self.chunk}) must be at most max_tokens ({self.max_tokens})")
        if isinstance(self.keep_last, bool) or not isinstance(self.keep_last, (int, np.integer)) or self.keep_last < 0:
            raise LiteError(f"keep_last must be 0 or more, got {self.keep_last}")
        if self.question is not None and (not isinstance(self.question, str) or not self.question.strip()):
            raise LiteError(f"question must be a non-empty string, got {self.question!r}")
        if self.structure not in STRUCTURES:
            raise LiteError(f"structure {self.structure!r} is not one of {', '.join(STRUCTURES)}")
        if self.code not in CODE_MODES:
            raise LiteError(f"code {self.code!r} is not one of {', '.join(CODE_MODES)}")
        if self.target_tokenizer is not None:
            from .target import target_tokenizer

            target_tokenizer(self.target_tokenizer)  # one that cannot load fails here (names are cached)
