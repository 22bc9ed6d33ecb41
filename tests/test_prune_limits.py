"""Long inputs (issues 16 and 25): the most tokens scored exactly (max_tokens), sampled queries past it, chunks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lite import LiteError
from lite.prune import DEFAULT_MAX_TOKENS
from lite.prune.options import SAMPLED_QUERIES
from tests.helpers import REPO, run_python
from tools.reference import kept_set


def run_cli(args: list[str], cwd, stdin: str | None = None):
    return run_python("-m", "lite.prune", *args, cwd=cwd, stdin=stdin)

LONG = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning. "


def test_past_the_limit_a_text_is_scored_from_sampled_queries_not_refused(pruner):
    assert (DEFAULT_MAX_TOKENS, SAMPLED_QUERIES) == (16384, 1024)
    text = LONG * 80
    ids = pruner.tokenizer.encode(text).ids
    n = len(ids)
    assert n - 1 > SAMPLED_QUERIES
    exact = {"method": "attention", "granularity": "char"}  # plain top-k of the score
    sampled = pruner.scorer.importance(ids, method="attention", queries=SAMPLED_QUERIES)  # [n]
    result = pruner.prune(text, rate=0.5, max_tokens=n - 1, **exact)
    assert list(result.kept) == sorted(kept_set(sampled, 0.5))
    assert pruner.prune(text, rate=0.5, max_tokens=n, **exact).kept == pruner.prune(text, rate=0.5, **exact).kept
    assert pruner.prune(text, rate=1.0, max_tokens=10).text == text  # nothing to score


def test_bad_values(pruner):
    text = LONG * 3
    for bad in (0, -1, 1.5, True, "100", None):
        with pytest.raises(LiteError, match="max_tokens"):
            pruner.prune(text, rate=0.5, max_tokens=bad)
    for bad in (0, -3, 2.5, False, "64"):
        with pytest.raises(LiteError, match="chunk"):
            pruner.prune(text, rate=0.5, chunk=bad)
    with pytest.raises(LiteError, match="chunk"):
        pruner.prune(text, rate=0.5, max_tokens=100, chunk=101)


def test_a_method_that_needs_every_query_is_refused_past_the_limit_but_not_in_chunks(pruner):
    text = LONG * 4
    n = pruner.count_tokens(text)
    with pytest.raises(LiteError, match="chunk=W") as caught:
        pruner.prune(text, rate=0.5, method="no_self", max_tokens=n // 4)
    assert "\n" not in str(caught.value) and "no_self" in str(caught.value)
    assert pruner.prune(text, rate=0.5, method="no_self", max_tokens=n // 4, chunk=n // 4).compressed_tokens > 0


def test_chunks_are_scored_on_their_own_and_weighted_by_length(pruner):
    text = LONG * 8
    ids = pruner.tokenizer.encode(text).ids
    n, chunk = len(ids), 48
    expected = np.concatenate([pruner.importance(ids[s : s + chunk], method="attention") * (len(ids[s : s + chunk]) / n)
                               for s in range(0, n, chunk)])  # [n]
    assert abs(float(expected.sum()) - 1.0) < 1e-5
    exact = {"method": "attention", "granularity": "char"}  # the paper's score on one-token units: plain top-k
    result = pruner.prune(text, rate=0.4, chunk=chunk, max_tokens=chunk, **exact)
    budget = round(0.4 * n)
    top = np.lexsort((np.arange(n), -expected.astype(np.float32).astype(np.float64)))[:budget]
    assert result.compressed_tokens == budget and list(result.kept) == sorted(top.tolist())
    whole = pruner.prune(text, rate=0.4, **exact)
    assert pruner.prune(text, rate=0.4, chunk=n, **exact).kept == whole.kept  # one chunk: the plain score, exactly


def test_cli_limit_and_chunk(smollm2_slice, tmp_path):
    text = LONG * 4
    proc = run_cli(["--model", str(smollm2_slice), "--rate", "0.5", "--max-tokens", "20", "--method", "no_self"],
                   tmp_path, stdin=text)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "max_tokens" in lines[0] and "--chunk" in lines[0]
    for extra in ([], ["--chunk", "20"]):
        proc = run_cli(["--model", str(smollm2_slice), "--rate", "0.5", "--max-tokens", "20", *extra, "--json"],
                       tmp_path, stdin=text)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["compressed_tokens"] > 0


def test_batch_applies_the_limit_per_record(smollm2_slice, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(json.dumps({"text": "short one"}) + "\n" + json.dumps({"text": LONG * 4}) + "\n")
    out = tmp_path / "out.jsonl"
    proc = run_cli(["--model", str(smollm2_slice), "--rate", "0.5", "--max-tokens", "20", "--method", "no_self",
                    "--jsonl", str(jsonl), "--out", str(out), "--workers", "1", "--quiet"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["compressed_tokens"] >= 1
    assert records[1]["line"] == 2 and "max_tokens" in records[1]["error"]


def test_chunked_scoring_keeps_memory_bounded(smollm2_slice):
    """50k tokens in chunks of 2048: memory is that of one chunk, not of the text."""
    code = (
        "import resource, lite\n"
        f"pruner = lite.load({str(smollm2_slice)!r})\n"
        f"text = {LONG!r} * 2800\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result = pruner.prune(text, rate=0.5, chunk=2048)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(result.origin_tokens, before // 1024, after // 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    tokens, before_mib, after_mib = (int(x) for x in proc.stdout.split())
    print(f"{tokens} tokens in chunks of 2048: peak RSS {before_mib} MiB before scoring, {after_mib} MiB after")
    assert tokens > 50_000
    assert after_mib - before_mib < 300, (before_mib, after_mib)
