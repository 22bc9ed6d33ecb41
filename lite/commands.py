"""`lite-pruner` (and `python -m lite`): one command with a subcommand per job.

    lite-pruner slice HuggingFaceTB/SmolLM2-135M-Instruct
    lite-pruner prune --rate 0.7 prompt.txt
    lite-pruner --version

Each subcommand lives in its own module, which exposes HELP (one line), DESCRIPTION, EXAMPLES,
add_arguments(parser) and run(args) -> exit status; this module only dispatches. COMMANDS maps a
name to its module; a command of an optional extra (serve) is imported only when it is run or
help is asked for, and a missing extra is a one-line error naming the pip command.
The same modules back `python -m lite.slice` and `python -m lite.prune` through `standalone`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from .cli import run_cli
from .errors import LiteError

PROG = "lite-pruner"
DISTRIBUTION = "lite-pruner"

# name -> module exposing HELP, DESCRIPTION, EXAMPLES, add_arguments(parser), run(args)
COMMANDS: dict[str, str] = {
    "slice": "lite.slice.__main__",
    "prune": "lite.prune.__main__",
    "compare": "lite.compare.cli",
    "cache": "lite.slice.cache_cli",
}
# commands that need an optional extra: name -> (module, extra, one-line help shown in the list)
OPTIONAL_COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("lite.serve.cli", "serve", "a pruning service and OpenAI-compatible proxy (needs lite-pruner[serve])"),
}


def version() -> str:
    """The installed distribution's version, else the package's own."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        from . import __version__

        return __version__


class MissingExtra:
    """Stands in for a command whose module or dependencies are not installed."""

    def __init__(self, name: str, extra: str, help_line: str):
        self.name, self.extra = name, extra
        self.HELP = help_line
        self.DESCRIPTION = help_line
        self.EXAMPLES = f"install it with: pip install 'lite-pruner[{extra}]'"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace) -> int:
        raise LiteError(f"`{PROG} {self.name}` needs the {self.extra} extra: pip install 'lite-pruner[{self.extra}]'")


def import_command(name: str) -> ModuleType | MissingExtra:
    if name in COMMANDS:
        return importlib.import_module(COMMANDS[name])
    module, extra, help_line = OPTIONAL_COMMANDS[name]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and err.name.startswith("lite.") and not module.startswith(err.name):
            raise  # a module of lite itself is missing: a bug, not a missing extra
        return MissingExtra(name, extra, help_line)  # the command's module or one of its dependencies


def subparser(subparsers, name: str, command) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        help=command.HELP,
        description=command.DESCRIPTION,
        epilog=command.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_arguments(parser)
    parser.set_defaults(command_run=command.run, command_name=name)
    return parser


def build_parser(wanted: str | None) -> argparse.ArgumentParser:
    """The parser; optional commands are imported only when `wanted` names them (or on --help, None)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="lite: keep the most important tokens of a prompt, scored on a CPU by a small model's "
        "layer-0 attention.",
        epilog=(
            "examples:\n"
            "  lite-pruner slice HuggingFaceTB/SmolLM2-135M-Instruct\n"
            "  echo 'Janet has 16 eggs and eats three.' | lite-pruner prune --rate 0.7\n"
            f"  {PROG} COMMAND --help     (each command's options and an example)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        subparser(subparsers, name, import_command(name))
    for name, (_, extra, help_line) in OPTIONAL_COMMANDS.items():
        command = import_command(name) if wanted in (None, name) else MissingExtra(name, extra, help_line)
        subparser(subparsers, name, command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    if wanted in OPTIONAL_COMMANDS and not {"-h", "--help"} & set(argv):
        command = import_command(wanted)
        if isinstance(command, MissingExtra):
            return command.run(argparse.Namespace())
    args = build_parser(wanted if wanted in (*COMMANDS, *OPTIONAL_COMMANDS) else None).parse_args(argv)
    return args.command_run(args)


def standalone(command: ModuleType, prog: str, argv: Sequence[str] | None) -> int:
    """Run one command module as its own program (`python -m lite.slice`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=command.DESCRIPTION,
        epilog=command.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_arguments(parser)
    return command.run(parser.parse_args(argv))


def entry() -> None:
    """The console script `lite-pruner`."""
    run_cli(main)
