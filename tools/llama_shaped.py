"""Write a folder shaped like meta-llama/Llama-3.2-1B: its config, tensor names, shapes and file size.

    python -m tools.llama_shaped OUT_FOLDER [--tokenizer /tmp/smol/folder/tokenizer.json] [--random SEED]

By default the weights are zeros in a sparse file (2.47 GB that take no disk), which is all a
benchmark of the hub slicer needs: which bytes it fetches, not what they hold. With `--random SEED`
they are seeded random bf16 of a trained model's scale (the file then takes its 2.47 GB), which a
benchmark of the score needs: zeros make attention uniform and every exponential trivially 1.
Serve it with `python -m tools.fake_hub`.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

from lite.store.stformat import encode_header

CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
    "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "hidden_act": "silu",
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True,
    "bos_token_id": 128000, "eos_token_id": 128001,
}


def tensor_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    hidden, inter, head_dim = config["hidden_size"], config["intermediate_size"], config["head_dim"]
    q, kv = config["num_attention_heads"] * head_dim, config["num_key_value_heads"] * head_dim
    shapes = {"model.embed_tokens.weight": (config["vocab_size"], hidden), "model.norm.weight": (hidden,)}
    for i in range(config["num_hidden_layers"]):
        layer = f"model.layers.{i}."
        shapes.update({
            layer + "input_layernorm.weight": (hidden,), layer + "post_attention_layernorm.weight": (hidden,),
            layer + "self_attn.q_proj.weight": (q, hidden), layer + "self_attn.k_proj.weight": (kv, hidden),
            layer + "self_attn.v_proj.weight": (kv, hidden), layer + "self_attn.o_proj.weight": (hidden, q),
            layer + "mlp.gate_proj.weight": (inter, hidden), layer + "mlp.up_proj.weight": (inter, hidden),
            layer + "mlp.down_proj.weight": (hidden, inter),
        })
    return shapes


QK_STD = 0.03  # layer-0 q/k projections: score logits with a standard deviation near 2, far from uniform
LINEAR_STD = 0.02  # the other matrices and the embedding
CHUNK = 1 << 24  # values generated at a time


def random_std(name: str) -> float:
    return QK_STD if name.endswith(("q_proj.weight", "k_proj.weight")) else LINEAR_STD


def to_bf16(values: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bits (uint16), rounding to nearest even."""
    bits = values.view(np.uint32)
    return ((bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) >> 16).astype(np.uint16)


def write_random(f, name: str, count: int, rng: np.random.Generator) -> None:
    """`count` bf16 values: norms near 1, matrices normal around 0."""
    for start in range(0, count, CHUNK):
        values = rng.standard_normal(min(CHUNK, count - start), dtype=np.float32)
        if name.endswith("norm.weight"):
            values = np.abs(np.float32(1.0) + np.float32(0.1) * values)
        else:
            values *= np.float32(random_std(name))
        f.write(to_bf16(values).tobytes())


def write_folder(out: Path, tokenizer: Path | None, seed: int | None = None) -> int:
    """The folder's model.safetensors size in bytes: zeros in a sparse file, or random values of `seed`."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2))
    shapes = tensor_shapes(CONFIG)
    names = sorted(shapes)
    header = encode_header([(name, "BF16", shapes[name]) for name in names], {"format": "pt"})
    size = len(header) + sum(2 * math.prod(shape) for shape in shapes.values())  # bf16: 2 bytes each
    with open(out / "model.safetensors", "wb") as f:
        f.write(header)
        if seed is None:
            f.truncate(size)  # zeros, sparse
        else:
            rng = np.random.default_rng(seed)
            for name in names:  # in the header's order
                write_random(f, name, math.prod(shapes[name]), rng)
    if tokenizer is not None:
        shutil.copy(tokenizer, out / "tokenizer.json")
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--tokenizer", type=Path, default=Path("/tmp/smol/folder/tokenizer.json"),
                        help="a tokenizer.json to ship (Llama 3's own is gated; any fast tokenizer will do)")
    parser.add_argument("--random", type=int, metavar="SEED", help="random bf16 weights of this seed, not zeros")
    args = parser.parse_args(argv)
    size = write_folder(args.out, args.tokenizer if args.tokenizer.is_file() else None, args.random)
    print(f"wrote {args.out}: model.safetensors {size:,} bytes ({'sparse' if args.random is None else 'random'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
