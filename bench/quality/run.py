"""The loop: per regime, language and rate, every arm prunes the same segments to the same budgets; the target answers.

Regime "mgsm" (a): the exemplars of a few-shot prompt are pruned one by one, the test question is
kept whole. Each question draws its own shots from MGSM's 8 exemplars (seeded by the question,
`draw_shots`), so each question is its own pruning decision (an exemplar pruned at a rate is the same
text in every prompt that holds it); questions whose draws coincide share a prompt, and its KV cache
is computed once (the items run grouped by their shots).
Regime "rag" (b): an XQuAD passage is pruned, the question after it kept whole; answer retention
(the gold answer string still in the pruned passage) for every item, the target's KL on the first
`kl_items` items.
Regime "rag5" (c), several passages (the retrieval case): the five paragraphs of an XQuAD article
are the context, pruned as one budget, the question (about one of them) after it; retention for every
question of the article, the target's KL on one question per article, about paragraph k mod 5 of
the k-th article (so the answer is not always in the first passage).

Budgets: for each segment and rate, the nominal budget is round(rate * n) pruner tokens. Where the
peer (LLMLingua) runs, it runs first, its asked rate driven (a few calls) towards the nominal
budget, and every arm then gets exactly the number of pruner tokens the peer kept. Every record
holds what the arm actually kept, in the pruner's and in the target's tokens.

Records are appended to a JSONL file per job (regime, language, rate, arm, seed) with a "done"
marker; a rerun skips finished jobs. Reference answers (the target's greedy answer to the full
prompt) and the peer's outputs are cached on disk (cache.py).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import lite

from . import data
from .arms import ARMS, Arm, Context
from .cache import DiskCache, digest
from .data import RAG_REGIMES
from .target import Prefix, Target, final_number, kl_and_flips


def drive(call: Callable[[float], tuple[str, int, float]], rate: float, want: int, tolerance: int,
          max_calls: int) -> dict:
    """Drive the peer's asked rate towards `want` kept tokens: `call(asked) -> (text, kept, cpu_s)`, at most
    `max_calls` calls, each next rate scaled by want / kept (clipped to [0.02, 1]); stops within `tolerance`.
    The best call's {"text", "kept", "asked", "cpu_s"}, with "calls" (every call) and "hit" (within tolerance).
    Its CPU time is that of the call whose output is used: a user makes one call."""
    asked, best, calls = rate, None, []
    for _ in range(max_calls):
        text, kept, cpu = call(asked)
        calls.append({"asked": asked, "kept": kept, "cpu_s": cpu})
        if best is None or abs(kept - want) < abs(best["kept"] - want):
            best = {"text": text, "kept": max(kept, 1), "asked": asked, "cpu_s": cpu}
        if abs(kept - want) <= tolerance:
            break
        asked = float(np.clip(asked * want / max(kept, 1), 0.02, 1.0))
    return {**best, "calls": calls, "hit": abs(best["kept"] - want) <= tolerance}


@dataclass(frozen=True)
class Settings:
    split: str = "test"
    arms: tuple[str, ...] = ()
    rates: tuple[float, ...] = (0.9, 0.8, 0.7)
    # regime (a)
    mgsm_languages: tuple[str, ...] = ()
    mgsm_questions: int = 12
    shot_pool: tuple[int, ...] = tuple(range(8))  # the exemplars each question draws its shots from
    max_shots: int = 2  # shots per question; the prompt keeps MGSM's order
    shot_seed: int = 0  # the draws: numpy's generator seeded by (shot_seed, question index)
    prompt_cap: int | None = 900  # fewer shots where a question's shots + the question exceed this (pruner tokens)
    agreement_questions: int = 3  # questions per language answered in full (final-number agreement)
    agreement_rates: tuple[float, ...] | None = None  # rates with agreement (None: every rate)
    max_new: int = 64  # answer length cap for agreement
    # regime (b)
    rag_languages: tuple[str, ...] = ()
    rag_rates: tuple[float, ...] = (0.7, 0.5)
    rag_paragraphs: int = 12  # paragraphs of the split (retention: all their questions)
    rag_kl_items: int = 12  # first items (first question of each paragraph) that also get the target's KL
    # regime (c): several passages (rates: rag_rates)
    rag5_languages: tuple[str, ...] = ()
    rag5_articles: int = 12  # articles of the split (retention: all their questions)
    rag5_kl_items: int = 2  # articles (one question each) that also get the target's KL
    rag5_peer_items: int | None = 1  # of those, the questions the peer runs on (None: all)
    # shared
    kl_tokens: int = 24
    peer_languages: tuple[str, ...] | None = None  # None: every language
    peer_items: int | None = None  # RAG items (of the KL subset) the peer runs on; None: all KL items
    peer_tolerance: float = 0.03  # accept the peer's output within this share of n (or 1 token) of the budget
    peer_calls: int = 4  # at most this many calls to drive the peer's rate


@dataclass
class Job:
    regime: str
    lang: str
    rate: float
    arm: str
    seed: int | None

    @property
    def key(self) -> str:
        return f"{self.regime}/{self.lang}/{self.rate}/{self.arm}/{self.seed}"


@dataclass
class Segment:
    key: str
    text: str
    question: str | None
    n: int  # pruner tokens


@dataclass
class Item:
    """One question: its prompt's segments, the suffix after them, and what is checked."""

    key: str
    segments: list[int]  # indices into the task's segments
    suffix: str
    head: str = ""  # text before the segments (a chat template's opening)
    gold: str | None = None  # the gold answer string (RAG), for retention
    kl: bool = True  # does it get the target's KL
    agreement: bool = False  # is the pruned prompt answered in full (MGSM)


