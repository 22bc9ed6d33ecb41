"""RAG.md and rag.png from the raw results (rag-<split>.jsonl, rag-kl-<split>.jsonl): nothing is typed by hand.

`python -m bench.rag.report [--split test] [--results DIR]` rewrites them.
Retention is a share of questions (the gold answer string still in the gold passage's kept text);
"kept" is the mean share of the passages' tokens (pruner tokens) an arm kept. Comparisons are
paired (the same contexts): the mean difference with a 95% bootstrap CI (bench/quality/stats.py;
clustered by language where languages are pooled, over questions within one language).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.quality.stats import cluster_bootstrap, log_ratio, sign_test

from .arms import RATES
from .contexts import LANGUAGES
from .run import read_jsonl, records

FAMILIES = ("lite", "bm25", "minilm", "truncation", "longllmlingua")
PEER = "longllmlingua"  # the peer runs on a subset of the contexts: its own section compares on that subset
COMPARED = (0.05, 0.1, 0.2)  # the rates for lite against whole passages
HEADLINE_SIZE = 20


def mean(rows: list[dict], key: str) -> float:
    return float(np.mean([float(r[key]) for r in rows])) if rows else float("nan")


def cell(rows: list[dict]) -> str:
    """Retention (kept share) of some records, or a dash."""
    return f"{mean(rows, 'retained'):.3f} ({mean(rows, 'share'):.3f})" if rows else "-"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def select(rows: list[dict], **where) -> list[dict]:
    return [r for r in rows if all(r.get(k) == v for k, v in where.items())]


def arm_names(rows: list[dict]) -> list[str]:
    """The arms present, by family then rate."""
    names = {r["arm"] for r in rows}
    order = [f"{f}@{r}" for f in FAMILIES for r in RATES] + ["auto"]
    return [n for n in order if n in names] + sorted(names - set(order))


def paired(rows: list[dict], arm: str, other: str) -> tuple[np.ndarray, list[str]]:
    """retained(arm) - retained(other) on the contexts both ran on: [m], and each one's language."""
    key = lambda r: (r["lang"], r["size"], r["kind"], r["id"])  # noqa: E731
    a = {key(r): r["retained"] for r in rows if r["arm"] == arm}
    b = {key(r): r["retained"] for r in rows if r["arm"] == other}
    common = sorted(a.keys() & b.keys())
    return np.asarray([float(a[k]) - float(b[k]) for k in common]), [k[0] for k in common]  # [m]


def overview(rows: list[dict], sizes: list[int]) -> list[str]:
    out = [f"### Retention by number of passages (hard and easy distractors, {len(langs(rows))} languages)", "",
           "Retention, and in brackets the share of tokens kept; each cell pools every language and both kinds.", ""]
    body = [[name, *(cell(select(rows, arm=name, size=s)) for s in sizes)] for name in arm_names(rows)]
    body.append(["*languages*", *(" ".join(langs(select(rows, size=s))) for s in sizes)])
    body.append(["*questions per arm*", *(str(len(select(rows, size=s, arm="lite@0.1"))) for s in sizes)])
    if select(rows, family=PEER):
        out[2] += (f" {PEER}@r runs on a subset of the contexts (its own section below compares the arms on it), "
                   "so its cells are not comparable with the others'.")
    return out + table(["arm", *(f"{s} passages" for s in sizes)], body) + [""]


def by_kind(rows: list[dict], size: int) -> list[str]:
    out = [f"### {size} passages: hard and easy distractors", "",
           "Retention with a 95% CI (bootstrap clustered by language), and the share of tokens kept.", ""]
    body = []
    for name in arm_names(rows):
        found = select(rows, arm=name, size=size)
        if not found:
            continue
        cells = []
        for kind in ("hard", "easy"):
            part = select(found, kind=kind)
            ci = cluster_bootstrap([float(r["retained"]) for r in part], [r["lang"] for r in part]) if part else None
            cells.append(f"{ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}]" if ci else "-")
        body.append([name, f"{mean(found, 'share'):.3f}", *cells])
    if select(rows, family=PEER, size=size):
        out[2] += f" {PEER}@r: on its subset of the contexts only (see its own section)."
    return out + table(["arm", "kept", "hard", "easy"], body) + [""]


def langs(rows: list[dict]) -> list[str]:
    found = {r["lang"] for r in rows}
    return [x for x in LANGUAGES if x in found] + sorted(found - set(LANGUAGES))


