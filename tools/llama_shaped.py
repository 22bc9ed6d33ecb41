"""Write a folder shaped like meta-llama/Llama-3.2-1B: its config, tensor names, shapes and file size.

    python tools/llama_shaped.py OUT_FOLDER [--tokenizer /tmp/smol/folder/tokenizer.json]

The weights are zeros in a sparse file (2.47 GB that take no disk), which is all a benchmark of
the hub slicer needs: which bytes it fetches, not what they hold. Serve it with tools/fake_hub.py.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lite.stformat import encode_header  # noqa: E402

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


def write_folder(out: Path, tokenizer: Path | None) -> int:
    """The folder's model.safetensors size in bytes."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2))
    shapes = tensor_shapes(CONFIG)
    header, _ = encode_header([(name, "BF16", shapes[name]) for name in sorted(shapes)], {"format": "pt"})
    size = len(header) + sum(2 * math.prod(shape) for shape in shapes.values())  # bf16: 2 bytes each
    with open(out / "model.safetensors", "wb") as f:
        f.write(header)
        f.truncate(size)  # zeros, sparse
    if tokenizer is not None:
        shutil.copy(tokenizer, out / "tokenizer.json")
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--tokenizer", type=Path, default=Path("/tmp/smol/folder/tokenizer.json"),
                        help="a tokenizer.json to ship (Llama 3's own is gated; any fast tokenizer will do)")
    args = parser.parse_args(argv)
    size = write_folder(args.out, args.tokenizer if args.tokenizer.is_file() else None)
    print(f"wrote {args.out}: model.safetensors {size:,} bytes (sparse)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
