"""A Hugging Face hub repo as a slice source: small files whole, tensors by HTTP Range.

The revision is resolved once to a commit (the hub's `X-Repo-Commit` header), and every later
request names that commit, so all bytes come from one snapshot. huggingface_hub does what it
already does well: the endpoint (`HF_ENDPOINT`), the token (`--token`, `HF_TOKEN`,
`hf auth login`), its HTTP session (which follows the hub's redirect to storage), retries
with backoff on 429/5xx, and the hub's error codes. What is ours: one `Range` per request,
a strict check of every answer (206, the `Content-Range` asked for, never a byte more), a
few requests in parallel, resuming a range that broke mid-body from the bytes received, and
bounded patience (`Limits`): a read timeout, a deadline per transfer, a number of retries and a
longest wait between them (a longer `Retry-After` is an error, not a wait). Retries are ours, not
huggingface_hub's, so each one is a single `warning:` line on stderr.

With `HF_HUB_OFFLINE=1`, or when the hub cannot be reached, a repo already in the local
Hugging Face cache is read from its snapshot folder instead (`open_hub_repo`).
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

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
    http_stream_backoff,
    httpx,  # huggingface_hub's own HTTP client module (httpx2 in 2.x)
    validate_repo_id,
)

from ..errors import LiteError
from .slicefile import REVISION_KEY, SOURCE_KEY
from .sources import Limits, LocalFolder, Progress, Source, check_file_name

PARALLEL_REQUESTS = 4  # ranged requests in flight at once
PART_BYTES = 16 * 1024 * 1024  # a longer range is fetched as several parts, in parallel
SMALL_FILE_BYTES = 256 * 1024 * 1024  # config.json, tokenizer.json, index: larger is not a small file
RETRY_STATUS = (408, 429, 500, 502, 503, 504)  # busy or briefly broken: worth another try
FIRST_WAIT_SECONDS = 0.5  # wait before the first retry (without Retry-After); doubles each time
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
T = TypeVar("T")


class _Retry(Exception):
    """A try that may be repeated: a busy answer or a broken connection; `received` bytes of it arrived."""

    def __init__(self, reason: str, retry_after: float | None = None, received: int = 0):
        super().__init__(reason)
        self.reason, self.retry_after, self.received = reason, retry_after, received


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds (delay-seconds form), or None."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class HubUnreachable(LiteError):
    """The hub could not be reached at all (no network, DNS failure, connection refused)."""


class HubRepo:
    """A model repo on the hub, pinned to the commit its revision pointed at when opened."""

    def __init__(self, repo_id: str, revision: str | None = None, token: str | None = None,
                 limits: Limits | None = None):
        self.name = repo_id
        self.repo_id = repo_id
        self.revision = revision or constants.DEFAULT_REVISION
        self.limits = limits or Limits()
        self.headers = build_hf_headers(token=token)  # token: --token, else HF_TOKEN, else `hf auth login`
        self.headers["Accept-Encoding"] = "identity"  # byte counts and ranges refer to the stored bytes
        self.commit = self._resolve_commit()

    def _url(self, filename: str) -> str:
        return hf_hub_url(self.repo_id, check_file_name(filename, "a file name"), revision=self.commit)

    def _resolve_commit(self) -> str:
        url = hf_hub_url(self.repo_id, "config.json", revision=self.revision)

        def attempt(deadline: float) -> str | None:
            with hub_errors(self, "config.json"):
                try:
                    return get_hf_file_metadata(url, headers=self.headers, timeout=self.limits.timeout).commit_hash
                except HfHubHTTPError as err:
                    if err.response is None or err.response.status_code not in RETRY_STATUS:
                        raise
                    status = err.response.status_code
                    raise _Retry(f"the hub answered {status}", retry_after_seconds(err.response)) from None

        commit = self._transfer(f"{self.repo_id}/config.json (its commit)", attempt)
        if not commit:
            raise LiteError(f"{constants.ENDPOINT} did not name a commit (no X-Repo-Commit header); is it a hub?")
        return commit

    # ---- the Source protocol -------------------------------------------------------------
    def read_file(self, filename: str) -> bytes | None:
        url = self._url(filename)
        where = f"{self.repo_id}/{filename}"

        def attempt(deadline: float) -> bytes | None:
            body = bytearray()
            with hub_errors(self, filename), self._stream(url, self.headers) as response:
                try:
                    check_status(response)
                except EntryNotFoundError:
                    return None
                try:
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > SMALL_FILE_BYTES:
                            raise LiteError(f"{where} is larger than {SMALL_FILE_BYTES >> 20} MiB: not a small file")
                        self._check_deadline(deadline, where)
                except (httpx.TransportError, httpx.StreamError) as err:
                    raise _Retry(self._broken(err)) from None
            return bytes(body)

        return self._transfer(where, attempt)

    def read_ranges(
        self, filename: str, ranges: list[tuple[int, int]], progress: Progress | None = None
    ) -> list[bytes]:
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

    # ---- bounded patience: retries, waits, deadline -------------------------------------
    def _stream(self, url: str, headers: dict[str, str]):
        """One GET, streamed; huggingface_hub's own retries are off (ours are in _transfer)."""
        return http_stream_backoff("GET", url, headers=headers, timeout=self.limits.timeout, max_retries=0,
                                   retry_on_exceptions=(), retry_on_status_codes=())

    def _transfer(self, what: str, attempt: Callable[[float], T]) -> T:
        """attempt(deadline) until it returns, retrying a _Retry within the limits; else a one-line LiteError."""
        limits = self.limits
        deadline = time.monotonic() + limits.deadline
        tries = 0
        while True:
            tries += 1
            try:
                return attempt(deadline)
            except _Retry as err:
                if tries > limits.retries:
                    raise LiteError(
                        f"gave up on {what} after {tries} tries ({err.reason}; --retries {limits.retries})"
                    ) from None
                if err.retry_after is not None and err.retry_after > limits.max_wait:
                    raise LiteError(
                        f"{err.reason} for {what} and asked to wait {err.retry_after:g} s (Retry-After); "
                        f"lite waits at most {limits.max_wait:g} s (--max-wait)"
                    ) from None
                wait = err.retry_after if err.retry_after is not None else min(
                    limits.max_wait, FIRST_WAIT_SECONDS * 2 ** (tries - 1))
                if time.monotonic() + wait > deadline:
                    raise LiteError(f"{what} did not finish within the {limits.deadline:g} s deadline (--deadline); "
                                    f"last: {err.reason}") from None
                warn(f"{err.reason} for {what}; retrying in {wait:g} s (retry {tries} of {limits.retries})")
                time.sleep(wait)

    def _check_deadline(self, deadline: float, what: str) -> None:
        if time.monotonic() > deadline:
            raise LiteError(f"fetching {what} took longer than the {self.limits.deadline:g} s deadline (--deadline); "
                            "the server is too slow")

    def _broken(self, err: BaseException) -> str:
        """Why a connection broke, in words: a read timeout says how long the silence was."""
        if isinstance(err, httpx.TimeoutException):
            return f"the server sent no byte for {self.limits.timeout:g} s (--timeout)"
        return f"the connection broke ({_first_line(err)})"

    # ---- one ranged part, resumed when the connection breaks -----------------------------
    def _fetch_part(
        self, url: str, filename: str, into: memoryview, start: int, progress, stop: threading.Event
    ) -> None:
        received = 0

        def attempt(deadline: float) -> None:
            nonlocal received
            try:
                with hub_errors(self, filename):
                    self._stream_range(url, filename, into[received:], start + received, progress, stop, deadline)
            except _Retry as err:
                received += err.received  # resume from there
                raise
            received = len(into)

        self._transfer(f"bytes {start}-{start + len(into) - 1} of {self.repo_id}/{filename}", attempt)

    def _stream_range(self, url: str, filename: str, into: memoryview, start: int, progress, stop, deadline) -> None:
        """GET bytes [start, start + len(into)) into `into`; the headers are checked before any body byte."""
        end = start + len(into)  # exclusive
        where = f"{self.repo_id}/{filename}"
        headers = {**self.headers, "Range": f"bytes={start}-{end - 1}"}
        received = 0
        with self._stream(url, headers) as response:
            check_status(response)
            check_partial_response(response, start, end, where)
            try:
                for chunk in response.iter_raw():  # as they arrive: a re-chunking buffer would be lost on a cut
                    if stop.is_set():
                        raise LiteError("interrupted")
                    if received + len(chunk) > len(into):
                        raise LiteError(f"the hub sent more than the {len(into)} bytes asked of {where}")
                    into[received : received + len(chunk)] = chunk
                    received += len(chunk)
                    if progress:
                        progress(len(chunk))
                    if received < len(into):
                        self._check_deadline(deadline, f"bytes {start}-{end - 1} of {where}")
            except (httpx.TransportError, httpx.StreamError) as err:
                raise _Retry(self._broken(err), received=received) from None
        if received < len(into):
            raise _Retry("the body ended early", received=received)


