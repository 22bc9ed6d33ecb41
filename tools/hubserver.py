"""A local stand-in for the Hugging Face hub: model folders served as repos on 127.0.0.1.

Two loopback servers, as on the real hub: the hub itself and a storage host for large files.
- `/api/models/{repo}[/revision/{rev}]`: repo info (sha, siblings); `/api/models/{repo}/tree/{rev}`:
  the file listing snapshot_download reads;
- `/{repo}/resolve/{rev}/{file}` (HEAD and GET): small files directly, with `X-Repo-Commit` and
  `ETag`; `.safetensors` files as a 302 to the storage host, with `X-Repo-Commit`,
  `X-Linked-Size` and `X-Linked-Etag`; hub-style errors: 404 + `X-Error-Code: RepoNotFound`,
  `RevisionNotFound` or `EntryNotFound`, 401 + `GatedRepo` without the repo's token;
- storage `/storage/{repo}/{sha}/{file}`: honours a single `Range` with 206 + `Content-Range`.

It counts the body bytes it sends (storage vs hub), logs every storage range, and has
faults to switch on: fail one storage request (503, 429, with a Retry-After if asked) or every one,
cut one ranged body halfway, ignore `Range` (answer 200 with the whole file), a slow mode, a
trickle (one byte at a time, on the storage or the hub host), a stall (headers, then silence), a
redirect loop on the hub, and a storage host that is down. Used by the tests (tests/conftest.py)
and by `python -m tools.fake_hub`.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LARGE_SUFFIX = ".safetensors"  # served through storage, like LFS files on the hub
SEND_BYTES = 64 * 1024
SEND_BUFFER_BYTES = 256 * 1024
SINGLE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass
class FakeRepo:
    repo_id: str
    folder: Path
    token: str | None = None  # gated: only `Authorization: Bearer <token>` may read files
    overrides: dict[str, bytes] = field(default_factory=dict)  # files served instead of the folder's
    branches: tuple[str, ...] = ("main",)
    _maps: dict = field(default_factory=dict, repr=False)

    @property
    def sha(self) -> str:
        return hashlib.sha1(f"fake-commit:{self.repo_id}".encode()).hexdigest()

    def resolves(self, revision: str) -> bool:
        return revision in self.branches or revision == self.sha

    def files(self) -> list[str]:
        on_disk = {p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*") if p.is_file()}
        return sorted(on_disk | set(self.overrides))

    def view(self, filename: str) -> memoryview:
        """The file's bytes, memory-mapped once (a 2.5 GB shard is never read whole into memory)."""
        if filename in self.overrides:
            return memoryview(self.overrides[filename])
        if filename not in self._maps:
            with open(self.folder / filename, "rb") as f:
                self._maps[filename] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if f.seek(0, 2) else b""
        return memoryview(self._maps[filename])

    def size(self, filename: str) -> int:
        return len(self.view(filename))

    def etag(self, filename: str) -> str:
        """A stable tag: sha1 of a small file's bytes (as git), a sha256-shaped tag for a large one (as LFS)."""
        if filename.endswith(LARGE_SUFFIX):
            return hashlib.sha256(f"{self.sha}:{filename}:{self.size(filename)}".encode()).hexdigest()
        return hashlib.sha1(self.view(filename)).hexdigest()


@dataclass
class Faults:
    cut_once: bool = False  # the next ranged body longer than SEND_BYTES stops halfway, connection closed
    ignore_range: bool = False  # storage answers 200 with the whole file to a Range request
    slow_seconds: float = 0.0  # pause after each SEND_BYTES chunk of a storage body
    fail_once: int | None = None  # the next storage request gets this status (503, 429, ...)
    fail_always: int | None = None  # every storage request gets this status
    retry_after: str | None = None  # the Retry-After header sent with those failures
    trickle_seconds: float = 0.0  # storage bodies go out one byte at a time, this long apart
    trickle_hub_seconds: float = 0.0  # the hub's small files go out one byte at a time, this long apart
    stall_seconds: float = 0.0  # storage sends the headers of a ranged answer, then nothing for this long
    redirect_loop: bool = False  # the hub answers every file request with a redirect to itself
    storage_down: bool = False  # the hub redirects downloads to a storage address where nothing listens


