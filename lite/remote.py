"""A Hugging Face hub repo as a slice source: small files whole, tensors by HTTP Range.

The revision is resolved once to a commit (the hub's `X-Repo-Commit` header), and every later
request names that commit, so all bytes come from one snapshot. huggingface_hub does what it
already does well: the endpoint (`HF_ENDPOINT`), the token (`--token`, `HF_TOKEN`,
`hf auth login`), its HTTP session (which follows the hub's redirect to storage), retries
with backoff on 429/5xx, and the hub's error codes. What is ours: one `Range` per request,
a strict check of every answer (206, the `Content-Range` asked for, never a byte more), a
few requests in parallel, and resuming a range that broke mid-body from the bytes received.

With `HF_HUB_OFFLINE=1`, or when the hub cannot be reached, a repo already in the local
Hugging Face cache is read from its snapshot folder instead (`open_hub_repo`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

from huggingface_hub.utils import httpx  # huggingface_hub's own HTTP client module (httpx2 in 2.x)
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import (
    build_hf_headers,
    hf_raise_for_status,
    http_backoff,
    http_stream_backoff,
    validate_repo_id,
)

from .errors import LiteError
from .slicefile import REVISION_KEY, SOURCE_KEY
from .sources import LocalFolder, Progress, Source, check_file_name

PARALLEL_REQUESTS = 4  # ranged requests in flight at once
PART_BYTES = 16 * 1024 * 1024  # a longer range is fetched as several parts, in parallel
TIMEOUT_SECONDS = 30.0  # connect and between-bytes timeout of one request
RESUME_ATTEMPTS = 5  # how often one part may break mid-body before we give up
RESUME_WAIT_SECONDS = 0.25  # wait before the first resume; doubles each time
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class HubUnreachable(LiteError):
    """The hub could not be reached at all (no network, DNS failure, connection refused)."""


class HubRepo:
    """A model repo on the hub, pinned to the commit its revision pointed at when opened."""

    def __init__(self, repo_id: str, revision: str | None = None, token: str | None = None):
        self.name = repo_id
        self.repo_id = repo_id
        self.revision = revision or constants.DEFAULT_REVISION
        self.headers = build_hf_headers(token=token)  # token: --token, else HF_TOKEN, else `hf auth login`
        self.headers["Accept-Encoding"] = "identity"  # byte counts and ranges refer to the stored bytes
        self.commit = self._resolve_commit()

    def _url(self, filename: str) -> str:
        return hf_hub_url(self.repo_id, check_file_name(filename, "a file name"), revision=self.commit)

    def _resolve_commit(self) -> str:
        url = hf_hub_url(self.repo_id, "config.json", revision=self.revision)
        with hub_errors(self, "config.json"):
            commit = get_hf_file_metadata(url, headers=self.headers).commit_hash
        if not commit:
            raise LiteError(f"{constants.ENDPOINT} did not name a commit (no X-Repo-Commit header); is it a hub?")
        return commit

    # ---- the Source protocol -------------------------------------------------------------
    def read_file(self, filename: str) -> bytes | None:
        with hub_errors(self, filename):
            try:
                response = http_backoff("GET", self._url(filename), headers=self.headers, timeout=TIMEOUT_SECONDS)
                hf_raise_for_status(response)
            except EntryNotFoundError:
                return None
        return response.content

    def read_ranges(self, filename: str, ranges: list[tuple[int, int]], progress: Progress | None = None) -> list[bytes]:
        """Each range [start, end) of the file; long ranges in parts, a few requests at once."""
        url = self._url(filename)
        buffers = [bytearray(end - start) for start, end in ranges]
        parts = [
            (memoryview(buffer)[offset : offset + PART_BYTES], start + offset)
            for buffer, (start, _) in zip(buffers, ranges)
            for offset in range(0, len(buffer), PART_BYTES)
        ]
        report = _locked(progress)
        stop = threading.Event()  # set when the caller is interrupted: workers stop at the next chunk
        with ThreadPoolExecutor(PARALLEL_REQUESTS, thread_name_prefix="lite-range") as pool:
            futures = [pool.submit(self._fetch_part, url, filename, part, start, report, stop) for part, start in parts]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                raise
        return buffers

    def provenance(self) -> dict[str, str]:
        return {SOURCE_KEY: self.repo_id, REVISION_KEY: self.commit}

    def model_name(self) -> str:
        return repo_name(self.repo_id)

    # ---- one ranged part, resumed when the connection breaks -----------------------------
    def _fetch_part(self, url: str, filename: str, into: memoryview, start: int, progress, stop: threading.Event) -> None:
        received, breaks = 0, 0
        while received < len(into):
            try:
                with hub_errors(self, filename):
                    received += self._stream_range(url, filename, into[received:], start + received, progress, stop)
            except _BrokenBody as err:
                breaks += 1
                if breaks > RESUME_ATTEMPTS:
                    raise LiteError(
                        f"the connection to the hub kept breaking while fetching {self.repo_id}/{filename} "
                        f"({breaks} times; last: {err.cause})"
                    ) from None
                received += err.received
                time.sleep(RESUME_WAIT_SECONDS * 2 ** (breaks - 1))

    def _stream_range(self, url: str, filename: str, into: memoryview, start: int, progress, stop) -> int:
        """GET bytes [start, start + len(into)) into `into`; the headers are checked before any body byte."""
        end = start + len(into)  # exclusive
        headers = {**self.headers, "Range": f"bytes={start}-{end - 1}"}
        received = 0
        with http_stream_backoff("GET", url, headers=headers, timeout=TIMEOUT_SECONDS) as response:
            hf_raise_for_status(response)
            check_partial_response(response, start, end, f"{self.repo_id}/{filename}")
            try:
                for chunk in response.iter_raw():  # as they arrive: a re-chunking buffer would be lost on a cut
                    if stop.is_set():
                        raise LiteError("interrupted")
                    if received + len(chunk) > len(into):
                        raise LiteError(f"the hub sent more than the {len(into)} bytes asked of {self.repo_id}/{filename}")
                    into[received : received + len(chunk)] = chunk
                    received += len(chunk)
                    if progress:
                        progress(len(chunk))
            except (httpx.TransportError, httpx.StreamError) as err:
                # Raised inside the `with`, a transport error would re-enter huggingface_hub's
                # request retry loop; we resume from the bytes received instead.
                raise _BrokenBody(received, err) from None
        if received < len(into):
            raise _BrokenBody(received, "the body ended early")
        return received


class _BrokenBody(Exception):
    """A ranged body that stopped early: how much of it arrived, and why."""

    def __init__(self, received: int, cause: object):
        super().__init__(str(cause))
        self.received = received
        self.cause = cause


def check_partial_response(response: httpx.Response, start: int, end: int, where: str) -> None:
    """A ranged answer must be a 206 for exactly bytes [start, end), unencoded; else fail before the body."""
    asked = f"bytes {start}-{end - 1}"
    if response.status_code != 206:
        raise LiteError(
            f"the server answered {response.status_code} instead of 206 to a Range request for {asked} of {where}; "
            "it does not honour Range, and lite will not download the whole file"
        )
    match = CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if not match or (int(match[1]), int(match[2])) != (start, end - 1):
        raise LiteError(f"asked {asked} of {where}, the server sent Content-Range {response.headers.get('Content-Range')!r}")
    length = response.headers.get("Content-Length")
    if length is not None and int(length) != end - start:
        raise LiteError(f"asked {end - start} bytes of {where}, the server announced {length}")
    if response.headers.get("Content-Encoding", "identity") != "identity":
        raise LiteError(f"the server sent {where} with Content-Encoding {response.headers['Content-Encoding']!r}")


def _locked(progress: Progress | None) -> Progress | None:
    """The progress callback, safe to call from several threads."""
    if progress is None:
        return None
    lock = threading.Lock()

    def report(n: int) -> None:
        with lock:
            progress(n)

    return report


@contextlib.contextmanager
def hub_errors(repo: HubRepo, filename: str) -> Iterator[None]:
    """Turn huggingface_hub's and the network's exceptions into one-line LiteErrors."""
    repo_id = repo.repo_id
    try:
        yield
    except GatedRepoError:
        raise LiteError(
            f"{repo_id} is gated and this token has no access: accept the license on the model page "
            f"https://huggingface.co/{repo_id}, then run `hf auth login` or set HF_TOKEN (or pass --token)"
        ) from None
    except RepositoryNotFoundError:
        raise LiteError(
            f"no repo {repo_id} on the hub (if it is private, run `hf auth login` or set HF_TOKEN)"
        ) from None
    except RevisionNotFoundError:
        raise LiteError(f"{repo_id} has no revision {repo.revision!r}") from None
    except EntryNotFoundError:
        raise LiteError(f"{repo_id} has no file {filename} at revision {repo.revision!r}") from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "an error"
        if status == 401:
            raise LiteError(f"the hub refused the token for {repo_id} (401); check --token, HF_TOKEN or `hf auth login`") from None
        raise LiteError(f"the hub answered {status} for {repo_id}/{filename}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout, OfflineModeIsEnabled) as err:
        raise HubUnreachable(
            f"could not reach the hub at {constants.ENDPOINT} ({_first_line(err)}); check the network, "
            "or set HF_HUB_OFFLINE=1 to use a repo already in the Hugging Face cache"
        ) from None
    except httpx.TransportError as err:
        raise LiteError(f"lost the connection to the hub while fetching {repo_id}/{filename} ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


class CachedSnapshot(LocalFolder):
    """A repo's snapshot folder in the local Hugging Face cache, recorded as the repo and its commit."""

    def __init__(self, repo_id: str, folder: str):
        super().__init__(folder)
        self.name = repo_id
        self.repo_id = repo_id

    def provenance(self) -> dict[str, str]:
        return {SOURCE_KEY: self.repo_id, REVISION_KEY: self.root.name}  # snapshots/<commit>

    def model_name(self) -> str:
        return repo_name(self.repo_id)


