"""The slice file: one safetensors file holding what a pruner needs, and nothing else.

Tensors keep their checkpoint names, dtypes and bytes (bf16 stays bf16). `__metadata__`
carries the model's config.json and tokenizer.json, where they came from, and a format
version. Reading memory-maps the file; only the embedding rows a prompt uses are widened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LiteError
from .atomic import atomic_write
from .stformat import DTYPES, Header, encode_header, read_header, to_float32

FORMAT_KEY = "lite.format"
FORMAT_VERSION = "1"
CONFIG_KEY = "config.json"
TOKENIZER_KEY = "tokenizer.json"
TOKENIZER_CONFIG_KEY = "tokenizer_config.json"
SOURCE_KEY = "lite.source"
REVISION_KEY = "lite.revision"
WEIGHTS_DIR = Path("weights")  # where the slicer writes slices and the prune CLI looks for one


@dataclass(frozen=True)
class RawTensor:
    """A tensor as stored in a checkpoint: dtype string, shape and the exact bytes (or a callable yielding
    them in pieces, for a tensor produced while it is written: a dequantized GGUF tensor)."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes | memoryview | Callable[[], Iterable[bytes]]


def write_slice(path: str | os.PathLike, tensors: dict[str, RawTensor], metadata: dict[str, str]) -> int:
    """Write tensors and metadata as one safetensors file, atomically; returns its size in bytes."""
    metadata = {FORMAT_KEY: FORMAT_VERSION, **metadata}
    names = sorted(tensors)
    header = encode_header([(n, tensors[n].dtype, tensors[n].shape) for n in names], metadata)
    with atomic_write(path) as out:
        out.write(header)
        for name in names:
            data = tensors[name].data
            for piece in data() if callable(data) else (data,):
                out.write(piece)
        size = out.tell()
    return size


class SliceFile:
    """A memory-mapped slice: metadata, config, tokenizer, and tensors on demand."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise LiteError(f"no slice file at {self.path}; make one with `lite-pruner slice MODEL`")
        try:
            with open(self.path, "rb") as f:
                def read(start: int, end: int) -> bytes:
                    f.seek(start)
                    return f.read(end - start)

                self.header: Header = read_header(read, str(self.path))
            size = os.path.getsize(self.path)
        except OSError as err:
            raise LiteError(f"cannot read {self.path}: {err.strerror}") from None
        meta = self.header.metadata
        if FORMAT_KEY not in meta:
            raise LiteError(f"{self.path} is a safetensors file but not a lite slice (no {FORMAT_KEY} metadata)")
        if meta[FORMAT_KEY] != FORMAT_VERSION:
            raise LiteError(
                f"{self.path} has slice format {meta[FORMAT_KEY]}, this lite reads format {FORMAT_VERSION}; "
                "make the slice again"
            )
        for key in (CONFIG_KEY, TOKENIZER_KEY):
            if key not in meta:
                raise LiteError(f"{self.path} is a broken slice: its metadata has no {key}; make the slice again")
        last = max((entry.end for entry in self.header.entries.values()), default=0)
        if self.header.data_start + last > size:
            raise LiteError(f"{self.path} is truncated ({size} bytes, its header needs "
                            f"{self.header.data_start + last}); make the slice again")
        self.metadata: dict[str, str] = meta
        try:
            self.config: dict = json.loads(meta[CONFIG_KEY])
        except (ValueError, RecursionError):  # not JSON, nested too deeply, an integer too long to convert
            raise LiteError(f"{self.path} is a broken slice: its config.json is not valid JSON") from None
        if not isinstance(self.config, dict):
            raise LiteError(f"{self.path} is a broken slice: its config.json is not a JSON object")
        self._map = np.memmap(self.path, dtype=np.uint8, mode="r")

    @property
    def tokenizer_json(self) -> str:
        return self.metadata[TOKENIZER_KEY]

    def names(self) -> list[str]:
        return list(self.header.entries)

    def raw(self, name: str) -> np.ndarray:
        """The stored tensor as a read-only memory-mapped array (bf16 viewed as uint16)."""
        entry = self.header.entries.get(name)
        if entry is None:
            raise LiteError(f"{self.path} has no tensor {name!r}; was it sliced from a different model?")
        start = self.header.data_start + entry.start
        view = self._map[start : start + entry.nbytes].view(DTYPES[entry.dtype][1])
        return view.reshape(entry.shape)

    def float32(self, name: str) -> np.ndarray:
        """The whole tensor widened to float32 (a copy)."""
        return to_float32(self.raw(name), self.header.entries[name].dtype)

    def float32_rows(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Only the given rows of a 2-D tensor, widened to float32: the rest is never read.

        The rows are read with pread, not through the memory map: a page fault maps a whole page-cache
        folio (up to 2 MiB on current kernels), so scattered rows through the map would make most of the
        embedding resident; pread copies just the rows' bytes.
        """
        entry = self.header.entries[name]
        raw = self.raw(name)  # for the row layout; its pages are not touched
        picked = np.empty((len(rows), *raw.shape[1:]), dtype=raw.dtype)  # [len(rows), cols]
        row_bytes = picked[0].nbytes if len(rows) else 0
        start = self.header.data_start + entry.start
        with open(self.path, "rb", buffering=0) as f:
            for i, row in enumerate(np.asarray(rows).tolist()):
                if os.preadv(f.fileno(), [picked[i]], start + row * row_bytes) != row_bytes:
                    raise LiteError(f"{self.path} ended inside tensor {name!r}")
        return to_float32(picked, entry.dtype)  # [len(rows), cols]
