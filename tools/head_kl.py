"""The target's KL after pruning with each clause ranking (tools/head.py --kl): the quality bench's arms and KL.

Each segment of a labelled prompt is pruned to round(rate * n) pruner tokens through lite's clause
selection (bench.quality.arms.prune_with_scores: Pruner.prune with the ranking's scores), the prompt is
put back together as the bench does, and the target's KL against its answer to the full prompt is
taken over the same teacher tokens as the labels. Rankings: the heads of tools/head.py (their
held-out clause scores, every token of a clause scored alike), the labels themselves (`oracle`: the
clauses by their own LOO-KL, a ceiling for any clause ranking), in-text rarity alone (the bench's
`rarity` arm), the default (`lite`) and random clauses (`random`, seeds 0 and 1, KL averaged as the
bench averages seeds). Each result is cached on disk (a rerun, or a later head, recomputes only what
changed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from tools.labels import DEFAULT_OUT, answer_log_probs, prompt_id, read_labels, sequence

RANDOM_SEEDS = (0, 1)
BASELINES = (("rarity", (0,)), ("rank_mix", (0,)), ("random", RANDOM_SEEDS), ("oracle", (0,)))


def pruned_segments(pruner, record: dict, rate: float, ranker: str, heads: dict, seed: int = 0) -> list[str]:
    """The record's segments pruned at `rate` by one ranking; `heads`: head name -> segment -> clause scores [c]."""
    from bench.quality import arms

    out = []
    for s, text in enumerate(record["segments"]):
        budget = max(1, round(rate * pruner.count_tokens(text)))
        ctx = arms.Context(pruner, text, None, budget, rate, record["lang"], seed)
        if ranker in heads or ranker == "oracle":
            clauses = [c for c in record["clauses"] if c["segment"] == s]
            scores = np.asarray(heads[ranker][s] if ranker in heads else [c["kl"] for c in clauses],
                                dtype=np.float64)  # [c]
            out.append(arms.prune_with_scores(ctx, arms.per_token(ctx, by_clause(scores, text, clauses))))
        else:
            out.append(arms.ARMS[{"rarity": "rarity", "rank_mix": "lite", "random": "random"}[ranker]].fn(ctx))
    return out


def by_segment(record: dict, scores: np.ndarray) -> dict[int, np.ndarray]:
    """A prompt's clause scores [c] split by segment: segment -> [c_s]."""
    out, at = {}, 0
    for s in range(len(record["segments"])):
        count = sum(1 for c in record["clauses"] if c["segment"] == s)
        out[s], at = scores[at:at + count], at + count
    return out


def by_clause(scores: np.ndarray, text: str, clauses: list[dict]):
    """encoding -> each token's clause score [n]: every token of a clause scored alike."""
    from tools.head import token_clauses

    return lambda enc: scores[token_clauses(text, enc.offsets, clauses)]  # [n]


def kl_of(target, record: dict, segments: list[str], state: dict) -> float:
    """The target's KL for the prompt with these segments, against its answer to the full prompt."""
    from bench.quality.target import kl_and_flips

    teacher = record["teacher"]
    if "reference" not in state:
        full = sequence(target, record["head"], record["segments"], record["suffix"], teacher)
        state["full"] = full
        state["reference"], state["cache"] = answer_log_probs(target, full, len(teacher))  # [len(teacher), vocab]
    ids = sequence(target, record["head"], segments, record["suffix"], teacher)
    full = state["full"]
    common = next((j for j, (x, y) in enumerate(zip(full, ids)) if x != y), min(len(full), len(ids)))
    common = min(common, len(ids) - len(teacher))
    other, _ = answer_log_probs(target, ids, len(teacher), state["cache"], common)
    return kl_and_flips(state["reference"], other)[0]


def kl_after_pruning(pruner, labels: list[dict], table: dict, heads: dict[str, np.ndarray], rates,
                     cache_path: Path = DEFAULT_OUT / "head-kl-v1.jsonl", shard: tuple[int, int] = (0, 1),
                     only: set[str] | None = None) -> dict:
    """{ranker: {rate: [KL per prompt]}} for the baselines and each head (name -> held-out clause scores [N]);
    cached per (prompt, pruned text)."""
    import torch

    from bench.quality.__main__ import pruner_slice  # noqa: F401 - the bench's imports register its arms
    from bench.quality.run import append
    from bench.quality.target import Target
    from tools import fixtures

    torch.set_num_threads(1)
    cached = {r["key"]: r["kl"] for r in read_labels(cache_path)}
    target, found, c0 = None, {}, time.process_time()
    for k, record in enumerate(labels):
        if k % shard[1] != shard[0]:
            continue
        per_segment = {name: by_segment(record, scores[table["prompt"] == k]) for name, scores in heads.items()}
        state: dict = {}
        for rate in rates:
            for ranker, seeds in [*((name, (0,)) for name in heads), *BASELINES]:
                if only is not None and ranker not in only:
                    continue
                kls = []
                for seed in seeds:
                    segments = pruned_segments(pruner, record, rate, ranker, per_segment, seed)
                    key = json.dumps([prompt_id(record), record["kl_tokens"], segments], ensure_ascii=False)
                    if key not in cached:
                        target = target or Target(fixtures.smollm2_folder(), threads=1)
                        cached[key] = kl_of(target, record, segments, state)
                        append(cache_path, json.dumps({"key": key, "kl": cached[key]}, ensure_ascii=False) + "\n")
                    kls.append(cached[key])
                found.setdefault(ranker, {}).setdefault(str(rate), []).append(float(np.mean(kls)))
        print(f"[{k + 1}/{len(labels)}] {prompt_id(record)}: KL after pruning, {time.process_time() - c0:.0f} s CPU",
              flush=True)
    return found


def main() -> int:
    """`python -m tools.head_kl [i/n [ranker,...]]`: fill the cache for prompts i, i + n, ... (those rankings), so
    that n processes share the work; `python -m tools.head --kl` then reads it."""
    import sys

    import lite
    from bench.quality.__main__ import pruner_slice
    from tools import fixtures
    from tools.head import RATES, clause_table, heads_of

    shard = tuple(int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "0/1").split("/"))
    labels = read_labels(DEFAULT_OUT / "labels-v1-smollm2.jsonl")
    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    table = clause_table(pruner, labels)
    only = set(sys.argv[2].split(",")) if len(sys.argv) > 2 else None
    kl_after_pruning(pruner, labels, table, heads_of(table), RATES, shard=shard, only=only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
