"""make_gguf_slice: a slice from a GGUF file (llama.cpp, Ollama), in the same format as from a checkpoint.

Read: the header and metadata (config: lite/store/gguf_config.py, tokenizer: lite/store/gguf_tokenizer.py)
and the tensors a safetensors slice holds (the embedding, layer 0's input norm, all of layer 0's
attention), each found by its offset in the memory-mapped file; nothing else is read. Written under
their Hugging Face names, so the rest of lite cannot tell the difference:

- F32, F16 and BF16 tensors keep their dtype and bytes; quantized ones (Q8_0, Q4_0, ... Q6_K) are
  dequantized by gguf-py to float32, exactly as llama.cpp computes them.
- llama.cpp's converter interleaves the q/k rows of Llama-architecture files for its rope; the rows
  are put back in Hugging Face's rotate-half order (a row permutation: no value changes).
- llama.cpp stores Gemma's RMSNorm weights as 1 + w; the slice holds w (float32), as transformers
  loads it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LiteError
from ..model import spec_from_config
from ..store import ollama
from ..store.gguf_config import GEMMA_ARCHITECTURES, PERMUTED_ARCHITECTURES, architecture, gguf_config
from ..store.gguf_file import STORED_AS_IS, GGUFFile, is_gguf
from ..store.gguf_tokenizer import gguf_tokenizer_json
from ..store.slicefile import CONFIG_KEY, REVISION_KEY, SOURCE_KEY, TOKENIZER_KEY, RawTensor, write_slice
from ..store.sources import Progress
from .report import SliceReport, check_tokenizer

ROWS_PER_CHUNK = 4096  # rows dequantized at a time: the embedding is never whole in memory as float32
LEAVES = {  # GGUF layer-0 tensor -> Hugging Face leaf under model.layers.0.
    "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "attn_qkv": "self_attn.qkv_proj",
    "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
}


@dataclass(frozen=True)
class GGUFInput:
    """A GGUF file named by the user: a path, or an `ollama:` name resolved to its blob."""

    path: Path
    where: str  # for messages
    provenance: dict[str, str]  # the slice's source and revision metadata
    model_name: str  # the default output file's stem
    key: str  # identifies the file's content for the cache: the Ollama digest, else path, size and mtime


def gguf_input(name: str | os.PathLike) -> GGUFInput | None:
    """The GGUF file `name` refers to (`ollama:NAME[:TAG]`, a *.gguf path, a file with the GGUF magic), else None."""
    name = os.fspath(name)
    if ollama.is_ollama_name(name):
        model = ollama.resolve(name)
        return GGUFInput(model.blob, f"ollama:{model.short} ({model.blob})",
                         {SOURCE_KEY: f"ollama:{model.name}", REVISION_KEY: model.digest},
                         model.short.replace("/", "--").replace(":", "-"), model.digest.split(":")[1])
    path = Path(name)
    if name.lower().endswith(".gguf") and not path.is_file():
        raise LiteError(f"no GGUF file at {name}")
    if not path.is_file() or not (name.lower().endswith(".gguf") or is_gguf(path)):
        return None
    st = path.stat()
    real = str(path.resolve())
    key = hashlib.sha1(f"{real}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()
    return GGUFInput(path, name, {SOURCE_KEY: real, REVISION_KEY: f"gguf:{st.st_size}:{st.st_mtime_ns}"},
                     path.name.removesuffix(".gguf"), key)


def hf_names(g: GGUFFile, prefix: str) -> dict[str, str]:
    """GGUF tensor name -> Hugging Face name, for every tensor of the file the slice holds."""
    names = {"token_embd.weight": prefix + "embed_tokens.weight"}
    for leaf, hf in LEAVES.items():
        for kind in ("weight", "bias"):
            if f"blk.0.{leaf}.{kind}" in g.tensors:
                names[f"blk.0.{leaf}.{kind}"] = f"{prefix}layers.0.{hf}.{kind}"
    return names


def unpermute_order(rows: int, n_heads: int) -> np.ndarray:
    """Row order that undoes llama.cpp's permute(w, n_heads): Hugging Face row i is GGUF row order[i]."""
    head_dim = rows // n_heads
    return np.arange(rows).reshape(n_heads, head_dim // 2, 2).transpose(0, 2, 1).reshape(-1)  # [rows]


def _row_order(name: str, rows: int, arch: str, config: dict) -> np.ndarray | None:
    if arch not in PERMUTED_ARCHITECTURES:
        return None
    if name.startswith("blk.0.attn_q."):
        return unpermute_order(rows, config["num_attention_heads"])
    if name.startswith("blk.0.attn_k."):
        return unpermute_order(rows, config["num_key_value_heads"])
    return None


def _read(g: GGUFFile, name: str, start: int, stop: int, as_is: bool) -> np.ndarray:
    """Rows [start, stop): stored values (mapped, BF16 as uint16) when kept as is, else dequantized float32."""
    return g.stored_rows(name)[start:stop] if as_is else g.float32_rows(name, start, stop)  # [rows, cols]


def _chunks(g: GGUFFile, name: str, order: np.ndarray | None, as_is: bool, offset: float) -> Iterator[bytes]:
    """The tensor's slice bytes, ROWS_PER_CHUNK rows at a time, rows (or a bias's values) in Hugging Face order."""
    shape = g.shape(name)
    rows = shape[0] if len(shape) > 1 else 1
    whole = _read(g, name, 0, rows, as_is) if order is not None else None  # q/k only: [rows, cols]
    for start in range(0, rows, ROWS_PER_CHUNK):
        stop = min(start + ROWS_PER_CHUNK, rows)
        if whole is None:
            block = _read(g, name, start, stop, as_is)  # [chunk, cols]
        elif len(shape) > 1:
            block = whole[order[start:stop]]  # [chunk, cols]
        else:
            block = whole[:, order]  # [1, n]: a bias, permuted like the rows it adds to
        if offset:
            block = block - np.float32(offset)  # [chunk, cols]
        yield np.ascontiguousarray(block).tobytes()


def _tensor(g: GGUFFile, name: str, arch: str, config: dict, progress: Progress | None) -> RawTensor:
    """The tensor as the slice stores it: its dtype and shape, and its bytes produced while writing."""
    shape = g.shape(name)
    g.check_supported(name)
    order = _row_order(name, shape[0], arch, config)
    offset = 1.0 if arch in GEMMA_ARCHITECTURES and name.endswith("norm.weight") else 0.0
    kind = g.type_name(name)
    as_is = kind in STORED_AS_IS and not offset
    dtype = STORED_AS_IS[kind] if as_is else "F32"

    def chunks() -> Iterator[bytes]:
        yield from _chunks(g, name, order, as_is, offset)
        if progress:
            progress(element_bytes(dtype) * int(np.prod(shape)))

    return RawTensor(dtype, shape, chunks)


def element_bytes(dtype: str) -> int:
    return 2 if dtype in ("F16", "BF16") else 4


def make_gguf_slice(source: GGUFInput | str | os.PathLike, out: str | os.PathLike,
                    progress: Progress | None = None) -> SliceReport:
    """Read what the pruner needs from a GGUF (a GGUFInput, a path or an `ollama:` name) and write it to `out`."""
    if not isinstance(source, GGUFInput):
        found = gguf_input(source)
        if found is None:
            raise LiteError(f"{os.fspath(source)} is not a GGUF file")
        source = found
    g = GGUFFile(source.path, source.where)
    arch = architecture(g)
    config = gguf_config(g)
    spec = spec_from_config(config)  # unsupported sizes or rope settings fail here, before any tensor byte
    names = hf_names(g, spec.prefix)
    spec.check_shapes({hf: g.shape(name) for name, hf in names.items()}, g.where)
    missing = [n for n in spec.required_tensors() if n not in names.values()]
    if missing:
        raise LiteError(f"{g.where} has no tensor for {missing[0]!r} (model_type {spec.family!r})")
    for name in names:
        g.check_supported(name)  # an unsupported type fails before the output is opened
    tokenizer = gguf_tokenizer_json(g, arch)
    check_tokenizer(tokenizer, f"{g.where} (its tokenizer)")
    tensors = {hf: _tensor(g, name, arch, config, progress) for name, hf in names.items()}
    metadata = {CONFIG_KEY: json.dumps(config), TOKENIZER_KEY: tokenizer,
                **source.provenance}
    size = write_slice(out, tensors, metadata)
    tensor_bytes = sum(element_bytes(t.dtype) * int(np.prod(t.shape)) for t in tensors.values())
    return SliceReport(Path(out), size, tensor_bytes, sorted(tensors), spec)

