"""Hostile but fair inputs (issue 16): each is refused in one line, or handled, never obeyed into harm."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lite.errors import LiteError
from lite.slice import make_slice
from lite.store.checkpoint import INDEX_FILE
from lite.store.sources import LocalFolder
from tests.helpers import assert_one_line_error, rewrite_slice_header
from tests.helpers import run_python as run
from tools import fixtures


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


# ---- 6: bad numbers in a config are refused; a NaN score is never selected from ---------------------------
NAN, INF = float("nan"), float("inf")
LLAMA3 = {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 64,
          "rope_type": "llama3"}
BAD_NUMBERS = {  # fixture -> (config change, word the error names)
    "eps-nan": ("llama3-gqa", {"rms_norm_eps": NAN}, "rms_norm_eps"),
    "eps-negative": ("llama3-gqa", {"rms_norm_eps": -1e-6}, "rms_norm_eps"),
    "eps-zero": ("llama3-gqa", {"rms_norm_eps": 0}, "rms_norm_eps"),
    "theta-zero": ("llama3-gqa", {"rope_theta": 0}, "rope_theta"),
    "theta-negative": ("llama-mha", {"rope_theta": -10000.0}, "rope_theta"),
    "theta-inf": ("llama-mha", {"rope_theta": INF}, "rope_theta"),
    "llama3-factor-zero": ("llama3-gqa", {"rope_scaling": {**LLAMA3, "factor": 0}}, "factor"),
    "llama3-equal-freq-factors": ("llama3-gqa", {"rope_scaling": {**LLAMA3, "low_freq_factor": 4.0}}, "freq_factor"),
    "llama3-original-zero": ("llama3-gqa", {"rope_scaling": {**LLAMA3, "original_max_position_embeddings": 0}},
                             "original_max_position_embeddings"),
    "linear-factor-zero": ("llama-mha", {"rope_scaling": {"rope_type": "linear", "factor": 0.0}}, "factor"),
    "linear-factor-nan": ("llama-mha", {"rope_scaling": {"rope_type": "linear", "factor": NAN}}, "factor"),
    "partial-rotary-zero": ("phi3", {"partial_rotary_factor": 0.0}, "partial_rotary_factor"),
    "partial-rotary-above-one": ("phi3", {"partial_rotary_factor": 2.0}, "partial_rotary_factor"),
    "longrope-factor-nan": ("phi3", {"rope_scaling": {"rope_type": "longrope", "long_factor": [1, 1, 1, 1, 1, NAN],
                                                      "short_factor": [1.0] * 6}}, "long_factor"),
    "pre-attn-scalar-zero": ("gemma2", {"query_pre_attn_scalar": 0}, "query_pre_attn_scalar"),
    "softcap-negative": ("gemma2", {"attn_logit_softcapping": -5.0}, "attn_logit_softcapping"),
    "model-type-list": ("llama-mha", {"model_type": ["llama"]}, "model_type"),
    "hidden-size-huge": ("llama-mha", {"hidden_size": 10**30}, "hidden_size"),
    "heads-float": ("llama-mha", {"num_attention_heads": 4.5}, "num_attention_heads"),
    "heads-string": ("llama-mha", {"num_attention_heads": "four"}, "num_attention_heads"),
}


def bad_config(name: str) -> tuple[Path, dict, str]:
    fixture, change, word = BAD_NUMBERS[name]
    folder = fixtures.tiny(fixture)
    return folder, {**json.loads((folder / "config.json").read_text()), **change}, word


@pytest.mark.parametrize("name", list(BAD_NUMBERS))
def test_bad_numbers_are_refused_when_slicing(name, tmp_path):
    folder, config, word = bad_config(name)
    copy = copy_of(folder, tmp_path / "model")
    (copy / "config.json").unlink()
    (copy / "config.json").write_text(json.dumps(config))  # json writes NaN and Infinity, as a hostile file may
    with pytest.raises(LiteError, match=word) as caught:
        make_slice(LocalFolder(copy), tmp_path / "x.safetensors")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("name", list(BAD_NUMBERS))
def test_bad_numbers_are_refused_when_loading(name, tmp_path):
    import lite

    folder, config, word = bad_config(name)
    good = tmp_path / "good.safetensors"
    make_slice(LocalFolder(folder), good)
    bad = tmp_path / "bad.safetensors"
    rewrite_slice_header(good, bad, lambda header: header["__metadata__"].update({"config.json": json.dumps(config)}))
    with pytest.raises(LiteError, match=word):
        lite.load(bad)


def nan_weights(source: Path, target: Path, tensor_suffix: str) -> None:
    """A copy of a slice with every value of one tensor set to NaN (bf16 0x7fc0)."""
    from lite.store.slicefile import SliceFile

    sliced = SliceFile(source)
    name = next(n for n in sliced.names() if n.endswith(tensor_suffix))
    entry = sliced.header.entries[name]
    assert entry.dtype == "BF16"
    raw = bytearray(source.read_bytes())
    start = sliced.header.data_start + entry.start
    raw[start : start + entry.nbytes] = b"\xc0\x7f" * (entry.nbytes // 2)
    target.write_bytes(bytes(raw))


def test_a_nan_score_is_never_selected_from(tmp_path):
    import lite

    good = tmp_path / "good.safetensors"
    make_slice(LocalFolder(fixtures.tiny("llama-mha")), good)
    bad = tmp_path / "nan.safetensors"
    nan_weights(good, bad, "input_layernorm.weight")
    pruner = lite.load(bad)
    text = "Janet's ducks lay 16 eggs per day. She eats three for breakfast."
    for method in lite.METHODS:  # a rank of a NaN is a plausible number: every method must refuse it
        if method == "rarity":  # no model run: the weights are not read
            continue
        with pytest.raises(LiteError, match="NaN"):
            pruner.prune(text, rate=0.5, method=method)
    assert pruner.prune(text, rate=1.0).text == text  # nothing to select: no score needed
    result = run("-m", "lite.prune", "--model", str(bad), "--rate", "0.5", stdin=text)
    assert_one_line_error(result, "NaN")


def test_the_scorer_boundary_refuses_non_finite_scores():
    import numpy as np

    from lite.prune.select import require_finite

    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(LiteError, match="not finite"):
            require_finite(np.array([0.1, bad, 0.2, 0.3], dtype=np.float32))


# ---- 7: one line instead of a traceback ---------------------------------------------------------------
@pytest.mark.parametrize("filename", ["config.json", "tokenizer.json", "tokenizer_config.json", INDEX_FILE])
def test_files_that_are_not_utf8_are_one_line(filename, tmp_path):
    folder = copy_of(fixtures.tiny("llama3-gqa", sharded=True), tmp_path / "model")
    if (folder / filename).exists():
        (folder / filename).unlink()
    (folder / filename).write_bytes(b'{"model_type": "caf\xe9"}')
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, filename, "UTF-8")


@pytest.mark.parametrize("content", ['{"a": ' * 100_000 + "1" + "}" * 100_000, "[" * 100_000,
                                     '{"model_type": "llama", "hidden_size": ' + "9" * 5000 + "}"],
                         ids=["object-bomb", "list-bomb", "huge-int"])
def test_config_bombs_are_one_line(content, tmp_path):
    folder = copy_of(fixtures.tiny("llama-mha"), tmp_path / "model")
    (folder / "config.json").unlink()
    (folder / "config.json").write_text(content)
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, "config.json")


def write_safetensors(path: Path, header: dict, data: bytes = b"") -> None:
    import struct

    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


@pytest.mark.parametrize("shape", [[2**70, 64], [-1, 64], [2**40, 2**40], ["8", 64], [1.5, 64]])
def test_tensor_shapes_that_overflow_are_one_line(shape, tmp_path):
    folder = copy_of(fixtures.tiny("llama-mha"), tmp_path / "model")
    (folder / "model.safetensors").unlink()
    header = {"model.embed_tokens.weight": {"dtype": "BF16", "shape": shape, "data_offsets": [0, 128]}}
    write_safetensors(folder / "model.safetensors", header, b"\0" * 128)
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, "model.embed_tokens.weight")


def test_tensor_shapes_that_do_not_match_the_config_are_refused_when_slicing(tmp_path):
    folder = copy_of(fixtures.tiny("llama-mha"), tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").unlink()
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": 32, "head_dim": 8}))
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, "model.embed_tokens.weight", "config")
    assert not (tmp_path / "x.safetensors").exists()


def test_norm_shape_that_does_not_match_is_refused_when_loading(tmp_path):
    """A slice whose config and a tensor other than q/k disagree: refused at load, not a numpy traceback at prune."""
    import lite

    good = tmp_path / "good.safetensors"
    make_slice(LocalFolder(fixtures.tiny("llama-mha")), good)

    def halve(header):
        norm = header["model.layers.0.input_layernorm.weight"]
        norm["shape"] = [norm["shape"][0] // 2, 2]  # same bytes, another shape

    bad = tmp_path / "bad.safetensors"
    rewrite_slice_header(good, bad, halve)
    with pytest.raises(LiteError, match="input_layernorm"):
        lite.load(bad)


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_endless_input_is_bounded(how, smollm2_slice, tmp_path):
    args = ["-m", "lite.prune", "--model", str(smollm2_slice)]
    if how == "file":
        result = run(*args, "/dev/zero", timeout=60)
    else:
        with open("/dev/zero", "rb") as zero:
            result = subprocess.run([sys.executable, *args, "-"], stdin=zero, capture_output=True, text=True,
                                    timeout=60, check=False)
    assert_one_line_error(result, "larger than")
    jsonl = run(*args, "--jsonl", "/dev/zero", "--out", str(tmp_path / "o.jsonl"), timeout=120)
    assert_one_line_error(jsonl, "larger than")


# ---- 9: the smaller ones ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, word", [
    ({"force": None}, "force"), ({"force": "abc"}, "force"), ({"force": [1]}, "force"),
    ({"rate": True}, "rate"), ({"rate": "0.5"}, "rate"), ({"rate": b"0.5"}, "rate"),
    ({"target_tokens": True}, "target_tokens"), ({"target_tokens": 2.0}, "target_tokens"),
    ({"force_digits": "yes"}, "force_digits"), ({"keep_last": 1.5}, "keep_last"), ({"separator": None}, "separator"),
])
def test_wrong_argument_types_are_lite_errors(pruner, kwargs, word):
    with pytest.raises(LiteError, match=word):
        pruner.prune("some text to prune here", **kwargs)


def test_the_slicer_refuses_a_tokenizer_that_cannot_load(tmp_path):
    folder = copy_of(fixtures.tiny("llama-mha"), tmp_path / "model")
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").write_text(json.dumps({"version": "1.0", "model": {"type": "NoSuchModel"}}))
    result = run("-m", "lite.slice", str(folder), "--out", str(tmp_path / "x.safetensors"), "--quiet")
    assert_one_line_error(result, "tokenizer.json", "cannot be loaded")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGTERM"])
def test_a_closed_terminal_leaves_no_partial_file(sig, smollm2_slice, tmp_path):
    """SIGHUP (the terminal closed) unwinds like SIGTERM: the batch's temporary output file is removed."""
    import os
    import signal
    import time

    jsonl = tmp_path / "in.jsonl"
    line = json.dumps({"text": "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning. " * 4})
    jsonl.write_text((line + "\n") * 3000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    process = subprocess.Popen([sys.executable, "-m", "lite.prune", "--model", str(smollm2_slice), "--rate", "0.5",
                                "--jsonl", str(jsonl), "--out", str(out_dir / "o.jsonl"), "--workers", "1", "--quiet"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(out_dir.iterdir()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read()
    assert [p.name.endswith(".partial") for p in out_dir.iterdir()] == [True]  # the write is under way
    process.send_signal(getattr(signal, sig))
    process.wait(timeout=30)
    assert process.returncode != 0
    assert list(out_dir.iterdir()) == []
