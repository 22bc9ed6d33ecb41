"""A hostile or broken hub (issue 16): the slicer fails in one line, in bounded time, and never obeys a
repo's index into fetching another repo. Each server behaviour is a fault of the fake hub."""

from __future__ import annotations

import json
import time
from pathlib import Path

from lite.store.checkpoint import INDEX_FILE
from lite.store.stformat import read_header
from tests.helpers import assert_one_line_error, run_slice

SINGLE = "lite-test/tiny-llama"


def tensor_names(shard: Path) -> list[str]:
    with open(shard, "rb") as f:
        def read(start: int, end: int) -> bytes:
            f.seek(start)
            return f.read(end - start)

        return list(read_header(read, str(shard)).entries)


def test_hub_weight_map_cannot_reach_another_repo(hub, slicer_env, tiny_llamas, tmp_path):
    """`../../../../OTHER/REPO/resolve/main/FILE` would fetch another repo, outside the pinned commit."""
    single = tiny_llamas / "single"
    other = f"../../../../{SINGLE}/resolve/main/model.safetensors"
    index = {"metadata": {}, "weight_map": dict.fromkeys(tensor_names(single / "model.safetensors"), other)}
    hub.add("lite-test/escape", single, overrides={INDEX_FILE: json.dumps(index).encode()})
    out = tmp_path / "escape.safetensors"
    result = run_slice(slicer_env, "lite-test/escape", "--out", str(out))
    assert_one_line_error(result, "weight_map", "plain file name")
    assert hub.traffic.storage_bytes == 0 and not out.exists()


def timed_slice(env, *args, tmp_path, limit: float):
    """The slicer's result and its wall time, which must stay under `limit` seconds."""
    out = tmp_path / "slice.safetensors"
    started = time.monotonic()
    result = run_slice(env, *args, "--out", str(out))
    elapsed = time.monotonic() - started
    assert elapsed < limit, (elapsed, result.stderr)
    return result, elapsed, out


def stderr_lines(result) -> list[str]:
    return result.stderr.strip().splitlines()


# ---- 3: bounded waits, retries, read timeout and deadline ---------------------------------------------
def test_a_huge_retry_after_is_refused_not_waited(hub, slicer_env, tmp_path):
    hub.faults.fail_once, hub.faults.retry_after = 429, "100000"
    result, _, out = timed_slice(slicer_env, SINGLE, tmp_path=tmp_path, limit=30)
    assert_one_line_error(result, "Retry-After", "100000", "--max-wait")
    assert not out.exists()


def test_a_short_retry_after_is_honoured_in_one_warning_line(hub, slicer_env, tmp_path):
    hub.faults.fail_once, hub.faults.retry_after = 503, "1"
    result, elapsed, out = timed_slice(slicer_env, SINGLE, tmp_path=tmp_path, limit=60)
    assert result.returncode == 0, result.stderr
    assert elapsed >= 1.0 and out.is_file()
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "503" in lines[0], result.stderr


def test_storage_that_is_always_busy_gives_up_after_the_retries(hub, slicer_env, tmp_path):
    hub.faults.fail_always = 503
    result, _, out = timed_slice(slicer_env, SINGLE, "--retries", "2", tmp_path=tmp_path, limit=60)
    assert result.returncode == 2, result.stderr
    lines = stderr_lines(result)
    assert all(line.startswith("warning: ") for line in lines[:-1]) and len(lines) == 3, result.stderr
    assert lines[-1].startswith("error: ") and "503" in lines[-1] and "3 tries" in lines[-1], lines[-1]
    assert not out.exists()


def test_a_trickling_storage_host_meets_the_deadline(hub, slicer_env, tmp_path):
    hub.faults.trickle_seconds = 0.05  # 20 bytes a second: never silent long enough for the read timeout
    result, elapsed, out = timed_slice(slicer_env, SINGLE, "--deadline", "3", tmp_path=tmp_path, limit=30)
    assert_one_line_error(result, "deadline", "--deadline", "3")
    assert elapsed >= 3 and not out.exists()


def test_a_trickling_hub_meets_the_deadline_on_a_small_file(hub, slicer_env, tmp_path):
    hub.faults.trickle_hub_seconds = 0.05
    result, _, out = timed_slice(slicer_env, SINGLE, "--deadline", "2", tmp_path=tmp_path, limit=30)
    assert_one_line_error(result, "deadline", "config.json")
    assert not out.exists()


def test_a_stalled_storage_host_meets_the_read_timeout(hub, slicer_env, tmp_path):
    hub.faults.stall_seconds = 10
    result, _, out = timed_slice(slicer_env, SINGLE, "--timeout", "1", "--retries", "1", tmp_path=tmp_path, limit=30)
    assert result.returncode == 2, result.stderr
    last = stderr_lines(result)[-1]
    assert last.startswith("error: ") and "no byte for 1 s" in last and "--timeout" in last, result.stderr
    assert not out.exists()


# ---- 7 and 9: a redirect loop, a storage host that is down --------------------------------------------
def test_a_redirect_loop_is_one_line(hub, slicer_env, tmp_path):
    hub.faults.redirect_loop = True
    result, _, out = timed_slice(slicer_env, SINGLE, tmp_path=tmp_path, limit=30)
    assert_one_line_error(result, "redirect")
    assert not out.exists()


def test_storage_host_down_is_named_as_such(hub, slicer_env, tmp_path):
    hub.faults.storage_down = True
    result, _, out = timed_slice(slicer_env, SINGLE, "--retries", "1", tmp_path=tmp_path, limit=30)
    assert result.returncode == 2, result.stderr
    last = stderr_lines(result)[-1]
    assert last.startswith("error: ") and "storage host" in last and "could not reach the hub" not in last, last
    assert not out.exists()

