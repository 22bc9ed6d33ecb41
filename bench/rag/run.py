"""The retention loop: every arm prunes every context of a set; one record per (arm, context).

A context set is one (source, language, number of passages, distractor kind) with a loader that
gives its `Context`s (contexts.py builds XQuAD's; any other source builds sets the same way, or
`sets_of(contexts, kind)` groups a plain list). A job is (set, arm): its records are appended to
the results JSONL in one write with a "done" marker, so a stopped run resumes where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.quality.run import append, read_jsonl

from .arms import ARMS, Arm, Env, auto_supported
from .contexts import DISTRACTORS, LANGUAGES, SIZES, Context, answer_kept, xquad_contexts


@dataclass(frozen=True)
class ContextSet:
    source: str
    lang: str
    size: int  # passages per context
    kind: str  # distractors: hard | easy (or the source's own name for them)
    load: Callable[[], list[Context]]

    @property
    def key(self) -> str:
        return f"{self.source}/{self.lang}/{self.size}/{self.kind}"


def xquad_sets(split: str, languages: Iterable[str] = LANGUAGES, sizes: Iterable[int] = SIZES,
               kinds: Iterable[str] = DISTRACTORS, questions: int | None = None) -> list[ContextSet]:
    """XQuAD's sets: one question per paragraph of the split (60), or the first `questions`."""
    return [ContextSet("xquad", lang, size, kind,
                       lambda lang=lang, size=size, kind=kind: xquad_contexts(lang, split, size, kind)[:questions])
            for lang in languages for size in sizes for kind in kinds]


def nq_sets(split: str, sizes: Iterable[int], questions: int | None = None) -> list[ContextSet]:
    """NQ-open's sets (sources.py; English; distractors: other questions' oracle passages), 10-50 passages."""
    from .sources import NQ_SIZES, nq_contexts

    return [ContextSet("nq_open", "en", size, "other-questions",
                       lambda size=size: nq_contexts(split, size)[:questions]) for size in sizes if size in NQ_SIZES]


def sets_of(contexts: Iterable[Context], kind: str = "-") -> list[ContextSet]:
    """A plain list of contexts (any source) as sets, grouped by source, language and number of passages."""
    groups: dict[tuple, list[Context]] = {}
    for ctx in contexts:
        groups.setdefault((ctx.source, ctx.lang, len(ctx.passages)), []).append(ctx)
    return [ContextSet(source, lang, size, kind, lambda found=found: found)
            for (source, lang, size), found in groups.items()]


def measure(env: Env, arm: Arm, ctx: Context, split: str, kind: str) -> dict:
    """One arm on one context: tokens kept, retention (from the gold passage's kept text), CPU time."""
    started = time.process_time()
    kept = arm.fn(env, ctx)
    cpu = time.process_time() - started + kept.extra_cpu
    n = sum(env.count(p) for p in ctx.passages)
    return {"split": split, "source": ctx.source, "lang": ctx.lang, "size": len(ctx.passages), "kind": kind,
            "id": ctx.id, "gold": ctx.gold, "arm": arm.name, "family": arm.family, "rate": arm.rate, "n": n,
            "kept": kept.tokens, "share": kept.tokens / n if n else 1.0,
            "retained": answer_kept(kept.texts[ctx.gold], ctx),
            "passages_kept": sum(1 for t in kept.texts if t), "cpu_ms": round(cpu * 1000, 2), **(kept.info or {})}


def done_jobs(path: Path) -> set[str]:
    return {r["done"] for r in read_jsonl(path) if "done" in r} if path.is_file() else set()


def run(env: Env, sets: list[ContextSet], arms: list[Arm], split: str, results: Path,
        log: Callable[[str], None] = print) -> int:
    """Run every (set, arm) job not yet done; the number of jobs run."""
    if any(a.family == "auto" for a in arms) and not auto_supported(env):
        log("notice: this lite does not accept rate=\"auto\": the auto arm is skipped (merge main when it does)")
        arms = [a for a in arms if a.family != "auto"]
    ran = 0
    for cset in sets:
        done = done_jobs(results)  # read again: other processes may share the results (and the work)
        todo = [a for a in arms if a.retention and f"{split}/{cset.key}/{a.name}" not in done]
        if not todo:
            continue
        started = time.monotonic()
        contexts = cset.load()
        for arm in todo:
            lines = [json.dumps(measure(env, arm, ctx, split, cset.kind), ensure_ascii=False) for ctx in contexts]
            lines.append(json.dumps({"done": f"{split}/{cset.key}/{arm.name}", "records": len(contexts)}))
            append(results, "\n".join(lines) + "\n")  # one write: a killed run leaves no job half-marked done
            ran += 1
        log(f"{cset.key}: {len(todo)} arms, {len(contexts)} contexts in {time.monotonic() - started:.1f} s")
    return ran


def records(path: Path) -> list[dict]:
    """The records of finished jobs (the last run of a job, if it ran twice)."""
    lines = read_jsonl(path) if path.is_file() else []
    done = {r["done"] for r in lines if "done" in r}
    latest: dict[tuple, dict] = {}
    for r in lines:
        key = f"{r.get('split')}/{r.get('source')}/{r.get('lang')}/{r.get('size')}/{r.get('kind')}/{r.get('arm')}"
        if "arm" in r and key in done:
            latest[(key, r["id"])] = r
    return list(latest.values())


def arms_named(names: Iterable[str]) -> list[Arm]:
    unknown = [n for n in names if n not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}; registered: {', '.join(ARMS)}")
    return [ARMS[n] for n in names]
