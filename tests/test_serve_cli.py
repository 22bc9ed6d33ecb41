"""`python -m lite.serve` as a user runs it: a subprocess, its log, its errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serve_support import FakeUpstream, ServerThread

REPO = Path(__file__).resolve().parents[1]


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "LITE_API_KEY"}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH")]))
    return out


def start(*args: str) -> tuple[subprocess.Popen, str]:
    """The server on a free port; its URL once it listens (read from its log)."""
    process = subprocess.Popen([sys.executable, "-m", "lite.serve", "--port", "0", *args], env=env(), cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return process, match.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


def test_default_log_holds_no_authorization_and_no_content(smollm2_slice):
    fake = FakeUpstream()
    secret, marker = "sk-SECRET-0123456789", "ZEBRA-MARKER-TEXT"
    with ServerThread(fake.app()) as upstream:
        process, url = start("--model", str(smollm2_slice), "--upstream", f"{upstream.url}/v1", "--workers", "1")
        try:
            with httpx.Client(base_url=url, timeout=60) as c:
                headers = {"Authorization": f"Bearer {secret}"}
                text = f"The {marker} crossed the road with {marker} friends."
                assert c.post("/v1/completions", json={"prompt": text}, headers=headers).status_code == 200
                assert c.post("/v1/completions", json={"prompt": text, "lite": {"rate": 7}},
                              headers=headers).status_code == 400
                assert c.post("/v1/prune", json={"text": text, "rate": 0.5}, headers=headers).status_code == 200
                assert c.post("/v1/prune", content=f'{{"text": "{marker}'.encode(), headers=headers).status_code == 400
                assert fake.received[0].header("authorization") == f"Bearer {secret}"
        finally:
            log = stop(process)
    assert "POST /v1/completions 200 tokens" in log and "POST /v1/prune 400" in log, log
    assert secret not in log and marker not in log and "Bearer" not in log, log


def test_binds_loopback_by_default(smollm2_slice):
    process, url = start("--model", str(smollm2_slice))
    try:
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/healthz").json()["upstream"] is False
    finally:
        stop(process)


def test_a_loopback_server_also_answers_to_the_address_it_was_bound_to():
    from lite.serve.cli import loopback_names

    assert loopback_names("127.0.0.2") == ("127.0.0.1", "localhost", "[::1]", "127.0.0.2")
    assert loopback_names("::1") == ("127.0.0.1", "localhost", "[::1]")
    assert loopback_names("127.0.0.1", ["Lite.Example.com"]) == ("127.0.0.1", "localhost", "[::1]", "lite.example.com")


def test_a_port_in_use_is_a_one_line_error_before_the_model_loads():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # no --model and no weights/: were the model loaded first, the error would be about the model
        result = subprocess.run([sys.executable, "-m", "lite.serve", "--port", str(port), "--model",
                                 "/nonexistent/slice.safetensors"], env=env(), cwd=REPO, capture_output=True,
                                text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use", result.stderr


@pytest.mark.parametrize("args, words", [
    (["--rate", "1.5"], "--rate must be in (0, 1]"),
    (["--upstream", "ftp://x"], "--upstream must be an http"),
    (["--upstream", "http://"], "names no host"),
    (["--upstream", "https://api.example.com/v1?key=1"], "without a query or fragment"),
    (["--upstream", "http://localhost:80x/v1"], "is not a URL"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--model", "/nonexistent/slice.safetensors"], "error:"),
    (["--target-tokenizer", "/nonexistent/tokenizer.json"], "error:"),
    (["--revision", "v1"], "--revision goes with --model"),
])
def test_bad_arguments_are_one_line_errors(args, words):
    result = subprocess.run([sys.executable, "-m", "lite.serve", *args], env=env(), cwd=REPO, capture_output=True,
                            check=False,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_without_the_serve_extra_the_error_names_the_pip_command(monkeypatch):
    import argparse

    from lite.errors import LiteError
    from lite.serve import cli

    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    with pytest.raises(LiteError, match=r"needs the serve extra: pip install 'lite-pruner\[serve\]' \(uvicorn"):
        cli.run(parser.parse_args([]))
