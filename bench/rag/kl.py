"""The target's KL on a subset: what each arm's kept passages do to the answer of a real model.

The prompt is the quality bench's RAG prompt (bench/quality/data.py `rag_parts`, run.py `prefix_text`):
the target's chat template around one user turn holding the passages joined by a blank line, then
"Question: ...". The reference is the target's greedy answer (kl_tokens tokens) to the full
passages; each arm's prompt holds its kept passages (empty ones left out) in the arm's order; the
metrics are quality's: mean KL(full || pruned) over the reference's positions (teacher-forced) and
the share of positions whose top-1 token flips (bench/quality/target.py `kl_and_flips`).

A context whose full prompt has more than `max_tokens` of the target's tokens is skipped (the
target's context, and its CPU time on 2 cores), and the skip is recorded. One job is one context
(every arm on it): its records are appended in one write with a "done" marker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from bench.quality.data import rag_parts
from bench.quality.run import append, prefix_text, read_jsonl
from bench.quality.target import Target, kl_and_flips

from .arms import Arm, Env, Kept, auto_supported, ordered
from .contexts import Context, answer_kept
from .run import ContextSet

KL_TOKENS = 24
KL_ARMS = ("lite@0.1", "lite@0.1:first", "lite@0.1:last", "bm25@0.1", "minilm@0.1", "truncation@0.1",
           "lite@0.2", "lite@0.2:first", "lite@0.2:last", "bm25@0.2", "minilm@0.2", "auto")
MAX_TOKENS = {"smollm2": 7500, "gemma3": 6000}  # SmolLM2's context is 8,192 tokens; Gemma-3's CPU time


def context_records(env: Env, target: Target, ctx: Context, arms: list[Arm], base: dict) -> list[dict]:
    """Every arm's KL and flips on one context (the kept text computed once per arm family and rate)."""
    head, suffix = rag_parts(ctx.question, target.chat_parts())
    question = target.encode(suffix)
    full = target.prefix(prefix_text(list(ctx.passages), head))
    teacher = target.greedy(full, question, KL_TOKENS, stop="\n\n") or [min(target.eos)]
    reference = target.log_probs(full, question, teacher)  # [len(teacher), vocab]
    del full
    n = sum(env.count(p) for p in ctx.passages)
    kept: dict[str, Kept] = {}
    out = []
    for arm in arms:
        plain = arm.name.split(":")[0]
        if plain not in kept:
            kept[plain] = arm.fn(env, ctx)
        passages = ordered(kept[plain], ctx, arm.order)
        pruned = target.log_probs(target.prefix(prefix_text(passages, head)), question, teacher)
        kl, flip = kl_and_flips(reference, pruned)
        out.append({**base, "arm": arm.name, "family": arm.family, "rate": arm.rate, "order": arm.order, "n": n,
                    "kept": kept[plain].tokens, "share": kept[plain].tokens / n,
                    "retained": answer_kept(kept[plain].texts[ctx.gold], ctx), "passages_kept": len(passages),
                    "kl": kl, "flip": flip})
    return out


def arms_done(path: Path) -> dict[str, set[str]]:
    """Context key -> the arms measured on it (a context runs again for the arms it has not had)."""
    out: dict[str, set[str]] = {}
    for r in read_jsonl(path) if path.is_file() else []:
        if "done" in r:
            out.setdefault(r["done"], set()).update(r.get("arms", []))
    return out


def run_kl(env: Env, target: Target, name: str, sets: list[ContextSet], arms: list[Arm], split: str,
           results: Path, questions: int = 2, log: Callable[[str], None] = print) -> None:
    """The first `questions` contexts of each set whose full prompt fits, every arm on each."""
    if any(a.family == "auto" for a in arms) and not auto_supported(env):
        log("notice: this lite does not accept rate=\"auto\": the auto arm is skipped in the KL subset")
        arms = [a for a in arms if a.family != "auto"]
    done = arms_done(results)
    for cset in sets:
        for ctx in cset.load()[:questions]:
            key = f"{name}/{split}/{cset.key}/{ctx.id}"
            todo = [a for a in arms if a.name not in done.get(key, set())]
            if not todo or "skipped" in done.get(key, set()):
                continue
            base = {"target": name, "split": split, "source": ctx.source, "lang": ctx.lang, "size": cset.size,
                    "kind": cset.kind, "id": ctx.id}
            length = target.count(prefix_text(list(ctx.passages), rag_parts(ctx.question, target.chat_parts())[0]))
            started = time.monotonic()
            if length > MAX_TOKENS.get(name, 6000):
                lines, measured = [json.dumps({**base, "skipped": f"{length} target tokens"})], ["skipped"]
            else:
                lines = [json.dumps(r, ensure_ascii=False) for r in context_records(env, target, ctx, todo, base)]
                measured = [a.name for a in todo]
            lines.append(json.dumps({"done": key, "arms": measured, "target_tokens": length}))
            append(results, "\n".join(lines) + "\n")
            log(f"[{name}] {key}: {length} tokens, {len(todo)} arms, {time.monotonic() - started:.0f} s")