def per_language(rows: list[dict], size: int | None) -> tuple[list[str], dict]:
    """lite against bm25 and minilm per language, one table per compared rate; and per (rate, other) the count
    of languages where lite ties or beats it (point estimates), where the CI is wholly below 0, and in all."""
    part = select(rows, size=size) if size else rows
    wins: dict = defaultdict(lambda: [0, 0, 0])  # (rate, other) -> [lite >= other, CI below 0, languages]
    out = []
    for rate in COMPARED:
        body = []
        for lang in langs(part):
            rows_l = select(part, lang=lang)
            line = [lang, *(f"{mean(select(rows_l, arm=f'{f}@{rate}'), 'retained'):.3f}"
                            for f in ("lite", "bm25", "minilm"))]
            for other in ("bm25", "minilm"):
                d, clusters = paired(rows_l, f"lite@{rate}", f"{other}@{rate}")
                if not d.size:
                    line.append("-")
                    continue
                ci = cluster_bootstrap(d, clusters)
                line.append(ci.fmt(3) + (" *" if ci.excludes_zero else ""))
                w = wins[(rate, other)]
                w[0] += ci.mean >= 0
                w[1] += ci.high < 0
                w[2] += 1
            body.append(line)
        header = ["lang", "lite", "bm25", "minilm", "lite − bm25", "lite − minilm"]
        out += [f"Rate {rate}:", "", *table(header, body), ""]
    return out, wins


def wins_lines(wins: dict, what: str) -> list[str]:
    out = []
    for (rate, other), (ok, worse, count) in sorted(wins.items()):
        out.append(f"- {what}, rate {rate}: lite's retention ≥ {other}'s in **{ok} of {count}** languages "
                   f"(significantly below it, CI under 0, in {worse})")
    return out


def wins_table(rows: list[dict]) -> list[str]:
    """Languages where lite's retention is at least the other's, per number of passages and rate."""
    header, body = ["passages"], []
    for other in ("bm25", "minilm"):
        header += [f"≥ {other} @{rate}" for rate in COMPARED]
    for size in sorted({r["size"] for r in rows}):
        wins = per_language(rows, size)[1]
        body.append([str(size), *(f"{wins[(rate, other)][0]} of {wins[(rate, other)][2]}"
                                  + (f" ({wins[(rate, other)][1]} below)" if wins[(rate, other)][1] else "")
                                  for other in ("bm25", "minilm") for rate in COMPARED)])
    return ["Languages where lite's retention is at least the other arm's (point estimates; \"below\": the paired "
            "CI wholly under 0), by number of passages, hard and easy pooled:", "", *table(header, body), ""]


def comparison(rows: list[dict]) -> list[str]:
    out = ["## lite against whole passages ranked by BM25 and by MiniLM", "",
           "The issue's bar: at 0.05, 0.1 and 0.2, lite's retention is at least that of whole passages ranked "
           "by BM25 and by MiniLM in ≥ 10 of 12 languages. Per language: retention of each arm, and the paired "
           "difference lite − other with its 95% bootstrap CI over the language's contexts (* where it excludes "
           "0).", ""]
    out += wins_table(rows)
    lines, wins = per_language(rows, HEADLINE_SIZE)
    out += [f"### {HEADLINE_SIZE} passages, hard and easy distractors", "", *lines]
    out += wins_lines(wins, f"{HEADLINE_SIZE} passages") + [""]
    lines, wins_all = per_language(rows, None)
    out += ["### Every number of passages, hard and easy", "", *lines]
    out += wins_lines(wins_all, "all sizes") + [""]
    return out


