"""`open_source(name)`: a local model folder if `name` is one, else a hub repo id.

The hub client (and with it huggingface_hub) is imported only when a repo id is given.
"""

from __future__ import annotations

import os

from ..errors import LiteError
from .sources import Limits, LocalFolder, Source


def open_source(name: str, revision: str | None = None, token: str | None = None,
                limits: Limits | None = None) -> Source:
    """A local folder if `name` is one, else a hub repo id (from the local cache when offline).

    limits: timeouts, deadline and retries for a hub repo.
    """
    if os.path.isdir(name):
        return LocalFolder(name)
    if name.startswith((".", "/", "~")) or os.sep in name.strip("/").replace("/", "", 1):
        raise LiteError(f"{name} is neither a folder nor a hub repo id like meta-llama/Llama-3.2-1B")
    from .hub import open_hub_repo  # imports huggingface_hub: only when a repo id is given

    return open_hub_repo(name, revision=revision, token=token, limits=limits)
