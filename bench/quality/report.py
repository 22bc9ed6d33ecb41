"""Tables and plot from the result records: mean KL per strategy, language, resource bin and rate.

KL of a (language, strategy, rate) is the mean over questions (and, for random, over its seeds);
a bin's or all languages' KL is the mean over their languages (each language weighs the same).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from .prompts import RESOURCE_BINS
from .strategies import BASELINE, strategy_names


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else float("nan")


class Results:
    def __init__(self, records: list[dict]):
        self.records = [r for r in records if r["strategy"] != BASELINE]
        self.languages = list(dict.fromkeys(r["lang"] for r in records))
        self.rates = sorted({r["rate"] for r in self.records}, reverse=True)
        self.strategies = [s for s in strategy_names() if any(r["strategy"] == s for r in self.records)]
        self.questions = {lang: len({r["question"] for r in records if r["lang"] == lang}) for lang in self.languages}
        grouped = defaultdict(list)
        for r in self.records:
            grouped[r["lang"], r["strategy"], r["rate"]].append(r)
        self.grouped = grouped

    def kl(self, lang: str, strategy: str, rate: float) -> float:
        return mean(r["kl"] for r in self.grouped[lang, strategy, rate])

    def kl_over(self, langs, strategy: str, rate: float) -> float:
        return mean(self.kl(lang, strategy, rate) for lang in langs if lang in self.languages)

    def agreement(self, strategy: str, rate: float, field: str) -> float:
        return mean(float(r[field]) for lang in self.languages for r in self.grouped[lang, strategy, rate]
                    if r[field] is not None)

    def beats_random(self, strategy: str, rate: float) -> list[str]:
        return [lang for lang in self.languages if self.kl(lang, strategy, rate) < self.kl(lang, "random", rate)]

    def beats_random_everywhere(self, strategy: str) -> list[str]:
        return [lang for lang in self.languages
                if all(self.kl(lang, strategy, rate) < self.kl(lang, "random", rate) for rate in self.rates)]

    def saved(self, lang: str, rate: float) -> tuple[int, int]:
        """(tokens of the exemplars, tokens kept) for one language and rate (the same for every strategy)."""
        r = self.grouped[lang, "lite", rate][0]
        return r["origin_tokens"], r["kept_tokens"]

    def bins(self) -> dict[str, tuple[str, ...]]:
        present = {name: tuple(l for l in langs if l in self.languages) for name, langs in RESOURCE_BINS.items()}
        return {name: langs for name, langs in present.items() if langs}


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def fmt(value: float, digits: int = 3) -> str:
    return "–" if np.isnan(value) else f"{value:.{digits}f}"


def summary_table(res: Results) -> str:
    n_lang = len(res.languages)
    header = ["strategy", *(f"KL @{r}" for r in res.rates), *(f"beats random @{r}" for r in res.rates),
              "beats random at every rate", "first line agrees", "final number agrees"]
    rows = []
    for s in res.strategies:
        beats = ["–" if s == "random" else f"{len(res.beats_random(s, r))}/{n_lang}" for r in res.rates]
        everywhere = "–" if s == "random" else f"{len(res.beats_random_everywhere(s))}/{n_lang}"
        agree = [fmt(mean(res.agreement(s, r, f) for r in res.rates), 2) for f in ("first_line_agrees", "number_agrees")]
        rows.append([s, *(fmt(res.kl_over(res.languages, s, r)) for r in res.rates), *beats, everywhere, *agree])
    return table(header, rows)


def bin_table(res: Results) -> str:
    bins = res.bins()
    header = ["strategy", *(f"{name} @{r}" for name in bins for r in res.rates)]
    rows = [[s, *(fmt(res.kl_over(langs, s, r)) for langs in bins.values() for r in res.rates)] for s in res.strategies]
    return table(header, rows)


def language_table(res: Results, rate: float) -> str:
    header = ["strategy", *res.languages]
    rows = []
    for s in res.strategies:
        cells = []
        for lang in res.languages:
            value = res.kl(lang, s, rate)
            better = s != "random" and value < res.kl(lang, "random", rate)
            cells.append(f"**{fmt(value)}**" if better else fmt(value))
        rows.append([s, *cells])
    return table(header, rows)


def saved_table(res: Results) -> str:
    header = ["rate", *res.languages]
    rows = []
    for rate in res.rates:
        cells = []
        for lang in res.languages:
            origin, kept = res.saved(lang, rate)
            cells.append(f"{origin - kept} ({100 * (origin - kept) / origin:.0f}%)")
        rows.append([str(rate), *cells])
    return table(header, rows)


def plot(res: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = {"all languages": tuple(res.languages)}
    panels.update({f"{name}-resource ({', '.join(langs)})": langs for name, langs in res.bins().items()})
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), sharey=True, squeeze=False)
    for ax, (title, langs) in zip(axes[0], panels.items()):
        for s in res.strategies:
            kept = [1.0] + [mean(res.saved(l, r)[1] / res.saved(l, r)[0] for l in langs) for r in res.rates]
            kls = [0.0] + [res.kl_over(langs, s, r) for r in res.rates]
            style = {"lite": "-o", "random": "--s", "inverse": ":^"}.get(s, "-.x")
            ax.plot(kept, kls, style, label=s, linewidth=2 if s in ("lite", "random") else 1.2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("kept fraction of exemplar tokens")
        ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean KL(full || pruned), nats/token")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
