"""`python -m bench.quality [--quick | --full] [--split dev|test] [--arms ...]`: run the quality bench, report.

Results are appended to bench/results/quality-<profile>-<split>[-<target>].jsonl as each job finishes; a
rerun resumes; `--report-only` rewrites bench/results/QUALITY.md and quality.png from the results.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import lite
from lite.prune.units import DEFAULT_GRANULARITY

from . import data
from .arms import ARMS
from .run import Bench, Settings

BENCH = Path(__file__).resolve().parents[1]
RESULTS = BENCH / "results"

CORE_ARMS = ("none", "lite", "attention", "random", "random_words", "truncation", "rarity")
QUICK_MGSM = ("en", "fr", "zh", "ru", "th", "bn")  # high: en fr zh ru; medium: th; low: bn
QUICK_RAG = data.XQUAD_LANGUAGES  # all 12: high en de es ru zh; medium ar el ro th tr vi; low hi
PROFILES = {
    # 2 cores, 1.5-2 hours (2.5 CPU hours measured for most of it): see docs/quality.md
    "quick": dict(
        mgsm_languages=QUICK_MGSM, mgsm_questions=12, max_shots=2, prompt_cap=900, agreement_questions=2,
        agreement_rates=(0.7,),
        rag_languages=QUICK_RAG, rag_paragraphs=12, rag_kl_items=6, rag_rates=(0.7, 0.5), peer_items=3,
        rag5_languages=QUICK_RAG, rag5_articles=12, rag5_kl_items=2, rag5_peer_items=1,
    ),
    # a bigger machine: every language, the whole split, 4 shots per question drawn from the 8
    "full": dict(
        mgsm_languages=data.MGSM_LANGUAGES, mgsm_questions=125, max_shots=4,
        prompt_cap=None, agreement_questions=25, rag_languages=data.XQUAD_LANGUAGES, rag_paragraphs=60,
        rag_kl_items=60, peer_items=None, rag5_languages=data.XQUAD_LANGUAGES, rag5_kl_items=12, rag5_peer_items=None,
    ),
}
# the cross-family target (Gemma-3-270M) on a subset; the peer's outputs are the ones cached for SmolLM2
CROSS_FAMILY = {
    "quick": dict(mgsm_languages=("en", "th", "bn"), rag_languages=("en", "hi"), mgsm_questions=12,
                  agreement_questions=0, rag_paragraphs=6, rag_kl_items=6, peer_items=3,
                  rag5_languages=("en", "hi"), rag5_articles=2, rag5_kl_items=2, rag5_peer_items=1),
    "full": dict(agreement_questions=0),
}


def default_arms(profile: str) -> tuple[str, ...]:
    """--quick: the product's default, the paper's score, the baselines but random words, the ceiling and the
    peer (each more arm costs ~1/12 more: name the other lite.METHODS or random_words with --arms, and drop
    others, to stay within the hour); --full: every registered arm."""
    extras = tuple(a for a in ("lite+question", "sentences", "selfinfo", "llmlingua") if a in ARMS)
    if DEFAULT_GRANULARITY != "word":  # the default method through whole words: what the units change
        extras = ("lite:words",) + extras
    if profile == "quick":
        return tuple(a for a in CORE_ARMS if a != "random_words") + extras
    return CORE_ARMS + tuple(a for a in ARMS if a not in CORE_ARMS and a not in extras) + extras


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the profile for 2 cores, 1.5-2 hours (default)")
    p.add_argument("--full", action="store_true", help="every language, the whole split: for a bigger machine")
    p.add_argument("--split", choices=("dev", "test"), default="dev")
    p.add_argument("--arms", nargs="+", help="arms to run (default: see default_arms; 'none' is always run); "
                                             "e.g. lite attention random truncation rarity lite:rarity_mix")
    p.add_argument("--arm-module", action="append", default=[], help="import a module that registers more arms")
    p.add_argument("--regimes", nargs="+", choices=data.REGIMES, default=list(data.REGIMES),
                   help="mgsm: few-shot exemplars; rag: one passage; rag5: five passages (default: all three)")
    p.add_argument("--languages", nargs="+", help="restrict both regimes to these languages")
    p.add_argument("--rates", type=float, nargs="+", help="MGSM rates (default 0.9 0.8 0.7)")
    p.add_argument("--rag-rates", type=float, nargs="+", help="XQuAD rates (default 0.7 0.5)")
    p.add_argument("--mgsm-questions", type=int)
    p.add_argument("--rag-paragraphs", type=int)
    p.add_argument("--rag5-articles", type=int, help="articles (contexts of five passages) of the split")
    p.add_argument("--targets", nargs="+", choices=("smollm2", "gemma3"), default=["smollm2", "gemma3"],
                   help="target models, run one after the other: SmolLM2-135M-Instruct (in-family) and "
                        "Gemma-3-270M (cross-family, on a subset in --quick)")
    p.add_argument("--no-peer", action="store_true", help="leave LLMLingua out")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the target (default 1)")
    p.add_argument("--results", type=Path, help="results JSONL (default bench/results/quality-<profile>-<split>...)")
    p.add_argument("--report-only", action="store_true", help="rewrite the report from the results files")
    p.add_argument("--workers", type=int, default=1, help="processes (one torch thread each); 2 on 2 cores")
    p.add_argument("--shard", help=argparse.SUPPRESS)  # k/N: run shard k of N (set by --workers)
    p.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


class BenchError(Exception):
    """A bad option: reported as one line, `error: ...`, exit status 2."""


def settings_from(args, target: str = "smollm2") -> Settings:
    profile = "full" if args.full else "quick"
    values = dict(PROFILES[profile])
    if target == "gemma3":
        values.update(CROSS_FAMILY[profile])
    arms = tuple(args.arms) if args.arms else default_arms(profile)
    if args.no_peer:
        arms = tuple(a for a in arms if a != "llmlingua")
    arms = ("none",) + tuple(a for a in arms if a != "none")
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise BenchError(f"unknown arm(s) {', '.join(unknown)}; registered: {', '.join(ARMS)}")
    bad = [r for r in (args.rates or []) + (args.rag_rates or []) if not 0 < r <= 1]
    if bad:
        raise BenchError(f"rates must be in (0, 1], got {', '.join(map(str, bad))}")
    s = Settings(split=args.split, arms=arms, **values)
    if "mgsm" not in args.regimes:
        s = replace(s, mgsm_languages=())
    if "rag" not in args.regimes:
        s = replace(s, rag_languages=())
    if "rag5" not in args.regimes:
        s = replace(s, rag5_languages=())
    if args.languages:
        s = replace(s, mgsm_languages=tuple(x for x in s.mgsm_languages if x in args.languages),
                    rag_languages=tuple(x for x in s.rag_languages if x in args.languages),
                    rag5_languages=tuple(x for x in s.rag5_languages if x in args.languages))
    if args.mgsm_questions:
        s = replace(s, mgsm_questions=args.mgsm_questions)
    if args.rates:
        s = replace(s, rates=tuple(args.rates))
    if args.rag_rates:
        s = replace(s, rag_rates=tuple(args.rag_rates))
    if args.rag5_articles:
        s = replace(s, rag5_articles=args.rag5_articles, rag5_kl_items=min(s.rag5_kl_items, args.rag5_articles))
    if args.rag_paragraphs:
        s = replace(s, rag_paragraphs=args.rag_paragraphs, rag_kl_items=min(s.rag_kl_items, args.rag_paragraphs))
    return s


def target_folder(name: str) -> Path:
    from tools import fixtures

    return fixtures.smollm2_folder() if name == "smollm2" else fixtures.gemma3_270m_folder()


def pruner_slice(folder: Path) -> Path:
    """The pruner slice made from SmolLM2's folder, cached beside the test fixtures."""
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder
    from tools import fixtures

    out = fixtures.cache_dir() / "slices" / f"{folder.name}.safetensors"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        make_slice(LocalFolder(folder), out)
    return out