def peer_section(rows: list[dict]) -> list[str]:
    """LongLLMLingua against lite, BM25 and MiniLM on the contexts it ran on: per rate, per language and pooled."""
    peer = select(rows, family=PEER)
    if not peer:
        return []
    key = lambda r: (r["lang"], r["size"], r["kind"], r["id"])  # noqa: E731
    subset = {key(r) for r in peer}
    part = [r for r in rows if key(r) in subset]
    sizes = " ".join(map(str, sorted({r["size"] for r in peer})))
    kinds = " ".join(sorted({r["kind"] for r in peer}))
    out = ["## LongLLMLingua (its context filter) on its subset", "",
           f"{PEER}@r: LLMLingua 0.2.2's LongLLMLingua with SmolLM2 as its scorer, the passages as its list of "
           "contexts with its context-level filter (bench/rag/arms.py). It runs the LM over every passage, so it runs "
           f"on a subset: {len(subset)} questions ({sizes} passages, {kinds} distractors; "
           + ", ".join(f"{lang} {len({k for k in subset if k[0] == lang})}" for lang in langs(peer))
           + "). Every arm below is read on those contexts only. Cells: retention (share of tokens kept); "
           "\"reached\": the contexts where its output kept the budget within 3% of the tokens (its asked rate is "
           "driven, at most 3 calls); CPU: seconds per context, the worker's included.", ""]
    body, per_rate = [], []
    for rate in sorted({r["rate"] for r in peer}):
        found = select(peer, arm=f"{PEER}@{rate}")
        keys = {key(r) for r in found}  # the contexts it ran on at this rate: every arm is read on those
        at = [r for r in part if key(r) in keys]
        line = [f"{rate}", *(cell(select(at, arm=f"{f}@{rate}")) for f in (PEER, "lite", "bm25", "minilm"))]
        d, clusters = paired(at, f"lite@{rate}", f"{PEER}@{rate}")
        line.append(cluster_bootstrap(d, clusters).fmt(3) if d.size else "-")
        line += [f"{sum(bool(r.get('hit')) for r in found)} of {len(found)}", f"{mean(found, 'cpu_ms') / 1000:.1f}"]
        body.append(line)
        rows_l = [[lang, str(len(select(found, lang=lang))),
                   *(f"{mean(select(at, arm=f'{f}@{rate}', lang=lang), 'retained'):.3f}"
                     for f in (PEER, "lite", "bm25", "minilm"))] for lang in langs(found)]
        per_rate += [f"Rate {rate}, per language:", "",
                     *table(["lang", "questions", PEER, "lite", "bm25", "minilm"], rows_l), ""]
    out += table(["rate", PEER, "lite", "bm25", "minilm", f"lite − {PEER} (CI by language)", "reached", "CPU s"],
                 body) + [""]
    return out + per_rate


def auto_section(rows: list[dict], sizes: list[int]) -> list[str]:
    out = ["## `rate=\"auto\"`: kept share and retention per language", ""]
    auto = select(rows, arm="auto")
    if not auto:
        return out + ["Not run: the lite these results were measured with did not accept `rate=\"auto\"`.", ""]
    out += ["The issue's bar: retention ≥ 0.95 (no language under 0.85) at ≤ 10% of the tokens of 20 passages; "
            "≥ 0.97 at ≤ 30% with 5 passages. Cells: retention (kept share), hard and easy pooled.", ""]
    body = [[lang, *(cell(select(auto, lang=lang, size=s)) for s in sizes)] for lang in langs(auto)]
    body.append(["all", *(cell(select(auto, size=s)) for s in sizes)])
    return out + table(["lang", *(f"{s} passages" for s in sizes)], body) + [""]


def kl_section(kl_rows: list[dict]) -> list[str]:
    out = ["## The target's KL (subset)", ""]
    rows = [r for r in kl_rows if "kl" in r]
    skipped = [r for r in kl_rows if "skipped" in r]
    if not rows:
        return out + ["Not run (`python -m bench.rag --kl`).", ""]
    out += ["KL(full ‖ pruned) of the target's next-token distributions over the first 24 tokens of its greedy "
            "answer to the full passages, and the share of those positions whose top-1 token flips. "
            "d = log KL(arm) − log KL(reference arm) per question (KL floored at 1e-6), mean with a 95% bootstrap "
            "CI clustered by language, and the sign test (wins: d < 0). With a handful of questions and languages "
            "the CI says little: read the sign counts.", ""]
    for target, size in sorted({(r["target"], r["size"]) for r in rows}):
        part = select(rows, target=target, size=size)
        skip = [r for r in skipped if r["target"] == target and r["size"] == size]
        out += [f"### {target}: {len({(r['lang'], r['id']) for r in part})} questions of {size} passages (hard), "
                f"languages {' '.join(langs(part))}"
                + (f"; {len(skip)} skipped, full prompt too long ({' '.join(sorted({r['lang'] for r in skip}))})"
                   if skip else ""), ""]
        body = []
        for name in dict.fromkeys(r["arm"] for r in part):
            arm_rows = select(part, arm=name)
            ref = f"lite@{arm_rows[0]['rate']}" if arm_rows[0]["rate"] is not None else "lite@0.1"
            body.append([name, f"{mean(arm_rows, 'share'):.3f}", f"{mean(arm_rows, 'retained'):.2f}",
                         f"{mean(arm_rows, 'kl'):.3f}", f"{mean(arm_rows, 'flip'):.2f}",
                         *kl_diff(part, name, ref)])
        out += table(["arm", "kept", "retention", "mean KL", "flips", "d vs lite at its rate", "wins/losses (p)"],
                     body) + [""]
    return out


