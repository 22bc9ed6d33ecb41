"""PruneOptions: every option of a prune, written once; every surface derives its own from these fields.

    PruneOptions(rate=0.7, granularity="word")          # keyword only; checked when made; no I/O

Each field's metadata is an `OptionSpec`: its help line, its kind (how a surface reads it: a number,
a whole number, a name from a list, text, a list of strings, a switch, a tokenizer) and its scope
("text": every prune; "messages": chat messages only). `Pruner.prune`'s and `prune_messages`'s
keyword arguments, the command line's flags (flags.py), the service's request fields
(lite/serve/options.py), the adapters' fields (lite/integrations/fields.py) and Ray's options all
come from `SPECS`, and docs/options.md is written from it (`options_table`). A bad value is a
one-line LiteError before any work is done. The target tokenizer is only checked for its type here:
it is loaded once where a call starts (target.py).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD, METHODS
from .units import DEFAULT_GRANULARITY, GRANULARITIES

DEFAULT_RATE = 0.9
AUTO = "auto"  # rate="auto": with a question, keep what is relevant to it (auto.py), however much that is
# The most tokens scored with every query on every key: the exact score costs O(n²) time and O(n) memory.
# Past it, the sum over queries is taken over SAMPLED_QUERIES evenly spaced ones: O(n * SAMPLED_QUERIES) time.
# Both chosen by measurement (bench/window.py, docs/limits.md "Memory and time").
DEFAULT_MAX_TOKENS = 16384
SAMPLED_QUERIES = 1024
KNOWN_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
DEFAULT_ROLES = ("user", "assistant", "tool")
STRUCTURES = ("auto", "text", "json", "markdown", "code")
CODE_MODES = ("whole", "lines")
KINDS = ("rate", "count", "choice", "text", "strings", "switch", "tokenizer")
SCOPES = ("text", "messages")


@dataclass(frozen=True)
class OptionSpec:
    """What a surface needs to know of one option: its name, kind, help, scope, choices and default."""

    name: str
    kind: str  # one of KINDS
    help: str
    scope: str = "text"  # "text": prune, prune_messages and compress_prompt; "messages": prune_messages only
    choices: tuple[str, ...] = ()
    default: Any = None


def option(default: Any, kind: str, help: str, scope: str = "text", choices: tuple[str, ...] = ()) -> Any:
    """A PruneOptions field with its OptionSpec (the name is filled in below, from the field)."""
    return field(default=default, metadata={"spec": OptionSpec("", kind, help, scope, choices, default)})


@dataclass(frozen=True, kw_only=True)
class PruneOptions:
    """How a text is pruned: a rate in (0, 1] (default 0.9) or a target, not both; see each field's help."""

    rate: float | str | None = option(None, "rate", f"fraction of tokens to keep, in (0, 1] (default {DEFAULT_RATE}), "
                                      "or auto: with a question, the sentences relevant to it, however many")
    target_tokens: int | None = option(None, "count", "how many tokens to keep instead of a rate (in the target's "
                                                      "tokens when target_tokenizer is given; with rate auto, the "
                                                      "most kept)")
    method: str = option(DEFAULT_METHOD, "choice", f"the score that ranks tokens (default {DEFAULT_METHOD}; "
                                                   "attention: the paper's exact score)", choices=tuple(METHODS))
    granularity: str = option(DEFAULT_GRANULARITY, "choice", "what is kept or dropped whole: clauses ranked by their "
                              "tokens' mean rank (the last one cut at a word), words (characters in zh/ja/th) or "
                              f"characters (default {DEFAULT_GRANULARITY})", choices=GRANULARITIES)
    question: str | None = option(None, "text", "prune the text as passages for this question: its sentences most "
                                                "relevant to it, whole, one budget over all passages (no model runs; "
                                                "prose passages: JSON, Markdown and code are pruned by structure)")
    force: tuple[str, ...] = option((), "strings", "strings whose every occurrence is kept")
    force_digits: bool = option(False, "switch", "keep every digit")
    keep_last: int = option(0, "count", "keep the last N tokens (of each prose text; not inside JSON, Markdown or "
                                        "code)")
    drop_consecutive: bool = option(False, "switch", "drop a forced string that repeats the kept unit just before it")
    target_tokenizer: Any = option(None, "tokenizer", "count in the target model's tokens: a tokenizer.json, a hub "
                                   "repo id or a tiktoken encoding (cl100k_base); the output creates none of its "
                                   "special or added tokens")
    max_tokens: int = option(DEFAULT_MAX_TOKENS, "count", "the most tokens of one text scored exactly, every query "
                             f"on every key (O(n²) time); a longer text is scored from {SAMPLED_QUERIES} (or "
                             "max_tokens if fewer) evenly spaced queries, every key still scored (O(n) time and "
                             f"memory) (default {DEFAULT_MAX_TOKENS})")
    chunk: int | None = option(None, "count", "score the text in chunks of this many tokens instead, each on its own "
                                              "(attention does not cross chunks)")
    structure: str = option("auto", "choice", "the text's structure: auto (detected: JSON stays valid JSON, Markdown "
                            "keeps its headings, fences and tables, code stays whole), text (prose, as before), json, "
                            "markdown or code (default auto)", choices=STRUCTURES)
    code: str = option("whole", "choice", "code (a code file, a fenced block) kept or dropped whole, or pruned by "
                       "whole lines, comments first (default whole)", choices=CODE_MODES)
    roles: tuple[str, ...] = option(DEFAULT_ROLES, "strings", "the roles whose messages are pruned "
                                    f"(default {', '.join(DEFAULT_ROLES)})", scope="messages", choices=KNOWN_ROLES)
    keep_last_user: bool = option(True, "switch", "keep the last user message whole (default true)", scope="messages")
    rank_by_question: bool = option(False, "switch", "prune the messages as passages for the last user message",
                                    scope="messages")

    def __post_init__(self) -> None:
        rate, target = self.rate, self.target_tokens
        if rate is not None and target is not None and rate != AUTO:
            raise LiteError("give either rate or target_tokens, not both (or rate auto, target_tokens its ceiling)")
        if target is not None:
            object.__setattr__(self, "target_tokens", check_count(target, "target_tokens"))
        if target is None or rate == AUTO:
            object.__setattr__(self, "rate", check_rate(DEFAULT_RATE if rate is None else rate))
        for spec in SPECS:
            if spec.name not in ("rate", "target_tokens"):
                object.__setattr__(self, spec.name, CHECKS[spec.kind](getattr(self, spec.name), spec))
        if self.chunk is not None and self.chunk > self.max_tokens:
            raise LiteError(f"chunk ({self.chunk}) must be at most max_tokens ({self.max_tokens})")

    def replace(self, **changes: Any) -> PruneOptions:
        """A copy with some options changed (checked again; a new budget replaces the old one as a whole, except
        that a new target_tokens alone stays a ceiling under rate auto)."""
        if "target_tokens" in changes and "rate" not in changes and self.rate == AUTO:
            changes = {"rate": AUTO, **changes}
        if "rate" in changes or "target_tokens" in changes:
            changes = {"rate": None, "target_tokens": None, **changes}
        return dataclasses.replace(self, **changes)

    def given(self) -> dict[str, Any]:
        """The options that differ from their defaults, as keyword arguments (what a worker process is sent)."""
        found = {s.name: getattr(self, s.name) for s in SPECS if getattr(self, s.name) != s.default}
        if self.target_tokens is not None and self.rate != AUTO:
            found.pop("rate", None)
        return found


