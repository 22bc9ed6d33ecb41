"""A GGUF file's `{arch}.*` metadata as the config.json a Hugging Face checkpoint of the model would carry.

Only what lite's families read (lite/model/families.py) is filled in. Values llama.cpp does not
store but fixes in code are set as llama.cpp sets them: Gemma's query scale (head_dim, or
hidden/heads for the 27B models), Gemma 3's sliding-window rope base (10000) and pattern (every
6th layer global). Llama 3.1+ files carry their rope scaling as a `rope_freqs.weight` tensor of
per-frequency factors; it is read back into the llama3 rope parameters that produce exactly those
factors, or refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import LiteError
from .gguf_file import GGUFFile

# GGUF architecture -> config.json model_type (the families lite scores)
ARCHITECTURES = {"llama": "llama", "qwen2": "qwen2", "qwen3": "qwen3", "phi3": "phi3", "gemma2": "gemma2",
                 "gemma3": "gemma3_text"}
GEMMA_ARCHITECTURES = ("gemma", "gemma2", "gemma3")  # llama.cpp stores their RMSNorm weights as 1 + w
PERMUTED_ARCHITECTURES = ("llama",)  # llama.cpp's converter interleaves q/k rows for these (LlamaModel.permute)
GEMMA_27B_LAYERS = {"gemma2": 46, "gemma3": 62}  # llama.cpp scales these by hidden/heads, not head_dim
GEMMA3_SWA_THETA, GEMMA3_SWA_PATTERN = 10000.0, 6
LLAMA3_LOW, LLAMA3_HIGH, LLAMA3_ORIGINAL = 1.0, 4.0, 8192  # llama.cpp's defaults for llama3 rope factors


def _f32(value: float) -> float:
    """A float32 metadata value as the decimal it was written from (9.999999747e-06 -> 1e-05)."""
    return float(repr(np.float32(value)).removeprefix("np.float32(").removesuffix(")"))


def _first(value: Any) -> Any:
    """A per-layer array's layer-0 entry; a scalar as it is."""
    return value[0] if isinstance(value, list) and value else value


def architecture(g: GGUFFile) -> str:
    arch = g.require("general.architecture")
    if arch not in ARCHITECTURES:
        raise LiteError(f"{g.where} is a GGUF of architecture {arch!r}, which lite does not score "
                        f"(supported: {', '.join(ARCHITECTURES)})")
    return arch


def _sizes(g: GGUFFile, arch: str) -> dict:
    hidden = g.require(f"{arch}.embedding_length")
    heads = _first(g.require(f"{arch}.attention.head_count"))
    kv_heads = _first(g.get(f"{arch}.attention.head_count_kv", heads))
    head_dim = g.get(f"{arch}.attention.key_length")
    if head_dim is None:  # llama and phi3 state the rotated width, the whole head unless partial
        head_dim = hidden // heads if arch == "phi3" else g.get(f"{arch}.rope.dimension_count", hidden // heads)
    vocab = g.get(f"{arch}.vocab_size") or g.shape("token_embd.weight")[0]
    return dict(hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
                vocab_size=vocab, num_hidden_layers=g.get(f"{arch}.block_count"),
                max_position_embeddings=g.get(f"{arch}.context_length"),
                rms_norm_eps=_f32(g.get(f"{arch}.attention.layer_norm_rms_epsilon", 1e-6)),
                rope_theta=_f32(g.get(f"{arch}.rope.freq_base", 10000.0)))


def _rope_scaling(g: GGUFFile, arch: str, head_dim: int, theta: float) -> dict | None:
    """rope_scaling from `{arch}.rope.scaling.*` keys, or from a llama3 `rope_freqs.weight` tensor."""
    if "rope_freqs.weight" in g.tensors:
        return _llama3_from_factors(g, arch, head_dim, theta)
    kind = g.get(f"{arch}.rope.scaling.type")
    if kind in (None, "none"):
        return None
    if kind != "linear":
        raise LiteError(f"{g.where} has rope scaling {kind!r}, which lite does not read from a GGUF")
    return {"rope_type": "linear", "factor": _f32(g.require(f"{arch}.rope.scaling.factor"))}


