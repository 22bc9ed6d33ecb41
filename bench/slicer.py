"""The hub slicer on loopback: the fake hub (tools.fake_hub) in one subprocess, `python -m lite.slice` in another.

Reports the storage and hub bytes the server sent, the slice file's size, the full repo's size and
the slicer's wall time (interpreter start included).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO, child_env, python_module

TRAFFIC = re.compile(r"sent ([\d,]+) storage bytes in (\d+) ranges, ([\d,]+) hub bytes")


@dataclass(frozen=True)
class SlicerResult:
    repo_id: str
    repo_bytes: int  # every file of the repo
    storage_bytes: int  # safetensors header and tensor ranges sent
    hub_bytes: int  # small files and API answers sent
    ranges: int
    slice_bytes: int
    seconds: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"the fake hub did not listen on port {port}")


def slice_through_hub(repo_id: str, folder: Path, out: Path) -> SlicerResult:
    """Serve `folder` as `repo_id` on loopback and slice it into `out`."""
    port = free_port()
    hub = subprocess.Popen(python_module("tools.fake_hub", f"{repo_id}={folder}", "--port", port),
                           cwd=REPO, env=child_env(), stdout=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        with tempfile.TemporaryDirectory() as hf_home:
            env = child_env(HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HOME=hf_home)
            start = time.perf_counter()
            subprocess.run(python_module("lite.slice", repo_id, "--out", out, "--quiet"), cwd=REPO, env=env,
                           check=True, capture_output=True, timeout=600)
            seconds = time.perf_counter() - start
    finally:
        hub.send_signal(signal.SIGTERM)
        output, _ = hub.communicate(timeout=30)
    traffic = TRAFFIC.search(output)
    if traffic is None:
        raise RuntimeError(f"the fake hub did not report its traffic:\n{output}")
    repo_bytes = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return SlicerResult(repo_id, repo_bytes, int(traffic[1].replace(",", "")), int(traffic[3].replace(",", "")),
                        int(traffic[2]), out.stat().st_size, seconds)
