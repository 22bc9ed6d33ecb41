"""`python -m tools.head_transfer`: do the leave-one-out labels of one target rank clauses as another's do (issue 26)?

The head of tools/head.py is fitted on SmolLM2-135M's labels (tools/labels.py). Whether it could serve a
target of another family depends on whether what matters to one model matters to the other. This reads
two label files of the same prompts (`python -m tools.labels` and `python -m tools.labels --target gemma3`:
the same prompts, clauses and shots, only the target differs), and per prompt (both files' prompts, same
clauses) gives the Spearman correlation with the second target's LOO-KL of: the first target's LOO-KL
(the labels' agreement across families), the head fitted on the first target's labels (held-out
languages, tools/head.py), in-text rarity alone, the default (rank_mix), the paper's attention, and
random clauses; mean over prompts [95% CI, bootstrap over languages then prompts]. --per-token: every label
per token of its clause (the head then fitted on that, tools/head.py's head_density). Dev split only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tools.head import (
    FEATURE_NAMES,
    RANKERS,
    clause_table,
    held_out_scores,
    interval,
    per_prompt_spearman,
    ranker_scores,
)
from tools.labels import DEFAULT_OUT, prompt_id, read_labels


def paired(first: list[dict], second: list[dict]) -> tuple[list[dict], list[dict]]:
    """The prompts both files hold, with the same segments and clauses, in the first file's order."""
    other = {prompt_id(r): r for r in second}
    both = [(r, other[prompt_id(r)]) for r in first if prompt_id(r) in other]
    same = [(a, b) for a, b in both if a["segments"] == b["segments"]
            and [(c["segment"], c["start"], c["end"]) for c in a["clauses"]]
            == [(c["segment"], c["start"], c["end"]) for c in b["clauses"]]]
    if len(same) < len(both):
        raise SystemExit(f"{len(both) - len(same)} prompts differ between the label files (segments or clauses)")
    return [a for a, _ in same], [b for _, b in same]


def main(argv=None) -> int:
    import lite
    from bench.quality.__main__ import pruner_slice
    from tools import fixtures

    p = argparse.ArgumentParser(prog="python -m tools.head_transfer", description=__doc__.splitlines()[0])
    p.add_argument("--labels", type=Path, default=DEFAULT_OUT / "labels-v1-smollm2.jsonl", help="the head's target")
    p.add_argument("--other", type=Path, default=DEFAULT_OUT / "labels-v1-gemma3.jsonl", help="the other target")
    p.add_argument("--per-token", action="store_true", help="labels per token of the clause (LOO-KL / tokens: what a "
                                                          "budget buys), for both targets and the head")
    args = p.parse_args(argv)
    first, second = paired(read_labels(args.labels), read_labels(args.other))
    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    table = clause_table(pruner, first)  # features and the first target's labels
    per = np.maximum(table["tokens"], 1) if args.per_token else np.ones(len(table["kl"]))  # [N]
    label = "density" if args.per_token else "kl"
    head, _ = held_out_scores(table, list(range(len(FEATURE_NAMES))), label=label)  # [N] the first target's labels
    scores = ranker_scores(table, head)
    scores["first target's LOO-KL"] = table["kl"] / per
    against = dict(table, kl=np.asarray([c["kl"] for r in second for c in r["clauses"]]) / per)  # the second's
    rho = per_prompt_spearman(against, scores)
    prompts = np.unique(table["prompt"])
    langs = [table["lang"][k] for k in prompts]
    kinds = np.asarray([table["kind"][k] for k in prompts])
    what = "LOO-KL per token" if args.per_token else "LOO-KL"
    print(f"{len(first)} prompts, {len(table['kl'])} clauses; Spearman with {args.other.name}'s {what}, per prompt:")
    for kind in ("mgsm", "xquad", None):
        mine = np.ones(len(kinds), bool) if kind is None else kinds == kind
        sub = [lang for lang, m in zip(langs, mine) if m]
        row = {name: interval(rho[name][mine], sub) for name in ["first target's LOO-KL", *RANKERS]}
        row["head - rarity"] = interval(rho["head"][mine] - rho["rarity"][mine], sub)
        print(f"  {kind or 'both'} ({int(mine.sum())} prompts): " + "; ".join(f"{k} {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