def results_path(args, target: str) -> Path:
    profile = "full" if args.full else "quick"
    if args.results:
        return args.results.with_name(f"{args.results.stem}-{target}.jsonl") if target != "smollm2" else args.results
    return RESULTS / f"quality-{profile}-{args.split}-{target}.jsonl"


def load_arm_modules(names: list[str]) -> None:
    for module in ["bench.quality.selfinfo", "bench.quality.peer", *names]:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            raise BenchError(f"cannot import arm module {module!r} ({err})") from None


def main(argv=None) -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed run still closes its LLMLingua worker
    args = parse_args(argv)
    try:
        load_arm_modules(args.arm_module)
        settings_from(args)  # check the options before anything is built
    except BenchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.workers > 1 and not args.report_only:
        return run_workers(args, argv if argv is not None else sys.argv[1:])
    if not args.report_only:
        for target in args.targets:
            run_target(args, target)
    if args.no_report:
        return 0
    from .report import write_report

    write_report(RESULTS)
    return 0


def run_target(args, name: str) -> None:
    from tools import fixtures

    from .cache import DiskCache
    from .target import Target

    settings = settings_from(args, name)
    results = results_path(args, name)
    results.parent.mkdir(parents=True, exist_ok=True)
    pruner = lite.load(pruner_slice(fixtures.smollm2_folder()), threads=1)
    warm_up(pruner)
    target = Target(target_folder(name), threads=args.threads)
    cache = DiskCache(fixtures.cache_dir() / "quality-cache.jsonl")
    services: dict = {}
    log = lambda m: print(f"[{name}] {m}", file=sys.stderr, flush=True)  # noqa: E731
    bench = Bench(pruner, target, settings, results, cache, log=log, services=services)
    started, cpu = time.monotonic(), time.process_time()
    shard = tuple(int(x) for x in args.shard.split("/")) if args.shard else (0, 1)
    try:
        bench.run(shard)
    finally:
        for service in services.values():
            service.close()
    log(f"evaluation took {(time.monotonic() - started) / 60:.1f} min, {(time.process_time() - cpu) / 60:.1f} min CPU "
        f"(this process; the LLMLingua worker's CPU is in the records)")


def run_workers(args, argv: list[str]) -> int:
    """Run --workers processes, each a shard of the tasks (costliest first, to the least loaded), then report."""
    import subprocess

    argv = without_option(argv, "--workers")
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "bench.quality", *argv, "--shard", f"{k}/{args.workers}",
                               "--no-report"]) for k in range(args.workers)]
    codes = [p.wait() for p in procs]
    print(f"{args.workers} workers took {(time.monotonic() - started) / 60:.1f} min", file=sys.stderr)
    if any(codes):
        print(f"error: a worker failed (exit codes {codes}); rerun to resume", file=sys.stderr)
        return 1
    from .report import write_report

    write_report(RESULTS)
    return 0


def without_option(argv: list[str], name: str) -> list[str]:
    """argv without `name VALUE` / `name=VALUE`."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out


def warm_up(pruner: lite.Pruner) -> None:
    """Compile lite's kernels before anything is timed."""
    for method in lite.METHODS:
        pruner.prune("A short text to compile the kernels on.", rate=0.5, method=method)


if __name__ == "__main__":
    raise SystemExit(main())
