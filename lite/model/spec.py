"""AttentionSpec: everything the layer-0 score needs to know about a model.

Family differences (embedding scale, norm offset, logit scale, soft-capping, biases, q/k norms,
fused qkv, partial rotary) are fields here, so the forward has no `if family == ...` branches.
lite/model/families.py fills them in for each supported model_type from config.json (through the
key readers of lite/model/config.py); `spec_from_config` is the entry point. The tensor names a
spec implies (and which of them a slice must hold) live here too.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, replace

from ..errors import LiteError
from .config import MAX_SIZE, positive_number
from .rope import RopeSpec, attention_scaling, inv_freq

EMBED_NAME = "embed_tokens.weight"
NORM_NAME = "layers.0.input_layernorm.weight"
ATTN_PREFIX = "layers.0.self_attn."
# rope scaling parameters that, when present, must be finite positive numbers (lists: each entry)
POSITIVE_ROPE_PARAMS = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings",
                        "max_position_embeddings", "attention_factor", "long_factor", "short_factor")
# the config key behind each size field, for the messages
SIZE_KEYS = {"hidden_size": "hidden_size", "n_heads": "num_attention_heads", "n_kv_heads": "num_key_value_heads",
             "head_dim": "head_dim", "vocab_size": "vocab_size"}


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

    def expected_shapes(self) -> dict[str, tuple[int | None, ...]]:
        """The shape the config implies for each tensor the score reads (None: any size along that axis)."""
        q, kv, dim, d = self.n_heads * self.head_dim, self.n_kv_heads * self.head_dim, self.hidden_size, self.head_dim
        shapes: dict[str, tuple[int | None, ...]] = {self.embed_name: (None, dim), self.norm_name: (dim,)}
        rows = {"qkv_proj": q + 2 * kv} if self.fused_qkv else {"q_proj": q, "k_proj": kv, "v_proj": kv}
        for projection, out in rows.items():
            shapes[self.attn_name(projection + ".weight")] = (out, dim)
            if self.qkv_bias:
                shapes[self.attn_name(projection + ".bias")] = (out,)
        if self.qk_norm:
            shapes[self.attn_name("q_norm.weight")] = shapes[self.attn_name("k_norm.weight")] = (d,)
        return shapes

    def check_shapes(self, shapes: dict[str, tuple[int, ...]], where: str) -> None:
        """Every tensor the score reads has the shape the config implies (checked before its bytes are read)."""
        for name, expected in self.expected_shapes().items():
            shape = shapes.get(name)
            if shape is None:
                continue  # a missing tensor is reported by whoever needs it, by name
            if len(shape) != len(expected) or any(e is not None and s != e for s, e in zip(shape, expected)):
                wanted = "[" + ", ".join("*" if e is None else str(e) for e in expected) + "]"
                raise LiteError(f"{where}: tensor {name!r} has shape {list(shape)}, its config implies {wanted}; "
                                "the config and the weights disagree")
            if 0 in shape:
                raise LiteError(f"{where}: tensor {name!r} is empty (shape {list(shape)})")

    def check(self) -> None:
        """Sizes positive and consistent, every number finite and in range, rope parameters complete.

        Runs when slicing (before any tensor byte is fetched) and when loading a slice: a NaN or negative
        rms_norm_eps, a rope_theta <= 0 or a rope factor of 0 would make every score NaN.
        """
        where = f"config.json of model_type {self.family!r}"
        for name, key in SIZE_KEYS.items():
            value = getattr(self, name)
            if not 1 <= value <= MAX_SIZE:
                raise LiteError(f"{where} has {key} = {value}; it must be between 1 and {MAX_SIZE}")
        if self.n_heads % self.n_kv_heads:
            raise LiteError(
                f"num_attention_heads={self.n_heads} is not a multiple of num_key_value_heads={self.n_kv_heads}"
            )
        positive_number(self.norm_eps, "rms_norm_eps", where)
        positive_number(self.rope.theta, "rope_theta", where)
        positive_number(self.scale, "the attention scale (head_dim or query_pre_attn_scalar)", where)
        positive_number(self.embed_scale, "the embedding scale", where)
        if not (math.isfinite(self.softcap) and self.softcap >= 0):
            raise LiteError(f"{where} has attn_logit_softcapping = {self.softcap}; it must be 0 (none) or positive")
        if not (2 <= self.rope.rotary_dim <= self.head_dim and self.rope.rotary_dim % 2 == 0):
            raise LiteError(f"{where} rotates {self.rope.rotary_dim} of head_dim {self.head_dim} dims "
                            "(partial_rotary_factor); it must be an even number from 2 to head_dim")
        for key, value in self.rope.params:
            if key in POSITIVE_ROPE_PARAMS and value is not None:
                for item in value if isinstance(value, tuple) else (value,):
                    positive_number(item, f"the rope scaling's {key}", where)
        rope = self.rope
        if rope.rope_type == "llama3" and rope.param("low_freq_factor") == rope.param("high_freq_factor"):
            raise LiteError(f"{where} has equal low_freq_factor and high_freq_factor in its llama3 rope scaling")
        n_values = (1, 1 << 30)  # longrope switches to its long factors past the original length
        frequencies = [inv_freq(self.rope, n) for n in n_values]  # a missing rope parameter fails here
        if not all(((f > 0) & (f < float("inf"))).all() for f in frequencies):
            raise LiteError(f"{where} has rope settings that give frequencies that are not finite and positive")
        positive_number(attention_scaling(self.rope), "the rope attention scaling", where)

