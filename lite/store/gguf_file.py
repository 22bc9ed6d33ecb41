"""A GGUF file (llama.cpp, Ollama) read through gguf-py: its metadata and its tensors, dequantized.

`GGUFFile(path)` maps the file, checks its header with a bounded walk (lite/store/gguf_header.py),
then hands it to `gguf.GGUFReader`, which memory-maps it: only the header, the metadata and the
tensors asked for are ever read from disk. `tensor_rows(name, start, stop)` dequantizes rows with
`gguf.quants.dequantize`, exactly as llama.cpp does, for the types in SUPPORTED_TYPES.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LiteError
from .gguf_header import MAGIC, check_header

# ggml types lite dequantizes (gguf-py's dequantize knows more; these are the ones tested against llama.cpp's layout)
SUPPORTED_TYPES = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K")
STORED_AS_IS = {"F32": "F32", "F16": "F16", "BF16": "BF16"}  # ggml type -> safetensors dtype, bytes kept


def is_gguf(path: str | os.PathLike) -> bool:
    """Does the file at `path` start with the GGUF magic? (False for a folder, a missing file, a short one)"""
    try:
        with open(path, "rb") as f:
            return f.read(4) == MAGIC
    except OSError:
        return False


class GGUFFile:
    """A GGUF file's metadata (by key) and tensors (by GGUF name), the header checked before use."""

    def __init__(self, path: str | os.PathLike, where: str | None = None):
        import gguf

        self.path = Path(path)
        self.where = where or str(path)
        try:
            with open(self.path, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    raise LiteError(f"{self.where} is empty, not a GGUF file")
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as err:
            raise LiteError(f"cannot read {self.where}: {err.strerror or err}") from None
        try:
            check_header(data, self.where)
        finally:
            data.close()
        try:
            self.reader = gguf.GGUFReader(self.path)
        except (ValueError, KeyError, IndexError, OverflowError, TypeError, UnicodeDecodeError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise LiteError(f"{self.where} is not a usable GGUF file: {reason[:200]}") from None
        self.tensors = {t.name: t for t in self.reader.tensors}
        self.size = self.path.stat().st_size

    # ---- metadata ------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.reader.fields

    def get(self, key: str, default: Any = None) -> Any:
        """A metadata value as Python data (str, int, float, bool, or a list of them), else `default`."""
        field = self.reader.fields.get(key)
        if field is None:
            return default
        try:
            return field.contents()
        except (UnicodeDecodeError, ValueError, IndexError) as err:
            raise LiteError(f"{self.where}: metadata {key!r} cannot be read ({type(err).__name__})") from None

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise LiteError(f"{self.where} has no metadata {key!r}")
        return value

    # ---- tensors -------------------------------------------------------------------------
    def tensor(self, name: str):
        found = self.tensors.get(name)
        if found is None:
            raise LiteError(f"{self.where} has no tensor {name!r}")
        return found

    def type_name(self, name: str) -> str:
        return self.tensor(name).tensor_type.name

    def shape(self, name: str) -> tuple[int, ...]:
        """The tensor's shape in numpy (row-major) order: a [rows, cols] matrix as PyTorch would hold it."""
        return tuple(int(d) for d in reversed(self.tensor(name).shape.tolist()))

    def check_supported(self, name: str) -> None:
        kind = self.type_name(name)
        if kind not in SUPPORTED_TYPES:
            raise LiteError(f"{self.where}: tensor {name!r} has ggml type {kind}, which lite does not dequantize "
                            f"(supported: {', '.join(SUPPORTED_TYPES)})")

    def raw_rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) of the tensor's stored data (mapped, not copied), one row per output row."""
        data = self.tensor(name).data  # [rows, cols] for float types, [rows, bytes per row] for quantized ones
        data = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data.reshape(1, -1)
        return data[start:stop]

    def stored_rows(self, name: str) -> np.ndarray:
        """An F32, F16 or BF16 tensor's values as stored (BF16 as uint16 bits), [rows, cols], mapped."""
        from gguf import GGMLQuantizationType

        data = self.raw_rows(name, 0, None)  # [rows, cols] (BF16: [rows, 2 * cols] bytes)
        return data.view("<u2") if self.tensor(name).tensor_type == GGMLQuantizationType.BF16 else data

    def float32_rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) dequantized to float32, as llama.cpp computes them."""
        from gguf import GGMLQuantizationType
        from gguf.quants import dequantize

        self.check_supported(name)
        tensor = self.tensor(name)
        raw = np.ascontiguousarray(self.raw_rows(name, start, stop))  # [rows, stored cols or bytes]
        if tensor.tensor_type == GGMLQuantizationType.F32:
            return raw.astype(np.float32)  # [rows, cols]
        values = dequantize(raw, tensor.tensor_type)  # [rows, cols]
        return np.asarray(values, dtype=np.float32)
