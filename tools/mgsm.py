"""MGSM (bench/data/mgsm): questions, the 8 few-shot exemplars, and 8-shot prompts, per language."""

from __future__ import annotations

import csv
import json
from functools import cache, lru_cache
from pathlib import Path

LANGUAGES = ("en", "de", "es", "fr", "ru", "sw", "zh", "ja", "th", "bn", "te")
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "mgsm"


def data_dir() -> Path:
    """bench/data/mgsm, in the repository (see its SOURCE.md)."""
    if not (DATA / "mgsm_en.tsv").is_file():
        raise FileNotFoundError(f"MGSM data not found in {DATA}: the repository's bench/data is incomplete")
    return DATA


@cache
def questions(lang: str) -> list[tuple[str, str]]:
    """(question, numeric answer) pairs, 250 per language."""
    with open(data_dir() / f"mgsm_{lang}.tsv", encoding="utf-8", newline="") as f:
        return [(row[0], row[1]) for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


@lru_cache(maxsize=1)
def _exemplars() -> dict:
    return json.loads((data_dir() / "exemplars.json").read_text(encoding="utf-8"))


def exemplars(lang: str) -> list[str]:
    """The 8 worked few-shot exemplars (question and answer) of a language, as text."""
    shots = _exemplars()["exemplars"][lang]
    return [f"{shots[k]['q']}\n{shots[k]['a']}" for k in sorted(shots, key=int)]


def prompt_parts(lang: str, index: int) -> tuple[list[str], str]:
    """(the 8 exemplars, the test question) for question `index` of a language."""
    return exemplars(lang), questions(lang)[index][0]


def prompt(lang: str, index: int) -> str:
    """An 8-shot prompt: the exemplars, then the test question, separated by blank lines."""
    shots, question = prompt_parts(lang, index)
    return "\n\n".join([*shots, question])
