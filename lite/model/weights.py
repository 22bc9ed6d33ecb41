"""The layer-0 weights the score reads, and how a checkpoint lays them out (incl. Phi-3's fused qkv).

`load_weights` takes a reader of tensors by name (lite/store/slicefile.py's SliceFile.float32), so
this module does no I/O itself; a family whose tensors are laid out differently changes only this file.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from ..errors import LiteError
from .spec import AttentionSpec

Read = Callable[[str], np.ndarray]  # a tensor by name, widened to float32


@dataclass(frozen=True)
class LayerWeights:
    """Layer-0 weights the score reads, widened to float32."""

    norm: np.ndarray  # [dim]
    w_q: np.ndarray  # [n_heads * head_dim, dim]
    w_k: np.ndarray  # [n_kv_heads * head_dim, dim]
    b_q: np.ndarray | None = None  # [n_heads * head_dim]
    b_k: np.ndarray | None = None  # [n_kv_heads * head_dim]
    q_norm: np.ndarray | None = None  # [head_dim]
    k_norm: np.ndarray | None = None  # [head_dim]
    w_v: np.ndarray | None = None  # [n_kv_heads * head_dim, dim], read only by scoring methods that use values
    b_v: np.ndarray | None = None  # [n_kv_heads * head_dim]


def projections(read: Read, names: Collection[str], spec: AttentionSpec, kind: str) -> tuple[np.ndarray | None, ...]:
    """The q, k and v projections' `kind` ("weight" or "bias"), split out of qkv_proj when it is fused.

    A fused qkv_proj (Phi-3) stacks the rows of q (n_heads * head_dim), then k and v (n_kv_heads * head_dim
    each). v is None when the checkpoint has no v_proj (v is read only by methods that weigh values).
    """
    if spec.fused_qkv:
        fused = read(spec.attn_name(f"qkv_proj.{kind}"))  # [(H + 2 KV) * D, ...]
        q_rows, k_rows = spec.n_heads * spec.head_dim, spec.n_kv_heads * spec.head_dim
        return fused[:q_rows], fused[q_rows : q_rows + k_rows], fused[q_rows + k_rows :]  # [H*D, ...], [KV*D, ...] x2
    v_name = spec.attn_name(f"v_proj.{kind}")
    return (
        read(spec.attn_name(f"q_proj.{kind}")),  # [H * D, ...]
        read(spec.attn_name(f"k_proj.{kind}")),  # [KV * D, ...]
        read(v_name) if v_name in names else None,  # [KV * D, ...]
    )


def load_weights(read: Read, names: Collection[str], spec: AttentionSpec, where: str) -> LayerWeights:
    """Widen the layer-0 weights the score reads; `names` are the tensors there are, `where` names their file."""
    attn = spec.attn_name
    w_q, w_k, w_v = projections(read, names, spec, "weight")  # [H * D, dim], [KV * D, dim], [KV * D, dim]
    b_q, b_k, b_v = projections(read, names, spec, "bias") if spec.qkv_bias else (None, None, None)
    expected = {"w_q": (spec.n_heads * spec.head_dim, spec.hidden_size),
                "w_k": (spec.n_kv_heads * spec.head_dim, spec.hidden_size)}
    for name, weight in (("w_q", w_q), ("w_k", w_k)):
        if weight.shape != expected[name]:
            raise LiteError(
                f"{where}: layer-0 {name[2]} projection is {weight.shape}, its config says {expected[name]}; "
                "the slice's config and weights disagree"
            )
    return LayerWeights(
        norm=read(spec.norm_name),
        w_q=w_q,
        w_k=w_k,
        b_q=b_q,
        b_k=b_k,
        q_norm=read(attn("q_norm.weight")) if spec.qk_norm else None,
        k_norm=read(attn("k_norm.weight")) if spec.qk_norm else None,
        w_v=w_v,
        b_v=b_v,
    )