@dataclass
class Task:
    regime: str
    lang: str
    segments: list[Segment]
    items: list[Item]
    info: dict = field(default_factory=dict)


class Bench:
    def __init__(self, pruner: lite.Pruner, target: Target, settings: Settings, results: Path,
                 cache: DiskCache, log: Callable[[str], None] = print, services: dict | None = None):
        self.pruner, self.target, self.s = pruner, target, settings
        self.results, self.cache, self.log = results, cache, log
        self.services = services if services is not None else {}
        self.arms = [ARMS[a] for a in settings.arms]
        self.done = done_jobs(results)

    # ---- tasks -----------------------------------------------------------------------------------
    def mgsm_task(self, lang: str) -> Task:
        """Each question with its own shots (draw_shots); a segment per exemplar drawn by any of them."""
        s = self.s
        questions = list(data.mgsm_questions(s.split))[: s.mgsm_questions]
        shots = {q: self.pick_shots(lang, q) for q in questions}
        used = sorted({i for drawn in shots.values() for i in drawn})
        texts = {i: data.exemplars(lang)[i] for i in used}
        segments = [Segment(f"shot{i}", texts[i], None, self.pruner.count_tokens(texts[i])) for i in used]
        items = [Item(f"q{q}", [used.index(i) for i in shots[q]], data.question_part(lang, q),
                      agreement=k < s.agreement_questions) for k, q in enumerate(questions)]
        return Task("mgsm", lang, segments, items, {"shots": {f"q{q}": shots[q] for q in questions}})

    def pick_shots(self, lang: str, question: int) -> list[int]:
        """The question's shots: s.max_shots drawn from s.shot_pool (seeded by the question), in MGSM's order."""
        s = self.s
        lengths = {i: self.pruner.count_tokens(data.exemplars(lang)[i]) for i in s.shot_pool}
        asked = self.pruner.count_tokens(data.question_part(lang, question))
        return draw_shots(question, s.shot_pool, s.max_shots, lengths, asked, s.prompt_cap, s.shot_seed)

    def rag_task(self, lang: str, regime: str = "rag") -> Task:
        """One passage per segment ("rag"), or an article's five as one segment ("rag5")."""
        s = self.s
        several = regime == "rag5"
        if several:
            qas = data.xquad_article_items(lang, s.split, s.rag5_articles)
            context_of = {qa.qid: f"a{qa.article}" for qa in qas}
            articles = list(dict.fromkeys(qa.article for qa in qas))
            # the KL question of the k-th article: the first one about its paragraph k mod 5
            kl_paragraph = {a: a * data.ARTICLE_PARAGRAPHS + k % data.ARTICLE_PARAGRAPHS
                            for k, a in enumerate(articles[: s.rag5_kl_items])}
        else:
            qas = data.xquad_items(lang, s.split, s.rag_paragraphs)
            context_of = {qa.qid: f"p{qa.paragraph}" for qa in qas}
        segments: list[Segment] = []
        index: dict[str, int] = {}
        for qa in qas:
            key = context_of[qa.qid]
            if key not in index:
                index[key] = len(segments)
                segments.append(Segment(key, qa.passage, None, self.pruner.count_tokens(qa.passage)))
        items, kl_contexts = [], set()
        for qa in qas:
            key = context_of[qa.qid]
            if several:
                kl = key not in kl_contexts and kl_paragraph.get(qa.article) == qa.paragraph
            else:
                kl = key not in kl_contexts and len(kl_contexts) < s.rag_kl_items
            kl_contexts.add(key) if kl else None
            head, suffix = data.rag_parts(qa.question, self.target.chat_parts())
            items.append(Item(qa.qid, [index[key]], suffix, head=head, gold=qa.answer, kl=kl))
        task = Task(regime, lang, segments, items)
        task.info["questions"] = {qa.qid: qa.question for qa in qas}
        return task

    # ---- budgets ------------------------------------------------------------------------------------
    def peer_arm(self) -> Arm | None:
        return next((a for a in self.arms if a.kind == "peer"), None)

    def peer_tried_on(self, task: Task, item: Item) -> bool:
        s = self.s
        if self.peer_arm() is None or (s.peer_languages is not None and task.lang not in s.peer_languages):
            return False
        if task.regime == "mgsm":
            return True
        kl_items = [it for it in task.items if it.kl]
        wanted = s.peer_items if task.regime == "rag" else s.rag5_peer_items
        limit = len(kl_items) if wanted is None else wanted
        return item.kl and kl_items.index(item) < limit

    def budgets(self, task: Task, rate: float) -> tuple[dict, set[str]]:
        """(segment, question or None) -> (pruner tokens every arm keeps, from the peer?); the items with the peer.

        Where the peer is tried and reaches the nominal budget (within peer_tolerance) on every segment of an
        item, every arm gets exactly the peer's counts there. Where it cannot (LLMLingua keeps short texts
        whole at any asked rate), the item keeps the nominal budgets and the peer is left out of it.
        """
        out: dict[tuple[int, str | None], tuple[int, bool]] = {}
        peer_items: set[str] = set()
        for item in task.items:
            question = self.question_of(task, item)
            if self.peer_tried_on(task, item):
                found = [self.peer_output(task, seg, question, rate) for seg in item.segments]
                if all(f["hit"] for f in found):
                    peer_items.add(item.key)
                    for seg, f in zip(item.segments, found):
                        out[(seg, question)] = (f["kept"], True)
                    continue
            for seg in item.segments:
                out.setdefault((seg, None), (max(1, round(rate * task.segments[seg].n)), False))
        return out, peer_items

    def question_of(self, task: Task, item: Item) -> str | None:
        return task.info["questions"][item.key] if task.regime in RAG_REGIMES else None

    @staticmethod
    def budget_for(budgets: dict, seg: int, question: str | None) -> tuple[int, bool]:
        """The budget of a segment for a question; and whether it is the peer's count."""
        return budgets[(seg, question)] if (seg, question) in budgets else budgets[(seg, None)]

    def peer_output(self, task: Task, seg: int, question: str | None, rate: float) -> dict:
        """The peer's output for one segment, its asked rate driven towards the nominal budget (cached)."""
        segment = task.segments[seg]
        key = digest(["peer-v2", segment.text, question, rate, self.s.peer_tolerance, self.s.peer_calls])
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        arm = self.peer_arm()
        want = max(1, round(rate * segment.n))
        tolerance = max(1, int(self.s.peer_tolerance * segment.n))

        def call(asked: float) -> tuple[str, int, float]:
            ctx = self.context(task, segment.text, question, want, asked, None)
            text = arm.fn(ctx)
            return text, self.pruner.count_tokens(text), ctx.extra_cpu

        out = {**drive(call, rate, want, tolerance, self.s.peer_calls), "n": segment.n, "want": want}
        self.cache.put(key, out)
        return out

    def context(self, task: Task, text: str, question: str | None, budget: int, rate: float, seed) -> Context:
        return Context(self.pruner, text, question, budget, rate, task.lang, seed, self.target, self.services)

    # ---- references -----------------------------------------------------------------------------------
    def reference(self, prefix_text: str, item: Item, prefix: Prefix) -> dict:
        """The target's greedy answer to the full prompt (cached on disk): ids and text."""
        length = self.s.max_new if item.agreement else self.s.kl_tokens
        key = digest(["ref", self.target.name, prefix_text, item.suffix, length])
        hit = self.cache.get(key)
        if hit is None:
            ids = self.target.greedy(prefix, self.target.encode(item.suffix), length, stop="\n\n")
            hit = {"ids": ids, "text": self.target.decode(ids)}
            self.cache.put(key, hit)
        return hit

    # ---- the loop --------------------------------------------------------------------------------------
    def tasks(self) -> list[tuple[str, str, list[float]]]:
        s = self.s
        return [*(("mgsm", lang, list(s.rates)) for lang in s.mgsm_languages),
                *(("rag", lang, list(s.rag_rates)) for lang in s.rag_languages),
                *(("rag5", lang, list(s.rag_rates)) for lang in s.rag5_languages)]

    def task(self, regime: str, lang: str) -> Task:
        return self.mgsm_task(lang) if regime == "mgsm" else self.rag_task(lang, regime)

    def cost(self, regime: str, lang: str) -> float:
        """A rough cost of a task: target tokens run per arm (prefixes and question suffixes)."""
        task = self.task(regime, lang)
        kl_items = [it for it in task.items if it.kl]
        per_item = [self.pruner.count_tokens(it.suffix) + sum(task.segments[i].n for i in it.segments)
                    for it in kl_items]  # each question runs its own prefix (MGSM's too: its own shots)
        rates = self.s.rates if regime == "mgsm" else self.s.rag_rates
        return (sum(per_item) + 30 * len(kl_items)) * len(rates)

    def shard(self, tasks: list, index: int, count: int) -> list:
        """Tasks of shard `index` of `count`, cheapest first (a stopped run has whole languages).

        Tasks are dealt costliest first, each to the least loaded shard, so the shards finish together.
        """
        costs = sorted(((self.cost(g, x), (g, x, r)) for g, x, r in tasks), key=lambda c: -c[0])
        loads, picked = [0.0] * count, [[] for _ in range(count)]
        for c, task in costs:
            k = loads.index(min(loads))
            loads[k] += c
            picked[k].append((c, task))
        return [task for _, task in sorted(picked[index], key=lambda c: c[0])]

    def run(self, shard: tuple[int, int] = (0, 1)) -> None:
        for regime, lang, rates in self.shard(self.tasks(), *shard):
            jobs = [Job(regime, lang, r, a.name, seed) for r in rates for a in self.arms for seed in a.seeds
                    if regime in a.regimes]
            todo = [j for j in jobs if j.key not in self.done]
            if not todo:
                continue
            t0, c0 = time.monotonic(), time.process_time()
            task = self.task(regime, lang)
            self.run_task(task, rates, todo)
            self.log(f"{regime}/{lang}: {len(todo)} jobs in {time.monotonic() - t0:.0f} s "
                     f"({time.process_time() - c0:.0f} s CPU)")

    def run_task(self, task: Task, rates: list[float], todo: list[Job]) -> None:
        refs: dict[str, tuple[dict, object]] = {}  # item -> (reference answer, its log-probs [kl_tokens, vocab])
        prefixes: dict[str, Prefix] = {}
        for item in by_prompt(task.items):
            if not item.kl:
                continue
            text = prefix_text([task.segments[i].text for i in item.segments], item.head)
            if text not in prefixes:
                prefixes = {text: self.target.prefix(text)}  # one prefix serves the questions that share it
            ref = self.reference(text, item, prefixes[text])
            teacher = ref["ids"][: self.s.kl_tokens] or [min(self.target.eos)]
            refs[item.key] = (ref, self.target.log_probs(prefixes[text], self.target.encode(item.suffix), teacher))
        prefixes.clear()
        for rate in rates:
            jobs = [j for j in todo if j.rate == rate]
            if jobs:
                budgets, peer_items = self.budgets(task, rate)
                tried = [it.key for it in task.items if self.peer_tried_on(task, it)]
                if tried and any(j.arm == self.peer_arm().name for j in jobs):
                    self.note({"peer": f"{task.regime}/{task.lang}/{rate}", "tried": len(tried),
                               "reached_budget": len(peer_items)})
                for job in jobs:
                    t0, c0 = time.monotonic(), time.process_time()
                    found = self.run_job(task, job, budgets, refs, peer_items)
                    self.write(job, *found, wall=time.monotonic() - t0, cpu_all=time.process_time() - c0)

    @staticmethod
    def runs_on(arm: Arm, item: Item, peer_items: set[str]) -> bool:
        if arm.kind == "peer":
            return item.key in peer_items
        return item.kl or not arm.expensive

    def run_job(self, task: Task, job: Job, budgets: dict, refs: dict,
                peer_items: set[str]) -> tuple[list[dict], float, int]:
        """The job's records, and the CPU seconds and input tokens of the distinct segments it pruned."""
        arm = ARMS[job.arm]
        pruned: dict[tuple[int, str | None], tuple[str, float]] = {}

        def prune(seg: int, question: str | None) -> tuple[str, int, bool]:
            budget, from_peer = self.budget_for(budgets, seg, question)
            key = (seg, question if (arm.question_aware or from_peer) else None)
            if key not in pruned:
                if arm.kind == "peer":
                    out = self.peer_output(task, seg, question, job.rate)
                    pruned[key] = (out["text"], out["cpu_s"])
                else:
                    ctx = self.context(task, task.segments[seg].text, question, budget, job.rate, job.seed)
                    t0 = time.process_time()
                    text = arm.fn(ctx)
                    pruned[key] = (text, time.process_time() - t0 + ctx.extra_cpu)
            return pruned[key][0], budget, from_peer

        records = []
        prefixes: dict[str, Prefix] = {}
        for item in by_prompt(task.items):
            if not self.runs_on(arm, item, peer_items):
                continue
            question = self.question_of(task, item)
            parts = [prune(seg, question) for seg in item.segments]
            texts = [p[0] for p in parts]
            record = {
                "job": job.key, "regime": task.regime, "lang": task.lang, "split": self.s.split, "item": item.key,
                "arm": job.arm, "seed": job.seed, "rate": job.rate, "peer_budget": any(p[2] for p in parts),
                "budget": sum(p[1] for p in parts),
                "origin_pruner": sum(task.segments[seg].n for seg in item.segments),
                "kept_pruner": sum(self.pruner.count_tokens(t) for t in texts),
                "origin_target": sum(self.target.count(task.segments[seg].text) for seg in item.segments),
                "kept_target": sum(self.target.count(t) for t in texts),
                "target": self.target.name,
            }
            if job.arm == "lite":
                record["method"] = lite.DEFAULT_METHOD  # what "lite" meant when this ran
            if task.regime == "mgsm":
                record["shots"] = task.info["shots"][item.key]
            if item.gold is not None:
                record["retained"] = all(item.gold in t for t in texts)
            if item.kl:
                text = prefix_text(texts, item.head)
                if text not in prefixes:
                    prefixes = {text: self.target.prefix(text)}
                ref, reference = refs[item.key]
                teacher = ref["ids"][: self.s.kl_tokens] or [min(self.target.eos)]
                suffix = self.target.encode(item.suffix)
                pruned_lp = self.target.log_probs(prefixes[text], suffix, teacher)  # [len(teacher), vocab]
                record["kl"], record["flip"] = kl_and_flips(reference, pruned_lp)
                if item.agreement and arm.kind != "reference" and (
                        self.s.agreement_rates is None or job.rate in self.s.agreement_rates):
                    answer = self.target.decode(self.target.greedy(prefixes[text], suffix, self.s.max_new, stop="\n\n"))
                    record["number_agrees"] = final_number(answer) == final_number(ref["text"])
                    record["answer"] = answer
            records.append(record)
        cpu = sum(c for _, c in pruned.values())  # each distinct segment once
        tokens = sum(task.segments[seg].n for seg, _ in pruned)
        return records, cpu, tokens

    def note(self, line: dict) -> None:
        append(self.results, json.dumps(line) + "\n")

    def write(self, job: Job, records: list[dict], cpu: float, tokens: int, wall: float = 0.0,
              cpu_all: float = 0.0) -> None:
        """Append a job's records and its "done" line: the arm's CPU seconds over its distinct input
        tokens, and the job's wall and CPU seconds (pruning plus the target's runs)."""
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        lines.append(json.dumps({"done": job.key, "cpu_s": cpu, "input_tokens": tokens, "records": len(records),
                                 "job_wall_s": round(wall, 2), "job_cpu_s": round(cpu_all, 2)}))
        append(self.results, "\n".join(lines) + "\n")  # one write: a killed run leaves no job half-marked done
        self.done.add(job.key)


