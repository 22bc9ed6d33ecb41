"""make_slice: fetch what the pruner needs from a model and write it as one slice file.

From the source (a local Hugging Face-style folder or a hub repo: lite/store) we take config.json
and tokenizer.json, find which shard holds each needed tensor, read each shard's header, fetch only
the needed tensors' bytes (adjacent tensors in one range), then write one safetensors file atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import LiteError
from ..model import AttentionSpec, spec_from_config
from ..store.checkpoint import Checkpoint, parse_json, read_json, read_text
from ..store.open_source import open_source
from ..store.slicefile import CONFIG_KEY, TOKENIZER_CONFIG_KEY, TOKENIZER_KEY, WEIGHTS_DIR, RawTensor, write_slice
from ..store.sources import Progress, Source
from .report import SliceReport, check_tokenizer


def fetch_tensors(source: Source, spec: AttentionSpec, progress: Progress | None = None) -> dict[str, RawTensor]:
    """The bytes of every tensor the slice holds (the embedding, the layer-0 norm, all of self_attn), nothing more."""
    checkpoint = Checkpoint.open(source)
    spec = spec.locate(checkpoint.shard_of)
    missing = [name for name in spec.required_tensors() if name not in checkpoint.shard_of]
    if missing:
        raise LiteError(f"{source.name} has no tensor {missing[0]!r} (model_type {spec.family!r})")
    names = sorted(name for name in checkpoint.shard_of if spec.wants_tensor(name))
    for shard in sorted({checkpoint.shard_of[name] for name in names}):  # shapes checked before any tensor byte
        spec.check_shapes({n: e.shape for n, e in checkpoint.header(shard).entries.items()}, f"{source.name}/{shard}")
    return checkpoint.read(names, progress)


def default_out(source: Source) -> Path:
    return WEIGHTS_DIR / f"{source.model_name()}.safetensors"


def make_slice(source: Source | str | os.PathLike, out: str | os.PathLike | None = None,
               progress: Progress | None = None) -> SliceReport:
    """Fetch what the pruner needs from `source` (a Source, a folder or a hub repo id) and write it to `out`.

    out defaults to weights/<model name>.safetensors; progress is called with each count of tensor bytes received.
    A GGUF file or an `ollama:NAME[:TAG]` name goes to lite/slice/gguf.py.
    """
    if isinstance(source, (str, os.PathLike)):
        from .gguf import gguf_input, make_gguf_slice

        found = gguf_input(source)
        if found is not None:
            return make_gguf_slice(found, out if out is not None else WEIGHTS_DIR / f"{found.model_name}.safetensors",
                                   progress)
        source = open_source(os.fspath(source))
    out = Path(out) if out is not None else default_out(source)
    config = read_json(source, "config.json")
    if config is None:
        raise LiteError(f"{source.name} has no config.json")
    spec = spec_from_config(config)  # unsupported models fail here, before any tensor bytes
    tokenizer = read_text(source, "tokenizer.json")
    if tokenizer is None:
        raise LiteError(f"{source.name} has no tokenizer.json (lite reads fast tokenizers only)")
    check_tokenizer(tokenizer, f"{source.name}/tokenizer.json")  # a tokenizer that cannot load fails now, not at prune
    metadata = {CONFIG_KEY: json.dumps(config), TOKENIZER_KEY: tokenizer, **source.provenance()}
    tokenizer_config = read_text(source, "tokenizer_config.json")
    if tokenizer_config is not None:
        parse_json(tokenizer_config, f"{source.name}/tokenizer_config.json")  # it must at least be JSON
        metadata[TOKENIZER_CONFIG_KEY] = tokenizer_config
    tensors = fetch_tensors(source, spec, progress)
    size = write_slice(out, tensors, metadata)
    tensor_bytes = sum(len(t.data) for t in tensors.values())
    return SliceReport(out, size, tensor_bytes, sorted(tensors), spec)
