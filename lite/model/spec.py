"""AttentionSpec: everything the layer-0 score needs to know about a model.

Family differences (embedding scale, norm offset, logit scale, soft-capping, biases, q/k norms,
fused qkv, partial rotary) are fields here, so the forward has no `if family == ...` branches.
lite/model/families.py fills them in for each supported model_type from config.json (through the
key readers of lite/model/config.py); `spec_from_config` is the entry point. The tensor names a
spec implies (and which of them a slice must hold) live here too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from ..errors import LiteError
from .rope import RopeSpec, attention_scaling, inv_freq

EMBED_NAME = "embed_tokens.weight"
NORM_NAME = "layers.0.input_layernorm.weight"
ATTN_PREFIX = "layers.0.self_attn."


@dataclass(frozen=True)
class AttentionSpec:
    family: str  # the config's model_type
    hidden_size: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab_size: int
    norm_eps: float
    rope: RopeSpec
    scale: float  # multiplies q.k before the softmax
    embed_scale: float = 1.0  # multiplies the embedding rows (Gemma: sqrt(hidden_size))
    norm_offset: float = 0.0  # RMSNorm multiplies by (norm_offset + w) (Gemma: 1)
    softcap: float = 0.0  # logits -> tanh(s / softcap) * softcap when > 0 (Gemma 2)
    qkv_bias: bool = False  # q/k/v projections carry a bias (Qwen2)
    qk_norm: bool = False  # q and k are RMS-normed per head before RoPE (Qwen3, Gemma 3)
    fused_qkv: bool = False  # one qkv_proj instead of q_proj/k_proj/v_proj (Phi-3)
    prefix: str = "model."  # where the decoder's tensors live in the checkpoint
    other_prefixes: tuple[str, ...] = ()  # where else they may live (checkpoints saved by other versions)

    @property
    def n_rep(self) -> int:
        """Query heads sharing one kv head."""
        return self.n_heads // self.n_kv_heads

    # ---- tensor names -------------------------------------------------------------------
    @property
    def embed_name(self) -> str:
        return self.prefix + EMBED_NAME

    @property
    def norm_name(self) -> str:
        return self.prefix + NORM_NAME

    def attn_name(self, leaf: str) -> str:
        return self.prefix + ATTN_PREFIX + leaf

    def wants_tensor(self, name: str) -> bool:
        """Is this checkpoint tensor part of a slice? (the embedding, the layer-0 norm, all of self_attn)"""
        return name in (self.embed_name, self.norm_name) or name.startswith(self.prefix + ATTN_PREFIX)

    def locate(self, names: Collection[str]) -> AttentionSpec:
        """This spec with the prefix under which `names` (a checkpoint's tensor names) hold the embedding."""
        for prefix in (self.prefix, *self.other_prefixes):
            if prefix + EMBED_NAME in names:
                return replace(self, prefix=prefix, other_prefixes=())
        return self  # the missing embedding is then reported under the usual prefix

    def required_tensors(self) -> list[str]:
        """The tensors the score reads; a slice without one of them cannot be scored."""
        names = [self.embed_name, self.norm_name]
        projections = ["qkv_proj"] if self.fused_qkv else ["q_proj", "k_proj"]
        names += [self.attn_name(p + ".weight") for p in projections]
        if self.qkv_bias:
            names += [self.attn_name(p + ".bias") for p in projections]
        if self.qk_norm:
            names += [self.attn_name("q_norm.weight"), self.attn_name("k_norm.weight")]
        return names

    def check(self) -> None:
        """Sizes positive and consistent, rope parameters complete: before any tensor byte is fetched."""
        for name in ("hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size"):
            if getattr(self, name) < 1:
                raise LiteError(f"config.json of model_type {self.family!r} has {name} = {getattr(self, name)}")
        if self.n_heads % self.n_kv_heads:
            raise LiteError(
                f"num_attention_heads={self.n_heads} is not a multiple of num_key_value_heads={self.n_kv_heads}"
            )
        inv_freq(self.rope, 1), attention_scaling(self.rope)  # a missing rope parameter fails here
