"""The slice file: bit-exact tensors, metadata, exact bf16 widening, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from lite.errors import LiteError
from lite.store.slicefile import SliceFile
from lite.store.stformat import to_float32
from tests.helpers import make_slice
from tools import fixtures


def source_tensors(folder):
    """Every tensor of a model folder (one file or shards), as torch tensors."""
    tensors = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            tensors.update({name: f.get_tensor(name) for name in f.keys()})  # noqa: SIM118 - safe_open is not iterable
    return tensors


@pytest.mark.parametrize("sharded", [False, True], ids=["single", "sharded"])
def test_slice_is_bit_exact_and_holds_only_what_scoring_needs(slices_dir, sharded):
    folder = fixtures.tiny("llama3-gqa", sharded=sharded)
    path = make_slice(folder, slices_dir / f"bitexact-{sharded}.safetensors")
    source = source_tensors(folder)
    with safe_open(str(path), "pt") as f:  # the slice is an ordinary safetensors file
        names = sorted(f.keys())
        assert names == sorted(n for n in source if n.startswith("model.layers.0.self_attn.")
                               or n in ("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight"))
        for name in names:
            ours = f.get_tensor(name)
            assert ours.dtype == source[name].dtype == torch.bfloat16
            assert torch.equal(ours.view(torch.int16), source[name].view(torch.int16))
        meta = f.metadata()
    assert json.loads(meta["config.json"]) == json.loads((folder / "config.json").read_text())
    assert meta["tokenizer.json"] == (folder / "tokenizer.json").read_text()
    assert meta["lite.format"] == "1" and meta["lite.source"] == str(folder.resolve())


def test_bf16_widening_is_exact():
    values = torch.randn(1000, dtype=torch.float32).to(torch.bfloat16)
    values = torch.cat([values, torch.tensor([0.0, -0.0, 1e-40, 3e38, float("inf")], dtype=torch.bfloat16)])
    widened = to_float32(values.view(torch.int16).numpy().view(np.uint16), "BF16")
    assert np.array_equal(widened.view(np.uint32), values.float().numpy().view(np.uint32))


def test_rows_are_read_on_demand_from_the_memory_map(smollm2_slice):
    sliced = SliceFile(smollm2_slice)
    raw = sliced.raw("model.embed_tokens.weight")
    assert isinstance(raw.base, np.memmap) or isinstance(raw, np.memmap)
    rows = sliced.float32_rows("model.embed_tokens.weight", np.array([3, 1, 3]))
    full = sliced.float32("model.embed_tokens.weight")
    assert rows.dtype == np.float32 and np.array_equal(rows, full[[3, 1, 3]])


def test_not_a_slice_is_a_clear_error(tmp_path, smollm2):
    with pytest.raises(LiteError, match="no slice file"):
        SliceFile(tmp_path / "missing.safetensors")
    with pytest.raises(LiteError, match="not a lite slice"):
        SliceFile(smollm2 / "model.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 16)
    with pytest.raises(LiteError, match="not a safetensors file"):
        SliceFile(junk)
