"""Models by name: a hub repo id is sliced on first use into huggingface_hub's assets cache (against the fake hub)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

REPO_ID = "lite-test/tiny-llama"
TEXT = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning."


def lite_command(env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "lite", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def python(env: dict[str, str], code: str):
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)


def slices_under(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["HF_HOME"]) / "assets" / "lite").glob("*/slices/*.safetensors"))


def expected_text(tiny_llamas: Path, tmp_path: Path, rate: float) -> str:
    from lite.prune import load
    from lite.slice import make_slice
    from lite.store.sources import LocalFolder

    local = tmp_path / "local.safetensors"
    make_slice(LocalFolder(tiny_llamas / "single"), local)
    return load(local).prune(TEXT, rate=rate).text


def test_repo_id_is_sliced_once_then_loaded_without_the_network(hub, slicer_env, tiny_llamas, tmp_path):
    sha = hub.repos[REPO_ID].sha
    first = lite_command(slicer_env, "prune", "--model", REPO_ID, "--rate", "0.5", stdin=TEXT, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == expected_text(tiny_llamas, tmp_path, 0.5)
    assert hub.traffic.storage_bytes > 0
    slices = slices_under(slicer_env)
    assert [p.name for p in slices] == [f"{sha}.safetensors"]
    assert slices[0].parent.parent.name == "lite-test--tiny-llama"
    assert not list(slices[0].parent.glob("*.partial")) and not list(slices[0].parent.glob(".*"))
    # later loads: no request at all, online or offline
    for env in (slicer_env, {**slicer_env, "HF_HUB_OFFLINE": "1"}):
        hub.reset()
        code = (
            f"import lite; p = lite.load({REPO_ID!r}); print(p.scorer.slice.path); "
            f"print(p.prune({TEXT!r}, rate=0.5).text)"
        )
        again = python(env, code)
        assert again.returncode == 0, again.stderr
        path, text = again.stdout.split("\n", 1)
        assert Path(path) == slices[0] and text == first.stdout + "\n"
        assert hub.traffic.hub_bytes == 0 and hub.traffic.storage_bytes == 0


def test_revision_pin_and_offline_errors(hub, slicer_env, tmp_path):
    sha = hub.repos[REPO_ID].sha
    offline = {**slicer_env, "HF_HUB_OFFLINE": "1"}
    missing = python(offline, f"import lite; lite.load({REPO_ID!r})")
    assert (
        missing.returncode == 1
        and "LiteError: HF_HUB_OFFLINE is set and lite-test/tiny-llama" in missing.stderr.splitlines()[-1]
    )
    pinned = python(slicer_env, f"import lite; print(lite.load({REPO_ID!r}, revision={sha!r}).scorer.slice.path)")
    assert pinned.returncode == 0, pinned.stderr
    assert Path(pinned.stdout.strip()).name == f"{sha}.safetensors"
    hub.reset()  # the commit itself is the key: offline, by commit, no network
    by_commit = python(offline, f"import lite; print(lite.load({REPO_ID!r}, revision={sha!r}).scorer.slice.path)")
    assert by_commit.returncode == 0 and hub.traffic.hub_bytes == 0
    # main was never loaded by name: offline it is not known to be this commit
    main = lite_command(offline, "prune", "--model", REPO_ID, stdin=TEXT)
    assert (
        main.returncode == 2 and main.stderr.startswith("error: HF_HUB_OFFLINE is set") and main.stderr.count("\n") == 1
    )
    bad = lite_command(slicer_env, "prune", "--model", REPO_ID, "--revision", "v9", stdin=TEXT)
    assert bad.returncode == 2 and bad.stderr == "error: lite-test/tiny-llama has no revision 'v9'\n"
    nobody = lite_command(slicer_env, "prune", "--model", "lite-test/no-such-model", stdin=TEXT)
    assert nobody.returncode == 2 and nobody.stderr.startswith("error: no repo lite-test/no-such-model")
    assert (
        lite_command(slicer_env, "prune", "--revision", "main", stdin=TEXT).stderr
        == "error: --revision goes with --model REPO_ID\n"
    )


def test_a_load_that_fails_leaves_nothing_in_the_cache(hub, slicer_env):
    offline = {**slicer_env, "HF_HUB_OFFLINE": "1"}
    for env, repo in ((slicer_env, "lite-test/no-such-model"), (offline, "lite-test/never-loaded")):
        failed = lite_command(env, "prune", "--model", repo, stdin=TEXT)
        assert failed.returncode == 2 and failed.stderr.startswith("error: "), failed.stderr
        folder = Path(env["HF_HOME"]) / "assets" / "lite" / repo.replace("/", "--")
        assert not folder.exists(), sorted(folder.rglob("*"))


def test_cache_lists_and_removes(hub, slicer_env, tmp_path):
    empty = lite_command(slicer_env, "cache")
    assert empty.returncode == 0 and empty.stdout.startswith("no cached slices")
    for repo in (REPO_ID, "lite-test/tiny-llama-sharded"):
        assert python(slicer_env, f"import lite; lite.load({repo!r})").returncode == 0
    listed = lite_command(slicer_env, "cache", "--json")
    entries = json.loads(listed.stdout)
    assert [e["repo_id"] for e in entries] == ["lite-test/tiny-llama", "lite-test/tiny-llama-sharded"]
    for entry in entries:
        assert entry["revisions"] == ["main"] and entry["size"] == os.path.getsize(entry["path"]) > 0
        assert entry["commit"] == hub.repos[entry["repo_id"]].sha
    table = lite_command(slicer_env, "slice", "--list").stdout
    assert "lite-test/tiny-llama-sharded" in table and "main" in table and "2 slice(s)" in table
    assert table == lite_command(slicer_env, "cache").stdout
    sha = hub.repos[REPO_ID].sha
    removed = lite_command(slicer_env, "cache", "--remove", f"{REPO_ID}@{sha[:8]}")
    assert removed.returncode == 0 and removed.stdout.startswith(f"removed {REPO_ID}@{sha[:12]}")
    assert [e["repo_id"] for e in json.loads(lite_command(slicer_env, "cache", "--json").stdout)] == [
        "lite-test/tiny-llama-sharded"
    ]
    assert not (Path(slicer_env["HF_HOME"]) / "assets" / "lite" / "lite-test--tiny-llama").exists()
    again = lite_command(slicer_env, "cache", "--remove", REPO_ID)
    assert again.returncode == 2 and again.stderr == f"error: no cached slice of {REPO_ID} (see `lite-pruner cache`)\n"


def test_a_path_still_loads_a_file(smollm2_slice, tmp_path):
    import lite
    from lite import LiteError

    assert lite.load(smollm2_slice).scorer.slice.path == Path(smollm2_slice)
    assert lite.load(str(smollm2_slice)).prune("a b c", rate=1.0).text == "a b c"
    for bad, message in ((tmp_path / "none.safetensors", "none.safetensors"), (str(tmp_path), "is a folder")):
        try:
            lite.load(bad)
        except LiteError as err:
            assert message in str(err) and "\n" not in str(err)
        else:
            raise AssertionError(f"{bad} loaded")
