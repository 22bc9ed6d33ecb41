"""The bench's data: MGSM few-shot prompts (regime a) and XQuAD passages (regime b), splits and bins.

Splits (tune on dev, report on test; every record carries its split):
- MGSM: dev = questions 0-124, test = questions 125-249 (of 250 per language).
- XQuAD: dev = paragraphs 0-59, test = paragraphs 60-119 (the 120 in bench/data/xquad).

Resource bins, by each language's share of web text (CommonCrawl language statistics, as MGSM
(Shi et al. 2023) groups its languages; approximate, not re-checked offline):
- high (>= ~1% of pages): en de es fr ru zh ja (MGSM); en de es ru zh (XQuAD)
- medium (~0.1-1%): th (MGSM); ar el ro th tr vi (XQuAD)
- low (< ~0.1%): bn sw te (MGSM, the paper's "underrepresented" three); hi (XQuAD)
The report also gives each language's tokenizer cost (pruner tokens per English token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tools import mgsm, xquad

MGSM_LANGUAGES = mgsm.LANGUAGES
XQUAD_LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "el", "ro", "th", "tr", "vi", "hi")
RESOURCE_BINS = {
    "high": ("en", "de", "es", "fr", "ru", "zh", "ja"),
    "medium": ("th", "ar", "el", "ro", "tr", "vi"),
    "low": ("bn", "sw", "te", "hi"),
}
MGSM_SPLITS = {"dev": range(125), "test": range(125, 250)}
XQUAD_SPLITS = {"dev": range(60), "test": range(60, 120)}
ARTICLE_PARAGRAPHS = 5  # XQuAD's paragraphs come 5 to an article, in order (paragraphs 0-4: Super Bowl 50, ...)
REGIMES = ("mgsm", "rag", "rag5")  # few-shot exemplars; one passage; several passages (see run.py)
RAG_REGIMES = ("rag", "rag5")  # a question after the context: answer retention, question-aware arms
SEPARATOR = "\n\n"  # between exemplars, between the last exemplar and the question, between passage and question
LABEL_END = re.compile(r"[:：]")


def resource_bin(lang: str) -> str:
    return next(name for name, langs in RESOURCE_BINS.items() if lang in langs)


# ---- MGSM (regime a) ------------------------------------------------------------------------------
def label(text: str) -> str:
    """The localized label an exemplar line starts with ("Question:", "问题：", "Step-by-Step Answer:")."""
    return text[: LABEL_END.search(text).end()]


def exemplars(lang: str) -> list[str]:
    return mgsm.exemplars(lang)


def question_part(lang: str, index: int) -> str:
    """The test question as the exemplars present theirs, ending with the answer label: the target continues it."""
    first_q, first_a = exemplars(lang)[0].split("\n", 1)
    q_label = label(first_q)
    space = "" if q_label.endswith("：") else " "
    return f"{q_label}{space}{mgsm.questions(lang)[index][0]}\n{label(first_a)}"


def mgsm_questions(split: str) -> range:
    return MGSM_SPLITS[split]


def gold_number(lang: str, index: int) -> str:
    return mgsm.questions(lang)[index][1]


# ---- XQuAD (regime b) -----------------------------------------------------------------------------
@dataclass(frozen=True)
class QA:
    lang: str
    paragraph: int  # index among the 120 paragraphs
    qid: str
    passage: str
    question: str
    answer: str
    article: int | None = None  # several passages: the article whose paragraphs are the context


@cache
def paragraphs(lang: str) -> tuple[dict, ...]:
    return tuple(xquad.paragraphs(lang))


def xquad_items(lang: str, split: str, paragraphs_per_lang: int | None = None,
                questions_per_paragraph: int | None = None) -> list[QA]:
    """The split's questions: the first `paragraphs_per_lang` paragraphs, their first questions."""
    picked = list(XQUAD_SPLITS[split])[:paragraphs_per_lang]
    items = []
    for p in picked:
        para = paragraphs(lang)[p]
        for qa in para["qas"][:questions_per_paragraph]:
            items.append(QA(lang, p, qa["id"], para["context"], qa["question"], qa["answer"]))
    return items


def xquad_article_items(lang: str, split: str, articles: int | None = None) -> list[QA]:
    """Several passages: the split's articles, each a context of its 5 paragraphs joined by SEPARATOR, with
    every question of those paragraphs (`paragraph`: the paragraph the question is about)."""
    picked = list(XQUAD_SPLITS[split])
    firsts = [p for p in picked if p % ARTICLE_PARAGRAPHS == 0][:articles]
    items = []
    for first in firsts:
        members = range(first, first + ARTICLE_PARAGRAPHS)
        context = SEPARATOR.join(paragraphs(lang)[p]["context"] for p in members)
        for p in members:
            for qa in paragraphs(lang)[p]["qas"]:
                items.append(QA(lang, p, qa["id"], context, qa["question"], qa["answer"],
                                article=first // ARTICLE_PARAGRAPHS))
    return items


@cache
def context_of(lang: str, regime: str) -> dict[str, int]:
    """Question id -> the context it is asked about: its paragraph ("rag") or its article ("rag5")."""
    return {qa["id"]: p // (ARTICLE_PARAGRAPHS if regime == "rag5" else 1)
            for p, para in enumerate(paragraphs(lang)) for qa in para["qas"]}


@cache
def answer_elsewhere(lang: str) -> frozenset[str]:
    """Question ids whose gold answer string also occurs in another paragraph of their article: with five
    passages, finding it in the pruned context does not show the question's own passage kept it."""
    found = set()
    for first in range(0, len(paragraphs(lang)), ARTICLE_PARAGRAPHS):
        members = range(first, min(first + ARTICLE_PARAGRAPHS, len(paragraphs(lang))))
        for p in members:
            for qa in paragraphs(lang)[p]["qas"]:
                if any(qa["answer"] in paragraphs(lang)[o]["context"] for o in members if o != p):
                    found.add(qa["id"])
    return frozenset(found)


def rag_parts(question: str, chat: tuple[str, str] | None) -> tuple[str, str]:
    """(text before the passage, text after it): the passage and the question as one user turn of the
    target's chat template, or, for a model without one, the passage then "Question: ...\nAnswer:"
    (English labels in every language)."""
    if chat is None:
        return "", f"Question: {question}\nAnswer:"
    head, tail = chat
    return head, f"Question: {question}{tail}"