def kl_diff(rows: list[dict], arm: str, ref: str) -> list[str]:
    if arm == ref:
        return ["(reference)", ""]
    key = lambda r: (r["lang"], r["id"])  # noqa: E731
    a = {key(r): r["kl"] for r in rows if r["arm"] == arm}
    b = {key(r): r["kl"] for r in rows if r["arm"] == ref}
    common = sorted(a.keys() & b.keys())
    if not common:
        return ["-", "-"]
    d = log_ratio([a[k] for k in common], [b[k] for k in common])  # [m]
    ci = cluster_bootstrap(d, [k[0] for k in common])
    w, loss, p = sign_test(d)
    return [ci.fmt(2) + (" *" if ci.excludes_zero else ""), f"{w}/{loss} (p={p:.2f})"]


def plot(rows: list[dict], sizes: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sizes), figsize=(4 * len(sizes), 3.8), sharey=True, squeeze=False)
    for ax, size in zip(axes[0], sizes):
        part = select(rows, size=size)
        for family in FAMILIES:
            points = [(mean(found, "share"), mean(found, "retained")) for rate in RATES
                      if (found := select(part, arm=f"{family}@{rate}"))]
            if points:
                ax.plot(*zip(*points), marker="o", label=family)
        auto = select(part, arm="auto")
        if auto:
            ax.plot([mean(auto, "share")], [mean(auto, "retained")], marker="*", markersize=12, linestyle="",
                    label="auto")
        ax.set_title(f"{size} passages ({len(langs(part))} languages)")
        ax.set_xlabel("share of tokens kept")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("answer retention")
    axes[0][0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latest_kl(lines: list[dict]) -> list[dict]:
    """The KL records and skips, the last one of each (target, context, arm) if it was measured twice."""
    latest: dict[tuple, dict] = {}
    for r in lines:
        if "arm" in r or "skipped" in r:
            latest[(r["target"], r["split"], r["lang"], r["size"], r["kind"], r["id"], r.get("arm"))] = r
    return list(latest.values())


def other_sources(rows: list[dict]) -> list[str]:
    """Retention on sources beside XQuAD (English): arm by number of passages."""
    out = []
    for source in sorted({r["source"] for r in rows}):
        part = select(rows, source=source)
        sizes = sorted({r["size"] for r in part})
        out += [f"## {source} ({len({r['id'] for r in part})} questions, {part[0]['kind']} distractors)", "",
                "Retention (share of tokens kept).", ""]
        body = [[name, *(cell(select(part, arm=name, size=s)) for s in sizes)] for name in arm_names(part)]
        out += table(["arm", *(f"{s} passages" for s in sizes)], body) + [""]
    return out


def write_report(results: Path, split: str = "test") -> Path:
    everything = records(results / f"rag-{split}.jsonl")
    rows = [r for r in everything if r["source"] == "xquad"]
    kl_path = results / f"rag-kl-{split}.jsonl"
    kl_rows = latest_kl(read_jsonl(kl_path)) if kl_path.is_file() else []
    sizes = sorted({r["size"] for r in rows})
    png = "rag.png" if split == "test" else f"rag-{split}.png"
    lines = [f"# Many passages, one about the question ({split} split)", "",
             "Written by `python -m bench.rag` (bench/rag/report.py) from "
             f"`{(results / f'rag-{split}.jsonl').name}`: do not edit by hand. How it is measured: "
             "[docs/quality.md](../../docs/quality.md#many-passages-benchrag).", "",
             f"XQuAD: {len(rows)} records: {len({r['arm'] for r in rows})} arms, {len(langs(rows))} languages "
             f"({' '.join(langs(rows))}), {' '.join(map(str, sizes))} passages, "
             f"{len({(r['lang'], r['id']) for r in rows})} questions.", "",
             f"![retention against tokens kept]({png})", ""]
    if rows:
        lines += by_kind(rows, HEADLINE_SIZE if HEADLINE_SIZE in sizes else sizes[-1])
        lines += overview(rows, sizes) + comparison(rows) + peer_section(rows) + auto_section(rows, sizes)
        plot(rows, sizes, results / png)
    lines += other_sources([r for r in everything if r["source"] != "xquad"]) + kl_section(kl_rows)
    path = results / ("RAG.md" if split == "test" else f"RAG-{split}.md")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.rag.report", description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("dev", "test"), default="test")
    p.add_argument("--results", type=Path, default=Path(__file__).resolve().parents[1] / "results")
    args = p.parse_args(argv)
    print(write_report(args.results, args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
