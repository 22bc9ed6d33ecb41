"""A hostile or broken hub (issue 16): the slicer fails in one line, in bounded time, and never obeys a
repo's index into fetching another repo. Each server behaviour is a fault of the fake hub."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_slice
from test_hub import assert_one_line_error

from lite.slice import INDEX_FILE
from lite.stformat import read_header

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
    index = {"metadata": {}, "weight_map": {name: other for name in tensor_names(single / "model.safetensors")}}
    hub.add("lite-test/escape", single, overrides={INDEX_FILE: json.dumps(index).encode()})
    out = tmp_path / "escape.safetensors"
    result = run_slice(slicer_env, "lite-test/escape", "--out", str(out))
    assert_one_line_error(result, "weight_map", "plain file name")
    assert hub.traffic.storage_bytes == 0 and not out.exists()
