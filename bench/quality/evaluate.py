"""The loop: per language, prune the exemplars with every strategy at every rate, run the target, record.

One record per (language, question, strategy, seed, rate), appended to a JSONL file as soon as it
is measured, so a run that is stopped keeps what it finished and a rerun skips finished languages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lite.prune import Pruner
from lite.prune.select import token_budget

from . import prompts
from .strategies import BASELINE, ExemplarScores, runs, top_positions
from .target import Prefix, Target, final_number, first_line, mean_kl


@dataclass(frozen=True)
class Settings:
    languages: tuple[str, ...]
    questions: int  # test questions per language (the first N)
    shots: int = 8  # exemplars in the prompt (MGSM has 8)
    rates: tuple[float, ...] = (0.9, 0.8, 0.7)
    kl_tokens: int = 24  # answer tokens over which the KL is averaged
    max_new: int = 48  # greedy answer length cap
    agreement_questions: int | None = None  # questions per language that get a pruned-prompt answer (None: all)
    time_limit: float | None = None  # seconds: start no new language after this


@dataclass
class LanguagePrompts:
    """One language: the exemplars' pruner-side scores and the target's ids of everything fixed."""

    lang: str
    exemplars: list[ExemplarScores]
    separator: list[int]  # target ids of the "\n\n" between parts
    questions: list[list[int]]  # target ids of each question part


class Evaluator:
    def __init__(self, pruner: Pruner, target: Target, settings: Settings, ids_shared: bool):
        self.pruner, self.target, self.settings = pruner, target, settings
        self.ids_shared = ids_shared  # same tokenizer: kept pruner ids go to the target unchanged

    def language(self, lang: str) -> LanguagePrompts:
        texts = prompts.exemplars(lang)[: self.settings.shots]
        count = min(self.settings.questions, prompts.question_count(lang))
        return LanguagePrompts(
            lang=lang,
            exemplars=[ExemplarScores(self.pruner, text, i) for i, text in enumerate(texts)],
            separator=self.target.encode(prompts.SEPARATOR),
            questions=[self.target.encode(prompts.question_part(lang, i)) for i in range(count)],
        )

    def target_ids(self, exemplar: ExemplarScores, kept: np.ndarray) -> list[int]:
        ids = exemplar.own_ids[kept]  # [kept]
        if self.ids_shared:
            return ids.tolist()
        return self.target.encode(self.pruner.tokenizer.decode(ids.tolist()))

    def prefix_ids(self, lp: LanguagePrompts, strategy: str, seed: int | None, rate: float) -> tuple[list[int], int]:
        """Target ids of the pruned exemplars, each followed by the separator; and the pruner tokens kept."""
        ids: list[int] = []
        kept_total = 0
        for exemplar in lp.exemplars:
            n = len(exemplar.own)
            if strategy == BASELINE:
                kept = np.arange(n)
            else:
                kept = top_positions(exemplar.scores(strategy, seed), token_budget(n, rate))  # [budget]
            kept_total += len(kept)
            ids += self.target_ids(exemplar, kept) + lp.separator
        return ids, kept_total

    def run_language(self, lang: str) -> Iterator[dict]:
        s, target = self.settings, self.target
        lp = self.language(lang)
        origin = sum(len(e.own) for e in lp.exemplars)
        full_ids, _ = self.prefix_ids(lp, BASELINE, None, 1.0)
        full = target.prefix(full_ids)
        answers, references = [], []
        for q, question in enumerate(lp.questions):
            answer = target.greedy(full, question, s.max_new)
            text = target.decode(answer)
            teacher = answer[: s.kl_tokens] or [target.eos]
            answers.append((first_line(text), final_number(text)))
            references.append((teacher, target.log_probs(full, question, teacher)))
            yield self.record(lang, q, BASELINE, None, 1.0, origin, origin, 0.0, True, True, text)
        del full
        agreement = len(lp.questions) if s.agreement_questions is None else s.agreement_questions
        for rate in s.rates:
            for strategy, seed in runs():
                ids, kept = self.prefix_ids(lp, strategy, seed, rate)
                prefix: Prefix = target.prefix(ids)
                for q, question in enumerate(lp.questions):
                    teacher, reference = references[q]
                    kl = mean_kl(reference, target.log_probs(prefix, question, teacher))
                    line_ok = number_ok = text = None
                    if q < agreement:
                        text = target.decode(target.greedy(prefix, question, s.max_new))
                        line_ok = first_line(text) == answers[q][0]
                        number_ok = final_number(text) == answers[q][1]
                    yield self.record(lang, q, strategy, seed, rate, origin, kept, kl, line_ok, number_ok, text)

    @staticmethod
    def record(lang, q, strategy, seed, rate, origin, kept, kl, line_ok, number_ok, text) -> dict:
        return {"lang": lang, "question": q, "strategy": strategy, "seed": seed, "rate": rate,
                "origin_tokens": origin, "kept_tokens": kept, "kl": kl,
                "first_line_agrees": line_ok, "number_agrees": number_ok, "answer": text}


def run(evaluator: Evaluator, results: Path, log=print) -> None:
    """Evaluate every language not yet in `results` (JSONL), appending records as they come."""
    done = finished_languages(results)
    started = time.monotonic()
    header = {"settings": asdict(evaluator.settings), "target": str(evaluator.target.folder)}
    with results.open("a", encoding="utf-8") as out:
        if not results.stat().st_size:
            out.write(json.dumps(header) + "\n")
        for lang in evaluator.settings.languages:
            limit = evaluator.settings.time_limit
            if lang in done:
                continue
            if limit is not None and time.monotonic() - started > limit:
                log(f"time limit reached: {lang} and later languages not run")
                break
            t0 = time.monotonic()
            records = list(evaluator.run_language(lang))  # a language is written whole or not at all
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.write(json.dumps({"finished": lang}) + "\n")
            out.flush()
            log(f"{lang}: {len(records)} records in {time.monotonic() - t0:.0f} s")


def finished_languages(results: Path) -> set[str]:
    if not results.is_file():
        return set()
    return {r["finished"] for r in read_records(results, kind="finished")}


def read_records(results: Path, kind: str = "record") -> list[dict]:
    """The JSONL file's measurement records (kind "record"), "finished" markers, or its "settings" header."""
    lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines() if line.strip()]
    key = {"record": "strategy", "finished": "finished", "settings": "settings"}[kind]
    return [line for line in lines if key in line]
