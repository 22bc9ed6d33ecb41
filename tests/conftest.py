"""Shared fixtures: model folders built by tools/fixtures.py (cached outside git), their slices, a fake hub.

The hub slicer runs in a subprocess with HF_ENDPOINT pointing at the fake hub: huggingface_hub reads
HF_ENDPOINT (and HF_HUB_OFFLINE, HF_HOME) once, at import, so a fresh interpreter per run is the
one way to set them that cannot leak between tests; it also makes kill tests real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import fixtures  # noqa: E402
import mgsm as mgsm_data  # noqa: E402
from tools.hubserver import FakeHub  # noqa: E402


def make_slice(folder: Path, out: Path) -> Path:
    from lite.slice import make_slice as make
    from lite.sources import LocalFolder

    if not out.is_file():
        make(LocalFolder(folder), out)
    return out


@pytest.fixture(scope="session")
def slices_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("slices")


@pytest.fixture(scope="session")
def smollm2() -> Path:
    return fixtures.smollm2_folder()


@pytest.fixture(scope="session")
def smollm2_slice(smollm2, slices_dir) -> Path:
    return make_slice(smollm2, slices_dir / "smollm2.safetensors")


@pytest.fixture(scope="session")
def mgsm():
    """tools/mgsm.py, once the MGSM data is known to be there."""
    try:
        mgsm_data.data_dir()
    except FileNotFoundError as err:
        pytest.fail(str(err))
    return mgsm_data


GATED_TOKEN = "hf_fake_gated_token"
REPOS = {  # repo id -> (fixture folder, gated token, files served instead of the folder's)
    "lite-test/tiny-llama": ("single", None, None),
    "lite-test/tiny-llama-sharded": ("sharded", None, None),
    "lite-test/gated-llama": ("single", GATED_TOKEN, None),
    "lite-test/unsupported": ("single", None, "mamba"),
}


@pytest.fixture(scope="session")
def tiny_llamas(tmp_path_factory) -> Path:
    """A folder holding single/ and sharded/: the tiny llama3 model as one file and as shards."""
    root = tmp_path_factory.mktemp("tiny-llamas")
    (root / "single").symlink_to(fixtures.tiny("llama3-gqa"))
    (root / "sharded").symlink_to(fixtures.tiny("llama3-gqa", sharded=True))
    return root


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
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    return env


def slice_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lite.slice", *args, "--quiet"]


def run_slice(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(slice_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def mgsm_texts(mgsm) -> dict[str, list[str]]:
    """Per language: the first 3 questions and the first 2 few-shot exemplars (question + worked answer)."""
    return {lang: [q for q, _ in mgsm.questions(lang)[:3]] + mgsm.exemplars(lang)[:2] for lang in mgsm.LANGUAGES}


class RememberingScorer:
    """The real scorer, remembering each id sequence's importance so the tests score each text once."""

    def __init__(self, scorer):
        self.scorer, self.slice, self.seen = scorer, scorer.slice, {}

    def importance(self, ids, method="attention"):
        key = (method, *(int(i) for i in ids))
        if key not in self.seen:
            self.seen[key] = self.scorer.importance(ids, method=method)
        return self.seen[key]


@pytest.fixture(scope="session")
def pruner(smollm2_slice):
    """lite.prune.load on the real SmolLM2-135M slice (its scores remembered across tests)."""
    from lite.prune import Pruner, load

    loaded = load(smollm2_slice)
    return Pruner(RememberingScorer(loaded.scorer), loaded.tokenizer)
