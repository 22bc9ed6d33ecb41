"""Where the benchmark finds the repo and writes its results; the child-process command and environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"  # what the benchmarks write: RESULTS.md, QUALITY.md, plots, records; changes.md by hand

# OpenBLAS overrides this workplace may set for old builds; they slow a current numpy (see bench/__main__.py)
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a benchmark subprocess: this repo first on the path."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def python_module(module: str, *args: object) -> list[str]:
    return [sys.executable, "-m", module, *map(str, args)]
