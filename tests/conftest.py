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
    """Per language: the first 12 questions and the 8 few-shot exemplars (question + worked answer)."""
    return {lang: [q for q, _ in mgsm.questions(lang)[:12]] + mgsm.exemplars(lang) for lang in mgsm.LANGUAGES}


@pytest.fixture(scope="session")
def pruner(smollm2_slice):
    """lite.prune.load on the real SmolLM2-135M slice."""
    from lite.prune import load

    return load(smollm2_slice)
