"""Rotary position embeddings in the Hugging Face (rotate-half) layout.

Inverse frequencies come from a registry keyed by rope type, each a float32 replica of the
transformers function of the same name, so the angles match the reference to the bit where
the arithmetic allows. Each takes the sequence length n, because some types (longrope) pick
their frequencies by it. Tables are computed for the positions in use only. `RopeSpec` is a
model's rope as lite/model/config.py reads it from config.json.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LiteError

F32 = np.float32


@dataclass(frozen=True)
class RopeSpec:
    """A model's rotary embedding: its type, base, how many dims rotate, and the type's scaling parameters."""

    rope_type: str  # a key of ROPE_TYPES
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


def _base_powers(rope: RopeSpec) -> np.ndarray:
    """theta ** (2i / rotary_dim), the unscaled wavelengths over 2 pi."""
    dim = rope.rotary_dim
    exponents = np.arange(0, dim, 2, dtype=np.int64).astype(F32) / F32(dim)  # [dim/2]
    return np.power(F32(rope.theta), exponents)  # [dim/2]


def _default_inv_freq(rope: RopeSpec, n: int) -> np.ndarray:
    return (F32(1.0) / _base_powers(rope)).astype(F32)  # [dim/2]


def _linear_inv_freq(rope: RopeSpec, n: int) -> np.ndarray:
    return (_default_inv_freq(rope, n) / F32(rope.param("factor"))).astype(F32)  # [dim/2]


def _llama3_inv_freq(rope: RopeSpec, n: int) -> np.ndarray:
    """Llama 3.1 scaling: long wavelengths divided by `factor`, a smooth blend in between."""
    inv_freq = _default_inv_freq(rope, n)  # [dim/2]
    factor = F32(rope.param("factor"))
    low_freq_factor = F32(rope.param("low_freq_factor"))
    high_freq_factor = F32(rope.param("high_freq_factor"))
    old_context_len = F32(rope.param("original_max_position_embeddings"))
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor

    wavelen = F32(2 * math.pi) / inv_freq  # [dim/2]
    scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq).astype(F32)
    smooth = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (F32(1) - smooth) * scaled / factor + smooth * scaled
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(is_medium, smoothed, scaled).astype(F32)  # [dim/2]


def _longrope_inv_freq(rope: RopeSpec, n: int) -> np.ndarray:
    """LongRoPE (Phi-3, Phi-4-mini): per-frequency factors, the long set once n exceeds the pretraining length.

    transformers switches on seq_len = max(position) + 1 = n > original_max_position_embeddings.
    """
    is_long = n > int(rope.param("original_max_position_embeddings"))
    factors = np.asarray(rope.param("long_factor" if is_long else "short_factor"), dtype=F32)  # [dim/2]
    if factors.shape != (rope.rotary_dim // 2,):
        raise LiteError(f"longrope factors have {factors.size} entries; rotary_dim {rope.rotary_dim} needs "
                        f"{rope.rotary_dim // 2}")
    return (F32(1.0) / (factors * _base_powers(rope))).astype(F32)  # [dim/2]


def _longrope_scaling(rope: RopeSpec) -> float:
    """attention_factor, else sqrt(1 + ln(factor) / ln(original length)), factor defaulting to max/original length."""
    given = rope.param_or("attention_factor", None)
    if given is not None:
        return float(given)
    original = float(rope.param("original_max_position_embeddings"))
    factor = rope.param_or("factor", None)
    factor = float(rope.param("max_position_embeddings")) / original if factor is None else float(factor)
    return 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(original))


# rope type -> inverse frequencies for a sequence of n tokens.
ROPE_TYPES: dict[str, Callable[[RopeSpec, int], np.ndarray]] = {
    "default": _default_inv_freq,
    "linear": _linear_inv_freq,
    "llama3": _llama3_inv_freq,
    "longrope": _longrope_inv_freq,
}

# rope type -> cos/sin multiplier, for the types whose multiplier is not 1.
ROPE_SCALING: dict[str, Callable[[RopeSpec], float]] = {
    "longrope": _longrope_scaling,
}


def inv_freq(rope: RopeSpec, n: int) -> np.ndarray:
    """Inverse frequencies for positions 0..n-1."""
    return ROPE_TYPES[rope.rope_type](rope, n)  # [rotary_dim/2]


def attention_scaling(rope: RopeSpec) -> float:
    """The factor transformers multiplies cos and sin by (1 unless the type is in ROPE_SCALING)."""
    scaling = ROPE_SCALING.get(rope.rope_type)
    return 1.0 if scaling is None else float(scaling(rope))


def cos_sin(positions: np.ndarray, inv_freq: np.ndarray, scaling: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin tables for the given positions, duplicated over both halves."""
    freqs = positions.astype(F32)[:, None] * inv_freq[None, :]  # [n, dim/2]
    cos, sin = np.cos(freqs), np.sin(freqs)  # [n, dim/2]: each angle once, the halves are the same
    if scaling != 1.0:
        cos, sin = cos * F32(scaling), sin * F32(scaling)
    return (np.concatenate([cos, cos], axis=-1).astype(F32, copy=False),
            np.concatenate([sin, sin], axis=-1).astype(F32, copy=False))  # [n, dim] each


def apply_rotary(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate the first `rotary_dim` dims of every head in place; x is [n, heads, head_dim]."""
    rotary_dim = cos.shape[-1]
    half = rotary_dim // 2
    rot = x[..., :rotary_dim]  # [n, heads, rotary_dim] (a view)
    x1 = rot[..., :half].copy()  # [n, heads, rotary_dim/2]
    x2 = rot[..., half:].copy()  # [n, heads, rotary_dim/2]
    c, s = cos[:, None, :], sin[:, None, :]  # [n, 1, rotary_dim]
    rot[..., :half] = x1 * c[..., :half] - x2 * s[..., :half]
    rot[..., half:] = x2 * c[..., half:] + x1 * s[..., half:]
    return x
