"""Serve local model folders as hub repos on 127.0.0.1, to run the hub slicer without the internet.

    python -m tools.fake_hub meta-llama/Llama-3.2-1B=/path/to/folder [REPO=FOLDER ...] [--port 8731]
    HF_ENDPOINT=http://127.0.0.1:8731 python -m lite.slice meta-llama/Llama-3.2-1B

On Ctrl-C (or SIGTERM) it prints the bytes it sent: storage (safetensors headers and tensor ranges) and hub
(small files, API answers), beside the repos' full sizes. The server is tools/hubserver.py.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tools.hubserver import FakeHub


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", nargs="+", metavar="REPO=FOLDER", help="a repo id and the folder it serves")
    parser.add_argument("--port", type=int, default=8731, help="the hub's port (storage takes a free one)")
    parser.add_argument("--token", help="make the repos gated: only this token may read them")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds of pause per 64 KiB of storage body")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    hub = FakeHub(port=args.port)
    hub.faults.slow_seconds = args.slow
    for spec in args.repos:
        repo_id, sep, folder = spec.partition("=")
        if not sep or not Path(folder).is_dir():
            print(f"error: {spec!r} is not REPO=FOLDER with an existing folder", file=sys.stderr)
            return 2
        repo = hub.add(repo_id, folder, token=args.token)
        size = sum(repo.size(name) for name in repo.files())
        print(f"{repo_id}: {folder} ({size:,} bytes, commit {repo.sha})")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background, where SIGINT is ignored
        signal.signal(sig, lambda *_: stop.set())
    with hub:
        print(f"serving on {hub.endpoint}: HF_ENDPOINT={hub.endpoint} python -m lite.slice REPO", flush=True)
        while not stop.wait(0.5):
            pass
    traffic = hub.traffic
    print(f"sent {traffic.storage_bytes:,} storage bytes in {len(traffic.ranges)} ranges, "
          f"{traffic.hub_bytes:,} hub bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
