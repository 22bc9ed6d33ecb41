"""The JSONL batch (issue 16, items 8 and 9): workers capped at the cores, a BOM on line 1, strict JSON out."""

from __future__ import annotations

import json
import math

import pytest

from lite.errors import LiteError
from lite.prune import PruneOptions
from lite.prune.batch import prune_jsonl
from lite.score.threads import available_cores
from tests.helpers import run_python


def write_lines(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_workers_are_capped_at_the_cores_unless_forced(smollm2_slice, tmp_path, monkeypatch):
    jsonl = tmp_path / "in.jsonl"
    write_lines(jsonl, [{"text": f"line number {i} of the batch"} for i in range(4)])
    options = PruneOptions(rate=0.5)
    monkeypatch.setattr("lite.prune.batch.available_cores", lambda: 1)
    data = jsonl.read_bytes()
    capped = prune_jsonl(smollm2_slice, data, tmp_path / "capped.jsonl", options, workers=64)
    assert (capped.workers, capped.requested_workers) == (1, 64) and not capped.errors
    forced = prune_jsonl(smollm2_slice, data, tmp_path / "forced.jsonl", options, workers=2, force_workers=True)
    assert forced.workers == 2 and not forced.errors
    assert (tmp_path / "capped.jsonl").read_text() == (tmp_path / "forced.jsonl").read_text()
    with pytest.raises(LiteError, match="workers"):
        prune_jsonl(smollm2_slice, data, tmp_path / "x.jsonl", options, workers=0)


def test_cli_says_when_it_caps_the_workers(smollm2_slice, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    cores = available_cores()
    write_lines(jsonl, [{"text": f"line {i}"} for i in range(cores + 2)])
    proc = run_python("-m", "lite.prune", "--model", str(smollm2_slice), "--jsonl", str(jsonl), "--out",
                      str(tmp_path / "o.jsonl"), "--workers", str(cores + 50), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert any(f"{cores + 50} workers" in line and f"{cores} core" in line and "--force-workers" in line
               for line in lines), lines


def test_a_bom_on_line_one_is_not_an_error(smollm2_slice, tmp_path):
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + b'{"text": "first line"}\n{"text": "second line"}\n')
    report = prune_jsonl(smollm2_slice, jsonl.read_bytes(), tmp_path / "o.jsonl", PruneOptions(rate=1.0), workers=1)
    assert report.errors == []
    assert [json.loads(line)["text"] for line in (tmp_path / "o.jsonl").read_text().splitlines()] == [
        "first line", "second line"]


def test_output_is_strict_json_even_when_the_input_holds_nan(smollm2_slice, tmp_path):
    jsonl = tmp_path / "nan.jsonl"
    jsonl.write_text('{"text": "a b c", "score": NaN, "big": Infinity, "small": -Infinity}\n'
                     '{"text": "d e f", "score": 1.5}\n')
    report = prune_jsonl(smollm2_slice, jsonl.read_bytes(), tmp_path / "o.jsonl", PruneOptions(rate=1.0), workers=1)
    out_lines = (tmp_path / "o.jsonl").read_text().splitlines()

    def strict(constant):
        raise ValueError(constant)

    parsed = [json.loads(line, parse_constant=strict) for line in out_lines]  # NaN or Infinity would raise
    assert parsed[1]["score"] == 1.5 and parsed[1]["text"] == "d e f"
    assert "error" in parsed[0] and report.errors and "NaN" in parsed[0]["error"]
    assert not any(isinstance(v, float) and not math.isfinite(v) for record in parsed for v in record.values())
