"""Atomic file writes: a temporary file beside the target, fsync, then rename over it.

An interrupted or failed write leaves the target as it was (absent, or the previous good
file) and removes its temporary file: an exception (Ctrl-C included) unwinds through it. A
library call installs no signal handler; the command-line entry points (lite/cli.py) turn
SIGTERM and SIGHUP into an exit that unwinds the same way, so only SIGKILL can leave a `.partial` file
behind, never a half-written target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import LiteError


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _umask()  # read once, at import: os.umask can only be read by setting it


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, in one line, if `path` cannot be written as a file (before any costly work)."""
    target = Path(path)
    if target.is_dir():
        raise LiteError(f"cannot write {target}: it is a folder; give a file name")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise LiteError(f"cannot write {target}: {parent} is not a writable folder")
    return target


def _file_ids(path: Path) -> set[tuple[int, int]]:
    """(device, inode) of the path itself and of what it points to, for those that exist."""
    ids = set()
    for follow in (True, False):
        with contextlib.suppress(OSError):
            st = os.stat(path, follow_symlinks=follow)
            ids.add((st.st_dev, st.st_ino))
    return ids


def check_not_an_input(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Refuse an output path that is, or resolves to, one of the input files: writing it would destroy the input.

    Compared by file identity (device and inode, with and without following links), so another spelling of
    the path, a link to the file or a hard link are all caught.
    """
    out_ids = _file_ids(Path(out))
    if not out_ids:  # nothing there yet: it cannot be an input
        return
    for path in inputs:
        if out_ids & _file_ids(Path(path)):
            same = "" if Path(path) == Path(out) else f" ({path})"
            raise LiteError(f"the output {out} is the input{same}; writing it would destroy the input: "
                            "choose another output file")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary file for writing; on success it replaces `path`, on error it vanishes."""
    target = check_writable(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as err:
        raise LiteError(f"cannot write {target}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o666 & ~UMASK)
        os.replace(tmp_name, target)
        _fsync_dir(target.parent)
    except OSError as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise LiteError(f"cannot write {target}: {err.strerror or err}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
