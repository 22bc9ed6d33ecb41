"""Shared test fixtures: tiny model folders (built once, cached outside git) and a fake hub.

The slicer runs in a subprocess with HF_ENDPOINT pointing at the fake hub: huggingface_hub reads
HF_ENDPOINT (and HF_HUB_OFFLINE, HF_HOME) once, at import, so a fresh interpreter per run is the
one way to set them that cannot leak between tests; it also makes kill tests real.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.hubserver import FakeHub  # noqa: E402

SMOL_TOKENIZER = Path("/tmp/smol/folder")  # the real SmolLM2 tokenizer (vocab 49152)
GATED_TOKEN = "hf_fake_gated_token"
REPOS = {  # repo id -> (fixture folder, gated token, files served instead of the folder's)
    "lite-test/tiny-llama": ("single", None, None),
    "lite-test/tiny-llama-sharded": ("sharded", None, None),
    "lite-test/gated-llama": ("single", GATED_TOKEN, None),
    "lite-test/unsupported": ("single", None, "mamba"),
}


def cache_dir() -> Path:
    root = Path(os.environ.get("LITE_TEST_CACHE") or Path.home() / ".cache" / "lite-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


def build_tiny_llamas(target: Path) -> None:
    """A tiny random bf16 Llama, as one file (single/) and as shards with an index (sharded/)."""
    import torch
    from transformers import AutoConfig, LlamaForCausalLM

    config = AutoConfig.for_model(
        "llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=49152, max_position_embeddings=512, tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(target / "single")
    model.save_pretrained(target / "sharded", max_shard_size="20KB")  # layer 0 spreads over 3 shards
    for folder in ("single", "sharded"):
        for name in ("tokenizer.json", "tokenizer_config.json"):
            if (SMOL_TOKENIZER / name).is_file():
                shutil.copy(SMOL_TOKENIZER / name, target / folder / name)


@pytest.fixture(scope="session")
def tiny_llamas() -> Path:
    """The folder holding single/ and sharded/; built in a scratch folder, renamed when complete."""
    target = cache_dir() / "hub-tiny-llama-v1"
    if not (target / "sharded" / "model.safetensors.index.json").is_file():
        scratch = Path(tempfile.mkdtemp(prefix=".hub-tiny-llama.", dir=target.parent))
        try:
            build_tiny_llamas(scratch)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def session_hub(tiny_llamas: Path):
    with FakeHub() as hub:
        for repo_id, (folder, token, model_type) in REPOS.items():
            overrides = {}
            if model_type:
                config = json.loads((tiny_llamas / folder / "config.json").read_text())
                overrides["config.json"] = json.dumps({**config, "model_type": model_type}).encode()
            hub.add(repo_id, tiny_llamas / folder, token=token, overrides=overrides)
        yield hub


@pytest.fixture
def hub(session_hub: FakeHub) -> FakeHub:
    """The fake hub with its counters at zero and no fault switched on."""
    session_hub.reset()
    return session_hub


@pytest.fixture
def slicer_env(tmp_path: Path, session_hub: FakeHub) -> dict[str, str]:
    """Environment for a slicer subprocess: the fake hub, an empty HF cache, no token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(
        HF_ENDPOINT=session_hub.endpoint,
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def slice_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lite.slice", *args, "--quiet"]


def run_slice(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(slice_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
