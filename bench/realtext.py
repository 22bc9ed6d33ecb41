"""Real text: tokens per second on MGSM 8-shot prompts (bench/data/mgsm) with the real SmolLM2 slice."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from tools import mgsm

LANGUAGES = ("en", "zh", "bn", "te")


@dataclass(frozen=True)
class TextRun:
    lang: str
    tokens: int
    distinct: int
    median_s: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.median_s


def measure(folder: Path, slice_path: Path, threads: int, repeats: int) -> list[TextRun]:
    from tokenizers import Tokenizer

    from lite.score import Scorer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    scorer = Scorer(slice_path, threads=threads)
    runs = []
    for lang in LANGUAGES:
        ids = tokenizer.encode(mgsm.prompt(lang, 0)).ids
        scorer.importance(ids, method="attention")  # warm
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            scorer.importance(ids, method="attention")
            times.append(time.perf_counter() - start)
        runs.append(TextRun(lang, len(ids), len(set(ids)), statistics.median(times)))
        print(f"  MGSM {lang}: {len(ids)} tokens, {runs[-1].tokens_per_s:,.0f} tokens/s", flush=True)
    return runs
