"""Reading what the user hands lite (a text file, stdin, a JSONL file) with a bound on its size.

`/dev/zero`, or a pipe that never ends, would otherwise be read until memory runs out.
"""

from __future__ import annotations

import os
import sys

from .errors import LiteError

MAX_INPUT_BYTES = 256 * 1024 * 1024  # one input file or stdin; larger is refused (split it)


def read_bounded(source: str | os.PathLike, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file, or of stdin when source is "-", at most `limit` of them (else a LiteError)."""
    name = "stdin" if str(source) == "-" else str(source)
    try:
        if str(source) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(source, "rb") as f:
                data = f.read(limit + 1)
    except OSError as err:
        raise LiteError(f"cannot read {name}: {err.strerror}") from None
    if len(data) > limit:
        raise LiteError(f"{name} is larger than {limit >> 20} MiB, the most lite reads as one input; split it")
    return data
