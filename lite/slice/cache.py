"""Models by name: a hub repo id is sliced once into huggingface_hub's assets cache, then loaded from there.

    path = cached_slice("HuggingFaceTB/SmolLM2-135M-Instruct")     # slices on first use
    lite.load("HuggingFaceTB/SmolLM2-135M-Instruct")                # the same, through the pruner

Layout, under `huggingface_hub.cached_assets_path("lite", REPO_ID, "slices")`
(by default ~/.cache/huggingface/assets/lite/<owner>--<name>/slices/):

    <commit>.safetensors      one slice per resolved commit (written atomically by make_slice)
    refs/<revision>           the commit a revision (main, a tag) resolved to when it was sliced

GGUF files (a path, `ollama:NAME[:TAG]`, the default model) are sliced once into `gguf-slices/`
beside those folders, one file per GGUF content (the Ollama digest, else path, size and mtime).

A later load of the same revision reads refs/ and the slice and touches no network, online or
offline (HF_HUB_OFFLINE=1); a full commit id is looked up directly. `refresh=True` resolves the
revision on the hub again (and slices the new commit if it moved). A slice not yet cached is made
from the hub, or, offline, from a snapshot already in the Hugging Face cache.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from ..errors import LiteError
from ..store.atomic import atomic_write
from ..store.slicefile import REVISION_KEY
from ..store.sources import Progress

if TYPE_CHECKING:
    from .gguf import GGUFInput

LIBRARY = "lite"
SUBFOLDER = "slices"
GGUF_SUBFOLDER = "gguf-slices"  # beside the repos' folders; not a repo id, so `lite-pruner cache` does not list it
DEFAULT_REVISION = "main"
COMMIT = re.compile(r"^[0-9a-f]{40}$")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class CachedSlice:
    """One cached slice: which repo and commit, the revisions that point at it, its file and size."""

    repo_id: str
    commit: str
    revisions: tuple[str, ...]
    path: Path
    size: int

    def to_dict(self) -> dict:
        return {
            "repo_id": self.repo_id,
            "commit": self.commit,
            "revisions": list(self.revisions),
            "path": str(self.path),
            "size": self.size,
        }


def looks_like_repo_id(name: str) -> bool:
    """owner/name, and not a file that exists or a name ending in .safetensors."""
    return bool(REPO_ID.match(name)) and not name.endswith(".safetensors") and not os.path.exists(name)


def assets_root() -> Path:
    """The folder holding every repo's slices (huggingface_hub's assets cache, library "lite")."""
    from huggingface_hub import constants

    return Path(constants.HF_ASSETS_CACHE).expanduser() / LIBRARY


def repo_folder(repo_id: str, create: bool = False) -> Path:
    """The repo's slices folder, as huggingface_hub's cached_assets_path names it; made only when `create`
    (a lookup, or a load that fails, leaves no empty folder behind)."""
    from huggingface_hub import cached_assets_path
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise LiteError(f"{repo_id!r} is not a valid hub repo id (like meta-llama/Llama-3.2-1B)") from None
    if create:
        return cached_assets_path(library_name=LIBRARY, namespace=repo_id, subfolder=SUBFOLDER)
    return assets_root() / repo_id.replace("/", "--") / SUBFOLDER  # cached_assets_path's name for it


def ref_file(folder: Path, revision: str) -> Path:
    return folder / "refs" / quote(revision, safe="")


def read_ref(folder: Path, revision: str) -> str | None:
    try:
        commit = ref_file(folder, revision).read_text().strip()
    except OSError:
        return None
    return commit if COMMIT.match(commit) else None


def write_ref(folder: Path, revision: str, commit: str) -> None:
    path = ref_file(folder, revision)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        f.write(commit.encode())


def find_cached(repo_id: str, revision: str | None = None) -> Path | None:
    """The cached slice for this repo and revision, without any network; None if there is none."""
    folder = repo_folder(repo_id)
    revision = revision or DEFAULT_REVISION
    commit = revision if COMMIT.match(revision) else read_ref(folder, revision)
    path = folder / f"{commit}.safetensors" if commit else None
    return path if path is not None and path.is_file() else None


def cached_slice(
    repo_id: str,
    revision: str | None = None,
    token: str | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
) -> Path:
    """The slice of repo_id at revision (default main), made on first use; see the module docstring."""
    if not refresh:
        found = find_cached(repo_id, revision)
        if found is not None:
            return found
    from ..store.open_source import open_source
    from .make import make_slice

    source = open_source(repo_id, revision=revision, token=token)  # the hub, or the HF cache when offline
    commit = source.provenance()[REVISION_KEY]
    if not COMMIT.match(commit):
        raise LiteError(f"{repo_id} resolved to {commit!r}, not a commit id; cannot cache its slice")
    folder = repo_folder(repo_id, create=True)
    path = folder / f"{commit}.safetensors"
    if not path.is_file():
        make_slice(source, path, progress)  # atomic: a temporary file renamed into place
    write_ref(folder, revision or DEFAULT_REVISION, commit)
    return path


def gguf_folder() -> Path:
    """Where slices of GGUF files (a path, an Ollama model, the default model) are cached."""
    return assets_root() / GGUF_SUBFOLDER


def cached_gguf_slice(source: GGUFInput, progress: Progress | None = None) -> Path:
    """The slice of a GGUF (a lite.slice.gguf.GGUFInput), made on first use; keyed by the file's content key."""
    from .gguf import make_gguf_slice

    path = gguf_folder() / f"{source.model_name}-{source.key[:16]}.safetensors"
    if not path.is_file():
        make_gguf_slice(source, path, progress)  # atomic: a temporary file renamed into place
    return path


