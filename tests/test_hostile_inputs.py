"""Hostile but fair inputs (issue 16): each is refused in one line, or handled, never obeyed into harm."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fixtures

from lite.errors import LiteError
from lite.slice import INDEX_FILE, make_slice
from lite.sources import LocalFolder


def run(*args: str, stdin: str | bytes | None = None, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    text = not isinstance(stdin, bytes)
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=text, cwd=cwd, check=False,
                          timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def copy_of(folder: Path, into: Path) -> Path:
    """A model folder whose files are links to the fixture's (cheap), so any of them can be replaced."""
    into.mkdir(parents=True)
    for path in folder.iterdir():
        (into / path.name).symlink_to(path)
    return into


def with_index(folder: Path, change) -> None:
    """Rewrite the folder's index.json through `change(weight_map)`."""
    index_path = folder / INDEX_FILE
    index = json.loads(index_path.read_text())
    change(index["weight_map"])
    index_path.unlink()
    index_path.write_text(json.dumps(index))


# ---- 4: weight_map shard names stay inside the repo -------------------------------------------------
ESCAPES = ["../outside/x.safetensors", "../../etc/passwd", "sub/../../x.safetensors", "./../x.safetensors",
           "a//b.safetensors", "http://example.com/x.safetensors", "x.safetensors?download=1", "x\\..\\y", "",
           "%2e%2e/x.safetensors"]


@pytest.mark.parametrize("escape", ESCAPES)
def test_local_weight_map_cannot_leave_the_folder(escape, tmp_path):
    sharded = fixtures.tiny("llama3-gqa", sharded=True)
    folder = copy_of(sharded, tmp_path / "repo" / "model")
    outside = tmp_path / "repo" / "outside"
    outside.mkdir()
    embed = "model.embed_tokens.weight"
    shard = json.loads((sharded / INDEX_FILE).read_text())["weight_map"][embed]
    shutil.copy(sharded / shard, outside / "x.safetensors")  # what ../outside/x.safetensors would read
    with_index(folder, lambda weight_map: weight_map.update({embed: escape}))
    out = tmp_path / "slice.safetensors"
    with pytest.raises(LiteError, match="weight_map") as caught:
        make_slice(LocalFolder(folder), out)
    assert "\n" not in str(caught.value) and embed in str(caught.value)
    assert not out.exists()


def test_local_weight_map_absolute_path_is_refused(tmp_path):
    sharded = fixtures.tiny("llama3-gqa", sharded=True)
    folder = copy_of(sharded, tmp_path / "model")
    embed = "model.embed_tokens.weight"
    shard = json.loads((sharded / INDEX_FILE).read_text())["weight_map"][embed]
    with_index(folder, lambda weight_map: weight_map.update({embed: str((sharded / shard).resolve())}))
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, "weight_map", embed, "plain file name")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("bad_map", [["model-00001.safetensors"], {"model.embed_tokens.weight": ["a", "b"]},
                                     {"model.embed_tokens.weight": 3}])
def test_weight_map_of_the_wrong_shape_is_one_line(bad_map, tmp_path):
    folder = copy_of(fixtures.tiny("llama3-gqa", sharded=True), tmp_path / "model")
    (folder / INDEX_FILE).unlink()
    (folder / INDEX_FILE).write_text(json.dumps({"weight_map": bad_map}))
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, INDEX_FILE)


def test_index_that_is_a_list_is_one_line(tmp_path):
    folder = copy_of(fixtures.tiny("llama3-gqa", sharded=True), tmp_path / "model")
    (folder / INDEX_FILE).unlink()
    (folder / INDEX_FILE).write_text("[]")
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, INDEX_FILE, "not a JSON object")


def test_hf_cache_snapshot_with_symlinked_shards_still_slices(tmp_path):
    """Confinement is by name, not by where a link points: the HF cache links every file into blobs/."""
    folder = copy_of(fixtures.tiny("llama3-gqa", sharded=True), tmp_path / "snapshot")
    report = make_slice(LocalFolder(folder), tmp_path / "ok.safetensors")
    assert report.size > 0


# ---- 5: --out is never one of the inputs ----------------------------------------------------------------
def test_slice_out_cannot_overwrite_a_source_file(tmp_path):
    shutil.copytree(fixtures.tiny("llama3-gqa", sharded=True), tmp_path / "files")  # the cached fixture stays safe
    folder = copy_of(tmp_path / "files", tmp_path / "model")  # links, as in a Hugging Face cache snapshot
    shard = min(folder.glob("model-*.safetensors"))
    real_shard = shard.resolve()
    before = real_shard.read_bytes()
    (tmp_path / "via").symlink_to(folder)
    for out in (shard, tmp_path / "via" / shard.name, real_shard, folder / "config.json", folder / INDEX_FILE):
        result = run("-m", "lite.slice", str(folder), "--out", str(out), "--quiet")
        assert_one_line_error(result, "is the input", str(out))
        assert real_shard.read_bytes() == before and shard.is_symlink()
    plain = tmp_path / "plain"  # a folder of real files (not links), the shard named directly
    shutil.copytree(fixtures.tiny("llama-mha"), plain)
    before = (plain / "model.safetensors").read_bytes()
    result = run("-m", "lite.slice", str(plain), "--out", str(plain / "model.safetensors"), "--quiet")
    assert_one_line_error(result, "is the input")
    assert (plain / "model.safetensors").read_bytes() == before
    assert run("-m", "lite.slice", str(plain), "--out", str(plain / "slice.safetensors"), "--quiet").returncode == 0


def test_prune_jsonl_out_cannot_be_an_input(tmp_path, smollm2_slice):
    jsonl = tmp_path / "in.jsonl"
    original = '{"text": "hello there, general kenobi"}\n'
    jsonl.write_text(original)
    real_model = tmp_path / "real.safetensors"
    real_model.hardlink_to(smollm2_slice)  # replacing this name would leave the session's slice as it is
    model_copy = tmp_path / "model.safetensors"
    model_copy.symlink_to(real_model)
    for out in (jsonl, tmp_path / "." / "in.jsonl", model_copy, real_model):
        result = run("-m", "lite.prune", "--model", str(model_copy), "--jsonl", str(jsonl), "--out", str(out),
                     "--workers", "1", "--quiet")
        assert_one_line_error(result, "is the input")
    assert jsonl.read_text() == original and model_copy.is_symlink() and real_model.samefile(smollm2_slice)
