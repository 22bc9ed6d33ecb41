"""Helpers the test files share (no test file imports another): slices of fixture folders, the slicer
as a subprocess, a remembering scorer, and the comparison with transformers' reference."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tools.reference import kept_set

REPO = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-4, 1e-7  # lite against transformers' layer-0 attention
RATES = (0.9, 0.8, 0.7)
GATED_TOKEN = "hf_fake_gated_token"


def make_slice(folder: Path, out: Path) -> Path:
    """The slice of a model folder at `out`, made once (the path is the cache key)."""
    from lite.slice import make_slice as make
    from lite.store.sources import LocalFolder

    if not out.is_file():
        make(LocalFolder(folder), out)
    return out


def slice_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lite.slice", *args, "--quiet"]


def run_slice(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(slice_command(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def assert_matches_reference(scores: np.ndarray, ref: np.ndarray) -> None:
    """lite's importance against the reference: allclose, sums to 1, the same kept sets at RATES (but near-ties)."""
    assert scores.dtype == np.float32 and scores.shape == ref.shape
    np.testing.assert_allclose(scores, ref, rtol=RTOL, atol=ATOL)
    assert abs(float(scores.sum(dtype=np.float64)) - 1.0) < 1e-5
    for rate in RATES:
        ours, theirs = kept_set(scores, rate), kept_set(ref, rate)
        differing = ours ^ theirs
        if differing:  # allowed only where the reference itself has a near-tie at the boundary
            boundary = np.sort(ref)[::-1][max(1, round(rate * len(ref))) - 1]
            assert np.all(np.abs(ref[sorted(differing)] - boundary) <= 1e-7), (rate, sorted(differing))


class RememberingScorer:
    """The real scorer, remembering each id sequence's importance so the tests score each text once."""

    def __init__(self, scorer):
        self.scorer, self.slice, self.seen = scorer, scorer.slice, {}

    def importance(self, ids, method="attention", queries=None):
        key = (method, queries, *(int(i) for i in ids))
        if key not in self.seen:
            self.seen[key] = self.scorer.importance(ids, method=method, queries=queries)
        return self.seen[key]


def run_python(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None,
               timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python ARGS` in a subprocess (text output unless stdin is bytes), never raising on its exit status.

    This checkout's lite is imported whatever the working folder (PYTHONPATH), not an installed one.
    """
    if env is None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=not isinstance(stdin, bytes),
                          cwd=cwd, timeout=timeout, env=env, check=False)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit status 2 and exactly one stderr line, `error: ...`, holding every needle; returns that line."""
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def rewrite_slice_header(source: Path, target: Path, change) -> None:
    """A copy of a slice whose JSON header went through `change(header)` (the tensor data kept as it is)."""
    import json
    import struct

    raw = source.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    change(header)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    target.write_bytes(struct.pack("<Q", len(encoded)) + encoded + raw[8 + length :])


PASSAGES = [  # retrieved passages for the framework adapters' tests: paragraphs, digits, a currency sign, German
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her "
    "friends every day with four.\n\nShe sells the remainder at the farmers' market daily for $2 per fresh duck egg.",
    "Paris is the capital and most populous city of France.\n\n"
    "It is located on the Seine, in the north of the country.",
    "Der Rhein ist ein Strom in Mitteleuropa. Er entspringt in den Alpen und mündet in die Nordsee.",
]