def check_question_for_auto(options: PruneOptions, has_question: bool) -> None:
    """A LiteError when the rate is auto and nothing gives a question (a batch gives one per record)."""
    if options.rate == AUTO and not has_question:
        raise LiteError("rate auto keeps what is relevant to a question: give question (--question, "
                        "--question-field, or rank_by_question for messages), or a rate in (0, 1]")


def is_auto(rate: Any) -> bool:
    """Whether a rate as given (in Python, a flag, a header) names rate auto: "auto", any case, spaces aside."""
    return isinstance(rate, str) and rate.strip().lower() == AUTO


def check_rate(rate: Any) -> float | str:
    """The rate as a float in (0, 1], or "auto", or a LiteError saying what is wrong (a bool is not a rate)."""
    if is_auto(rate):
        return AUTO
    if isinstance(rate, (bool, str, bytes)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise LiteError(f"rate must be a number in (0, 1] or auto, got {rate!r}")
    value = float(rate)
    if not 0.0 < value <= 1.0:  # also rejects NaN
        raise LiteError(f"rate must be in (0, 1] (the fraction of tokens to keep), got {rate!r}")
    return value


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """A whole number (not a bool, not a string) of at least `minimum`, or a LiteError naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise LiteError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)


def _count(value: Any, spec: OptionSpec) -> int | None:
    if value is None and spec.default is None:
        return None
    if spec.name == "keep_last":  # 0 keeps nothing extra
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise LiteError(f"keep_last must be 0 or more, got {value}")
        return int(value)
    return check_count(value, spec.name)


def _choice(value: Any, spec: OptionSpec) -> str:
    if spec.name == "method":
        from ..score.methods import check_method

        check_method(value)
        return value
    if value not in spec.choices:
        raise LiteError(f"{spec.name} {value!r} is not one of {', '.join(spec.choices)}")
    return value


def _text(value: Any, spec: OptionSpec) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise LiteError(f"{spec.name} must be a non-empty string, got {value!r}")
    return value


def _strings(value: Any, spec: OptionSpec) -> tuple[str, ...]:
    if spec.name == "roles":
        return check_roles(value)
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise LiteError(f"{spec.name} must be a list of strings (e.g. ['\\n', '?']), got {value!r}")
    strings = tuple(value)
    if not all(isinstance(s, str) and s for s in strings):
        raise LiteError(f"{spec.name} must be non-empty strings, got {strings!r}")
    return strings


def _switch(value: Any, spec: OptionSpec) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise LiteError(f"{spec.name} must be True or False, got {value!r}")
    return bool(value)


def _tokenizer(value: Any, spec: OptionSpec) -> Any:
    """A target tokenizer of a form target.py takes (loaded where the call starts, not here)."""
    if value is None or isinstance(value, (str, os.PathLike)) or callable(value):
        return value
    if any(callable(getattr(value, name, None)) for name in ("encode", "encode_ordinary", "count")):
        return value
    raise LiteError(
        f"target_tokenizer must be a tokenizers.Tokenizer, a tokenizer.json path, a hub repo id, a tiktoken encoding "
        f"name or a callable str -> int, got {type(value).__name__}"
    )


def check_roles(roles: Any) -> tuple[str, ...]:
    if isinstance(roles, str):
        roles = (roles,)
    if not isinstance(roles, (list, tuple, set, frozenset)):
        raise LiteError(f"roles must be a list of role names, got {type(roles).__name__}")
    unknown = [r for r in roles if r not in KNOWN_ROLES]
    if unknown:
        raise LiteError(f"unknown role {unknown[0]!r} in roles; known roles: {', '.join(KNOWN_ROLES)}")
    return tuple(roles)


CHECKS = {"rate": lambda value, spec: value, "count": _count, "choice": _choice, "text": _text,
          "strings": _strings, "switch": _switch, "tokenizer": _tokenizer}


def _specs() -> tuple[OptionSpec, ...]:
    found = []
    for f in dataclasses.fields(PruneOptions):
        spec = dataclasses.replace(f.metadata["spec"], name=f.name)
        assert spec.kind in KINDS and spec.scope in SCOPES, spec
        found.append(spec)
    return tuple(found)


SPECS: tuple[OptionSpec, ...] = _specs()
SPEC = {spec.name: spec for spec in SPECS}


def names(scope: str = "messages") -> tuple[str, ...]:
    """The options a call takes: "text" for prune, "messages" for prune_messages (which takes every option)."""
    return tuple(s.name for s in SPECS if scope == "messages" or s.scope == "text")


def make_options(scope: str, given: dict[str, Any]) -> PruneOptions:
    """PruneOptions from keyword arguments, an unknown name (or one of the other scope) a one-line LiteError."""
    allowed = names(scope)
    for name in given:
        if name not in allowed:
            where = " (an option of prune_messages)" if name in SPEC else ""
            raise LiteError(f"unknown option {name!r}{where}; the options are: {', '.join(allowed)}")
    return PruneOptions(**given)


def options_table() -> str:
    """The options as a Markdown table (docs/options.md is written from it)."""
    rows = ["| option | command line | default | scope | what it does |", "|---|---|---|---|---|"]
    for spec in SPECS:
        default = "" if spec.default in (None, ()) else repr(spec.default)
        cli = f"`--{spec.name.replace('_', '-')}`" if spec.scope == "text" else ""
        rows.append(f"| `{spec.name}` | {cli} | {default} | {spec.scope} | {spec.help.replace('|', '/')} |")
    return "\n".join(rows)


def document(function: Any, scope: str) -> None:
    """Give a call that takes **options the options of `scope` as its keyword parameters (for help() and
    editors: inspect.signature shows them) and as a list at the end of its docstring."""
    import inspect

    signature = inspect.signature(function)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in fixed}
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=SPEC[name].default)
             for name in names(scope) if name not in taken]
    function.__signature__ = signature.replace(parameters=[*fixed, *extra])
    lines = [f"    {name}: {SPEC[name].help}" for name in names(scope) if name not in ("rate", "target_tokens")]
    function.__doc__ = (function.__doc__ or "").rstrip() + "\n\n    Options (lite.PruneOptions):\n" + "\n".join(lines)
