"""`lite-pruner cache`: the slices cached for models named by hub repo id; list them, remove some.

Argument parsing and printing only; the cache is lite/slice/cache.py.
"""

from __future__ import annotations

import argparse
import json

from .cache import assets_root, list_slices, remove_slices

HELP = "list (or remove) the slices cached for models named by repo id"
DESCRIPTION = (
    "List the slices cached for models named by hub repo id (lite.load(REPO_ID), --model REPO_ID), "
    "with their sizes; remove some with --remove."
)
EXAMPLES = """examples:
  lite-pruner cache
  lite-pruner cache --json
  lite-pruner cache --remove HuggingFaceTB/SmolLM2-135M-Instruct          # every commit of the repo
  lite-pruner cache --remove HuggingFaceTB/SmolLM2-135M-Instruct@12ab34   # one commit"""

MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--remove",
        action="append",
        default=[],
        metavar="REPO[@COMMIT]",
        help="remove the cached slices of REPO, or only the one of COMMIT (a prefix will do); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print the entries as JSON")


def table(entries) -> str:
    rows = [("repo", "commit", "revisions", "size", "path")]
    rows += [
        (e.repo_id, e.commit[:12], ",".join(e.revisions) or "-", f"{e.size / MIB:.1f} MiB", str(e.path))
        for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows)


def run(args: argparse.Namespace) -> int:
    if args.remove:
        removed = [entry for spec in args.remove for entry in remove_slices(spec)]
        if args.json:
            print(json.dumps([e.to_dict() for e in removed]))
        for entry in [] if args.json else removed:
            print(f"removed {entry.repo_id}@{entry.commit[:12]} ({entry.size / MIB:.1f} MiB)")
        return 0
    entries = list_slices()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries]))
    elif not entries:
        print(f"no cached slices (in {assets_root()})")
    else:
        print(table(entries))
        print(f"{len(entries)} slice(s), {sum(e.size for e in entries) / MIB:.1f} MiB in {assets_root()}")
    return 0
