"""`python -m bench [--quick] [--threads N]`: lite against the transformers reference; writes bench/results/RESULTS.md
and bench/results/latency.png.

If OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set (this workplace sets them for old OpenBLAS builds; they
slow a current numpy), the benchmark runs itself again without both, and records the core OpenBLAS then
picks. Each measurement of latency and memory runs in its own process (bench/child.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .paths import OPENBLAS_OVERRIDES, RESULTS

SIZES = [128, 512, 2048, 4096, 8192]
QUICK_SIZES = [128, 512, 2048]
LITE_ONLY_SIZES = [32768]
BLAS_ENV_RECORD = "LITE_BENCH_OPENBLAS_ENV"  # what the environment held before the re-exec, as JSON


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n up to 2048, fewer repeats: a few minutes")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for lite and the reference")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for RESULTS.md and latency.png")
    return parser.parse_args(argv)


def without_openblas_overrides() -> None:
    """Run this command again with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset, remembering their values."""
    found = {k: os.environ[k] for k in OPENBLAS_OVERRIDES if k in os.environ}
    if found:
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
        env[BLAS_ENV_RECORD] = json.dumps(found)
        os.execve(sys.executable, [sys.executable, "-m", "bench", *sys.argv[1:]], env)


def main(argv: list[str] | None = None) -> int:
    without_openblas_overrides()
    args = parse_args(argv)
    from . import coldstart, floor, latency, models, realtext, report

    blas_env = json.loads(os.environ.get(BLAS_ENV_RECORD, "{}"))
    machine = report.machine_facts(args.threads, blas_env)
    sizes = QUICK_SIZES if args.quick else SIZES
    lite_repeats = {n: 3 if args.quick or n >= 8192 else 5 for n in sizes} | dict.fromkeys(LITE_ONLY_SIZES, 1)
    reference_repeats = {n: 2 if args.quick or n >= 8192 else 3 for n in sizes}
    with tempfile.TemporaryDirectory(prefix="lite-bench-") as work:
        work = Path(work)
        print("set-up: the Llama-shaped slice through the fake hub", flush=True)
        folder = models.llama_folder()
        llama, slicer = models.llama_slice(work)
        smol_folder, smol_slice = models.smollm2_slice(work)
        from lite.score import Scorer

        spec = Scorer(llama).spec
        print("floor", flush=True)
        rates = floor.measure(args.threads)
        print("latency and memory", flush=True)
        lite_runs = latency.measure(latency.LITE, llama, sizes + ([] if args.quick else LITE_ONLY_SIZES),
                                    lite_repeats, args.threads)
        reference_runs = latency.measure(latency.REFERENCE, folder, sizes, reference_repeats, args.threads)
        print("cold start", flush=True)
        cold = coldstart.measure(llama, folder, args.threads, repeats=3 if args.quick else 5,
                                 reference_repeats=1 if args.quick else 2)
        print("real text", flush=True)
        text = realtext.measure(smol_folder, smol_slice, args.threads, repeats=3 if args.quick else 7)
    results = report.Results(args.quick, args.threads, machine, spec, lite_runs, reference_runs, rates, cold,
                             slicer, text)
    args.out.mkdir(parents=True, exist_ok=True)
    plot = args.out / "latency.png"
    report.write_plot(results, plot)
    report.write_markdown(results, args.out / "RESULTS.md", plot)
    print(f"wrote {args.out / 'RESULTS.md'} and {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
