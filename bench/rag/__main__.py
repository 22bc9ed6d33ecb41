"""`python -m bench.rag [--split dev|test] [--kl]`: many passages, one of them about the question.

Retention (no model but the pruner, and MiniLM for its arms) for every arm of arms.py on XQuAD
contexts of 5, 10, 20 and 50 passages, hard and easy distractors, 12 languages; with `--kl`, the
target's KL on a subset. Results are appended to <results>/rag-<split>.jsonl and
rag-kl-<split>.jsonl as each job finishes (a rerun resumes); the report, <results>/RAG.md and
rag.png, is written from them at the end (`--report-only`: from the results alone).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import lite

from .arms import ARMS, Env
from .contexts import DISTRACTORS, LANGUAGES, SIZES
from .run import arms_named, nq_sets, run, xquad_sets

RESULTS = Path(__file__).resolve().parents[1] / "results"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.rag", description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=("dev", "test"), default="dev")
    p.add_argument("--source", choices=("xquad", "nq_open"), default="xquad",
                   help="XQuAD in 12 languages (default), or NQ-open's oracle passages (English; 10/20/50)")
    p.add_argument("--languages", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="passages per context")
    p.add_argument("--kinds", nargs="+", default=list(DISTRACTORS), choices=DISTRACTORS, help="distractors")
    p.add_argument("--questions", type=int, help="the first N contexts of each set (default: all 60)")
    p.add_argument("--arms", nargs="+",
                   help="retention arms (default: every arm but the order variants and longllmlingua@r)")
    p.add_argument("--kl", action="store_true", help="also the target's KL on a subset (SmolLM2, Gemma-3)")
    p.add_argument("--kl-only", action="store_true", help="the KL subset alone")
    p.add_argument("--targets", nargs="+", choices=("smollm2", "gemma3"), default=["smollm2", "gemma3"])
    p.add_argument("--kl-questions", type=int, default=2, help="contexts per language with the KL (default 2)")
    p.add_argument("--kl-size", type=int, default=10, help="passages in the KL subset's contexts (default 10)")
    p.add_argument("--kl-arms", nargs="+", help="arms with the KL (default: kl.KL_ARMS)")
    p.add_argument("--results", type=Path, default=RESULTS, help="folder of the results and the report")
    p.add_argument("--workers", type=int, default=1, help="processes for retention (languages dealt among them)")
    p.add_argument("--shard", help=argparse.SUPPRESS)  # k/N: languages k, k + N, ... (set by --workers)
    p.add_argument("--report-only", action="store_true", help="rewrite the report from the results")
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    return p.parse_args(argv)


def load_pruner() -> lite.Pruner:
    from bench.quality.__main__ import pruner_slice, warm_up
    from tools import fixtures

    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    warm_up(pruner)
    return pruner


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def retention(args, env: Env) -> None:
    languages = args.languages
    if args.shard:
        k, count = (int(x) for x in args.shard.split("/"))
        languages = languages[k::count]
    arms = arms_named(args.arms) if args.arms else [a for a in ARMS.values() if a.retention and a.default]
    if args.source == "nq_open":
        sets = nq_sets(args.split, args.sizes, args.questions) if not args.shard or args.shard.startswith("0/") else []
    else:
        sets = xquad_sets(args.split, languages, args.sizes, args.kinds, args.questions)
    started = time.monotonic()
    jobs = run(env, sets, arms, args.split, args.results / f"rag-{args.split}.jsonl", log=log)
    log(f"retention: {jobs} jobs in {(time.monotonic() - started) / 60:.1f} min")


def kl_subset(args, env: Env) -> None:
    import torch

    from bench.quality.__main__ import target_folder
    from bench.quality.target import Target

    from .kl import KL_ARMS, run_kl

    torch.set_num_threads(1)
    arms = arms_named(args.kl_arms or KL_ARMS)
    sets = xquad_sets(args.split, args.languages, [args.kl_size], ["hard"])
    for name in args.targets:
        target = Target(target_folder(name), threads=1)
        run_kl(env, target, name, sets, arms, args.split, args.results / f"rag-kl-{args.split}.jsonl",
               args.kl_questions, log=log)


def run_workers(args, argv: list[str]) -> int:
    from bench.quality.__main__ import without_option

    argv = without_option(argv, "--workers")
    procs = [subprocess.Popen([sys.executable, "-m", "bench.rag", *argv, "--shard", f"{k}/{args.workers}",
                               "--no-report"]) for k in range(args.workers)]
    codes = [p.wait() for p in procs]
    if any(codes):
        log(f"error: a worker failed (exit codes {codes}); rerun to resume")
        return 1
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        if args.workers > 1 and not args.kl_only:
            if run_workers(args, [a for a in argv if a not in ("--kl",)]):
                return 1
            args.workers = 0  # retention is done
        env = Env(load_pruner())
        if args.workers == 1 and not args.kl_only:
            retention(args, env)
        if args.kl or args.kl_only:
            kl_subset(args, env)
    if not args.no_report:
        from .report import write_report

        path = write_report(args.results, args.split)
        log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
