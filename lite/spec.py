"""AttentionSpec: everything the layer-0 score needs to know about a model, read from config.json.

Family differences (embedding scale, norm offset, logit scale, soft-capping, biases, q/k norms,
fused qkv, partial rotary) are fields here, so the forward has no `if family == ...` branches;
lite/families.py fills them in for each supported model_type.
Configs are read in both spellings the hub uses: the classic keys (`rope_theta`,
`rope_scaling` with `rope_type` or `type`, `torch_dtype`) and the newer `rope_parameters`.
Keys a hub config may leave out take the defaults of the transformers config class.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Collection

from .errors import LiteError
from .rope import ROPE_TYPES

EMBED_NAME = "embed_tokens.weight"
NORM_NAME = "layers.0.input_layernorm.weight"
ATTN_PREFIX = "layers.0.self_attn."
SCALED_ROPE_TYPES = ("llama3", "yarn", "longrope")  # the types that read original_max_position_embeddings


@dataclass(frozen=True)
class RopeSpec:
    rope_type: str  # a key of rope.ROPE_TYPES
    theta: float  # the base of the inverse frequencies
    rotary_dim: int  # how many dims of each head rotate (head_dim unless partial rotary)
    params: tuple[tuple[str, Any], ...] = ()  # the scaling parameters: factor, low_freq_factor, ...

    def param(self, key: str) -> Any:
        for name, value in self.params:
            if name == key:
                return value
        raise LiteError(f"rope type {self.rope_type!r} needs {key!r} in the config's rope scaling")

    def param_or(self, key: str, default: Any) -> Any:
        for name, value in self.params:
            if name == key:
                return default if value is None else value
        return default


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
    dtype: str = "float32"  # the checkpoint's dtype, as the config states it

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

    def locate(self, names: Collection[str]) -> "AttentionSpec":
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

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict) -> "AttentionSpec":
        """The spec of a config.json; any config it cannot score fails here, in one line."""
        if not isinstance(config, dict):
            raise LiteError("config.json is not a JSON object")
        model_type = config.get("model_type")
        if not model_type:
            raise LiteError("config.json has no model_type; is this a Hugging Face transformers model?")
        from .families import FAMILIES  # the builders import this module

        family = FAMILIES.get(model_type)
        if family is None:
            raise LiteError(
                f"model_type {model_type!r} is not supported; supported: {', '.join(sorted(FAMILIES))}"
            )
        try:
            spec = family(config)
        except (TypeError, ValueError, ZeroDivisionError, AttributeError) as err:
            raise LiteError(f"config.json of model_type {model_type!r} has a value lite cannot read ({err})") from None
        spec.check()
        return spec

    def check(self) -> None:
        """Sizes positive and consistent, rope parameters complete: before any tensor byte is fetched."""
        from .rope import attention_scaling, inv_freq

        for name in ("hidden_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size"):
            if getattr(self, name) < 1:
                raise LiteError(f"config.json of model_type {self.family!r} has {name} = {getattr(self, name)}")
        if self.n_heads % self.n_kv_heads:
            raise LiteError(
                f"num_attention_heads={self.n_heads} is not a multiple of num_key_value_heads={self.n_kv_heads}"
            )
        inv_freq(self.rope, 1), attention_scaling(self.rope)  # a missing rope parameter fails here


# ---- reading config keys --------------------------------------------------------------------
def get_key(config: dict, key: str, default: Any = None) -> Any:
    value = config.get(key, default)
    return default if value is None else value


def require_key(config: dict, key: str) -> Any:
    if config.get(key) is None:
        raise LiteError(f"config.json of model_type {config.get('model_type')!r} has no {key!r}")
    return config[key]


def with_defaults(config: dict, defaults: dict) -> dict:
    """The config with the keys it leaves out taken from `defaults` (its transformers config class's)."""
    return {**defaults, **config}


def rope_parameters(config: dict) -> dict:
    """The rope settings as one flat dict with 'rope_type' and 'rope_theta', from either spelling."""
    params = config.get("rope_parameters")
    if params is None:
        params = dict(config.get("rope_scaling") or {})
    else:
        params = dict(params)
    if "rope_type" not in params:
        params["rope_type"] = params.pop("type", "default")
    params.pop("type", None)
    if params.get("rope_theta") is None:
        params["rope_theta"] = get_key(config, "rope_theta", 10000.0)
    return params


def make_rope(config: dict, head_dim: int, params: dict | None = None) -> RopeSpec:
    params = rope_parameters(config) if params is None else dict(params)
    rope_type = params.pop("rope_type")
    if rope_type not in ROPE_TYPES:
        raise LiteError(
            f"rope type {rope_type!r} is not supported; supported: {', '.join(sorted(ROPE_TYPES))}"
        )
    theta = float(params.pop("rope_theta"))
    factor = params.pop("partial_rotary_factor", None) or get_key(config, "partial_rotary_factor", 1.0)
    rotary_dim = int(head_dim * factor)
    if rope_type in SCALED_ROPE_TYPES:  # as transformers standardizes them: a top-level key wins
        top_level = config.get("original_max_position_embeddings")
        if top_level is not None:
            params["original_max_position_embeddings"] = top_level
        params.setdefault("original_max_position_embeddings", config.get("max_position_embeddings"))
        params.setdefault("max_position_embeddings", config.get("max_position_embeddings"))
    scaling = tuple(sorted(
        (k, tuple(v) if isinstance(v, list) else v) for k, v in params.items() if not isinstance(v, dict)
    ))
    return RopeSpec(rope_type=rope_type, theta=theta, rotary_dim=rotary_dim, params=scaling)


def base_fields(config: dict, rope_params: dict | None = None) -> dict:
    """The fields every supported family reads the same way (the rope from `rope_params` if given)."""
    hidden = int(require_key(config, "hidden_size"))
    n_heads = int(require_key(config, "num_attention_heads"))
    n_kv_heads = int(get_key(config, "num_key_value_heads", n_heads))
    head_dim = int(get_key(config, "head_dim", hidden // max(n_heads, 1)))
    return dict(
        family=config["model_type"],
        hidden_size=hidden,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        vocab_size=int(require_key(config, "vocab_size")),
        norm_eps=float(get_key(config, "rms_norm_eps", 1e-6)),
        rope=make_rope(config, head_dim, rope_params),
        scale=head_dim**-0.5,
        dtype=str(get_key(config, "torch_dtype", get_key(config, "dtype", "float32"))),
    )


__all__ = ["AttentionSpec", "RopeSpec", "rope_parameters", "make_rope", "base_fields", "with_defaults"]
