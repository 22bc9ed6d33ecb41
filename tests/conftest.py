"""Shared fixtures: the real SmolLM2-135M slice and the MGSM texts in 11 languages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MGSM_LANGUAGES = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")


def mgsm_dir() -> Path:
    """../shared/data/mgsm beside the repository, or $LITE_SHARED_DATA/mgsm."""
    candidates = [REPO.parent / "shared" / "data" / "mgsm"]
    if os.environ.get("LITE_SHARED_DATA"):
        shared = Path(os.environ["LITE_SHARED_DATA"])
        candidates[:0] = [shared / "mgsm", shared / "data" / "mgsm"]
    for candidate in candidates:
        if (candidate / "exemplars.json").is_file():
            return candidate
    pytest.skip(f"MGSM data not found (looked in {', '.join(map(str, candidates))}; set LITE_SHARED_DATA)")


@pytest.fixture(scope="session")
def mgsm() -> dict[str, list[str]]:
    """Per language: the first 12 questions and the 8 few-shot exemplars (question + worked answer)."""
    folder = mgsm_dir()
    exemplars = json.loads((folder / "exemplars.json").read_text(encoding="utf-8"))["exemplars"]
    texts = {}
    for lang in MGSM_LANGUAGES:
        rows = (folder / f"mgsm_{lang}.tsv").read_text(encoding="utf-8").splitlines()
        questions = [row.split("\t")[0] for row in rows[:12]]
        shots = [f"{shot['q']}\n{shot['a']}" for _, shot in sorted(exemplars[lang].items(), key=lambda kv: int(kv[0]))]
        texts[lang] = questions + shots
    return texts


@pytest.fixture(scope="session")
def smol_slice() -> Path:
    path = Path("/tmp/smol/smol.safetensors")  # TEMPORARY until tools/fixtures.py lands on main
    if not path.is_file():
        pytest.skip("no SmolLM2 slice")
    return path


@pytest.fixture(scope="session")
def pruner(smol_slice):
    from lite.prune import load

    return load(smol_slice)
