"""Where a slice's bytes come from: the Source protocol, and a local model folder.

A source answers three questions: the bytes of a small file, a byte range of a large one,
and where it came from. The hub is another source (lite/store/hub.py); open_source.py picks
one for a name. Everything else (shards, headers, coalescing: lite/store/checkpoint.py; which
tensors and writing: lite/slice) is written once and works for every source.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..errors import LiteError
from .slicefile import REVISION_KEY, SOURCE_KEY

# Progress callback: called with the number of tensor bytes just received.
Progress = Callable[[int], None]


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


class LocalFolder:
    """A Hugging Face-style model folder on disk (what save_pretrained writes)."""

    def __init__(self, path: str | os.PathLike):
        self.root = Path(path)
        if not self.root.is_dir():
            raise LiteError(f"{self.root} is not a folder")
        self.name = str(self.root)

    def read_file(self, filename: str) -> bytes | None:
        path = self.root / filename
        return path.read_bytes() if path.is_file() else None

    def read_ranges(
        self, filename: str, ranges: list[tuple[int, int]], progress: Progress | None = None
    ) -> list[bytes]:
        path = self.root / filename
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