def check_status(response: httpx.Response) -> None:
    """A busy answer (429, 5xx) as a _Retry; any other error status as huggingface_hub's exception."""
    if response.status_code in RETRY_STATUS:
        raise _Retry(f"the server answered {response.status_code}", retry_after_seconds(response))
    hf_raise_for_status(response)


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
        sent = response.headers.get("Content-Range")
        raise LiteError(f"asked {asked} of {where}, the server sent Content-Range {sent!r}")
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
            raise LiteError(
                f"the hub refused the token for {repo_id} (401); check --token, HF_TOKEN or `hf auth login`"
            ) from None
        raise LiteError(f"the hub answered {status} for {repo_id}/{filename}") from None
    except httpx.TooManyRedirects:
        raise LiteError(f"the hub kept redirecting the request for {repo_id}/{filename} (a redirect loop)") from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as err:
        host = _host_of(err)
        if host and host != urlsplit(constants.ENDPOINT).netloc:
            raise _Retry(f"could not reach the storage host {host} that the hub at {constants.ENDPOINT} sent the "
                         f"download to ({_first_line(err)})") from None
        raise HubUnreachable(
            f"could not reach the hub at {constants.ENDPOINT} ({_first_line(err)}); check the network, "
            "or set HF_HUB_OFFLINE=1 to use a repo already in the Hugging Face cache"
        ) from None
    except OfflineModeIsEnabled as err:
        raise HubUnreachable(
            f"could not reach the hub at {constants.ENDPOINT} ({_first_line(err)}); check the network, "
            "or set HF_HUB_OFFLINE=1 to use a repo already in the Hugging Face cache"
        ) from None
    except httpx.TimeoutException:
        raise _Retry(f"the server sent no byte for {repo.limits.timeout:g} s (--timeout)") from None
    except httpx.TransportError as err:
        raise _Retry(f"lost the connection while fetching {repo_id}/{filename} ({_first_line(err)})") from None


def _host_of(err: BaseException) -> str | None:
    """The host:port a request that failed was sent to, if httpx knows it."""
    try:
        return err.request.url.netloc.decode("ascii")
    except (AttributeError, RuntimeError, UnicodeDecodeError):
        return None


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


def open_hub_repo(repo_id: str, revision: str | None = None, token: str | None = None,
                  limits: Limits | None = None) -> Source:
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
        return HubRepo(repo_id, revision=revision, token=token, limits=limits)
    except HubUnreachable:
        cached = cached_snapshot(repo_id, revision)
        if cached is None:
            raise
        return cached
