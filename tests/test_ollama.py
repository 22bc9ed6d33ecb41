"""Ollama models by name (`ollama:NAME[:TAG]`), against a fake `$OLLAMA_MODELS` tree holding a tiny GGUF."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from lite.errors import LiteError
from lite.score.scorer import Scorer
from lite.slice.gguf import make_gguf_slice
from lite.store import ollama
from tests.helpers import assert_one_line_error, run_slice
from tools.gguf_fixtures import tiny_gguf

IDS = np.arange(200, 260)


def install(root: Path, blob_source: Path, name: str = "tiny", tag: str = "latest",
            namespace: str = "library") -> str:
    """Install `blob_source` in an Ollama-style tree as namespace/name:tag (a symlinked blob); its digest."""
    digest = hashlib.sha256(blob_source.read_bytes()).hexdigest()
    blob = root / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    if not blob.exists():
        blob.symlink_to(blob_source)
    manifest = root / "manifests" / "registry.ollama.ai" / namespace / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:" + "0" * 64, "size": 1},
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": 1},
    ]}))
    return digest


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "ollama-models"
    install(root, tiny_gguf("llama", "Q4_0"))
    install(root, tiny_gguf("gemma3", "Q8_0"), name="gem", tag="v1", namespace="someone")
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    return root


def test_names_resolve_to_the_model_blob(models):
    found = ollama.resolve("ollama:tiny")
    assert found.name == "registry.ollama.ai/library/tiny:latest" and found.blob.resolve() == tiny_gguf("llama", "Q4_0")
    assert ollama.resolve("ollama:tiny:latest").blob == found.blob
    assert ollama.resolve("ollama:someone/gem:v1").blob.resolve() == tiny_gguf("gemma3", "Q8_0")
    assert ollama.installed() == ["someone/gem:v1", "tiny:latest"]


@pytest.mark.parametrize("name", ["ollama:../../etc/passwd", "ollama:tiny:../x", "ollama:a/b/c/d", "ollama:",
                                  "ollama:.hidden", "ollama:tiny:a\\b", "ollama:/abs"])
def test_names_cannot_leave_the_tree(models, name):
    with pytest.raises(LiteError, match="not an Ollama model name"):
        ollama.resolve(name)


def test_an_unknown_name_lists_what_is_installed(models, slicer_env, tmp_path):
    result = run_slice({**slicer_env, "OLLAMA_MODELS": str(models)}, "ollama:nothing", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "no Ollama model nothing:latest", "installed: someone/gem:v1, tiny:latest")


def test_the_slice_of_a_name_scores_as_the_slice_of_its_file(models, slicer_env, tmp_path):
    out = tmp_path / "by-name.safetensors"
    result = run_slice({**slicer_env, "OLLAMA_MODELS": str(models)}, "ollama:tiny", "--out", str(out))
    assert result.returncode == 0, result.stderr
    direct = make_gguf_slice(tiny_gguf("llama", "Q4_0"), tmp_path / "direct.safetensors").path
    assert np.array_equal(Scorer(out).importance(IDS, method="attention"),
                          Scorer(direct).importance(IDS, method="attention"))
    assert Scorer(out).slice.metadata["lite.revision"].startswith("sha256:")


def test_load_by_name_slices_once_into_the_cache(models, tmp_path, monkeypatch):
    from huggingface_hub import constants

    import lite
    from lite.slice.cache import resolve_model

    monkeypatch.setattr(constants, "HF_ASSETS_CACHE", str(tmp_path / "assets"))
    pruner = lite.load("ollama:someone/gem:v1")
    path = resolve_model("ollama:someone/gem:v1")
    assert path.is_file() and str(path).startswith(str(tmp_path / "assets"))
    before = path.stat().st_mtime_ns
    assert resolve_model("ollama:someone/gem:v1") == path and path.stat().st_mtime_ns == before
    assert pruner.prune("The quick brown fox jumps over the lazy dog.", rate=0.5).text


def test_a_blob_that_is_not_gguf_is_one_line(tmp_path, slicer_env):
    root = tmp_path / "models"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00not a gguf file at all" * 100)
    install(root, junk, name="junk")
    out = tmp_path / "out.safetensors"
    result = run_slice({**slicer_env, "OLLAMA_MODELS": str(root)}, "ollama:junk", "--out", str(out))
    assert_one_line_error(result, "ollama:junk:latest", "GGUF magic")
    assert not out.exists() and "Traceback" not in result.stderr


def test_a_missing_blob_or_model_layer_is_one_line(tmp_path, monkeypatch):
    root = tmp_path / "models"
    digest = install(root, tiny_gguf("llama", "Q4_0"))
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    os.unlink(root / "blobs" / f"sha256-{digest}")
    with pytest.raises(LiteError, match="blob of Ollama model tiny:latest is missing"):
        ollama.resolve("ollama:tiny")
    (root / "manifests/registry.ollama.ai/library/tiny/latest").write_text('{"layers": []}')
    with pytest.raises(LiteError, match="has no model layer"):
        ollama.resolve("ollama:tiny")