def resolve_model(
    model: str | os.PathLike | None = None, revision: str | None = None, token: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """A slice file for `model`: a path as it is, a hub repo id through the cache (sliced on first use), a GGUF
    file or `ollama:NAME[:TAG]` through the GGUF cache, and None: the default model (lite/slice/default.py)."""
    from .gguf import gguf_input

    if model is None:
        from .default import default_gguf

        if revision is not None:
            raise LiteError(f"revision={revision!r} goes with a hub repo id, and no model was given")
        return cached_gguf_slice(gguf_input(default_gguf(assets_root() / "default-model")), progress)
    name = os.fspath(model)
    if isinstance(model, str) and looks_like_repo_id(name):
        return cached_slice(name, revision=revision, token=token, progress=progress)
    if revision is not None:
        raise LiteError(f"revision={revision!r} goes with a hub repo id, and {name} is a file path")
    source = gguf_input(name)
    if source is not None:
        return cached_gguf_slice(source, progress)
    if os.path.isdir(name):
        raise LiteError(f"{name} is a folder; make a slice of it first: lite-pruner slice {name} --out FILE")
    return Path(name)


def list_slices() -> list[CachedSlice]:
    """Every cached slice, by repo id and commit."""
    root = assets_root()
    found = []
    for folder in sorted(root.glob(f"*/{SUBFOLDER}")) if root.is_dir() else []:
        repo_id = folder.parent.name.replace("--", "/", 1)  # hub repo ids cannot hold "--"
        refs: dict[str, list[str]] = {}
        for ref in sorted((folder / "refs").glob("*")) if (folder / "refs").is_dir() else []:
            commit = read_ref(folder, unquote(ref.name))
            if commit:
                refs.setdefault(commit, []).append(unquote(ref.name))
        for path in sorted(folder.glob("*.safetensors")):
            commit = path.stem
            if COMMIT.match(commit):
                found.append(CachedSlice(repo_id, commit, tuple(refs.get(commit, ())), path, path.stat().st_size))
    return found


def remove_slices(spec: str) -> list[CachedSlice]:
    """Remove REPO (all its slices) or REPO@COMMIT (one, a unique prefix will do); the removed entries."""
    repo_id, _, commit = spec.partition("@")
    entries = [e for e in list_slices() if e.repo_id == repo_id and e.commit.startswith(commit)]
    if not entries:
        raise LiteError(f"no cached slice of {spec} (see `lite-pruner cache`)")
    if commit and len(entries) > 1:
        raise LiteError(f"{spec} matches {len(entries)} cached slices; give more of the commit")
    for entry in entries:
        entry.path.unlink()
        for revision in entry.revisions:
            ref_file(entry.path.parent, revision).unlink(missing_ok=True)
    folder = entries[0].path.parent
    if not any(folder.glob("*.safetensors")):
        shutil.rmtree(folder.parent)  # the repo's folder: nothing left in it
    return entries
