"""`python -m lite.slice REPO_ID` against a local fake hub: exact bytes, faults, errors, offline."""

from __future__ import annotations

import json
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lite.store.slicefile import REVISION_KEY, SOURCE_KEY, SliceFile
from tests.helpers import GATED_TOKEN, run_slice, slice_command

SINGLE = "lite-test/tiny-llama"
SHARDED = "lite-test/tiny-llama-sharded"
FOLDER_OF = {SINGLE: "single", SHARDED: "sharded"}


def tensors_and_metadata(path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    sliced = SliceFile(path)
    tensors = {name: sliced.raw(name).tobytes() for name in sliced.names()}
    return tensors, dict(sliced.metadata)


def header_bytes(shard: Path) -> int:
    """Bytes of a safetensors file before its data: the 8-byte length and the JSON header."""
    with open(shard, "rb") as f:
        return 8 + struct.unpack("<Q", f.read(8))[0]


def shards_holding(folder: Path, names: list[str]) -> set[str]:
    index = folder / "model.safetensors.index.json"
    if not index.is_file():
        return {"model.safetensors"}
    weight_map = json.loads(index.read_text())["weight_map"]
    return {weight_map[name] for name in names}


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_slices(tiny_llamas: Path, tmp_path_factory) -> dict[str, Path]:
    """The slice of each fixture folder made locally: what the hub slices must equal."""
    out_dir = tmp_path_factory.mktemp("local-slices")
    slices = {}
    for repo_id, folder in FOLDER_OF.items():
        out = out_dir / f"{folder}.safetensors"
        command = slice_command(str(tiny_llamas / folder), "--out", str(out))
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        slices[repo_id] = out
    return slices


@pytest.mark.parametrize("repo_id", [SINGLE, SHARDED])
def test_hub_slice_equals_local_slice_and_fetches_only_needed_bytes(
    repo_id, hub, slicer_env, tiny_llamas, local_slices, tmp_path
):
    out = tmp_path / "hub.safetensors"
    result = run_slice(slicer_env, repo_id, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}")

    hub_tensors, hub_meta = tensors_and_metadata(out)
    local_tensors, local_meta = tensors_and_metadata(local_slices[repo_id])
    assert hub_tensors == local_tensors  # same names, same bytes, bit for bit
    assert hub_meta.pop(SOURCE_KEY) == repo_id
    assert hub_meta.pop(REVISION_KEY) == hub.repos[repo_id].sha
    for key in (SOURCE_KEY, REVISION_KEY):
        local_meta.pop(key)
    assert hub_meta == local_meta

    folder = tiny_llamas / FOLDER_OF[repo_id]
    tensor_bytes = sum(len(data) for data in hub_tensors.values())
    headers = sum(header_bytes(folder / shard) for shard in shards_holding(folder, list(hub_tensors)))
    assert hub.traffic.storage_bytes == tensor_bytes + headers  # tensors exactly, plus the headers read
    repo_bytes = sum(p.stat().st_size for p in folder.iterdir())
    print(f"{repo_id}: repo {repo_bytes:,} B; fetched {tensor_bytes:,} tensor + {headers:,} header B from storage, "
          f"{hub.traffic.hub_bytes:,} B of small files")


def test_gated_repo_needs_a_token(hub, slicer_env, local_slices, tmp_path):
    out = tmp_path / "gated.safetensors"
    refused = run_slice(slicer_env, "lite-test/gated-llama", "--out", str(out))
    assert_one_line_error(refused, "gated", "accept the license", "https://huggingface.co/lite-test/gated-llama",
                          "hf auth login", "HF_TOKEN")
    assert not out.exists() and hub.traffic.storage_bytes == 0

    with_env_token = run_slice({**slicer_env, "HF_TOKEN": GATED_TOKEN}, "lite-test/gated-llama", "--out", str(out))
    assert with_env_token.returncode == 0, with_env_token.stderr
    assert tensors_and_metadata(out)[0] == tensors_and_metadata(local_slices[SINGLE])[0]

    with_flag = run_slice(slicer_env, "lite-test/gated-llama", "--token", GATED_TOKEN, "--out", str(tmp_path / "2.st"))
    assert with_flag.returncode == 0, with_flag.stderr


def test_connection_cut_mid_range_resumes(hub, slicer_env, local_slices, tmp_path):
    hub.faults.cut_once = True
    out = tmp_path / "cut.safetensors"
    result = run_slice(slicer_env, SINGLE, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert tensors_and_metadata(out)[0] == tensors_and_metadata(local_slices[SINGLE])[0]
    cut = [r for r in hub.traffic.ranges if r[3] < r[2] - r[1]]
    assert len(cut) == 1
    _, start, end, sent = cut[0]
    assert (start + sent, end) in [(r[1], r[2]) for r in hub.traffic.ranges]  # resumed where it broke


@pytest.mark.parametrize("status", [503, 429])
def test_busy_storage_is_retried(status, hub, slicer_env, local_slices, tmp_path):
    hub.faults.fail_once = status
    out = tmp_path / "retried.safetensors"
    result = run_slice(slicer_env, SINGLE, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert tensors_and_metadata(out)[0] == tensors_and_metadata(local_slices[SINGLE])[0]
    assert hub.faults.fail_once is None


IGNORED_RANGE_LIMIT = 2 << 20  # what a server ignoring Range gets out before the client hangs up (see below)


def test_server_ignoring_range_is_a_clean_error(hub, slicer_env, tiny_llamas, tmp_path):
    """A 200 to a Range request is an error after a few hundred KB, never the whole file.

    What the server counts as sent is what the sockets took before the client, having read only the
    status line and headers, hung up: the server's send buffer (256 KiB, doubled by the kernel), the
    client's receive buffer (128 KiB to start) and one 64 KiB chunk, ~0.7 MiB. The file is 256 MiB
    (sparse), so 2 MiB is both a fixed bound and less than 1% of it.
    """
    big = tmp_path / "big-llama"
    big.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (big / name).symlink_to(tiny_llamas / "single" / name)
    with open(big / "model.safetensors", "wb") as f:
        f.truncate(256 << 20)
    hub.add("lite-test/big-llama", big)
    hub.faults.ignore_range = True
    out = tmp_path / "x.safetensors"
    result = run_slice(slicer_env, "lite-test/big-llama", "--out", str(out))
    assert_one_line_error(result, "instead of 206", "Range")
    file_size = (big / "model.safetensors").stat().st_size
    assert hub.traffic.storage_bytes < min(IGNORED_RANGE_LIMIT, file_size / 100), hub.traffic.storage_bytes
    print(f"answered 200 to a Range: {hub.traffic.storage_bytes:,} of {file_size:,} B sent before the client hung up")
    assert not out.exists()


@pytest.mark.parametrize("sig, previous", [(signal.SIGKILL, b"a previous slice"), (signal.SIGTERM, None)])
def test_interrupted_run_leaves_no_partial_slice(sig, previous, hub, slicer_env, tmp_path):
    out_dir = tmp_path / "weights"
    out_dir.mkdir()
    out = out_dir / "tiny.safetensors"
    if previous is not None:
        out.write_bytes(previous)
    hub.faults.slow_seconds = 0.05  # ~5 s for the embedding
    process = subprocess.Popen(slice_command(SINGLE, "--out", str(out)), env=slicer_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while hub.traffic.storage_bytes < 200_000 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, process.stderr.read()
    process.send_signal(sig)
    process.wait(timeout=30)
    assert process.returncode != 0
    if previous is None:
        assert not out.exists()
    else:
        assert out.read_bytes() == previous
    assert sorted(p.name for p in out_dir.iterdir()) == ([out.name] if previous else [])


def test_missing_repo_and_revision(hub, slicer_env, tmp_path):
    assert_one_line_error(run_slice(slicer_env, "lite-test/no-such-model", "--out", str(tmp_path / "a")),
                          "no repo lite-test/no-such-model")
    assert_one_line_error(run_slice(slicer_env, SINGLE, "--revision", "v9", "--out", str(tmp_path / "b")),
                          "has no revision 'v9'")


def test_revision_is_pinned_to_its_commit(hub, slicer_env, tmp_path):
    sha = hub.repos[SINGLE].sha
    out = tmp_path / "pinned.safetensors"
    assert run_slice(slicer_env, SINGLE, "--revision", sha, "--out", str(out)).returncode == 0
    assert tensors_and_metadata(out)[1][REVISION_KEY] == sha


def test_unsupported_model_fails_before_tensor_bytes(hub, slicer_env, tmp_path):
    result = run_slice(slicer_env, "lite-test/unsupported", "--out", str(tmp_path / "u.safetensors"))
    assert_one_line_error(result, "'mamba'", "not supported")
    assert hub.traffic.storage_bytes == 0


def test_default_out_is_weights_model_name(hub, slicer_env, tmp_path):
    result = run_slice(slicer_env, SINGLE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "weights" / "tiny-llama.safetensors").is_file()


def populate_hf_cache(env: dict[str, str], repo_id: str) -> None:
    code = f"from huggingface_hub import snapshot_download; snapshot_download({repo_id!r})"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=60)


def test_offline_uses_the_hf_cache(hub, slicer_env, tmp_path):
    online = tmp_path / "online.safetensors"
    assert run_slice(slicer_env, SINGLE, "--out", str(online)).returncode == 0
    populate_hf_cache(slicer_env, SINGLE)

    offline_env = {**slicer_env, "HF_HUB_OFFLINE": "1"}
    hub.reset()
    offline = tmp_path / "offline.safetensors"
    result = run_slice(offline_env, SINGLE, "--out", str(offline))
    assert result.returncode == 0, result.stderr
    assert offline.read_bytes() == online.read_bytes()  # same repo id and commit in the metadata too
    assert hub.traffic.storage_bytes == hub.traffic.hub_bytes == 0

    unreachable_env = {**slicer_env, "HF_ENDPOINT": f"http://127.0.0.1:{unused_port()}"}
    from_cache = tmp_path / "no-network.safetensors"
    result = run_slice(unreachable_env, SINGLE, "--out", str(from_cache))
    assert result.returncode == 0, result.stderr
    assert from_cache.read_bytes() == online.read_bytes()

    assert_one_line_error(run_slice(offline_env, SHARDED, "--out", str(tmp_path / "s")), "HF_HUB_OFFLINE", "not in the")


def test_no_network_is_a_clean_error(slicer_env, tmp_path):
    env = {**slicer_env, "HF_ENDPOINT": f"http://127.0.0.1:{unused_port()}"}
    result = run_slice(env, SINGLE, "--out", str(tmp_path / "x"))
    assert_one_line_error(result, "could not reach the hub", "HF_HUB_OFFLINE=1")
