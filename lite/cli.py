"""What the command lines share: running a `main` (errors, signals), reading input and text, a progress bar.

Library calls have no process-wide side effects; the entry points here may: `run_cli` turns
SIGTERM into an exit that unwinds (so an atomic write in progress removes its temporary file, as
on Ctrl-C), and a LiteError into one line `error: ...` and exit status 2.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from .errors import LiteError
from .store.sources import Progress


def _exit_on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess
    sys.exit(128 + signum)


def run_cli(main: Callable[[], int | None]) -> NoReturn:
    """Run a CLI `main`; turn a LiteError or Ctrl-C into a one-line message and an exit code."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if hasattr(signal, "SIGHUP"):  # the terminal closed: unwind as for SIGTERM (no .partial file left)
        signal.signal(signal.SIGHUP, _exit_on_sigterm)
    try:
        code = main() or 0
    except BrokenPipeError:  # `... | head`: the reader left; not an error
        code = 0
    except LiteError as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    except OSError as err:  # a file the user named that cannot be read or written
        where = f" {err.filename}" if err.filename else ""
        print(f"error: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


MAX_INPUT_BYTES = 256 * 1024 * 1024  # one input file or stdin; larger is refused (split it)


def read_input(source: str | Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file, or of stdin when `source` is "-": at most `limit` of them, else a LiteError.

    `/dev/zero`, or a pipe that never ends, would otherwise be read until memory runs out.
    """
    name = "stdin" if str(source) == "-" else str(source)
    try:
        if str(source) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(source, "rb") as f:
                data = f.read(limit + 1)
    except OSError as err:
        raise LiteError(f"cannot read {name}: {err.strerror}") from None
    if len(data) > limit:
        raise LiteError(f"{name} is larger than {limit >> 20} MiB, the most lite reads as one input; split it")
    return data


def read_text(source: str | Path) -> str:
    """The text of a file or of stdin ("-"), as UTF-8."""
    data = read_input(source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LiteError(f"{'stdin' if str(source) == '-' else source} is not UTF-8 text (byte {err.start})") from None


@contextlib.contextmanager
def progress_bar(enabled: bool, unit: str, desc: str, total: int | None = None) -> Iterator[Progress | None]:
    """A progress bar on stderr (when enabled and stderr is a terminal): yields its `update(n)`, else None."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    from huggingface_hub.utils import tqdm

    scaled = {"unit_scale": True, "unit_divisor": 1024} if unit == "B" else {}
    with tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, **scaled) as bar:
        yield bar.update
