"""XQuAD (bench/data/xquad): paragraphs with their questions and gold answers, per language.

The files hold the first 120 of XQuAD's 240 paragraphs; XQuAD takes 5 paragraphs from each of 48
Wikipedia articles, in order, so paragraphs 5a .. 5a + 4 are one article. Dev split: paragraphs
0-59; test split: 60-119. The gold answer is for measuring only, never an input to a pruner.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
PER_ARTICLE = 5
SPLITS = {"dev": range(0, 60), "test": range(60, 120)}
REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data" / "xquad"


def data_dir() -> Path:
    """bench/data/xquad, in the repository (see its SOURCE.md)."""
    if not (DATA / "xquad_en.jsonl").is_file():
        raise FileNotFoundError(f"XQuAD data not found in {DATA}: the repository's bench/data is incomplete")
    return DATA


@cache
def paragraphs(lang: str) -> list[dict]:
    """{"context", "qas": [{"id", "question", "answer", "answer_start"}, ...]} for each paragraph, in order."""
    with open(data_dir() / f"xquad_{lang}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def article(lang: str, paragraph: int) -> list[str]:
    """The contexts of the 5 paragraphs of the article that holds `paragraph`, in order."""
    first = paragraph // PER_ARTICLE * PER_ARTICLE
    return [p["context"] for p in paragraphs(lang)[first : first + PER_ARTICLE]]
