"""Shared fixtures: model folders built by tools/fixtures.py (cached outside git), their slices, a fake hub.
Shared helpers (functions, not fixtures) are in tests/helpers.py.

The hub slicer runs in a subprocess with HF_ENDPOINT pointing at the fake hub: huggingface_hub reads
HF_ENDPOINT (and HF_HUB_OFFLINE, HF_HOME) once, at import, so a fresh interpreter per run is the
one way to set them that cannot leak between tests; it also makes kill tests real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import GATED_TOKEN, REPO, RememberingScorer, make_slice
from tools import fixtures
from tools import mgsm as mgsm_data
from tools.hubserver import FakeHub


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


@pytest.fixture(scope="session")
def mgsm_texts(mgsm) -> dict[str, list[str]]:
    """Per language: the first 3 questions and the first 2 few-shot exemplars (question + worked answer)."""
    return {lang: [q for q, _ in mgsm.questions(lang)[:3]] + mgsm.exemplars(lang)[:2] for lang in mgsm.LANGUAGES}


@pytest.fixture(scope="session")
def pruner(smollm2_slice):
    """lite.prune.load on the real SmolLM2-135M slice (its scores remembered across tests)."""
    from lite.prune import Pruner, load

    loaded = load(smollm2_slice)
    return Pruner(RememberingScorer(loaded.scorer), loaded.tokenizer)
