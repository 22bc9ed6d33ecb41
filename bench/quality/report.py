"""Tables and plot from the results files: bench/results/QUALITY.md and bench/results/quality.png.

One section per results file (profile, split, target). Per regime and rate:
- summary: per arm, tokens kept (pruner and target), mean KL, d = log KL(arm) - log mean KL(random
  seeds) with its language-clustered bootstrap 95% CI and sign test, top-1 flips, final-number
  agreement (MGSM), answer retention (RAG), CPU ms per 1,000 input tokens; "beats random" only
  where the CI excludes 0;
- per resource bin: mean d [CI] per arm;
- per language: mean KL per arm;
- RAG: retention differences against truncation, sentence extraction and random, with CIs;
- the peer: d against LLMLingua on the items where it ran (equal budgets: its own counts).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import data
from .arms import ARMS
from .run import read_jsonl, records
from .stats import KL_FLOOR, Interval, cluster_bootstrap, log_ratio, sign_test

REPO = Path(__file__).resolve().parents[2]
RANDOM = "random"
BUDGET_TOLERANCE = 0.03  # share of the segment two compared arms' budgets may differ by (the peer's tolerance)
ORDER = ("lite", "attention", "llmlingua", "selfinfo", "sentences", "truncation", "rarity", "random_words", RANDOM)


def arm_order(arms) -> list[str]:
    known = [a for a in ORDER if a in arms]
    return known + sorted(a for a in arms if a not in ORDER and a != "none")


class Results:
    """The records of one results file, indexed by (regime, rate, arm) -> {(lang, item): [records]} (an arm's seeds).

    Two arms are compared on the questions both have, at budgets equal within BUDGET_TOLERANCE of the segment
    (the tolerance the peer is held to): the arms run in one bench run get exactly the same budgets; arms
    added by a later run without the peer have the nominal budget where the peer's count was used."""

    def __init__(self, path: Path):
        self.path = path
        self.records = records(path)
        self.done = [r for r in read_jsonl(path) if "done" in r]
        self.by: dict[tuple, dict[tuple, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for r in self.records:
            if r["regime"] == "rag5" and r.get("retained") is not None and r["item"] in data.answer_elsewhere(
                    r["lang"]):
                r["retained"] = None  # its answer is in another passage too: retention would not show this one kept
            self.by[(r["regime"], r["rate"], r["arm"])][(r["lang"], r["item"])].append(r)

    def regimes(self) -> list[str]:
        return [g for g in data.REGIMES if any(k[0] == g for k in self.filled())]

    def rates(self, regime: str) -> list[float]:
        return sorted({k[1] for k in self.filled() if k[0] == regime}, reverse=True)

    def arms(self, regime: str) -> list[str]:
        return arm_order({k[2] for k in self.filled() if k[0] == regime})

    def filled(self) -> list[tuple]:
        """The (regime, rate, arm) keys with records (looking a key up in `by` adds an empty one)."""
        return [k for k, v in self.by.items() if v]

    def languages(self, regime: str) -> list[str]:
        return sorted({r["lang"] for r in self.records if r["regime"] == regime},
                      key=lambda x: (list(data.RESOURCE_BINS).index(data.resource_bin(x)), x))

    def target(self) -> str:
        return self.records[0]["target"] if self.records else "?"

    def split(self) -> str:
        return self.records[0]["split"] if self.records else "?"

    def mean_over_seeds(self, regime: str, rate: float, arm: str, field: str) -> dict[tuple, float]:
        """(lang, item) -> the field's mean over the arm's seeds (records that have it)."""
        out = {}
        for key, rs in self.by[(regime, rate, arm)].items():
            vals = [float(r[field]) for r in rs if r.get(field) is not None]
            if vals:
                out[key] = float(np.mean(vals))
        return out

    def paired_d(self, regime: str, rate: float, arm: str, reference: str,
                 with_keys: bool = False) -> tuple[np.ndarray, list]:
        """Per question d = log KL(arm) - log KL(reference) (seed means), on the questions both have; with
        each question's language (or its (lang, item, budget) key)."""
        a = self.mean_over_seeds(regime, rate, arm, "kl")
        b = self.mean_over_seeds(regime, rate, reference, "kl")
        keys = self.common(regime, rate, arm, reference, a, b)
        return log_ratio([a[k] for k in keys], [b[k] for k in keys]), (keys if with_keys else [k[0] for k in keys])

    def common(self, regime: str, rate: float, arm: str, reference: str, a: dict, b: dict) -> list[tuple]:
        """The questions both arms have, at budgets equal within BUDGET_TOLERANCE of the segment."""
        mine, theirs = self.by[(regime, rate, arm)], self.by[(regime, rate, reference)]
        found = []
        for key in sorted(set(a) & set(b)):
            x, y = mine[key][0], theirs[key][0]
            if abs(x["budget"] - y["budget"]) <= max(1, BUDGET_TOLERANCE * x["origin_pruner"]):
                found.append(key)
        return found

    def paired_diff(self, regime: str, rate: float, arm: str, reference: str,
                    field: str, with_keys: bool = False) -> tuple[np.ndarray, list]:
        a = self.mean_over_seeds(regime, rate, arm, field)
        b = self.mean_over_seeds(regime, rate, reference, field)
        keys = self.common(regime, rate, arm, reference, a, b)
        return np.array([a[k] - b[k] for k in keys]), (keys if with_keys else [k[0] for k in keys])

    def cpu_per_1k(self, regime: str, arm: str) -> float | None:
        cpu = tokens = 0.0
        for d in self.done:
            g, _, _, a, _ = d["done"].split("/")
            if g == regime and a == arm:
                cpu += d["cpu_s"]
                tokens += d["input_tokens"]
        return 1e6 * cpu / tokens if tokens else None  # ms per 1,000 tokens

    def field_mean(self, regime: str, rate: float, arm: str, field: str, langs=None) -> tuple[float, int]:
        vals = [float(r[field]) for rs in self.by[(regime, rate, arm)].values() for r in rs
                if r.get(field) is not None and (langs is None or r["lang"] in langs)]
        return (float(np.mean(vals)) if vals else float("nan")), len(vals)

    def kept_share(self, regime: str, rate: float, arm: str, side: str) -> float:
        rs = [r for rs in self.by[(regime, rate, arm)].values() for r in rs]
        origin = sum(r[f"origin_{side}"] for r in rs)
        return sum(r[f"kept_{side}"] for r in rs) / origin if origin else float("nan")


def fmt(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def summary_table(res: Results, regime: str, rate: float) -> str:
    rag = regime in data.RAG_REGIMES
    head = ["arm", "kept (pruner)", "kept (target)", "mean KL", "d vs random [95% CI]", "wins/losses (p)",
            "beats random", "top-1 flips"]
    head += ["answer retained"] if rag else ["final number agrees (n)"]
    head += ["CPU ms / 1k tokens"]
    rows = []
    for arm in res.arms(regime):
        if not res.by[(regime, rate, arm)]:
            continue  # not run at this rate
        kl, _ = res.field_mean(regime, rate, arm, "kl")
        if arm == RANDOM or RANDOM not in res.arms(regime):
            d_txt, sign_txt, verdict = "–", "–", "–"
        else:
            d, langs = res.paired_d(regime, rate, arm, RANDOM)
            ci = cluster_bootstrap(d, langs)
            w, lo, p = sign_test(d)
            d_txt, sign_txt = ci.fmt(), f"{w}/{lo} ({p:.2g})"
            verdict = ("**yes**" if ci.high < 0 else "no (worse)" if ci.low > 0 else "tie") if ci.n else "–"
        flips, _ = res.field_mean(regime, rate, arm, "flip")
        row = [label(res, arm), fmt(res.kept_share(regime, rate, arm, "pruner")),
               fmt(res.kept_share(regime, rate, arm, "target")),
               fmt(kl), d_txt, sign_txt, verdict, fmt(flips, 2)]
        if rag:
            row.append(fmt(res.field_mean(regime, rate, arm, "retained")[0], 2))
        else:
            agree, n = res.field_mean(regime, rate, arm, "number_agrees")
            row.append(f"{fmt(agree, 2)} ({n})")
        cpu = res.cpu_per_1k(regime, arm)
        row.append(fmt(cpu, 1))
        rows.append(row)
    return markdown(head, rows)


def label(res: Results, arm: str) -> str:
    """The arm's name; for "lite", the default method it ran with (recorded since the default changed)."""
    if arm != "lite":
        return arm
    methods = {r.get("method") for rs in res.by.values() for r0 in rs.values() for r in r0 if r["arm"] == "lite"}
    methods.discard(None)
    return f"lite ({', '.join(sorted(methods))})" if methods else "lite (default when run; not recorded)"


def bin_table(res: Results, regime: str) -> str:
    langs = res.languages(regime)
    bins = [b for b in data.RESOURCE_BINS if any(data.resource_bin(x) == b for x in langs)]
    head = ["arm", *[f"{b} @{r}" for r in res.rates(regime) for b in bins]]
    rows = []
    for arm in res.arms(regime):
        if arm == RANDOM:
            continue
        row = [arm]
        for rate in res.rates(regime):
            d, lang_of = res.paired_d(regime, rate, arm, RANDOM)
            for b in bins:
                mask = np.array([data.resource_bin(x) == b for x in lang_of], dtype=bool)
                ci = cluster_bootstrap(d[mask], np.array(lang_of)[mask]) if mask.any() else None
                row.append(bold_if(ci.fmt(), ci.high < 0) if ci and ci.n else "–")
        rows.append(row)
    return markdown(head, rows)


def language_table(res: Results, regime: str, rate: float) -> str:
    langs = res.languages(regime)
    head = ["arm", *[f"{x} ({data.resource_bin(x)})" for x in langs]]
    rows = []
    random_kl = {x: res.field_mean(regime, rate, RANDOM, "kl", {x})[0] for x in langs}
    for arm in res.arms(regime):
        row = [arm]
        for x in langs:
            kl, n = res.field_mean(regime, rate, arm, "kl", {x})
            row.append(bold_if(fmt(kl), arm != RANDOM and kl < random_kl[x]) if n else "–")
        rows.append(row)
    return markdown(head, rows)


def retention_table(res: Results, regime: str, rate: float) -> str:
    baselines = [b for b in ("truncation", "sentences", RANDOM) if b in res.arms(regime)]
    head = ["arm", "retained", *[f"minus {b} [95% CI]" for b in baselines]]
    rows = []
    for arm in res.arms(regime):
        if not res.by[(regime, rate, arm)]:
            continue  # not run at this rate
        row = [arm, fmt(res.field_mean(regime, rate, arm, "retained")[0], 2)]
        for b in baselines:
            if arm == b:
                row.append("–")
                continue
            diff, langs = res.paired_diff(regime, rate, arm, b, "retained")
            ci = cluster_bootstrap(diff, langs)
            row.append(bold_if(ci.fmt(), ci.low > 0) if ci.n else "–")
        rows.append(row)
    return markdown(head, rows)


def peer_of(res: Results, regime: str) -> str | None:
    """The peer arm in the results (registered with kind "peer"; LLMLingua in the bench)."""
    return next((a for a in res.arms(regime) if a in ARMS and ARMS[a].kind == "peer"), None)


def peer_table(res: Results, regime: str, rate: float) -> str | None:
    peer = peer_of(res, regime)
    if peer is None:
        return None
    notes = [r for r in read_jsonl(res.path) if r.get("peer", "").startswith(f"{regime}/")
             and r["peer"].endswith(f"/{rate}")]
    tried = sum(r["tried"] for r in notes)
    reached = sum(r["reached_budget"] for r in notes)
    head = ["arm", "kept (pruner)", "kept (target)", "mean KL", f"d vs {peer} [95% CI]", "wins/losses (p)",
            "questions"]
    rows = []
    peer_items = set(res.mean_over_seeds(regime, rate, peer, "kl"))
    for arm in res.arms(regime):
        d, langs = res.paired_d(regime, rate, arm, peer)
        if not len(d):
            continue
        on_peer = [r for key, rs in res.by[(regime, rate, arm)].items() if key in peer_items for r in rs]
        kept = [sum(r[f"kept_{side}"] for r in on_peer) / sum(r[f"origin_{side}"] for r in on_peer)
                for side in ("pruner", "target")]
        kl = float(np.mean([r["kl"] for r in on_peer]))
        if arm == peer:
            rows.append([arm, fmt(kept[0]), fmt(kept[1]), fmt(kl), "–", "–", str(len(d))])
            continue
        ci = cluster_bootstrap(d, langs)
        w, lo, p = sign_test(d)
        rows.append([arm, fmt(kept[0]), fmt(kept[1]), fmt(kl), bold_if(ci.fmt(), ci.high < 0),
                     f"{w}/{lo} ({p:.2g})", str(ci.n)])
    reach = (f"{peer} reached the budget (within 3% of the segment) on {reached} of the {tried} questions "
             "it was tried on; elsewhere it is left out and the other arms keep the nominal budget.\n\n"
             if notes else "")
    return reach + (markdown(head, rows) if rows else "(no question with the peer's KL yet)")


def bold_if(text: str, condition: bool) -> str:
    return f"**{text}**" if condition else text


def markdown(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def section(res: Results) -> str:
    out = [f"## `{res.path.name}`: target {res.target()}, **{res.split()} split**", ""]
    for regime in res.regimes():
        name = {"mgsm": "Regime (a): MGSM few-shot exemplars pruned, question kept",
                "rag": "Regime (b): an XQuAD passage pruned, the question after it kept",
                "rag5": "Regime (c): five passages (an XQuAD article) pruned as one context, the question after "
                        "them kept"}[regime]
        langs = res.languages(regime)
        out += [f"### {name}", "",
                f"Languages: {', '.join(f'{x} ({data.resource_bin(x)})' for x in langs)}. "
                f"Questions with the target's KL per language: "
                f"{', '.join(f'{x} {n}' for x, n in questions_per_language(res, regime).items())}.", ""]
        if regime == "mgsm":
            prompts = prompts_per_language(res)
            out += ["Distinct few-shot prompts (shot sets: each is one pruning decision per arm and rate) / "
                    f"questions, per language: {', '.join(f'{x} {p}/{q}' for x, (p, q) in prompts.items())}.", ""]
        for rate in res.rates(regime):
            out += [f"#### Rate {rate} ({res.split()} split)", "", summary_table(res, regime, rate), ""]
            peer = peer_table(res, regime, rate)
            if peer:
                out += [f"Against the peer at its own budgets (questions where {peer_of(res, regime)} ran; d < 0: "
                        f"lower KL than the peer), rate {rate}, {res.split()} split:", "", peer, ""]
            if regime in data.RAG_REGIMES:
                out += [f"Answer retention, paired differences (all items of the split sample), rate {rate}:", "",
                        retention_table(res, regime, rate), ""]
            out += [f"Mean KL per language, rate {rate} (bold: lower than random):", "",
                    language_table(res, regime, rate), ""]
        out += [f"Mean d against random per resource bin, {res.split()} split (bold: CI below 0, beats random):",
                "", bin_table(res, regime), ""]
    out += ["### Cost of this run", "", "CPU seconds of the bench process per task (1 torch thread; on an idle core "
            "wall time is about the CPU time; the wall column shows how loaded the machine was):", "",
            cost_table(res), ""]
    return "\n".join(out)


# ---- the summary at the top: the bars of the default-score and the passages issues -----------------------
REGIME_SHORT = {"mgsm": "MGSM few-shot", "rag": "one passage", "rag5": "five passages"}
QUESTION_BASELINES = ("truncation", "sentences", "llmlingua")


def default_verdict_table(results: list[Results], arm: str = "lite") -> str:
    """d = log KL(arm) - log KL(random) [95% CI] per target, regime, resource bin and rate; bold: beats random."""
    rates = sorted({rate for res in results for g in res.regimes() for rate in res.rates(g)}, reverse=True)
    head = ["target", "regime", "bin", *[f"@{r}" for r in rates]]
    rows = []
    for res in results:
        for regime in res.regimes():
            langs = res.languages(regime)
            for b in [b for b in data.RESOURCE_BINS if any(data.resource_bin(x) == b for x in langs)]:
                members = ", ".join(x for x in langs if data.resource_bin(x) == b)
                row = [res.target(), REGIME_SHORT[regime], f"{b} ({members})"]
                for rate in rates:
                    d, lang_of = res.paired_d(regime, rate, arm, RANDOM)
                    mask = np.array([data.resource_bin(x) == b for x in lang_of], dtype=bool)
                    ci = cluster_bootstrap(d[mask], np.array(lang_of)[mask]) if mask.any() else None
                    row.append(verdict_cell(ci))
                rows.append(row)
    return markdown(head, rows)


def verdict_cell(ci) -> str:
    if ci is None or not ci.n:
        return "–"
    mark = "beats" if ci.high < 0 else "loses" if ci.low > 0 else "tie"
    return bold_if(f"{ci.fmt()} {mark}", ci.high < 0)


def question_table(res: Results, regime: str, rate: float, arm: str = "lite+question") -> str | None:
    """Per language: answer retention of `arm` and of each baseline, the paired differences [95% CI]; the
    target's KL and d = log KL(arm) - log KL(baseline) [95% CI] on the questions with the KL."""
    if not res.by[(regime, rate, arm)]:
        return None
    baselines = [b for b in QUESTION_BASELINES if res.by[(regime, rate, b)]]
    head = ["language", f"{arm} retained", *[f"{b}" for b in baselines],
            *[f"retained minus {b}" for b in baselines], f"{arm} KL", *[f"d vs {b} (n)" for b in baselines]]
    rows = []
    for lang in res.languages(regime):
        row = [f"{lang} ({data.resource_bin(lang)})", fmt(res.field_mean(regime, rate, arm, "retained", {lang})[0], 2)]
        row += [fmt(res.field_mean(regime, rate, b, "retained", {lang})[0], 2) for b in baselines]
        for b in baselines:
            diff, keys = res.paired_diff(regime, rate, arm, b, "retained", with_keys=True)
            row.append(language_ci(diff, keys, lang, regime, better=lambda ci: ci.low > 0))
        kl, n = res.field_mean(regime, rate, arm, "kl", {lang})
        row.append(fmt(kl) if n else "–")
        for b in baselines:
            d, keys = res.paired_d(regime, rate, arm, b, with_keys=True)
            row.append(language_ci(d, keys, lang, regime, better=lambda ci: ci.high < 0, count=True))
        rows.append(row)
    return markdown(head, rows)


PASSAGE_ARMS = ("lite+question", "sentences", "truncation", "llmlingua", "lite", "attention", "random")


def passages_table(res: Results, regime: str) -> str:
    """Answer retention per language (columns) for each strategy and rate (rows); the peer on its questions only."""
    langs = res.languages(regime)
    head = ["rate", "strategy", *langs, "mean", "questions"]
    rows = []
    for rate in res.rates(regime):
        for arm in [a for a in PASSAGE_ARMS if res.by[(regime, rate, a)]]:
            per = [res.field_mean(regime, rate, arm, "retained", {x}) for x in langs]
            mean, _ = res.field_mean(regime, rate, arm, "retained")
            questions = len(res.mean_over_seeds(regime, rate, arm, "retained"))  # distinct questions, not seeds
            cells = [fmt(v, 2) if k else "–" for v, k in per]
            name = f"**{arm}**" if arm == "lite+question" else arm
            rows.append([str(rate), name, *cells, fmt(mean, 3), str(questions)])
    return markdown(head, rows)


MIN_CI = 5  # fewer questions than this: the value without an interval, never bold


def language_ci(values: np.ndarray, keys: list[tuple], lang: str, regime: str, better, count: bool = False) -> str:
    """Mean [95% CI] of one language's values, resampling the contexts (paragraphs, or articles with five
    passages: their questions share one pruned context), then questions within them; bold where `better`."""
    mask = np.array([k[0] == lang for k in keys], dtype=bool)
    if not mask.any():
        return "–"
    contexts = data.context_of(lang, regime)
    clusters = [contexts.get(k[1], k[1]) for k, m in zip(keys, mask) if m]
    ci = cluster_bootstrap(values[mask], clusters)
    suffix = f" ({ci.n})" if count else ""
    if ci.n < MIN_CI:
        return f"{ci.mean:+.2f}{suffix}"
    return bold_if(ci.fmt(), better(ci)) + suffix


def summary_section(results: list[Results]) -> str:
    out = ["## Summary", "",
           "**The default without a question** (`lite`, the product's default method): d = log KL(lite) - log "
           "KL(random through lite's units, 4 seeds), mean over questions [95% CI, bootstrap clustered by "
           "language]; below 0 is better than random; \"beats\" only where the whole interval is below 0.", ""]
    for split in sorted({r.split() for r in results}):
        group = [r for r in results if r.split() == split]
        out += [f"*{split} split*", "", default_verdict_table(group), ""]
    for res in results:
        for regime in [g for g in res.regimes() if g in data.RAG_REGIMES]:
            out += [f"**Answer retention per language**, {REGIME_SHORT[regime]}, target {res.target()}, "
                    f"{res.split()} split (the share of questions whose gold answer is still in the pruned "
                    "context; every strategy at the same budget; the peer only on the questions it ran on):", "",
                    passages_table(res, regime), ""]
            for rate in res.rates(regime):
                table = question_table(res, regime, rate)
                if table:
                    out += [f"**With the question** (`prune(passage, question=q)`), {REGIME_SHORT[regime]}, "
                            f"rate {rate}, target {res.target()}, {res.split()} split: answer retention (gold answer "
                            "string still in the pruned context; every question) and the target's KL (fewer "
                            "questions). Bold: lite+question better with the whole 95% CI (bootstrap over the "
                            "contexts, then the questions in them); under 5 questions, the mean alone. With five "
                            "passages, questions whose answer string also occurs in another passage of the "
                            "article (8-12% a language) are left out of retention.", "", table, ""]
    return "\n".join(out)


def cost_table(res: Results) -> str:
    """Measured cost per task: jobs, the jobs' CPU seconds (pruning and the target's runs; the LLMLingua
    worker's CPU is in its arm's CPU column instead) and wall seconds."""
    rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for d in res.done:
        regime, lang = d["done"].split("/")[:2]
        row = rows[(regime, lang)]
        row[0] += 1
        row[1] += d.get("job_cpu_s", 0.0)
        row[2] += d.get("job_wall_s", 0.0)
    lines = [[f"{g}/{x}", str(int(n)), f"{cpu:.0f}", f"{wall:.0f}"] for (g, x), (n, cpu, wall) in sorted(rows.items())]
    total = [sum(r[i] for r in rows.values()) for i in range(3)]
    lines.append(["**total**", str(int(total[0])), f"**{total[1]:.0f}**", f"{total[2]:.0f}"])
    return markdown(["task", "jobs", "CPU s", "wall s"], lines)


def questions_per_language(res: Results, regime: str) -> dict[str, int]:
    counts: dict[str, set] = defaultdict(set)
    for r in res.records:
        if r["regime"] == regime and r["arm"] == "none" and r.get("kl") is not None:
            counts[r["lang"]].add(r["item"])
    return {x: len(v) for x, v in counts.items()}


def prompts_per_language(res: Results) -> dict[str, tuple[int, int]]:
    """MGSM: lang -> (distinct shot sets, questions) among the questions with the KL. An arm prunes each exemplar
    once per rate, so a shot set is one pruned prompt; results from before the shots were drawn per question
    hold one set per language."""
    sets: dict[str, set] = defaultdict(set)
    items: dict[str, set] = defaultdict(set)
    for r in res.records:
        if r["regime"] == "mgsm" and r["arm"] == "none" and r.get("kl") is not None:
            sets[r["lang"]].add(tuple(r.get("shots") or ()))
            items[r["lang"]].add(r["item"])
    return {x: (len(sets[x]), len(items[x])) for x in items}


def plot(results: list[Results], image: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(res, regime, metric) for res in results for regime in res.regimes()
              for metric in (("kl", "retained") if regime in data.RAG_REGIMES else ("kl",))]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.8), squeeze=False)
    names = sorted({a for res, regime, _ in panels for a in res.arms(regime)})
    palette = plt.get_cmap("tab20")
    colour = {a: palette(i % 20) for i, a in enumerate(names)}
    for ax, (res, regime, metric) in zip(axes[0], panels):
        for arm in res.arms(regime):
            xs, ys, lo, hi = [], [], [], []
            for rate in res.rates(regime):
                vals = res.mean_over_seeds(regime, rate, arm, metric)
                if not vals:
                    continue
                keys = sorted(vals)
                v = np.array([vals[k] for k in keys])
                langs = [k[0] for k in keys]
                if metric == "kl":  # the geometric mean and its CI: the mean of log KL, exponentiated
                    ci = cluster_bootstrap(np.log(np.maximum(v, KL_FLOOR)), langs)
                    ys.append(np.exp(ci.mean))
                    lo.append(np.exp(ci.low))
                    hi.append(np.exp(ci.high))
                else:
                    ci = cluster_bootstrap(v, langs)
                    ys.append(ci.mean)
                    lo.append(ci.low)
                    hi.append(ci.high)
                xs.append(res.kept_share(regime, rate, arm, "target"))
            if xs:
                ys_a = np.array(ys)
                ax.errorbar(xs, ys, yerr=[ys_a - np.array(lo), np.array(hi) - ys_a], marker="o", capsize=3,
                            label=arm, color=colour[arm], linewidth=2.4 if arm in ("lite", "llmlingua") else 1.0)
        if metric == "kl":
            ax.set_yscale("log")
            ax.set_ylabel("geometric mean KL(full || pruned), nats/token")
        else:
            ax.set_ylabel("gold answer still in the passage")
        ax.set_xlabel("share of the target's tokens kept")
        ax.set_title(f"{regime} · {res.target()} · {res.split()} split", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(image, dpi=110)
    plt.close(fig)


def plot_passages(results: list[Results], image: Path) -> None:
    """Answer retention against the share of tokens kept, one panel per RAG regime (the in-family results)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = next((r for r in results if r.target().startswith("smollm2") and r.split() == "test"), None)
    regimes = [g for g in data.RAG_REGIMES if res is not None and g in res.regimes()]
    if not regimes:
        return
    fig, axes = plt.subplots(1, len(regimes), figsize=(6.4 * len(regimes), 4.6), squeeze=False)
    shown = ("lite+question", "sentences", "truncation", "llmlingua", "lite", "random")
    for ax, regime in zip(axes[0], regimes):
        for arm in [a for a in shown if a in res.arms(regime)]:
            xs, ys, lo, hi = [], [], [], []
            for rate in sorted(res.rates(regime)):
                vals = res.mean_over_seeds(regime, rate, arm, "retained")
                if not vals:
                    continue
                keys = sorted(vals)
                ci = cluster_bootstrap(np.array([vals[k] for k in keys]), [k[0] for k in keys])
                xs.append(res.kept_share(regime, rate, arm, "pruner"))
                ys.append(ci.mean)
                lo.append(ci.mean - ci.low)
                hi.append(ci.high - ci.mean)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=arm,
                            linewidth=2.4 if arm == "lite+question" else 1.0)
        ax.set_xlabel("share of the tokens kept")
        ax.set_ylabel("gold answer still in the pruned context")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{REGIME_SHORT[regime]}, {len(res.languages(regime))} languages, {res.split()} split", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(image, dpi=110)
    plt.close(fig)


def write_report(folder: Path, docs: bool | None = None) -> Path:
    """QUALITY.md and the plots from the results in `folder`; with `docs` (by default: when `folder` is this
    repository's bench/results), also the named tables in README.md and docs/*.md (see write_docs)."""
    files = sorted(folder.glob("quality-*.jsonl"))
    results = [Results(f) for f in files]
    results = [r for r in results if r.records]
    header = """# Pruning quality (bench v2)

Generated by `python -m bench.quality` (see docs/quality.md for how to run and read it). Every arm
produces text (lite through `Pruner.prune`; baselines through the same `Pruner.prune` with their
own scores; LLMLingua its own output) at the same budget of the pruner's tokens per segment; the
target tokenizes that text itself. KL: mean KL(full || pruned) over the first 24 tokens of the
target's greedy answer to the full prompt, teacher-forced. d = log KL(arm) - log mean KL(random,
4 seeds) per question; the CI is a 95% bootstrap clustered by language; "beats random" only where
it excludes 0. Every number names its split. Two arms are compared per question at budgets equal within
3% of the segment (arms run in one bench run get exactly the same budgets; an arm added by a later run
without the peer has the nominal budget where the others have the peer's count).
"""
    text = header + "\n" + summary_section(results) + "\n\n" + "\n\n".join(section(r) for r in results) + "\n"
    out = folder / "QUALITY.md"
    out.write_text(text, encoding="utf-8")
    plot(results, folder / "quality.png")
    plot_passages(results, folder / "passages.png")
    if docs or (docs is None and folder.resolve() == REPO / "bench" / "results"):
        print(write_docs(named_tables(results), REPO).summary(), file=sys.stderr)
    return out


# ---- the named tables in README.md and docs/*.md -----------------------------------------------------------
# Each table below is written between `<!-- table:NAME -->` and `<!-- /table:NAME -->` in whichever of README.md
# and docs/*.md holds that pair (write_docs), so the docs show what the last report computed, never a hand copy.
# They are drawn from the test split only (the split nothing was tuned on).
DOCS_SPLIT = "test"
POOLED_ARMS = ("lite", "lite:words", "attention", "rarity", "truncation", "selfinfo", "llmlingua")
PEER_ARMS = ("lite", "lite:words", "attention", "rarity", "truncation")
PEER_RAG_ARMS = ("lite+question", "sentences", "truncation")
CPU_ARMS = ("lite", "lite:words", "attention", "rarity", "truncation", "sentences", "lite+question", "selfinfo",
            "llmlingua")


def d_cell(res: Results, regime: str, rate: float, arm: str, reference: str) -> str:
    """Pooled d = log KL(arm) - log KL(reference) [95% CI] (questions); bold: the CI is below 0."""
    d, langs = res.paired_d(regime, rate, arm, reference)
    if not len(d):
        return "–"
    ci = cluster_bootstrap(d, langs)
    return f"{bold_if(ci.fmt(), ci.high < 0)} ({ci.n})"


def shown(arm: str) -> str:
    return f"`{arm}`" if arm in ("lite", "lite:words") else arm


def columns(res: Results, regimes=data.REGIMES) -> list[tuple[str, float]]:
    return [(g, rate) for g in res.regimes() if g in regimes for rate in res.rates(g)]


def d_table(res: Results, arms, reference: str, regimes=data.REGIMES) -> str | None:
    """One row per arm that has records, one column per regime and rate: d against `reference`."""
    cols = columns(res, regimes)
    rows = [[shown(arm), *[d_cell(res, g, rate, arm, reference) for g, rate in cols]]
            for arm in arms if arm != reference and any(res.by[(g, rate, arm)] for g, rate in cols)]
    if not cols or not rows or all(cell == "–" for row in rows for cell in row[1:]):
        return None
    return markdown(["arm", *[f"{REGIME_SHORT[g]} @{rate}" for g, rate in cols]], rows)


def cpu_table(res: Results) -> str | None:
    regimes = res.regimes()
    rows = [[arm, *[fmt(res.cpu_per_1k(g, arm), 1) for g in regimes]] for arm in CPU_ARMS
            if any(res.cpu_per_1k(g, arm) is not None for g in regimes)]
    return markdown(["arm", *[REGIME_SHORT[g] for g in regimes]], rows) if rows else None


def joined(*tables: str | None) -> str | None:
    found = [t for t in tables if t]
    return "\n\n".join(found) if found else None


def by_target(results: list[Results]) -> dict[str, Results]:
    """The test-split results per target ("smollm2", "gemma3"); of several files, the fullest profile."""
    out: dict[str, Results] = {}
    for res in sorted(results, key=lambda r: ("-full-" in r.path.name, len(r.records))):
        if res.split() == DOCS_SPLIT:
            out["gemma3" if res.target().startswith("gemma") else "smollm2"] = res
    return out


def named_tables(results: list[Results]) -> dict[str, str]:
    """The tables the docs show, by marker name, from the test-split results; a table the results cannot
    fill (a regime or target not run) is left out, and write_docs reports its markers as left as they were."""
    test = [r for r in results if r.split() == DOCS_SPLIT]
    targets = by_target(results)
    smol, gemma = targets.get("smollm2"), targets.get("gemma3")
    tables: dict[str, str | None] = {}
    if test:
        tables["verdict"] = default_verdict_table(sorted(test, key=lambda r: not r.target().startswith("smollm2")))
    if smol is not None:
        for regime, name in (("rag", "retention-rag"), ("rag5", "retention-rag5")):
            if regime in smol.regimes():
                tables[name] = passages_table(smol, regime)
        rag = data.RAG_REGIMES
        tables["question-kl"] = joined(d_table(smol, ["lite+question"], "truncation", rag),
                                       d_table(smol, ["lite+question"], "sentences", rag))
        tables["peer-rag"] = d_table(smol, PEER_RAG_ARMS, "llmlingua", rag)
        tables["pooled-smollm2"] = d_table(smol, POOLED_ARMS, RANDOM)
        tables["peer"] = d_table(smol, PEER_ARMS, "llmlingua", ("mgsm",))
        tables["cpu"] = cpu_table(smol)
    if gemma is not None:
        tables["pooled-gemma3"] = d_table(gemma, POOLED_ARMS, RANDOM)
    tables["vs-rarity"] = joined(*[d_table(r, ["lite"], "rarity") for r in (smol, gemma) if r is not None])
    tables["headline"] = headline_table(smol, gemma)
    return {name: table for name, table in tables.items() if table}


def verdict_word(ci, better_below: bool = True) -> str:
    if better_below:
        return "better" if ci.high < 0 else "worse" if ci.low > 0 else "tie"
    return "better" if ci.low > 0 else "worse" if ci.high < 0 else "tie"


# The headline rows, in order: (kind, label, what to look up). Each kind is measured by a source's method of that
# name (RawHeadline from the results files, ReportHeadline from the QUALITY.md they wrote) and written by
# headline_cells, so both sources give the same wording and formatting.
HEADLINE = (
    ("d", "Few-shot prompts (MGSM, {n_mgsm} languages) @0.7: lite vs random clauses, SmolLM2 target",
     ("smollm2", "mgsm", 0.7, "lite", RANDOM)),
    ("d", "the same, Gemma-3-270M target (cross-family)", ("gemma3", "mgsm", 0.7, "lite", RANDOM)),
    ("d", "Few-shot @0.7: lite vs in-text rarity alone (no model)", ("smollm2", "mgsm", 0.7, "lite", "rarity")),
    ("d", "One passage, no question @0.5: lite vs random clauses", ("smollm2", "rag", 0.5, "lite", RANDOM)),
    ("retention", "One passage + question @0.5: answer kept, lite vs truncation", ("rag", 0.5)),
    ("retention", "Five passages + question @0.5: answer kept, lite vs truncation", ("rag5", 0.5)),
    ("d", "One passage + question @0.5: target's KL, lite vs truncation",
     ("smollm2", "rag", 0.5, "lite+question", "truncation")),
    ("cpu", "CPU ms per 1,000 tokens (few-shot): lite vs LLMLingua (same SmolLM2)", ()),
)
NOT_MEASURED = "not in the report QUALITY.md (docs/quality.md has it)"


def headline_cells(kind: str, value) -> list[str]:
    """The "measured" and "lite is" cells of a headline row from what its source measured."""
    if kind == "d":
        return [f"d = {value.fmt()} ({value.n} questions)", verdict_word(value)]
    if kind == "retention":
        mine, theirs, ci = value
        return [f"{fmt(mine, 2)} vs {fmt(theirs, 2)}; difference {ci.fmt()} ({ci.n} questions)",
                verdict_word(ci, better_below=False)]
    mine, theirs = value
    return [f"{mine:,.0f} vs {theirs:,.0f}", f"{theirs / mine:,.0f}x less"]


def headline_markdown(source, keep_missing: bool) -> str | None:
    """The headline table from `source`; a row it cannot measure is left out, or with `keep_missing` says so."""
    rows = []
    for kind, label, args in HEADLINE:
        value = getattr(source, kind)(*args)
        label = label.format(n_mgsm=source.n_mgsm())
        if value is not None:
            rows.append([label, *headline_cells(kind, value)])
        elif keep_missing:
            rows.append([label, NOT_MEASURED, "–"])
    return markdown(["what (test split)", "measured", "lite is"], rows) if rows else None


class RawHeadline:
    """The headline's numbers from the results files (test split): Intervals and means, None where not run."""

    def __init__(self, smol: Results | None, gemma: Results | None):
        self.smol, self.targets = smol, {"smollm2": smol, "gemma3": gemma}

    def n_mgsm(self) -> int:
        return len(self.smol.languages("mgsm")) if self.smol is not None else 0

    def d(self, target: str, regime: str, rate: float, arm: str, reference: str):
        res = self.targets[target]
        if res is None:
            return None
        d, langs = res.paired_d(regime, rate, arm, reference)
        return cluster_bootstrap(d, langs) if len(d) else None

    def retention(self, regime: str, rate: float):
        smol = self.smol
        if smol is None or not smol.by[(regime, rate, "lite+question")] or not smol.by[(regime, rate, "truncation")]:
            return None
        diff, langs = smol.paired_diff(regime, rate, "lite+question", "truncation", "retained")
        mine, _ = smol.field_mean(regime, rate, "lite+question", "retained")
        theirs, _ = smol.field_mean(regime, rate, "truncation", "retained")
        return mine, theirs, cluster_bootstrap(diff, langs)

    def cpu(self):
        if self.smol is None:
            return None
        mine, theirs = self.smol.cpu_per_1k("mgsm", "lite"), self.smol.cpu_per_1k("mgsm", "llmlingua")
        return (mine, theirs) if mine and theirs else None


def headline_table(smol: Results | None, gemma: Results | None) -> str | None:
    """A few rows a newcomer can read, where lite wins and where it does not (test split): the default
    against random clauses and against rarity alone (few-shot), without a question (one passage), with a
    question (retention and KL against truncation), and its CPU cost against LLMLingua's."""
    return headline_markdown(RawHeadline(smol, gemma), keep_missing=False)


# ---- the same tables from the committed QUALITY.md, when the raw results are absent ------------------------
# QUALITY.md is what the report wrote from the raw results (which are not committed). Its tables are read back by
# the headings above them and their columns' and rows' labels; a number is only ever taken from its cell.
@dataclass
class ReportTable:
    """One Markdown table of QUALITY.md: the headings it is under (level -> text), the paragraph before it."""
    headings: dict[int, str]
    caption: str
    head: list[str]
    rows: list[list[str]]
    text: str

    def cell(self, column: str, *keys: str) -> str | None:
        """The cell in `column` of the first row whose leading cells are `keys` (bold and an arm's
        "(method)" suffix ignored: "lite" finds "lite (rank_mix)"), or None."""
        if column not in self.head:
            return None
        for row in self.rows:
            if all(plain(c) == k or plain(c).startswith(k + " (") for c, k in zip(row, keys)):
                return row[self.head.index(column)]
        return None


def plain(cell: str) -> str:
    return cell.replace("**", "").strip()


def report_tables(text: str) -> list[ReportTable]:
    """Every table in a QUALITY.md text, in order."""
    tables, headings, caption, block = [], {}, "", []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            cells = [[c.strip() for c in b.strip().strip("|").split("|")] for b in block]
            tables.append(ReportTable(dict(headings), caption, cells[0], cells[2:], "\n".join(block)))
            block = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = line.lstrip("#").strip()
            caption = ""
        elif line.strip():
            caption = line.strip()
    return tables


REGIME_HEADING = {"mgsm": "Regime (a)", "rag": "Regime (b)", "rag5": "Regime (c)"}
TARGET_NAME = {"smollm2": "smollm2", "gemma3": "gemma"}  # by_target's keys -> the start of the target's name


def parse_interval(cell: str | None, n: int | None) -> Interval | None:
    """ "-0.84 [-1.38, -0.31]" (bold or not) and a count -> an Interval; None where either is missing."""
    m = re.fullmatch(r"([+-]?\d+\.\d+) \[([+-]?\d+\.\d+), ([+-]?\d+\.\d+)\]", plain(cell or ""))
    if m is None or n is None:
        return None
    return Interval(float(m[1]), float(m[2]), float(m[3]), n, 0)


def number(cell: str | None) -> float | None:
    try:
        return float(plain(cell or "").replace(",", ""))
    except ValueError:
        return None


def retention_per_language(tables: list[ReportTable], regime: str) -> ReportTable | None:
    """The summary's answer retention per language of SmolLM2 on the test split (the named table retention-*)."""
    return next((t for t in tables if t.head[:2] == ["rate", "strategy"] and t.caption.startswith(
        f"**Answer retention per language**, {REGIME_SHORT[regime]}, target {TARGET_NAME['smollm2']}")
        and f"{DOCS_SPLIT} split" in t.caption), None)


class ReportHeadline:
    """The headline's numbers read from QUALITY.md's tables (test split), None where a cell is not there.

    d and its CI: the summary table of the target, regime and rate ("d vs random [95% CI]"; against another
    reference than random QUALITY.md has no pooled d); its questions: the sign test's wins + losses there (a
    question with d exactly 0 would not be counted). Retention: the paired-differences table ("retained",
    "minus truncation [95% CI]"); its questions: the per-language retention table's count, when lite+question
    and truncation ran on as many questions. CPU: the summary table's "CPU ms / 1k tokens"."""

    def __init__(self, text: str):
        self.tables = report_tables(text)

    def section(self, target: str, regime: str, rate: float | None = None) -> list[ReportTable]:
        """The tables of the target's test-split section under the regime (and the rate)."""
        return [t for t in self.tables
                if f"target {TARGET_NAME[target]}" in t.headings.get(2, "")
                and f"**{DOCS_SPLIT} split**" in t.headings.get(2, "")
                and t.headings.get(3, "").startswith(REGIME_HEADING[regime])
                and (rate is None or t.headings.get(4) == f"Rate {rate} ({DOCS_SPLIT} split)")]

    def find(self, target: str, regime: str, column: str, rate: float | None = None) -> ReportTable | None:
        """Its first table with an "arm" column and `column`."""
        return next((t for t in self.section(target, regime, rate) if t.head[:1] == ["arm"] and column in t.head),
                    None)

    def n_mgsm(self) -> int:
        table = next((t for t in self.section("smollm2", "mgsm") if t.caption.startswith("Mean KL per language")),
                     None)
        return len(table.head) - 1 if table else 0

    def d(self, target: str, regime: str, rate: float, arm: str, reference: str):
        column = f"d vs {reference} [95% CI]"
        table = self.find(target, regime, column, rate) if reference == RANDOM else None
        if table is None:
            return None
        signs = re.match(r"(\d+)/(\d+) ", plain(table.cell("wins/losses (p)", arm) or ""))
        return parse_interval(table.cell(column, arm), int(signs[1]) + int(signs[2]) if signs else None)

    def retention(self, regime: str, rate: float):
        table = self.find("smollm2", regime, "minus truncation [95% CI]", rate)
        counts = retention_per_language(self.tables, regime)
        if table is None or counts is None:
            return None
        n = {arm: counts.cell("questions", str(rate), arm) for arm in ("lite+question", "truncation")}
        ci = parse_interval(table.cell("minus truncation [95% CI]", "lite+question"),
                            int(n["truncation"]) if n["truncation"] and n["truncation"] == n["lite+question"]
                            else None)
        mine, theirs = number(table.cell("retained", "lite+question")), number(table.cell("retained", "truncation"))
        return (mine, theirs, ci) if ci is not None and mine is not None and theirs is not None else None

    def cpu(self):
        table = self.find("smollm2", "mgsm", "CPU ms / 1k tokens")
        mine, theirs = (number(table.cell("CPU ms / 1k tokens", arm)) if table else None
                        for arm in ("lite", "llmlingua"))
        return (mine, theirs) if mine and theirs else None


def named_tables_from_report(text: str) -> dict[str, str]:
    """The named tables QUALITY.md holds as they are (the verdict, smollm2 first as named_tables writes it; the
    answer retention per language) and the headline built from its cells; the other named tables (pooled d with
    its counts, the peer's, CPU, vs rarity, question KL) are not in QUALITY.md and are left out."""
    tables = report_tables(text)
    out = {}
    verdict = next((t for t in tables if t.head[:3] == ["target", "regime", "bin"]
                    and t.caption == f"*{DOCS_SPLIT} split*"), None)
    if verdict is not None:
        rows = sorted(verdict.rows, key=lambda r: not r[0].startswith("smollm2"))
        out["verdict"] = markdown(verdict.head, rows)
    for regime, name in (("rag", "retention-rag"), ("rag5", "retention-rag5")):
        found = retention_per_language(tables, regime)
        if found is not None:
            out[name] = found.text
    out["headline"] = headline_markdown(ReportHeadline(text), keep_missing=True)
    return {name: table for name, table in out.items() if table}


# a marker is a line of its own (so a marker quoted inside a sentence or a code span is text, not a marker)
OPEN = re.compile(r"^<!-- table:([\w.+-]+) -->[ \t]*$", re.M)
CLOSE = re.compile(r"^<!-- /table:([\w.+-]+) -->[ \t]*$", re.M)


class DocsTableError(Exception):
    """A marker without its pair, or pairs nested or crossed: nothing is written."""


@dataclass
class DocsUpdate:
    written: dict[str, list[str]] = field(default_factory=dict)  # table name -> files it was written in
    changed: list[str] = field(default_factory=list)  # files whose text changed
    not_found: list[str] = field(default_factory=list)  # tables with no marker pair in any file
    no_table: dict[str, list[str]] = field(default_factory=dict)  # marker pairs no table was made for

    def summary(self) -> str:
        lines = [f"docs tables: {len(self.written)} written, {len(self.changed)} file(s) changed"
                 + (f" ({', '.join(self.changed)})" if self.changed else "")]
        for name in self.not_found:
            lines.append(f"warning: table {name!r} has no <!-- table:{name} --> marker pair in README.md or docs/")
        for name, files in self.no_table.items():
            lines.append(f"warning: markers table:{name} in {', '.join(files)} left as they were (no results for it)")
        return "\n".join(lines)


def marker_pairs(text: str, where: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each pair's content, between the end of `<!-- table:NAME -->` and the start of
    `<!-- /table:NAME -->`; an unpaired, nested or crossed marker is a DocsTableError naming the line."""
    events = sorted([(m.start(), "open", m) for m in OPEN.finditer(text)]
                    + [(m.start(), "close", m) for m in CLOSE.finditer(text)], key=lambda e: e[0])
    pairs, current = [], None
    for _, kind, m in events:
        line = text.count("\n", 0, m.start()) + 1
        if kind == "open":
            if current is not None:
                raise DocsTableError(f"{where}:{line}: table:{m.group(1)} opens inside table:{current.group(1)}, "
                                     f"which has no closing <!-- /table:{current.group(1)} --> before it")
            current = m
        else:
            if current is None or current.group(1) != m.group(1):
                raise DocsTableError(f"{where}:{line}: <!-- /table:{m.group(1)} --> closes no open "
                                     f"<!-- table:{m.group(1)} -->")
            pairs.append((m.group(1), current.end(), m.start()))
            current = None
    if current is not None:
        line = text.count("\n", 0, current.start()) + 1
        raise DocsTableError(f"{where}:{line}: table:{current.group(1)} has no closing "
                             f"<!-- /table:{current.group(1)} -->")
    return pairs


def docs_files(root: Path) -> list[Path]:
    return [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))] if p.is_file()]


def write_docs(tables: dict[str, str], root: Path = REPO, files: list[Path] | None = None) -> DocsUpdate:
    """Write each table between its markers in README.md and docs/*.md under `root` (or `files`), replacing
    what was there: idempotent, every file checked before any is written, each written atomically."""
    files = docs_files(root) if files is None else files
    update = DocsUpdate()
    new_texts = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        where = os.path.relpath(path, root)
        out, last = [], 0
        for name, start, end in marker_pairs(text, where):
            if name not in tables:
                update.no_table.setdefault(name, []).append(where)
                continue
            out += [text[last:start], "\n", tables[name].strip("\n"), "\n"]
            last = end
            update.written.setdefault(name, []).append(where)
        new = "".join(out) + text[last:]
        if new != text:
            new_texts[path] = new
            update.changed.append(where)
    update.not_found = [name for name in tables if name not in update.written]
    for path, text in new_texts.items():
        atomic_write(path, text)
    return update


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m bench.quality.report",
                                description="Rewrite QUALITY.md, the plots and the docs' named tables from the "
                                            "results files.")
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results", help="folder of quality-*.jsonl")
    p.add_argument("--docs-only", action="store_true",
                   help="only the tables in README.md and docs/*.md; without quality-*.jsonl results, the ones "
                        "QUALITY.md holds and the headline built from it")
    p.add_argument("--root", type=Path, default=REPO, help="the checkout whose README.md and docs/ are written")
    args = p.parse_args(argv)
    results = [r for r in (Results(f) for f in sorted(args.results.glob("quality-*.jsonl"))) if r.records]
    report = args.results / "QUALITY.md"
    if results:
        tables, source = named_tables(results), f"the results files in {args.results}"
    elif args.docs_only and report.is_file():
        tables = named_tables_from_report(report.read_text(encoding="utf-8"))
        source = f"{report} (no quality-*.jsonl results in {args.results})"
    else:
        print(f"error: no quality-*.jsonl results in {args.results}: run python -m bench.quality first",
              file=sys.stderr)
        return 2
    print(f"docs tables from {source}", file=sys.stderr)
    try:
        if not args.docs_only:
            print(write_report(args.results, docs=False))
        update = write_docs(tables, args.root)
    except DocsTableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(update.summary(), file=sys.stderr)
    return 1 if update.not_found else 0


if __name__ == "__main__":
    raise SystemExit(main())
