"""`python -m bench.rag.whole`: how lite.prune.passages.WHOLE_SHARE was chosen (dev split only).

With several passages and a fixed rate, lite's order (sentences by relevance, passages.py) follows the
best passages taken whole, as many as fit in a share of the budget (whole_passages_first).
This tries shares on the dev split: every question (up to QUESTIONS) of each dev paragraph, in 12
languages, contexts of 5, 10, 20 and 50 passages with hard and easy distractors (contexts.py), rates
0.05 to 0.3. Each context is tokenized and ranked once; each share only reorders the units
(whole_passages_first) and takes the budget (select.select_in_order), which is what `prune` does for
it (checked against `prune` for share WHOLE_SHARE on the first contexts of each set: any difference
stops the run). Retention: a gold answer string in the gold passage's kept text, as in the bench.
Against whole passages ranked by BM25 over words (arms.bm25_arm), per cell: lite's retention, the
languages where it is at least BM25's (the bench's bar), and the questions where BM25 keeps the
answer and lite does not (and the other way round). Writes bench/results/WHOLE.md.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

import lite
from lite.prune import passages as passages_module
from lite.prune.budget import token_budget
from lite.prune.passages import sentence_order, whole_passages_first
from lite.prune.select import select_in_order

from .arms import Env, bm25_arm
from .contexts import LANGUAGES, answer_kept, xquad_contexts

RESULTS = Path(__file__).resolve().parents[1] / "results"
SHARES = (0.0, 0.5, 0.75, 1.0)
RATES = (0.05, 0.1, 0.2, 0.3)
SIZES = (5, 10, 20, 50)
KINDS = ("hard", "easy")
QUESTIONS = 6  # per dev paragraph (XQuAD has 3 to 6)
CHECKED = 3  # contexts of each set whose outcome is checked against prune itself


def outcomes(pruner: lite.Pruner, env: Env, context, shares=SHARES, rates=RATES, check: bool = False) -> list[dict]:
    """Per rate: whether BM25's whole passages and lite at each share keep a gold answer."""
    engine = pruner._engine  # the pruner's own tokenization and units, as prune has them (a bench may look inside)
    texts = list(context.passages)
    encoded = engine.encode_texts(texts, "clause")
    starts = [e.units.span_start for e in encoded]
    sizes = np.concatenate([e.sizes for e in encoded])  # [all units]
    base, passage_score = sentence_order(texts, starts, context.question)  # [all units], [n_passages]
    unit_counts = np.array([e.units.count for e in encoded])  # [n_passages]
    token_counts = np.array([e.n_tokens for e in encoded])  # [n_passages]
    bounds = np.concatenate([[0], np.cumsum(unit_counts)])  # [n_passages + 1] each passage's first unit
    gold = context.gold
    rows = []
    for rate in rates:
        budget = token_budget(int(token_counts.sum()), rate)
        row = dict(rate=rate, bm25=answer_kept(bm25_arm(env, context, rate).texts[gold], context))
        for share in shares:
            order = whole_passages_first(base, unit_counts, token_counts, passage_score, budget, share)  # [all units]
            keep = select_in_order(order, sizes, budget, np.zeros(len(sizes), dtype=bool))  # [all units]
            text = encoded[gold].result(keep[bounds[gold]:bounds[gold + 1]]).text
            row[share] = answer_kept(text, context)
            if check and share == passages_module.WHOLE_SHARE:
                pruned = pruner.prune(texts, rate=rate, question=context.question).segments[gold].text
                if pruned != text:
                    raise SystemExit(f"the study differs from prune on {context.lang} {context.id} at {rate}")
        rows.append(row)
    return rows


def table(rows: list[dict], shares=SHARES) -> list[str]:
    lines = ["| passages | rate | BM25 | " + " | ".join(f"share {s}" for s in shares) + " |",
             "|---|---|---|" + "---|" * len(shares)]
    for size, rate in itertools.product(SIZES, RATES):
        cell = [r for r in rows if r["size"] == size and r["rate"] == rate]
        if not cell:
            continue
        by_lang = defaultdict(list)
        for r in cell:
            by_lang[r["lang"]].append(r)
        parts = []
        for share in shares:
            at_least = sum(sum(r[share] for r in v) >= sum(r["bm25"] for r in v) for v in by_lang.values())
            lost = sum(r["bm25"] and not r[share] for r in cell)
            won = sum(r[share] and not r["bm25"] for r in cell)
            parts.append(f"{np.mean([r[share] for r in cell]):.3f} ({at_least}) −{lost} +{won}")
        lines.append(f"| {size} | {rate} | {np.mean([r['bm25'] for r in cell]):.3f} | " + " | ".join(parts) + " |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rag.whole", description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    parser.add_argument("--questions", type=int, default=QUESTIONS, help="questions per dev paragraph")
    args = parser.parse_args(argv)
    pruner, start = lite.load(), time.process_time()
    env = Env(pruner)
    rows = []
    for lang, size, kind in itertools.product(args.languages, SIZES, KINDS):
        contexts = xquad_contexts(lang, "dev", size, kind, questions_per_paragraph=args.questions)
        for k, context in enumerate(contexts):
            per_rate = outcomes(pruner, env, context, check=k < CHECKED)
            rows += [dict(r, lang=lang, size=size, kind=kind) for r in per_rate]
        print(f"{lang} {size} {kind}: {len(contexts)} contexts, {time.process_time() - start:.0f} s", flush=True)
    n_contexts = len(rows) // len(RATES)
    lines = ["# Whole passages first: the share of the budget (dev split)", "",
             "Written by `python -m bench.rag.whole` (its docstring says what is measured); "
             f"{len(args.languages)} languages, {n_contexts} contexts (hard and easy pooled), "
             f"{time.process_time() - start:.0f} s of CPU. lite ships WHOLE_SHARE = {passages_module.WHOLE_SHARE} "
             "(share 0: the order before the rule).", "",
             f"Cells: lite's retention, (the languages of {len(args.languages)} where it is at least BM25's), "
             "−questions where BM25 "
             "keeps the answer and lite does not, +the other way round.", "", *table(rows)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "WHOLE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
