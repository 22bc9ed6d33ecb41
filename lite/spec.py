"""AttentionSpec: everything the layer-0 score needs to know about a model, read from config.json.

Family differences (embedding scale, norm offset, logit scale, soft-capping, biases, q/k norms,
fused qkv, partial rotary) are fields here, so the forward has no `if family == ...` branches;
lite/families.py fills them in for each supported model_type.
Configs are read in both spellings the hub uses: the classic keys (`rope_theta`,
`rope_scaling` with `rope_type` or `type`, `torch_dtype`) and the newer `rope_parameters`.
Keys a hub config may leave out take the defaults of the transformers config class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Collection

from .errors import LiteError
from .rope import ROPE_TYPES

EMBED_NAME = "embed_tokens.weight"
NORM_NAME = "layers.0.input_layernorm.weight"
ATTN_PREFIX = "layers.0.self_attn."
SCALED_ROPE_TYPES = ("llama3", "yarn", "longrope")  # the types that read original_max_position_embeddings
MAX_SIZE = 1 << 24  # no size in a config (heads, dims, vocabulary) is larger: a bigger one is a broken config
# rope scaling parameters that, when present, must be finite positive numbers (lists: each entry)
POSITIVE_ROPE_PARAMS = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings",
                        "max_position_embeddings", "attention_factor", "long_factor", "short_factor")
# the config key behind each size field, for the messages
SIZE_KEYS = {"hidden_size": "hidden_size", "n_heads": "num_attention_heads", "n_kv_heads": "num_key_value_heads",
             "head_dim": "head_dim", "vocab_size": "vocab_size"}


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
        """Every tensor the score reads has the shape the config implies (before its bytes are read)."""
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

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict) -> "AttentionSpec":
        """The spec of a config.json; any config it cannot score fails here, in one line."""
        if not isinstance(config, dict):
            raise LiteError("config.json is not a JSON object")
        model_type = config.get("model_type")
        if not model_type:
            raise LiteError("config.json has no model_type; is this a Hugging Face transformers model?")
        if not isinstance(model_type, str):
            raise LiteError(f"config.json has a model_type that is not a string: {str(model_type)[:80]}")
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
        """Sizes positive and consistent, every number finite and in range, rope parameters complete.

        Runs when slicing (before any tensor byte is fetched) and when loading a slice: a NaN or negative
        rms_norm_eps, a rope_theta <= 0 or a rope factor of 0 would make every score NaN.
        """
        from .rope import attention_scaling, inv_freq

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
        if self.rope.rope_type == "llama3" and self.rope.param("low_freq_factor") == self.rope.param("high_freq_factor"):
            raise LiteError(f"{where} has equal low_freq_factor and high_freq_factor in its llama3 rope scaling")
        n_values = (1, 1 << 30)  # longrope switches to its long factors past the original length
        frequencies = [inv_freq(self.rope, n) for n in n_values]  # a missing rope parameter fails here
        if not all(((f > 0) & (f < float("inf"))).all() for f in frequencies):
            raise LiteError(f"{where} has rope settings that give frequencies that are not finite and positive")
        positive_number(attention_scaling(self.rope), "the rope attention scaling", where)


def positive_number(value: Any, key: str, where: str = "config.json") -> float:
    """A finite number above 0 (not a bool, not a string), or a one-line error naming the key."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LiteError(f"{where} has {key} = {str(value)[:80]!r}; it must be a number above 0")
    if not (math.isfinite(value) and value > 0):
        raise LiteError(f"{where} has {key} = {value}; it must be a finite number above 0")
    return float(value)


def whole_number(value: Any, key: str) -> int:
    """A size read from a config: an int (or a float with no fraction), or a one-line error naming the key."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise LiteError(f"config.json has {key} = {str(value)[:80]!r}; it must be a whole number")
    if abs(value) > MAX_SIZE:
        raise LiteError(f"config.json has {key} = {value:.3g}; it must be between 1 and {MAX_SIZE}")
    return int(value)


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
    theta = params.pop("rope_theta")
    theta = float(theta) if isinstance(theta, str) else theta  # checked to be a finite positive number in check()
    factor = params.pop("partial_rotary_factor", None)
    factor = get_key(config, "partial_rotary_factor", 1.0) if factor is None else factor
    factor = positive_number(factor, "partial_rotary_factor")
    if factor > 1:
        raise LiteError(f"config.json has partial_rotary_factor = {factor}; it must be in (0, 1]")
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
    hidden = whole_number(require_key(config, "hidden_size"), "hidden_size")
    n_heads = whole_number(require_key(config, "num_attention_heads"), "num_attention_heads")
    n_kv_heads = whole_number(get_key(config, "num_key_value_heads", n_heads), "num_key_value_heads")
    head_dim = whole_number(get_key(config, "head_dim", hidden // max(n_heads, 1)), "head_dim")
    return dict(
        family=config["model_type"],
        hidden_size=hidden,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        vocab_size=whole_number(require_key(config, "vocab_size"), "vocab_size"),
        norm_eps=positive_number(get_key(config, "rms_norm_eps", 1e-6), "rms_norm_eps"),
        rope=make_rope(config, head_dim, rope_params),
        scale=head_dim**-0.5,
        dtype=str(get_key(config, "torch_dtype", get_key(config, "dtype", "float32"))),
    )


__all__ = ["AttentionSpec", "RopeSpec", "rope_parameters", "make_rope", "base_fields", "with_defaults"]
