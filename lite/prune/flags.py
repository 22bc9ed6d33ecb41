"""PruneOptions as command-line flags: one flag per option of a scope, named, typed and described by its spec.

    add_option_flags(parser)            # --rate, --target-tokens, --method, --granularity, --question, ...
    options = options_from_args(args)   # the flags given, as PruneOptions keyword arguments

A flag left out is not in the namespace at all, so the option keeps PruneOptions' default; rate and
target_tokens are one mutually exclusive group. The command line adds no option of its own here:
a new field of PruneOptions is a new flag.
"""

from __future__ import annotations

import argparse
from typing import Any

from .options import AUTO, SPEC, OptionSpec, is_auto, names

METAVARS = {"rate": "R", "count": "N", "text": "TEXT", "strings": "STR", "tokenizer": "TOK"}
BUDGET = ("rate", "target_tokens")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def flag_arguments(spec: OptionSpec) -> dict[str, Any]:
    """argparse's keyword arguments for one option."""
    found: dict[str, Any] = {"dest": spec.name, "default": argparse.SUPPRESS, "help": spec.help}
    if spec.kind == "switch":
        found["action"] = "store_true" if spec.default is False else argparse.BooleanOptionalAction
    elif spec.kind == "strings":
        found.update(action="append", metavar=METAVARS["strings"], help=spec.help + " (repeatable)")
    elif spec.kind == "choice":
        found["choices"] = spec.choices
    else:
        found.update(type={"rate": rate_value, "count": int}.get(spec.kind, str), metavar=METAVARS[spec.kind])
    return found


def rate_value(text: str) -> float | str:
    """A rate flag's value: a number (checked by PruneOptions) or auto."""
    if is_auto(text):
        return AUTO
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number in (0, 1] or auto, not {text!r}") from None


def add_option_flags(parser: argparse.ArgumentParser, scope: str = "text") -> None:
    """One flag per option of `scope` (rate and target_tokens mutually exclusive)."""
    budget = parser.add_mutually_exclusive_group()
    for name in names(scope):
        (budget if name in BUDGET else parser).add_argument(flag(name), **flag_arguments(SPEC[name]))


def options_from_args(args: argparse.Namespace, scope: str = "text") -> dict[str, Any]:
    """The options given on the command line, as keyword arguments of PruneOptions."""
    given = {name: getattr(args, name) for name in names(scope) if hasattr(args, name)}
    return {name: tuple(value) if isinstance(value, list) else value for name, value in given.items()}