@dataclass
class Traffic:
    storage_bytes: int = 0  # body bytes sent by the storage host (safetensors headers and tensors)
    hub_bytes: int = 0  # body bytes sent by the hub host (small files, API answers)
    ranges: list[tuple[str, int, int, int]] = field(default_factory=list)  # (file, start, end excl., bytes sent)


class FakeHub:
    """Serve folders as hub repos. `with FakeHub() as hub: hub.add(...); hub.endpoint`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.repos: dict[str, FakeRepo] = {}
        self.faults = Faults()
        self.traffic = Traffic()
        self.lock = threading.Lock()
        self.hub = ThreadingHTTPServer((host, port), _handler(self, storage=False))
        self.storage = ThreadingHTTPServer((host, 0), _handler(self, storage=True))
        for server in (self.hub, self.storage):
            server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def endpoint(self) -> str:
        host, port = self.hub.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def storage_url(self) -> str:
        host, port = self.storage.server_address[:2]
        return f"http://{host}:{port}"

    def add(
        self, repo_id: str, folder: str | Path, token: str | None = None, overrides: dict[str, bytes] | None = None
    ) -> FakeRepo:
        repo = FakeRepo(repo_id, Path(folder), token, dict(overrides or {}))
        self.repos[repo_id] = repo
        return repo

    def reset(self) -> None:
        """Clear the counters and switch every fault off."""
        with self.lock:
            self.faults = Faults()
            self.traffic = Traffic()

    def count(self, storage: bool, n: int) -> None:
        with self.lock:
            if storage:
                self.traffic.storage_bytes += n
            else:
                self.traffic.hub_bytes += n

    def start(self) -> FakeHub:
        for server in (self.hub, self.storage):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self.hub, self.storage):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def closed_port() -> int:
    """A loopback port where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _handler(hub: FakeHub, storage: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler if not storage else _StorageHandler):
        pass

    Handler.hub = hub
    return Handler


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: FakeHub
    is_storage = False

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.route(send_body=False)

    def do_GET(self) -> None:
        self.route(send_body=True)

    def route(self, send_body: bool) -> None:
        raise NotImplementedError

    def reply(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, send_body: bool = True
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.send_body(body)

    def send_body(self, body: bytes | memoryview, cut_after: int | None = None) -> int:
        """Write the body in chunks, counting what leaves; stop early when the client hangs up."""
        sent = 0
        view = memoryview(body)
        limit = len(view) if cut_after is None else cut_after
        faults = self.hub.faults
        trickle = faults.trickle_seconds if self.is_storage else faults.trickle_hub_seconds
        step = 1 if trickle else SEND_BYTES
        try:
            if self.is_storage and faults.stall_seconds:
                self.wfile.flush()
                until = time.monotonic() + faults.stall_seconds
                while time.monotonic() < until and self.hub.faults is faults:
                    time.sleep(0.05)
            while sent < limit:
                if self.hub.faults is not faults:  # reset since: this answer belongs to a test that has ended
                    self.close_connection = True
                    break
                chunk = view[sent : min(sent + step, limit)]
                self.wfile.write(chunk)
                if trickle:
                    self.wfile.flush()
                    time.sleep(trickle)
                sent += len(chunk)
                if self.hub.faults is faults:
                    self.hub.count(self.is_storage, len(chunk))
                if self.is_storage and self.hub.faults.slow_seconds:
                    time.sleep(self.hub.faults.slow_seconds)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if cut_after is not None:
            self.close_connection = True
        return sent

    def error(self, status: int, code: str | None, message: str, send_body: bool, extra: dict | None = None) -> None:
        headers = {"Content-Type": "application/json", **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        headers["X-Error-Message"] = message
        self.reply(status, json.dumps({"error": message}).encode(), headers, send_body)


class _HubHandler(_BaseHandler):
    def route(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/api/models/"):
            return self.api(path[len("/api/models/") :], send_body)
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if match:
            return self.resolve(*match.groups(), send_body=send_body)
        self.error(404, None, "Not Found", send_body)

    def lookup(self, repo_id: str, revision: str, send_body: bool) -> FakeRepo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self.error(404, "RepoNotFound", "Repository not found", send_body)
            return None
        if not repo.resolves(revision):
            self.error(404, "RevisionNotFound", "Invalid rev id: " + revision, send_body)
            return None
        return repo

    def api(self, rest: str, send_body: bool) -> None:
        match = re.fullmatch(r"([^/]+/[^/]+)(?:/(revision|tree)/([^/]+))?/?", rest)
        if not match:
            return self.error(404, None, "Not Found", send_body)
        repo_id, kind, revision = match.groups()
        repo = self.lookup(repo_id, revision or "main", send_body)
        if repo is None:
            return
        if kind == "tree":
            doc: object = [self.tree_entry(repo, name) for name in repo.files()]
        else:
            doc = {
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "sha": repo.sha,
                "private": False,
                "gated": "manual" if repo.token else False,
                "siblings": [{"rfilename": name} for name in repo.files()],
            }
        self.reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json"}, send_body)

    @staticmethod
    def tree_entry(repo: FakeRepo, name: str) -> dict:
        entry = {"type": "file", "oid": repo.etag(name), "size": repo.size(name), "path": name}
        if name.endswith(LARGE_SUFFIX):
            entry["lfs"] = {"oid": repo.etag(name), "size": repo.size(name), "pointerSize": 134}
        return entry

    def resolve(self, repo_id: str, revision: str, filename: str, send_body: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is not None and repo.token and self.headers.get("Authorization") != f"Bearer {repo.token}":
            return self.error(401, "GatedRepo", "Access to model is restricted", send_body)
        repo = self.lookup(repo_id, revision, send_body)
        if repo is None:
            return
        commit = {"X-Repo-Commit": repo.sha}
        if self.hub.faults.redirect_loop:
            return self.reply(302, b"", {**commit, "Location": self.path}, send_body)
        if filename not in repo.files():
            return self.error(404, "EntryNotFound", "Entry not found", send_body, commit)
        etag = f'"{repo.etag(filename)}"'
        if filename.endswith(LARGE_SUFFIX):
            storage_url = self.hub.storage_url if not self.hub.faults.storage_down else f"http://127.0.0.1:{closed_port()}"
            location = f"{storage_url}/storage/{repo.repo_id}/{repo.sha}/{filename}"
            headers = {**commit, "Location": location, "X-Linked-Size": str(repo.size(filename)), "X-Linked-Etag": etag}
            return self.reply(302, b"", headers, send_body)
        self.reply(200, bytes(repo.view(filename)), {**commit, "ETag": etag}, send_body)


class _StorageHandler(_BaseHandler):
    is_storage = True

    def setup(self) -> None:
        # A bounded send buffer, as across a real network: what a client that hangs up never
        # read stays small, so the byte counts measure the client, not loopback buffering.
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        super().setup()

    def route(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        match = re.fullmatch(r"/storage/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)", path)
        repo = self.hub.repos.get(match[1]) if match else None
        if repo is None or repo.sha != match[2] or match[3] not in repo.files():
            return self.error(404, None, "NoSuchKey", send_body)
        filename = match[3]
        data = repo.view(filename)
        faults = self.hub.faults
        with self.hub.lock:
            failure, faults.fail_once = faults.fail_once or faults.fail_always, None
        if failure:
            extra = {"Retry-After": faults.retry_after} if faults.retry_after is not None else None
            return self.error(failure, None, "Slow Down", send_body, extra)
        asked = SINGLE_RANGE.fullmatch(self.headers.get("Range", "").strip())
        if asked is None or faults.ignore_range:
            return self.reply(200, data, {"Accept-Ranges": "bytes"}, send_body)
        start = int(asked[1])
        end = min(int(asked[2]) + 1 if asked[2] else len(data), len(data))  # exclusive
        if start >= len(data) or end <= start:
            return self.error(416, None, "Range Not Satisfiable", send_body, {"Content-Range": f"bytes */{len(data)}"})
        body = data[start:end]
        cut_after = None
        with self.hub.lock:
            if faults.cut_once and len(body) > SEND_BYTES:
                faults.cut_once = False
                cut_after = len(body) // 2
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        sent = self.send_body(body, cut_after) if send_body else 0
        with self.hub.lock:
            if self.hub.faults is faults:  # not reset while it was sent (a stalled answer outliving its test)
                self.hub.traffic.ranges.append((filename, start, end, sent))