def llama3_factors(factor: float, low: float, high: float, original: float, theta: float, dim: int) -> np.ndarray:
    """llama.cpp's rope_freqs for llama3 scaling (convert_hf_to_gguf.py, LlamaModel): one factor per frequency."""
    freqs = 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)  # [dim/2]
    wavelen = 2 * math.pi / freqs  # [dim/2]
    smooth = (original / wavelen - low) / (high - low)  # [dim/2]
    blended = 1 / ((1 - smooth) / factor + smooth)  # [dim/2]
    return np.where(wavelen < original / high, 1.0, np.where(wavelen > original / low, factor, blended))


def _llama3_from_factors(g: GGUFFile, arch: str, head_dim: int, theta: float) -> dict:
    stored = g.float32_rows("rope_freqs.weight", 0, 1).reshape(-1).astype(np.float64)  # [head_dim/2]
    original = g.get(f"{arch}.rope.scaling.original_context_length", LLAMA3_ORIGINAL)
    factor = _f32(float(stored.max()))
    expected = llama3_factors(factor, LLAMA3_LOW, LLAMA3_HIGH, original, theta, head_dim)
    if stored.shape != expected.shape or not np.allclose(stored, expected, rtol=1e-5, atol=0):
        raise LiteError(f"{g.where} has rope_freqs.weight factors that are not llama3 rope scaling "
                        f"(factor {factor}, low 1, high 4, original {original}); lite cannot score it exactly")
    return {"rope_type": "llama3", "factor": factor, "low_freq_factor": LLAMA3_LOW,
            "high_freq_factor": LLAMA3_HIGH, "original_max_position_embeddings": original}


def _gemma(g: GGUFFile, arch: str, config: dict) -> dict:
    """Gemma 2/3's query scale, soft-capping and sliding-window settings, as llama.cpp fixes them."""
    big = config.get("num_hidden_layers") == GEMMA_27B_LAYERS.get(arch)
    scalar = config["hidden_size"] // config["num_attention_heads"] if big else config["head_dim"]
    extra = dict(query_pre_attn_scalar=scalar, sliding_window=g.get(f"{arch}.attention.sliding_window"))
    if arch == "gemma2":
        extra["attn_logit_softcapping"] = _f32(g.get(f"{arch}.attn_logit_softcapping", 50.0))
        extra["final_logit_softcapping"] = _f32(g.get(f"{arch}.final_logit_softcapping", 30.0))
    else:
        extra["rope_local_base_freq"] = _f32(g.get(f"{arch}.rope.freq_base_swa", GEMMA3_SWA_THETA))
        extra["sliding_window_pattern"] = GEMMA3_SWA_PATTERN
    return extra


def _phi3(g: GGUFFile, arch: str, config: dict) -> dict:
    """Phi-3's partial rotary width, and its longrope factors (stored as tensors) when it has them."""
    rotary = g.get(f"{arch}.rope.dimension_count", config["head_dim"])
    extra: dict = {"partial_rotary_factor": rotary / config["head_dim"]}
    if "rope_factors_long.weight" in g.tensors:
        original = g.require(f"{arch}.rope.scaling.original_context_length")
        extra["rope_scaling"] = {
            "rope_type": "longrope",
            "long_factor": [_f32(v) for v in g.float32_rows("rope_factors_long.weight", 0, 1).reshape(-1)],
            "short_factor": [_f32(v) for v in g.float32_rows("rope_factors_short.weight", 0, 1).reshape(-1)],
        }
        extra["original_max_position_embeddings"] = original
    return extra


def gguf_config(g: GGUFFile) -> dict:
    """config.json (as a dict) for the GGUF's model, as lite/model/families.py reads it."""
    arch = architecture(g)
    config: dict = {"model_type": ARCHITECTURES[arch], **_sizes(g, arch)}
    if not all(isinstance(config[k], int) for k in ("hidden_size", "num_attention_heads", "head_dim")) or \
            config["num_attention_heads"] <= 0:
        raise LiteError(f"{g.where} has head counts or sizes that are not positive whole numbers")
    if arch == "phi3":
        config.update(_phi3(g, arch, config))
    else:
        config["rope_scaling"] = _rope_scaling(g, arch, config["head_dim"], config["rope_theta"])
    if arch in GEMMA_ARCHITECTURES:
        config.update(_gemma(g, arch, config))
    if arch in ("llama", "qwen3"):
        config["attention_bias"] = "blk.0.attn_q.bias" in g.tensors
    return config
