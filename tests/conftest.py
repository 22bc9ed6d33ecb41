"""Shared fixtures: model folders built by tools/fixtures.py (cached outside git) and their slices."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests"))

import fixtures  # noqa: E402
import mgsm as mgsm_data  # noqa: E402


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


@pytest.fixture(scope="session")
def mgsm_texts(mgsm) -> dict[str, list[str]]:
    """Per language: the first 3 questions and the first 2 few-shot exemplars (question + worked answer)."""
    return {lang: [q for q, _ in mgsm.questions(lang)[:3]] + mgsm.exemplars(lang)[:2] for lang in mgsm.LANGUAGES}


class RememberingScorer:
    """The real scorer, remembering each id sequence's importance so the tests score each text once."""

    def __init__(self, scorer):
        self.scorer, self.slice, self.seen = scorer, scorer.slice, {}

    def importance(self, ids):
        key = tuple(int(i) for i in ids)
        if key not in self.seen:
            self.seen[key] = self.scorer.importance(ids)
        return self.seen[key]


@pytest.fixture(scope="session")
def pruner(smollm2_slice):
    """lite.prune.load on the real SmolLM2-135M slice (its scores remembered across tests)."""
    from lite.prune import Pruner, load

    loaded = load(smollm2_slice)
    return Pruner(RememberingScorer(loaded.scorer), loaded.tokenizer)
