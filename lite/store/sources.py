"""Where a slice's bytes come from: the Source protocol, and a local model folder.

A source answers three questions: the bytes of a small file, a byte range of a large one,
and where it came from. The hub is another source (lite/store/hub.py); open_source.py picks
one for a name. Everything else (shards, headers, coalescing: lite/store/checkpoint.py; which
tensors and writing: lite/slice) is written once and works for every source.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import LiteError
from .slicefile import REVISION_KEY, SOURCE_KEY

# Progress callback: called with the number of tensor bytes just received.
Progress = Callable[[int], None]


UNSAFE_NAME_CHARS = frozenset("\\?#%") | {chr(c) for c in range(32)} | {chr(127)}


def check_file_name(name: object, what: str) -> str:
    """A file name inside the model folder or repo: relative, `/`-separated, no `.` or `..` parts, no URL tricks.

    `what` says where the name came from, for the one-line error. The check is on the name, not on
    where a link points: the Hugging Face cache links every file of a snapshot into its blobs folder.
    """
    if not isinstance(name, str):
        raise LiteError(f"{what} must be a file name, got {type(name).__name__} {str(name)[:80]!r}")
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts) or UNSAFE_NAME_CHARS.intersection(name):
        raise LiteError(f"{what} is {name[:200]!r}: not a plain file name inside the model (no '..', no absolute "
                        "path, no empty part, none of \\ ? # % or control characters)")
    return name


class Source(Protocol):
    name: str  # what the user named: a folder path or a repo id

    def read_file(self, filename: str) -> bytes | None:
        """A whole (small) file, or None when the model has no such file."""

    def read_ranges(
        self, filename: str, ranges: list[tuple[int, int]], progress: Progress | None = None
    ) -> list[bytes]:
        """The bytes [start, end) of each range of a (large) file, in order."""

    def provenance(self) -> dict[str, str]:
        """Where the bytes came from, for the slice's metadata: source and revision."""

    def model_name(self) -> str:
        """A short name for the default output file."""


@dataclass(frozen=True)
class Limits:
    """How patient the slicer is with the hub (the `--timeout`, `--deadline`, `--retries`, `--max-wait` options)."""

    timeout: float = 30.0  # s: connecting, and the longest silence while a request waits for bytes
    deadline: float = 600.0  # s: one transfer (a small file, or one part of a range) with its retries and resumes
    retries: int = 5  # further tries of one transfer after a busy answer (429, 5xx) or a broken connection
    max_wait: float = 60.0  # s: the longest wait before a retry; a server asking for more (Retry-After) is an error

    def __post_init__(self) -> None:
        for name in ("timeout", "deadline", "max_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and value > 0
            ):
                raise LiteError(f"--{name.replace('_', '-')} must be a number of seconds above 0, got {value!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or not 0 <= self.retries <= 100:
            raise LiteError(f"--retries must be a whole number from 0 to 100, got {self.retries!r}")


class LocalFolder:
    """A Hugging Face-style model folder on disk (what save_pretrained writes)."""

    def __init__(self, path: str | os.PathLike):
        self.root = Path(path)
        if not self.root.is_dir():
            raise LiteError(f"{self.root} is not a folder")
        self.name = str(self.root)

    def read_file(self, filename: str) -> bytes | None:
        path = self.root / check_file_name(filename, "a file name")
        return path.read_bytes() if path.is_file() else None

    def read_ranges(
        self, filename: str, ranges: list[tuple[int, int]], progress: Progress | None = None
    ) -> list[bytes]:
        path = self.root / check_file_name(filename, "a file name")
        if not path.is_file():
            raise LiteError(f"{self.root} has no {filename}")
        chunks = []
        with open(path, "rb") as f:
            for start, end in ranges:
                f.seek(start)
                data = f.read(end - start)
                if len(data) != end - start:
                    raise LiteError(f"{path} is truncated: bytes {start}-{end} are past its end")
                chunks.append(data)
                if progress:
                    progress(len(data))
        return chunks

    def provenance(self) -> dict[str, str]:
        return {SOURCE_KEY: str(self.root.resolve()), REVISION_KEY: "local"}

    def model_name(self) -> str:
        return self.root.resolve().name
