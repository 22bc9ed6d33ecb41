"""A bounded walk over a GGUF header, before gguf-py's reader is trusted with the file.

gguf-py's `GGUFReader` builds a numpy array per metadata item and loops over whatever counts the
header states; a hostile or broken file (a count of 2^60, an array of a billion one-byte items, a
tensor reaching past the end) would make it allocate without bound or fail with an arbitrary
exception. This walk reads only the header's fixed fields and lengths, checks every count and
offset against the file size (and a cap on metadata items), and raises one LiteError line for the
first thing wrong. It returns nothing: the values are then read by gguf-py (lite/store/gguf_file.py).

Layout (gguf v2/v3, little-endian): magic "GGUF", u32 version, u64 tensor count, u64 kv count; kv
entries (string key, u32 type, value); tensor infos (string name, u32 n_dims, u64 dims[n_dims], u32
type, u64 offset); padding to `general.alignment` (default 32); tensor data.
"""

from __future__ import annotations

import mmap
import struct

from ..errors import LiteError

MAGIC = b"GGUF"
VERSIONS = (2, 3)
FIXED_BYTES = 24  # magic, version, tensor count, kv count
MIN_KV_BYTES = 8 + 4 + 1  # an empty key, a type, the smallest value
MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # an empty name, n_dims 0, type, offset
SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}  # GGUFValueType -> size
STRING, ARRAY = 8, 9
MAX_ARRAY_ITEMS = 1 << 22  # all metadata arrays together (a 262k vocabulary with scores and types is 0.8M);
# gguf-py holds a numpy array per item (~250 bytes), so this bounds the reader at about 1 GB
MAX_STRING_BYTES = 1 << 26  # one metadata string (a chat template is a few kB)
MAX_DIMS = 4  # ggml tensors have at most 4 dimensions
MAX_DIM = 1 << 40
DEFAULT_ALIGNMENT = 32


class _Walk:
    """A cursor over the mapped header that refuses to step past the end of the file."""

    def __init__(self, data: mmap.mmap, where: str):
        self.data, self.where, self.pos, self.items = data, where, 0, 0

    def fail(self, what: str) -> LiteError:
        return LiteError(f"{self.where} is not a usable GGUF file: {what}")

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(f"{what} at byte {self.pos} runs past the end of the file ({len(self.data)} bytes); "
                            "is it truncated?")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u32(self, what: str) -> int:
        return struct.unpack("<I", self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack("<Q", self.take(8, what))[0]

    def string(self, what: str) -> bytes:
        length = self.u64(f"the length of {what}")
        if length > MAX_STRING_BYTES:
            raise self.fail(f"{what} at byte {self.pos - 8} claims {length} bytes")
        return self.take(length, what)

    def value(self, kind: int, what: str, depth: int = 0) -> bytes | None:
        """Skip one value of GGUFValueType `kind`; returns the bytes of a scalar (for general.alignment)."""
        if kind in SCALAR_BYTES:
            return self.take(SCALAR_BYTES[kind], what)
        if kind == STRING:
            self.string(what)
            return None
        if kind != ARRAY or depth > 0:
            raise self.fail(f"{what} has value type {kind}, which GGUF does not define here")
        item_kind, count = self.u32(f"the item type of {what}"), self.u64(f"the length of {what}")
        self.items += count
        if self.items > MAX_ARRAY_ITEMS:
            raise self.fail(f"{what} claims {count} items; all arrays together may hold {MAX_ARRAY_ITEMS}")
        if item_kind in SCALAR_BYTES:
            self.take(count * SCALAR_BYTES[item_kind], what)
            return None
        for _ in range(count):
            self.value(item_kind, what, depth + 1)
        return None


def _metadata(walk: _Walk, kv_count: int) -> int:
    """Walk the kv entries; the alignment they state (general.alignment), else the default."""
    alignment = DEFAULT_ALIGNMENT
    for index in range(kv_count):
        key = walk.string(f"the key of metadata entry {index}")
        kind = walk.u32(f"the type of metadata {key[:80]!r}")
        raw = walk.value(kind, f"metadata {key.decode('utf-8', 'replace')[:80]!r}")
        if key == b"general.alignment":
            alignment = struct.unpack("<I", raw)[0] if kind == 4 and raw else 0
            if alignment == 0 or alignment & (alignment - 1):
                raise walk.fail("general.alignment is not a 32-bit power of two")
    return alignment


def _tensor_infos(walk: _Walk, count: int) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, dims, ggml type, offset) of each tensor info, dims and types checked."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    infos = []
    for index in range(count):
        name = walk.string(f"the name of tensor {index}").decode("utf-8", "replace")
        n_dims = walk.u32(f"the dimension count of tensor {name!r}")
        if n_dims > MAX_DIMS:
            raise walk.fail(f"tensor {name!r} claims {n_dims} dimensions (at most {MAX_DIMS})")
        dims = tuple(walk.u64(f"a dimension of tensor {name!r}") for _ in range(n_dims))
        kind, offset = walk.u32(f"the type of tensor {name!r}"), walk.u64(f"the offset of tensor {name!r}")
        if any(d > MAX_DIM for d in dims):
            raise walk.fail(f"tensor {name!r} has dimensions {list(dims)}")
        if kind not in GGMLQuantizationType._value2member_map_ or GGMLQuantizationType(kind) not in GGML_QUANT_SIZES:
            raise walk.fail(f"tensor {name!r} has type {kind}, which is not a ggml tensor type")
        block, _ = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        if dims and dims[0] % block:
            raise walk.fail(f"tensor {name!r} has rows of {dims[0]} values, not whole blocks of {block}")
        infos.append((name, dims, kind, offset))
    return infos


def check_header(data: mmap.mmap, where: str) -> None:
    """Raise one LiteError line unless the mapped file is a GGUF whose header and tensor extents are sound."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    walk = _Walk(data, where)
    if len(data) < FIXED_BYTES or data[:4] != MAGIC:
        raise walk.fail(f"it does not start with the GGUF magic (starts with {bytes(data[:4])!r})")
    walk.take(4, "the magic")
    version, tensors, kvs = walk.u32("the version"), walk.u64("the tensor count"), walk.u64("the kv count")
    if version not in VERSIONS:
        raise walk.fail(f"GGUF version {version} (this lite reads versions {', '.join(map(str, VERSIONS))})")
    room = len(data) - FIXED_BYTES
    if tensors * MIN_TENSOR_INFO_BYTES > room or kvs * MIN_KV_BYTES > room:
        raise walk.fail(f"its header claims {tensors} tensors and {kvs} metadata entries, more than "
                        f"{len(data)} bytes can hold")
    alignment = _metadata(walk, kvs)
    infos = _tensor_infos(walk, tensors)
    data_start = -(-walk.pos // alignment) * alignment
    for name, dims, kind, offset in infos:
        block, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
        elements = 1
        for d in dims:
            elements *= d
        end = data_start + offset + elements // block * block_bytes
        if end > len(data):
            raise walk.fail(f"tensor {name!r} runs past the end of the file (to byte {end} of {len(data)}); "
                            "is it truncated?")
