"""The safetensors container: header parsing and writing, dtypes, exact widening to float32.

A safetensors file is an 8-byte little-endian header length, a JSON header
({name: {dtype, shape, data_offsets}}, plus an optional string-to-string "__metadata__"),
then the raw tensor bytes. Headers are read through a `read(start, end) -> bytes` callable,
so the same code serves a local file and an HTTP Range source.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LiteError

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
MAX_TENSOR_BYTES = 1 << 50  # no offset in a real file is larger (a petabyte)

# safetensors dtype -> (bytes per element, numpy dtype the raw bytes are viewed as)
DTYPES: dict[str, tuple[int, np.dtype]] = {
    "F64": (8, np.dtype("<f8")),
    "F32": (4, np.dtype("<f4")),
    "F16": (2, np.dtype("<f2")),
    "BF16": (2, np.dtype("<u2")),  # numpy has no bfloat16: keep the bits, widen exactly
    "I64": (8, np.dtype("<i8")),
    "I32": (4, np.dtype("<i4")),
    "I16": (2, np.dtype("<i2")),
    "I8": (1, np.dtype("i1")),
    "U8": (1, np.dtype("u1")),
    "BOOL": (1, np.dtype("?")),
}
FLOAT_DTYPES = ("F32", "F16", "BF16", "F64")


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str  # safetensors dtype string, e.g. "BF16"
    shape: tuple[int, ...]
    start: int  # byte offset from the start of the data section
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Header:
    entries: dict[str, TensorEntry]
    metadata: dict[str, str]
    data_start: int  # absolute offset of the data section in the file


def read_header(read: Callable[[int, int], bytes], where: str) -> Header:
    """Read a safetensors header through `read(start, end)`; two reads, any header size."""
    prefix = read(0, 8)
    if len(prefix) != 8:
        raise LiteError(f"{where} is not a safetensors file (shorter than 8 bytes)")
    (length,) = struct.unpack("<Q", prefix)
    if length > MAX_HEADER_BYTES:
        raise LiteError(f"{where} is not a safetensors file (header length {length} is implausible)")
    raw = read(8, 8 + length)
    if len(raw) != length:
        raise LiteError(f"{where}: header is truncated ({len(raw)} of {length} bytes)")
    return parse_header(raw, where, data_start=8 + length)


def parse_header(raw: bytes, where: str, data_start: int) -> Header:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # not UTF-8, not JSON, nested too deeply, a too long integer
        raise LiteError(f"{where}: the safetensors header is not valid JSON ({err.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise LiteError(f"{where}: the safetensors header is not a JSON object")
    metadata = doc.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise LiteError(f"{where}: the safetensors metadata is not a string-to-string map")
    entries = {}
    for name, info in doc.items():
        try:
            start, end = (whole(x) for x in info["data_offsets"])
            entry = TensorEntry(name, str(info["dtype"]), tuple(whole(s) for s in info["shape"]), start, end)
            if not 0 <= entry.start <= entry.end <= MAX_TENSOR_BYTES:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise LiteError(f"{where}: malformed header entry for tensor {name!r} (offsets, shape or dtype)") from None
        if entry.dtype not in DTYPES:
            raise LiteError(f"{where}: tensor {name!r} has unknown dtype {entry.dtype!r}")
        if entry.nbytes != DTYPES[entry.dtype][0] * math.prod(entry.shape):  # Python ints: no overflow
            raise LiteError(f"{where}: tensor {name!r} has a size that does not match its shape {list(entry.shape)}")
        entries[name] = entry
    return Header(entries=entries, metadata=dict(metadata), data_start=data_start)


def whole(value) -> int:
    """A non-negative JSON integer (not a bool, not a float, not a string), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(value)
    return value


def encode_header(tensors: list[tuple[str, str, tuple[int, ...]]], metadata: dict[str, str]) -> bytes:
    """The header bytes (length prefix included) for tensors laid out back to back in this order."""
    doc: dict = {"__metadata__": metadata} if metadata else {}
    cursor = 0
    for name, dtype, shape in tensors:
        nbytes = DTYPES[dtype][0] * int(np.prod(shape, dtype=np.int64))
        doc[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [cursor, cursor + nbytes]}
        cursor += nbytes
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the data section starts 8-byte aligned, as safetensors writes it
    return struct.pack("<Q", len(raw)) + raw


def to_float32(raw: np.ndarray, dtype: str) -> np.ndarray:
    """Widen stored values to float32 exactly (BF16 by a 16-bit shift, never through float16)."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if dtype in FLOAT_DTYPES:
        return raw.astype(np.float32)
    raise LiteError(f"tensor of dtype {dtype} cannot be used as float weights")
