"""The numerical reference: transformers' own layer-0 attention, eager, fp32, no mask.

Used by the tests and the benchmark (it imports torch and transformers; lite/ never imports it).
Given a model folder and token ids it returns the mean over heads and queries of
`model.layers[0].self_attn`'s attention weights, fed RMSNorm(embeddings) and the model's rotary
embeddings, exactly as LitePruner defines it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np


@functools.lru_cache(maxsize=8)
def load_model(folder: str):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    return model.eval()


def decoder(model):
    """The decoder stack (`model.model`, or the language model of a multimodal wrapper)."""
    inner = model.model
    return getattr(inner, "language_model", inner)


def embed(model, input_ids):
    """Embeddings as the model's forward computes them, Gemma's multiplied by its normalizer.

    In transformers 5 Gemma's embed_tokens is a scaled embedding that multiplies by
    `embed_scale` (sqrt(hidden_size) in the weights' dtype: float32 here) itself; older
    versions multiplied in the model's forward by the same number, which is done here then.
    """
    stack = decoder(model)
    x = stack.embed_tokens(input_ids)
    if hasattr(stack.embed_tokens, "embed_scale") or not model.config.model_type.startswith("gemma"):
        return x
    import torch

    return x * torch.tensor(model.config.get_text_config().hidden_size**0.5, dtype=x.dtype)


def position_embeddings(model, h, positions):
    stack = decoder(model)
    rotary = stack.rotary_emb
    layer_types = getattr(model.config.get_text_config(), "layer_types", None)
    if layer_types and isinstance(getattr(rotary, "rope_type", None), dict):
        return rotary(h, positions, layer_types[0])
    return rotary(h, positions)


def layer0_forward(model, ids):
    """Run layer 0's attention module on RMSNorm(embeddings): (the layer, h [1, n, dim], weights [1, heads, n, n])."""
    import torch

    stack = decoder(model)
    layer = stack.layers[0]
    with torch.no_grad():
        input_ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))[None]  # [1, n]
        h = layer.input_layernorm(embed(model, input_ids))  # [1, n, dim]
        positions = torch.arange(input_ids.shape[1])[None]  # [1, n]
        _, weights = layer.self_attn(
            hidden_states=h, position_embeddings=position_embeddings(model, h, positions), attention_mask=None
        )  # weights [1, heads, n, n]
    return layer, h, weights


def layer0_attention(folder: str | Path, ids) -> tuple[np.ndarray, np.ndarray]:
    """transformers' layer-0 attention probabilities [heads, n, n] and value states [n, kv_heads, head_dim], float64."""
    import torch

    layer, h, weights = layer0_forward(load_model(str(folder)), ids)
    with torch.no_grad():
        values = value_states(layer.self_attn, h)[0].reshape(h.shape[1], -1, layer.self_attn.head_dim)
    return weights[0].double().numpy(), values.double().numpy()  # [H, n, n], [n, KV, D]


def value_states(attention, h):
    """The layer's value projection of h: v_proj, or the v rows of a fused qkv_proj (Phi-3), [1, n, KV * D]."""
    if hasattr(attention, "v_proj"):
        return attention.v_proj(h)
    kv_width = attention.config.num_key_value_heads * attention.head_dim
    return attention.qkv_proj(h)[..., -kv_width:]


def layer0_attention_mean(model, ids) -> np.ndarray:
    """float64 [n]: the model's layer-0 attention probabilities, averaged over heads and queries.

    The [1, heads, n, n] weights are reduced one head at a time, so the reduction adds one head's
    float64 copy, not a second copy of all of them (the benchmark runs this at n = 8192).
    """
    _, _, weights = layer0_forward(model, ids)  # [1, heads, n, n]
    totals = sum(head.double().sum(dim=0) for head in weights[0])  # [n]
    return (totals / (weights.shape[1] * weights.shape[2])).numpy()  # [n]


def reference_importance(folder: str | Path, ids) -> np.ndarray:
    """float64 [n]: transformers' layer-0 attention probabilities, averaged over heads and queries."""
    return layer0_attention_mean(load_model(str(folder)), ids)


def kept_set(scores: np.ndarray, rate: float) -> set[int]:
    """Positions of the top round(rate * n) scores, ties broken by position."""
    n = len(scores)
    k = max(1, round(rate * n))
    order = np.lexsort((np.arange(n), -np.asarray(scores, dtype=np.float64)))
    return set(order[:k].tolist())
