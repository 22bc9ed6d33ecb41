"""Multi-passage contexts built from the shipped XQuAD (bench/data/xquad): one question, N passages, one gold.

Each context is one XQuAD question, its own paragraph (the gold passage) and N - 1 distractors from
the same split, the gold at a seeded random position (so the answer is not always first or last):
- "hard": the other paragraphs of the gold's article first (same topic, same names), then paragraphs
  of other articles;
- "easy": paragraphs of other articles only.
The distractors are the split's paragraphs, so a dev context never holds a test paragraph. A
question whose gold answer string also occurs in a distractor is still asked, but retention is read
from the gold passage's own kept text (`answer_kept`), never from the whole output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tools import xquad

LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "el", "ro", "th", "tr", "vi", "hi")
SIZES = (5, 10, 20, 50)
DISTRACTORS = ("hard", "easy")


@dataclass(frozen=True)
class Context:
    """One question over several passages; `gold` indexes the passage the question is about."""

    source: str  # "xquad"
    lang: str
    id: str  # the question's id (unique per language)
    question: str
    answers: tuple[str, ...]  # gold answer strings (for measuring only, never an input to a pruner)
    passages: tuple[str, ...]
    gold: int


def distractor_pool(lang: str, split: str, paragraph: int, kind: str, rng: random.Random) -> list[int]:
    """The split's other paragraphs, in the order distractors are drawn: same article first when hard."""
    others = [p for p in xquad.SPLITS[split] if p != paragraph]
    article = paragraph // xquad.PER_ARTICLE
    same = [p for p in others if p // xquad.PER_ARTICLE == article]
    rest = [p for p in others if p // xquad.PER_ARTICLE != article]
    rng.shuffle(same)
    rng.shuffle(rest)
    return same + rest if kind == "hard" else rest


def xquad_contexts(lang: str, split: str, size: int, kind: str = "hard", questions_per_paragraph: int = 1,
                   seed: int = 0) -> list[Context]:
    """One context per question (the first `questions_per_paragraph` of each paragraph of the split)."""
    if kind not in DISTRACTORS:
        raise ValueError(f"distractors must be one of {DISTRACTORS}, got {kind!r}")
    paragraphs = xquad.paragraphs(lang)
    contexts = []
    for p in xquad.SPLITS[split]:
        for q, qa in enumerate(paragraphs[p]["qas"][:questions_per_paragraph]):
            rng = random.Random(f"{seed}:{lang}:{split}:{size}:{kind}:{p}:{q}")
            pool = distractor_pool(lang, split, p, kind, rng)[: size - 1]
            if len(pool) < size - 1:
                raise ValueError(f"the {split} split has {len(pool) + 1} {kind} passages for paragraph {p}, "
                                 f"not {size}")
            gold = rng.randrange(size)
            order = pool[:gold] + [p] + pool[gold:]
            contexts.append(Context("xquad", lang, qa["id"], qa["question"], (qa["answer"],),
                                    tuple(paragraphs[i]["context"] for i in order), gold))
    return contexts


def answer_kept(gold_text: str, context: Context) -> bool:
    """Whether a gold answer string survives in the gold passage's kept text."""
    return any(answer in gold_text for answer in context.answers)
