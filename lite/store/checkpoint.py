"""A Hugging Face checkpoint read through any Source: one model.safetensors, or shards with an index.

`Checkpoint(source)` knows which shard holds each tensor; `read(names)` reads each needed shard's
header and fetches only the named tensors' bytes, adjacent tensors merged into one range.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import LiteError
from .slicefile import RawTensor
from .sources import Progress, Source, check_file_name
from .stformat import Header, TensorEntry, read_header

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


def read_text(source: Source, filename: str) -> str | None:
    """A small file of the source as UTF-8 text, or None when there is no such file."""
    raw = source.read_file(filename)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LiteError(f"{source.name}/{filename} is not UTF-8 text (byte {err.start})") from None


def read_json(source: Source, filename: str):
    """A small JSON file of the source, or None when it has no such file; a one-line error when it is broken."""
    text = read_text(source, filename)
    return None if text is None else parse_json(text, f"{source.name}/{filename}")


def parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise LiteError(f"{where} is not valid JSON: {err}") from None
    except RecursionError:
        raise LiteError(f"{where} is nested too deeply to be a model's JSON file") from None
    except ValueError as err:  # e.g. an integer with more digits than Python converts
        raise LiteError(f"{where} is not usable JSON: {str(err).splitlines()[0]}") from None


def shard_header(source: Source, shard: str) -> Header:
    def read(start: int, end: int) -> bytes:
        return source.read_ranges(shard, [(start, end)])[0]

    return read_header(read, f"{source.name}/{shard}")


def coalesce(entries: list[TensorEntry], data_start: int) -> list[tuple[int, int, list[TensorEntry]]]:
    """Absolute byte ranges covering the entries, adjacent tensors merged into one range."""
    ranges: list[tuple[int, int, list[TensorEntry]]] = []
    for entry in sorted(entries, key=lambda e: e.start):
        start, end = data_start + entry.start, data_start + entry.end
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end, ranges[-1][2] + [entry])
        else:
            ranges.append((start, end, [entry]))
    return ranges


@dataclass
class Checkpoint:
    """A checkpoint's tensors: which shard holds each (headers already read on the way are kept)."""

    source: Source
    shard_of: dict[str, str]  # tensor name -> shard file
    headers: dict[str, Header]

    @classmethod
    def open(cls, source: Source) -> Checkpoint:
        index = read_json(source, INDEX_FILE)
        if index is not None:
            if not isinstance(index, dict):
                raise LiteError(f"{source.name}/{INDEX_FILE} is not a JSON object")
            weight_map = index.get("weight_map")
            if not isinstance(weight_map, dict):
                raise LiteError(f"{source.name}/{INDEX_FILE} has no weight_map object")
            for name, shard in weight_map.items():  # every name, not only the needed ones: a hostile index is refused
                check_file_name(shard, f"{source.name}/{INDEX_FILE}: the weight_map entry of {name!r}")
            return cls(source, dict(weight_map), {})
        header = shard_header(source, SINGLE_FILE)
        return cls(source, dict.fromkeys(header.entries, SINGLE_FILE), {SINGLE_FILE: header})

    def header(self, shard: str) -> Header:
        if shard not in self.headers:
            self.headers[shard] = shard_header(self.source, shard)
        return self.headers[shard]

    def read(self, names: list[str], progress: Progress | None = None) -> dict[str, RawTensor]:
        """The exact bytes of the named tensors (all in shard_of), and nothing more."""
        tensors: dict[str, RawTensor] = {}
        for shard in sorted({self.shard_of[name] for name in names}):
            header = self.header(shard)
            entries = []
            for name in (n for n in names if self.shard_of[n] == shard):
                if name not in header.entries:
                    raise LiteError(f"{self.source.name}/{shard} does not hold {name!r} as its index says")
                entries.append(header.entries[name])
            ranges = coalesce(entries, header.data_start)
            chunks = self.source.read_ranges(shard, [(start, end) for start, end, _ in ranges], progress)
            for (start, _, members), chunk in zip(ranges, chunks):
                view = memoryview(chunk)
                for entry in members:
                    offset = header.data_start + entry.start - start
                    tensors[entry.name] = RawTensor(entry.dtype, entry.shape, view[offset : offset + entry.nbytes])
        return tensors
