"""Reading config.json: the keys every family reads the same way, and the rope settings.

Configs are read in both spellings the hub uses: the classic keys (`rope_theta`, `rope_scaling`
with `rope_type` or `type`) and the newer `rope_parameters`. Keys a hub config may leave out take
the defaults of the transformers config class (each family's in lite/model/families.py).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import LiteError
from .rope import ROPE_TYPES, RopeSpec

DEFAULT_ROPE_THETA = 10000.0
MAX_SIZE = 1 << 24  # no size in a config (heads, dims, vocabulary) is larger: a bigger one is a broken config
SCALED_ROPE_TYPES = ("llama3", "longrope")  # the types that read original_max_position_embeddings


def get_key(config: dict, key: str, default: Any = None) -> Any:
    value = config.get(key, default)
    return default if value is None else value


def require_key(config: dict, key: str) -> Any:
    if config.get(key) is None:
        raise LiteError(f"config.json of model_type {config.get('model_type')!r} has no {key!r}")
    return config[key]


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


def with_defaults(config: dict, defaults: dict) -> dict:
    """The config with the keys it leaves out taken from `defaults` (its transformers config class's)."""
    return {**defaults, **config}


def normalise_rope(params: dict | None, theta: float | None) -> dict:
    """Rope settings as one flat dict with 'rope_type' (the legacy 'type' read as it) and 'rope_theta'."""
    params = dict(params or {})
    legacy = params.pop("type", None)
    if params.get("rope_type") is None:
        params["rope_type"] = legacy or "default"
    if params.get("rope_theta") is None:
        params["rope_theta"] = theta
    return params


def rope_parameters(config: dict) -> dict:
    """The rope settings of a config, from either spelling (`rope_parameters`, or `rope_theta` + `rope_scaling`)."""
    params = config.get("rope_parameters")
    if params is None:
        params = config.get("rope_scaling")
    return normalise_rope(params, get_key(config, "rope_theta", DEFAULT_ROPE_THETA))


def make_rope(config: dict, head_dim: int, params: dict | None = None) -> RopeSpec:
    """The RopeSpec of normalised rope settings (the config's own unless `params` are given)."""
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
    """The AttentionSpec fields every supported family reads the same way (the rope from `rope_params` if given)."""
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
    )
