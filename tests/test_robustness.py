"""User mistakes and broken inputs: one-line errors and non-zero exits, never a traceback or a lost file."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from lite.errors import LiteError
from lite.store.slicefile import SliceFile
from tools import fixtures


def run(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def rewrite_metadata(source, target, change) -> None:
    """A copy of a slice whose metadata went through `change` (header rewritten, data kept)."""
    raw = source.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    change(header["__metadata__"])
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    target.write_bytes(struct.pack("<Q", len(encoded)) + encoded + raw[8 + length :])


def test_slice_out_is_checked_before_any_work(tmp_path):
    folder = fixtures.tiny("llama-mha")
    assert_one_line_error(run("-m", "lite.slice", str(folder), "--out", str(tmp_path)), "is a folder")
    assert_one_line_error(run("-m", "lite.slice", str(folder), "--out", "/proc/version/x.safetensors"),
                          "not a writable folder")


def test_malformed_repo_id_is_a_clean_error(tmp_path):
    result = run("-m", "lite.slice", "bad name!", "--out", str(tmp_path / "x.safetensors"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_truncated_and_broken_slices_are_named_as_such(tmp_path, smollm2_slice):
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(smollm2_slice.read_bytes()[:5_000_000])
    with pytest.raises(LiteError, match="truncated"):
        SliceFile(truncated)
    no_config = tmp_path / "no-config.safetensors"
    rewrite_metadata(smollm2_slice, no_config, lambda meta: meta.pop("config.json"))
    with pytest.raises(LiteError, match="no config.json"):
        SliceFile(no_config)
    bad_tokenizer = tmp_path / "bad-tokenizer.safetensors"
    rewrite_metadata(smollm2_slice, bad_tokenizer, lambda meta: meta.update({"tokenizer.json": "{\"x\": 1}"}))
    result = run("-m", "lite.prune", "--model", str(bad_tokenizer), "-", stdin="some text")
    assert_one_line_error(result, "tokenizer.json")


def test_prune_cli_mistakes(tmp_path, smollm2_slice):
    model = str(smollm2_slice)
    assert_one_line_error(run("-m", "lite.prune", "--model", model, str(tmp_path / "nope.txt")), "nope.txt")
    assert_one_line_error(run("-m", "lite.prune", "--model", str(tmp_path), "-", stdin="x"))
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("caf\xe9".encode("latin-1"))
    assert run("-m", "lite.prune", "--model", model, str(binary)).returncode == 2
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"text": "hello there"}\n')
    assert_one_line_error(run("-m", "lite.prune", "--model", model, "--jsonl", str(jsonl), "--out", str(tmp_path)),
                          "is a folder")
    assert run("-m", "lite.prune", "--model", model, "--jsonl", str(jsonl), "--out", str(tmp_path / "o.jsonl"),
               "--workers", "0").returncode == 2


def test_batch_with_a_slice_that_cannot_load_fails_fast(tmp_path, smollm2_slice):
    """A worker that cannot load must not make the pool respawn workers forever."""
    bad = tmp_path / "mamba.safetensors"
    rewrite_metadata(smollm2_slice, bad, lambda meta: meta.update(
        {"config.json": json.dumps({**json.loads(meta["config.json"]), "model_type": "mamba"})}))
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"text": "a b c"}\n{"text": "d e f"}\n')
    result = run("-m", "lite.prune", "--model", str(bad), "--jsonl", str(jsonl), "--out", str(tmp_path / "o.jsonl"),
                 "--workers", "2")
    assert_one_line_error(result, "mamba")
    assert not (tmp_path / "o.jsonl").exists()


def test_batch_survives_lines_that_break_the_tokenizer_or_the_parser(tmp_path, smollm2_slice):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"text": "good line one"}\n{"text": "a \\ud800 b"}\n' + "[" * 100000 + "\n"
                     + '{"text": "good line four"}\n')
    out = tmp_path / "o.jsonl"
    result = run("-m", "lite.prune", "--model", str(smollm2_slice), "--rate", "1.0", "--jsonl", str(jsonl),
                 "--out", str(out), "--workers", "1")
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records[0]["text"] == "good line one" and records[3]["text"] == "good line four"
    assert records[1]["line"] == 2 and "surrogate" in records[1]["error"]
    assert records[2]["line"] == 3 and "error" in records[2]


def test_interrupted_real_write_keeps_the_previous_file(tmp_path, monkeypatch):
    """The real write_slice path, failing at its last step (fsync), leaves the old file and no temp file."""
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder

    folder = fixtures.tiny("llama-mha")
    out = tmp_path / "model.safetensors"
    make_slice(LocalFolder(folder), out)
    good = out.read_bytes()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("lite.store.atomic.os.fsync", failing_fsync)
    with pytest.raises(LiteError, match="cannot write"):
        make_slice(LocalFolder(fixtures.tiny("llama3-gqa")), out)
    assert out.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
