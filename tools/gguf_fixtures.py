"""Tiny GGUF files for the GGUF tests, written with gguf-py's GGUFWriter as llama.cpp's converter would.

`tiny_gguf(family, qtype)`: a tiny random Hugging Face model (tools/fixtures.py) of family "llama",
"llama3" (llama3 rope scaling, written as llama.cpp does: a rope_freqs.weight tensor) or "gemma3",
every tensor renamed to its GGUF name (gguf.get_tensor_name_map), q/k rows permuted for llama
(llama.cpp's LlamaModel.permute), Gemma's norms stored as 1 + w, matrices stored as `qtype`
(norms and biases stay F32, as llama.cpp keeps them), and SmolLM2's tokenizer metadata copied from
the real GGUF. gguf-py quantizes F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1; Q4_K is quantized by
`quantize_q4_k` here (a plain min/max quantizer in llama.cpp's block layout); Q5_K and Q6_K are
random blocks of the right size with finite scales (gguf-py cannot quantize them), so their
weights are unrelated to the source model's.

Cached under tools/fixtures.cache_dir() / "gguf-tiny". Developer tooling: imports torch/transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from tools import fixtures

HIDDEN = 256  # K-quant blocks are 256 values wide: every matrix row must hold whole blocks
TINY_GGUF_MODELS = {  # family -> (model_type, config kwargs, GGUF architecture)
    "llama": ("llama", {**fixtures.TINY_BASE, "hidden_size": HIDDEN, "intermediate_size": 512,
                        "rope_theta": 10000.0}, "llama"),
    "llama3": ("llama", {**fixtures.TINY_BASE, "hidden_size": HIDDEN, "intermediate_size": 512, "rope_theta": 500000.0,
                         "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                          "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}, "llama"),
    "gemma3": ("gemma3_text", {**fixtures.TINY_GEMMA3, "hidden_size": HIDDEN, "intermediate_size": 512,
                               "head_dim": 256, "query_pre_attn_scalar": 256,
                               "layer_types": ["sliding_attention", "sliding_attention"]}, "gemma3"),
}
QTYPES = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K")
RANDOM_BLOCKS = {"Q5_K": (0,), "Q6_K": (208,)}  # type -> byte offsets of its f16 scales (d, and dmin for Q5_K)
# type -> range of those f16 scales: weights of about 0.1 at most, so attention is not so peaked that fp32
# rounding of the logits dominates the comparison (Q5_K: 6-bit sub-scales times 5-bit values)
RANDOM_SCALES = {"Q5_K": (1e-5, 4e-5), "Q6_K": (5e-5, 2e-4)}
VERSION = 2  # bump to rebuild the cached files


def source_folder(family: str) -> Path:
    model_type, kwargs, _ = TINY_GGUF_MODELS[family]
    return fixtures.tiny_model(model_type, kwargs, dtype="float32", qk_gain=3.0)


def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf LlamaModel.permute: HF rotate-half rows -> interleaved rows."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """Q4_K blocks [rows, cols / 256 * 144] of x [rows, cols]: per 32 values a 6-bit scale and min, 4-bit values."""
    blocks = x.reshape(-1, 8, 32).astype(np.float64)  # [n, 8 sub-blocks, 32]
    low = np.minimum(blocks.min(-1), 0.0)  # [n, 8]
    scale, minimum = (blocks.max(-1) - low) / 15, -low  # [n, 8]
    d = np.maximum(scale.max(-1) / 63, 1e-8).astype(np.float16)  # [n]
    dmin = np.maximum(minimum.max(-1) / 63, 1e-8).astype(np.float16)  # [n]
    sc = np.clip(np.rint(scale / d[:, None].astype(np.float64)), 0, 63).astype(np.uint8)  # [n, 8]
    mn = np.clip(np.rint(minimum / dmin[:, None].astype(np.float64)), 0, 63).astype(np.uint8)  # [n, 8]
    step = np.maximum(d[:, None].astype(np.float64) * sc, 1e-12)[..., None]  # [n, 8, 1]
    offset = (dmin[:, None].astype(np.float64) * mn)[..., None]  # [n, 8, 1]
    q = np.clip(np.rint((blocks + offset) / step), 0, 15).astype(np.uint8)  # [n, 8, 32]
    scales = np.concatenate([(sc[:, :4] & 63) | ((sc[:, 4:] >> 4) << 6), (mn[:, :4] & 63) | ((mn[:, 4:] >> 4) << 6),
                             (sc[:, 4:] & 15) | ((mn[:, 4:] & 15) << 4)], axis=1).astype(np.uint8)  # [n, 12]
    qs = (q[:, 0::2] | (q[:, 1::2] << 4)).reshape(-1, 128)  # [n, 128]
    out = np.concatenate([d[:, None].view(np.uint8), dmin[:, None].view(np.uint8), scales, qs], axis=1)
    return out.reshape(x.shape[0], -1)  # [rows, cols / 256 * 144]


def random_blocks(shape: tuple[int, int], qtype: str, rng: np.random.Generator) -> np.ndarray:
    """Random blocks of a type gguf-py cannot quantize, every f16 scale finite and small."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[qtype]]
    raw = rng.integers(0, 256, size=(shape[0] * shape[1] // block, size), dtype=np.uint8)  # [n, size]
    for start in RANDOM_BLOCKS[qtype]:
        width = 4 if qtype == "Q5_K" else 2  # Q5_K: d and dmin
        scales = rng.uniform(*RANDOM_SCALES[qtype], size=(raw.shape[0], width // 2)).astype(np.float16)
        raw[:, start : start + width] = scales.view(np.uint8)
    if qtype == "Q6_K":  # its 16 int8 sub-block scales: small and positive, so values stay O(0.1)
        raw[:, 192:208] = rng.integers(1, 16, size=(raw.shape[0], 16), dtype=np.uint8)
    return raw.reshape(shape[0], -1)


def encode(w: np.ndarray, qtype: str, rng: np.random.Generator) -> tuple[np.ndarray, object]:
    """(data, raw_dtype) for GGUFWriter.add_tensor: a matrix as qtype, a vector as F32."""
    from gguf import GGMLQuantizationType
    from gguf.quants import quantize

    if w.ndim == 1 or qtype == "F32":
        return w.astype(np.float32), None
    kind = GGMLQuantizationType[qtype]
    if qtype == "Q4_K":
        return quantize_q4_k(w), kind
    if qtype in RANDOM_BLOCKS:
        return random_blocks(w.shape, qtype, rng), kind
    return quantize(w.astype(np.float32), kind), kind


def _metadata(writer, arch: str, config: dict) -> None:
    import gguf

    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_head_count_kv(config["num_key_value_heads"])
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    if arch == "gemma3":
        writer.add_key_length(config["head_dim"])
        writer.add_value_length(config["head_dim"])
        writer.add_sliding_window(config["sliding_window"])
        writer.add_rope_freq_base(config["rope_theta"])  # the full layers' (layer 0 slides: llama.cpp's 10000)
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)  # the full layers' (classic config's rope_scaling)
        writer.add_rope_scaling_factor(config["rope_scaling"]["factor"])
    else:
        writer.add_rope_freq_base(config["rope_theta"])
        writer.add_rope_dimension_count(config["hidden_size"] // config["num_attention_heads"])
        if (config.get("rope_scaling") or {}).get("rope_type") == "llama3":
            writer.add_rope_scaling_orig_ctx_len(config["rope_scaling"]["original_max_position_embeddings"])


def _tokenizer(writer) -> None:
    """SmolLM2's tokenizer metadata, from the real GGUF."""
    import gguf

    real = gguf.GGUFReader(fixtures._smollm2_gguf())
    get = lambda key: real.fields[key].contents()  # noqa: E731
    writer.add_tokenizer_model(get("tokenizer.ggml.model"))
    writer.add_tokenizer_pre(get("tokenizer.ggml.pre"))
    writer.add_token_list(get("tokenizer.ggml.tokens"))
    writer.add_token_types(get("tokenizer.ggml.token_type"))
    writer.add_token_merges(get("tokenizer.ggml.merges"))
    for key in ("bos", "eos", "unk", "pad"):
        name = {"unk": "unknown", "pad": "padding"}.get(key, key)
        getattr(writer, f"add_{key}_token_id")(get(f"tokenizer.ggml.{name}_token_id"))
    writer.add_add_bos_token(False)


def llama3_rope_factors(config: dict) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf (LlamaModel.generate_extra_tensors): rope_freqs.weight for llama3 scaling."""
    import math

    scaling = config["rope_scaling"]
    dim = config["hidden_size"] // config["num_attention_heads"]
    freqs = 1.0 / (config["rope_theta"] ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    factors = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < old / high:
            factors.append(1)
        elif wavelen > old / low:
            factors.append(factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(factors, dtype=np.float32)


def _tensors(writer, family: str, qtype: str, folder: Path, config: dict) -> None:
    import gguf
    from safetensors.numpy import load_file

    _, _, arch = TINY_GGUF_MODELS[family]
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], config["num_hidden_layers"])
    rng = np.random.default_rng(0)
    for name, w in sorted(load_file(folder / "model.safetensors").items()):
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if arch == "llama" and ".q_proj." in name:
            w = llama_permute(w, config["num_attention_heads"])
        elif arch == "llama" and ".k_proj." in name:
            w = llama_permute(w, config["num_key_value_heads"])
        if arch == "gemma3" and name.endswith("norm.weight"):
            w = w + np.float32(1.0)
        data, kind = encode(w, qtype, rng)
        writer.add_tensor(target, data, raw_dtype=kind)
    if (config.get("rope_scaling") or {}).get("rope_type") == "llama3":
        writer.add_tensor("rope_freqs.weight", llama3_rope_factors(config))


def _write(path: Path, family: str, qtype: str) -> None:
    import gguf

    folder = source_folder(family)
    config = json.loads((folder / "config.json").read_text())
    _, _, arch = TINY_GGUF_MODELS[family]
    writer = gguf.GGUFWriter(path, arch)
    _metadata(writer, arch, config)
    _tokenizer(writer)
    _tensors(writer, family, qtype, folder, config)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def tiny_gguf(family: str, qtype: str) -> Path:
    """The tiny GGUF of a family ("llama", "gemma3") with its matrices as qtype; built once, cached."""
    parts = [VERSION, TINY_GGUF_MODELS[family], qtype] + ([RANDOM_SCALES[qtype]] if qtype in RANDOM_SCALES else [])
    key = hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:10]
    path = fixtures.cache_dir() / "gguf-tiny" / f"tiny-{family}-{qtype}-{key}.gguf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + f".{os.getpid()}.partial")
        try:
            _write(partial, family, qtype)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return path