def by_prompt(items: list[Item]) -> list[Item]:
    """The items with the same segments next to each other (stable): the one cached prefix serves them all."""
    return sorted(items, key=lambda item: tuple(item.segments))


def draw_shots(question: int, pool: tuple[int, ...], count: int, lengths: dict[int, int], asked: int,
               cap: int | None, seed: int = 0) -> list[int]:
    """`count` exemplars of `pool` in an order drawn by numpy's generator seeded by (seed, question); the last
    drawn dropped while they and the question (`asked` tokens) exceed `cap` (one is always kept); sorted."""
    order = [pool[i] for i in np.random.default_rng((seed, question)).permutation(len(pool))][:count]
    while cap is not None and len(order) > 1 and sum(lengths[i] for i in order) + asked > cap:
        order.pop()
    return sorted(order)


def append(path: Path, text: str) -> None:
    """Append text to the results file under an exclusive lock: the workers of one run (and other runs)
    share the file, and a job's lines (up to a few hundred KB) must not interleave with another's."""
    import fcntl

    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)  # closing releases the lock


def prefix_text(segments: list[str], head: str = "") -> str:
    """The head, the pruned (or full) segments joined, and the separator before the question."""
    return head + data.SEPARATOR.join(segments) + data.SEPARATOR


def done_jobs(results: Path) -> set[str]:
    if not results.is_file():
        return set()
    return {r["done"] for r in read_jsonl(results) if "done" in r}


def read_jsonl(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a killed run
                continue
    return out


def records(path: Path) -> list[dict]:
    """The measurement records of finished jobs (the last run of a job, if it ran twice)."""
    lines = read_jsonl(path)
    done = {r["done"] for r in lines if "done" in r}
    latest: dict[tuple, dict] = {}
    for r in lines:
        if "arm" in r and r.get("job") in done:
            latest[(r["job"], r["item"])] = r
    return list(latest.values())