def repo_name(repo_id: str) -> str:
    """The model's name: the part of the repo id after the owner."""
    return repo_id.rsplit("/", 1)[-1]


def cached_snapshot(repo_id: str, revision: str | None) -> CachedSnapshot | None:
    """The repo at this revision from the local Hugging Face cache, or None if it is not there."""
    try:
        folder = snapshot_download(repo_id, revision=revision, local_files_only=True)
    except (EntryNotFoundError, FileNotFoundError):
        return None
    return CachedSnapshot(repo_id, folder)


def open_hub_repo(repo_id: str, revision: str | None = None, token: str | None = None) -> Source:
    """The repo on the hub; from the local cache when offline (HF_HUB_OFFLINE=1 or no network)."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise LiteError(f"{repo_id!r} is not a valid hub repo id (like meta-llama/Llama-3.2-1B)") from None
    if constants.is_offline_mode():
        cached = cached_snapshot(repo_id, revision)
        if cached is None:
            raise LiteError(
                f"HF_HUB_OFFLINE is set and {repo_id} (revision {revision or constants.DEFAULT_REVISION}) "
                "is not in the Hugging Face cache; unset HF_HUB_OFFLINE to fetch it"
            )
        return cached
    try:
        return HubRepo(repo_id, revision=revision, token=token)
    except HubUnreachable:
        cached = cached_snapshot(repo_id, revision)
        if cached is None:
            raise
        return cached
