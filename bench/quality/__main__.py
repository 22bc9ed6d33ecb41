"""`python -m bench.quality [--quick] [--target FOLDER]`: run the quality benchmark, write bench/results/QUALITY.md and a plot.

The full run (all 250 questions, 8 shots, 11 languages) takes days on 2 CPU cores; --quick is a
small labelled sample (see QUICK). Results are appended to a JSONL file as each language finishes;
rerunning with the same --results continues where it stopped; --report-only rewrites the report.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lite.prune import load

from .evaluate import Evaluator, Settings, read_records, run
from .report import Results, bin_table, language_table, plot, saved_table, summary_table

BENCH = Path(__file__).resolve().parents[1]
# cheapest languages first (prompt tokens on SmolLM2's tokenizer), so a time-boxed run covers the most
BY_COST = ("en", "de", "es", "fr", "sw", "zh", "ru", "ja", "bn", "th", "te")
QUICK = dict(questions=2, shots=2, agreement_questions=1)


def default_target() -> Path:
    from tools import fixtures

    return fixtures.smollm2_folder()


def pruner_slice(folder: Path) -> Path:
    """The pruner slice made from the target folder, cached beside the test fixtures."""
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder
    from tools import fixtures

    out = fixtures.cache_dir() / "slices" / f"{folder.name}.safetensors"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        make_slice(LocalFolder(folder), out)
    return out


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a small sample: {QUICK['questions']} questions, {QUICK['shots']} shots, agreement on "
                             f"{QUICK['agreement_questions']} question per language")
    parser.add_argument("--target", type=Path, help="causal LM folder (default: SmolLM2-135M-Instruct fixture)")
    parser.add_argument("--slice", type=Path, help="pruner slice (default: made from the target folder)")
    parser.add_argument("--questions", type=int, help="questions per language (default 250, or the quick value)")
    parser.add_argument("--shots", type=int, help="exemplars per prompt (default 8)")
    parser.add_argument("--agreement-questions", type=int, help="questions per language answered with each pruned prompt")
    parser.add_argument("--languages", nargs="+", default=list(BY_COST), choices=list(BY_COST))
    parser.add_argument("--time-limit", type=float, metavar="MIN", help="start no new language after MIN minutes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the target (default 1)")
    parser.add_argument("--results", type=Path, help="JSONL of records (default bench/results/quality-results[-quick].jsonl)")
    parser.add_argument("--report-only", action="store_true", help="rewrite QUALITY.md and the plot from --results")
    return parser.parse_args(argv)


def settings_from(args) -> Settings:
    preset = QUICK if args.quick else {}
    pick = lambda name, default: getattr(args, name) if getattr(args, name) is not None else preset.get(name, default)  # noqa: E731
    return Settings(
        languages=tuple(args.languages),
        questions=pick("questions", 250),
        shots=pick("shots", 8),
        agreement_questions=pick("agreement_questions", None),
        time_limit=args.time_limit * 60 if args.time_limit else None,
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    results = args.results or BENCH / "results" / ("quality-results-quick.jsonl" if args.quick else "quality-results.jsonl")
    if not args.report_only:
        from .target import Target, same_tokenizer

        folder = args.target or default_target()
        pruner = load(args.slice or pruner_slice(folder), threads=1)
        target = Target(folder, threads=args.threads)
        evaluator = Evaluator(pruner, target, settings_from(args), same_tokenizer(target, pruner.scorer.slice.tokenizer_json))
        started = time.monotonic()
        run(evaluator, results, log=lambda m: print(m, file=sys.stderr, flush=True))
        print(f"evaluation took {(time.monotonic() - started) / 60:.1f} min", file=sys.stderr)
    write_report(results, BENCH / "results" / "QUALITY.md", BENCH / "results" / "quality.png")
    return 0


def write_report(results: Path, markdown: Path, image: Path) -> None:
    header = read_records(results, kind="settings")[0]
    res = Results(read_records(results))
    plot(res, image)
    s = header["settings"]
    n = sorted(set(res.questions.values()))
    winners = [m for m in res.strategies if m not in ("random",) and len(res.beats_random_everywhere(m)) >= 8]
    verdict = (f"**Target reached** by {', '.join(winners)} (lower KL than random at every rate in >= 8 languages)."
               if winners else
               "**Target not reached**: no strategy has a lower mean KL than random at every rate in 8 or more of "
               f"the {len(res.languages)} languages (column \"beats random at every rate\").")
    rows_by_rate = "\n\n".join(f"### Rate {r}: KL per language (bold: lower than random)\n\n{language_table(res, r)}"
                               for r in res.rates)
    text = f"""# Pruning quality: lite against random dropping at equal budgets

Generated by `python -m bench.quality{' --quick' if results.name.endswith('-quick.jsonl') else ''}` from `{results.name}`.
Target `{Path(header['target']).name}`, pruner slice from the same model. **N = {', '.join(map(str, n))} question(s)
per language, {s['shots']}-shot prompts**, {len(res.languages)} languages ({', '.join(res.languages)}), rates
{', '.join(map(str, res.rates))}. Agreement columns use the first {'all' if s['agreement_questions'] is None else s['agreement_questions']} question(s)
per language. {'' if n == [250] else 'A small sample: differences below ~0.05 nats are noise at this N.'}

What is measured: every exemplar is pruned on its own to exactly round(rate * n) of its n tokens by
every strategy (the question is never pruned); the target's greedy answer to the full prompt (at most
{s['max_new']} tokens) is teacher-forced after the full and after each pruned prompt, and KL(full ||
pruned) of the next-token distributions is averaged over its first {s['kl_tokens']} tokens; random is
the mean over 3 seeds. Lower is better. Agreement: the greedy answer to the pruned prompt has the
same first line / the same final number as the answer to the full prompt.

{verdict}

## Summary (mean over languages)

{summary_table(res)}

## Per resource bin (mean KL)

Bins: {'; '.join(f"{k}: {', '.join(v)}" for k, v in res.bins().items())} (see bench/quality/prompts.py).

{bin_table(res)}

{rows_by_rate}

## Tokens saved (exemplar tokens dropped; the same for every strategy)

{saved_table(res)}

![KL against kept fraction]({image.name})
"""
    markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
