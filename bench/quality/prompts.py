"""MGSM 8-shot prompt parts: exemplars (pruned), the question with its labels (never pruned), resource bins."""

from __future__ import annotations

import re

from tools import mgsm

LANGUAGES = mgsm.LANGUAGES
# Resource bins by each language's share of web text (CommonCrawl language statistics, the usual
# basis for MGSM's high/low split in Shi et al. 2023): high > 1% of pages; medium ~0.05-0.5% (th, bn);
# low ~0.01% (sw, te). Not checked against the LitePruner paper's own table (not available offline).
RESOURCE_BINS = {
    "high": ("en", "de", "es", "fr", "ru", "zh", "ja"),
    "medium": ("th", "bn"),
    "low": ("sw", "te"),
}
SEPARATOR = "\n\n"  # between exemplars, and between the last exemplar and the question
LABEL_END = re.compile(r"[:：]")


def resource_bin(lang: str) -> str:
    return next(name for name, langs in RESOURCE_BINS.items() if lang in langs)


def label(text: str) -> str:
    """The localized label an exemplar line starts with ("Question:", "问题：", "Step-by-Step Answer:")."""
    return text[: LABEL_END.search(text).end()]


def question_part(lang: str, index: int) -> str:
    """The test question as the exemplars present theirs, ending with the answer label: the target continues it."""
    shots, question = mgsm.prompt_parts(lang, index)
    first_q, first_a = shots[0].split("\n", 1)
    q_label = label(first_q)
    space = "" if q_label.endswith("：") else " "
    return f"{q_label}{space}{question}\n{label(first_a)}"


def exemplars(lang: str) -> list[str]:
    return mgsm.exemplars(lang)


def question_count(lang: str) -> int:
    return len(mgsm.questions(lang))
