"""The supported model families: model_type -> a builder of its AttentionSpec from config.json.

Each builder states its family's layer-0 math as AttentionSpec fields (see lite/model/spec.py); keys
a hub config may leave out take the defaults of the family's transformers config class.
`spec_from_config` is the one entry point: a config it cannot score fails there, in one line.
A new family is a builder here (and, if its tensors are laid out differently, lite/model/weights.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..errors import LiteError
from .config import (
    base_fields,
    get_key,
    normalise_rope,
    positive_number,
    require_key,
    rope_parameters,
    with_defaults,
)
from .spec import AttentionSpec


def _llama(config: dict) -> AttentionSpec:
    """Llama 2/3/3.1/3.2, SmolLM2, Mistral: plain RMSNorm, GQA, rotate-half RoPE."""
    return AttentionSpec(**base_fields(config), qkv_bias=bool(get_key(config, "attention_bias", False)))


def _qwen2(config: dict) -> AttentionSpec:
    """Qwen2 / Qwen2.5: Llama's layer 0 with biases on q, k and v."""
    return AttentionSpec(**base_fields(config), qkv_bias=True)


QWEN3_DEFAULTS = {"head_dim": 128}


def _qwen3(config: dict) -> AttentionSpec:
    """Qwen3: plain RMSNorm of each q and k head before RoPE; head_dim need not be hidden / heads."""
    config = with_defaults(config, QWEN3_DEFAULTS)
    return AttentionSpec(**base_fields(config), qk_norm=True, qkv_bias=bool(get_key(config, "attention_bias", False)))


PHI3_DEFAULTS = {"rms_norm_eps": 1e-5, "max_position_embeddings": 4096, "original_max_position_embeddings": 4096}
PHI3_LONGROPE_ALIASES = ("su", "yarn")  # older Phi-3 configs; Phi3Config reads both as longrope


def _phi3(config: dict) -> AttentionSpec:
    """Phi-3 / Phi-4-mini: one fused qkv_proj, partial rotary, longrope."""
    config = with_defaults(config, PHI3_DEFAULTS)
    params = rope_parameters(config)
    if params["rope_type"] in PHI3_LONGROPE_ALIASES:
        params["rope_type"] = "longrope"
    return AttentionSpec(**base_fields(config, params), fused_qkv=True)


def _gemma_fields(config: dict, rope_params: dict | None = None) -> dict:
    """Gemma 2 and 3: embeddings times sqrt(hidden_size), (1 + w) RMSNorms, logits scaled by query_pre_attn_scalar."""
    fields = base_fields(config, rope_params)
    return dict(
        fields,
        embed_scale=fields["hidden_size"] ** 0.5,  # rounded to float32, as the fp32 reference does
        norm_offset=1.0,
        scale=positive_number(require_key(config, "query_pre_attn_scalar"), "query_pre_attn_scalar") ** -0.5,
    )


GEMMA2_DEFAULTS = {
    "vocab_size": 256000, "hidden_size": 2304, "num_attention_heads": 8, "num_key_value_heads": 4,
    "head_dim": 256, "query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0,
}


def _gemma2(config: dict) -> AttentionSpec:
    """Gemma 2: logits soft-capped by tanh; every layer shares one rope; sliding layers are scored unmasked."""
    config = with_defaults(config, GEMMA2_DEFAULTS)
    return AttentionSpec(**_gemma_fields(config), softcap=float(get_key(config, "attn_logit_softcapping", 0.0)))


GEMMA3_TEXT_DEFAULTS = {
    "vocab_size": 262208, "hidden_size": 2304, "num_attention_heads": 8, "num_key_value_heads": 4,
    "head_dim": 256, "query_pre_attn_scalar": 256, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10_000.0,
    "sliding_window_pattern": 6,
}


def gemma3_layer0_rope(config: dict) -> dict:
    """Layer 0's rope settings: the sliding (local) ones when layer 0 is a sliding-window layer.

    transformers keeps one rope per layer type: `rope_parameters[layer_type]`, or in the classic
    spelling `rope_local_base_freq` for sliding layers and `rope_theta` + `rope_scaling` for full ones.
    Layer i slides when `layer_types[i]` says so, else when (i + 1) % sliding_window_pattern != 0.
    """
    layer_types = config.get("layer_types")
    sliding = layer_types[0] == "sliding_attention" if layer_types else 1 % int(config["sliding_window_pattern"]) != 0
    layer_type = "sliding_attention" if sliding else "full_attention"
    params = dict((config.get("rope_parameters") or {}).get(layer_type) or {})
    if not sliding:
        params.update(config.get("rope_scaling") or {})
    return normalise_rope(params, get_key(config, "rope_local_base_freq" if sliding else "rope_theta"))


def _gemma3_text(config: dict) -> AttentionSpec:
    """Gemma 3 (text): Gemma 2 without soft-capping, with (1 + w) RMSNorm of each q and k head before RoPE."""
    config = with_defaults(config, GEMMA3_TEXT_DEFAULTS)
    return AttentionSpec(**_gemma_fields(config, gemma3_layer0_rope(config)), qk_norm=True)


# where a multimodal checkpoint keeps the text model: hub checkpoints (transformers 5.23 saves these too), and
# transformers 5's own module names, which other savers may write
GEMMA3_PREFIXES = ("language_model.model.", "model.language_model.")


def _gemma3(config: dict) -> AttentionSpec:
    """Gemma 3 multimodal (4B and up): the text model of `text_config`, under the language model's prefix."""
    text = {"model_type": "gemma3_text", **(config.get("text_config") or {})}
    spec = _gemma3_text(text)
    return replace(spec, family="gemma3", prefix=GEMMA3_PREFIXES[0], other_prefixes=GEMMA3_PREFIXES[1:])


FAMILIES: dict[str, Callable[[dict], AttentionSpec]] = {
    "llama": _llama,
    "mistral": _llama,
    "qwen2": _qwen2,
    "qwen3": _qwen3,
    "phi3": _phi3,
    "gemma2": _gemma2,
    "gemma3_text": _gemma3_text,
    "gemma3": _gemma3,
}


def spec_from_config(config: dict) -> AttentionSpec:
    """The spec of a config.json; any config lite cannot score fails here, in one line."""
    if not isinstance(config, dict):
        raise LiteError("config.json is not a JSON object")
    model_type = config.get("model_type")
    if not model_type:
        raise LiteError("config.json has no model_type; is this a Hugging Face transformers model?")
    if not isinstance(model_type, str):
        raise LiteError(f"config.json has a model_type that is not a string: {str(model_type)[:80]}")
    family = FAMILIES.get(model_type)
    if family is None:
        raise LiteError(f"model_type {model_type!r} is not supported; supported: {', '.join(sorted(FAMILIES))}")
    try:
        spec = family(config)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError) as err:
        raise LiteError(f"config.json of model_type {model_type!r} has a value lite cannot read ({err})") from None
    spec.check()
    return spec
