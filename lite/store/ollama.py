"""Models installed by Ollama, named `ollama:NAME[:TAG]`: the GGUF blob behind a name, found without Ollama.

Ollama keeps a manifest per model and tag and the layers as content-addressed blobs:

    $OLLAMA_MODELS (default ~/.ollama/models)/
        manifests/registry.ollama.ai/library/<name>/<tag>     JSON: {"layers": [{"mediaType", "digest"}, ...]}
        blobs/sha256-<hex>                                     the GGUF file is the model layer's blob

NAME may be `NAMESPACE/NAME` (library is the default namespace) or `HOST/NAMESPACE/NAME` (a model
pulled from another registry, e.g. hf.co/...); TAG defaults to `latest`. Every part must be a plain
name (letters, digits, `.`, `_`, `-`, not starting with `.`), so a name cannot reach outside the tree.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import LiteError

PREFIX = "ollama:"
REGISTRY = "registry.ollama.ai"
NAMESPACE = "library"
DEFAULT_TAG = "latest"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
MAX_MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True)
class OllamaModel:
    """A resolved `ollama:` name: the GGUF blob, its digest, and the full name."""

    name: str  # host/namespace/name:tag
    short: str  # as the user would type it (library/ and the registry left out)
    blob: Path
    digest: str  # sha256:<hex>


def is_ollama_name(name: object) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def models_root() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS") or Path.home() / ".ollama" / "models").expanduser()


def parse_name(spec: str) -> tuple[str, str, str, str]:
    """(host, namespace, name, tag) of `ollama:[[HOST/]NAMESPACE/]NAME[:TAG]`, every part checked."""
    rest = spec[len(PREFIX):]
    path, _, tag = rest.partition(":")
    parts = path.split("/")
    if len(parts) > 3 or not path:
        raise LiteError(f"{spec!r} is not an Ollama model name like ollama:llama3.2 or ollama:llama3.2:1b")
    host, namespace, name = ([REGISTRY, NAMESPACE][: 3 - len(parts)] + parts) if len(parts) < 3 else parts
    tag = tag or DEFAULT_TAG
    for part in (host, namespace, name, tag):
        if not PART.match(part):
            raise LiteError(f"{spec!r} is not an Ollama model name: {part[:80]!r} is not a plain name "
                            "(letters, digits, '.', '_', '-')")
    return host, namespace, name, tag


def display(host: str, namespace: str, name: str, tag: str) -> str:
    prefix = "" if host == REGISTRY and namespace == NAMESPACE else (
        f"{namespace}/" if host == REGISTRY else f"{host}/{namespace}/")
    return f"{prefix}{name}:{tag}"


def installed(root: Path | None = None) -> list[str]:
    """The names of the models installed under the Ollama folder, as `ollama list` shows them."""
    manifests = (root or models_root()) / "manifests"
    found = [p.relative_to(manifests).parts for p in manifests.glob("*/*/*/*") if p.is_file()] \
        if manifests.is_dir() else []
    return sorted(display(*parts) for parts in found)


def _manifest(path: Path, where: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as err:
        raise LiteError(f"cannot read the Ollama manifest of {where} ({path}): {err.strerror}") from None
    try:
        manifest = json.loads(raw) if len(raw) <= MAX_MANIFEST_BYTES else None
    except (ValueError, RecursionError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), list):
        raise LiteError(f"the Ollama manifest of {where} ({path}) is not a manifest (a JSON object with layers)")
    return manifest


def resolve(spec: str, root: Path | None = None) -> OllamaModel:
    """The model blob of an installed Ollama model, or one LiteError line listing what is installed."""
    root = root or models_root()
    host, namespace, name, tag = parse_name(spec)
    short = display(host, namespace, name, tag)
    path = root / "manifests" / host / namespace / name / tag
    if not path.is_file():
        names = installed(root)
        listing = ", ".join(names[:20]) + (f" (and {len(names) - 20} more)" if len(names) > 20 else "")
        raise LiteError(f"no Ollama model {short} in {root}; installed: {listing or 'none'}")
    layers = [layer for layer in _manifest(path, short)["layers"]
              if isinstance(layer, dict) and layer.get("mediaType") == MODEL_MEDIA_TYPE]
    if not layers:
        raise LiteError(f"the Ollama manifest of {short} ({path}) has no model layer ({MODEL_MEDIA_TYPE})")
    match = DIGEST.match(str(layers[0].get("digest", "")))
    if not match:
        raise LiteError(f"the Ollama manifest of {short} ({path}) has a model layer without a sha256 digest")
    blob = root / "blobs" / f"sha256-{match.group(1)}"
    if not blob.is_file():
        raise LiteError(f"the blob of Ollama model {short} is missing ({blob}); pull it again with ollama pull")
    return OllamaModel(f"{host}/{namespace}/{name}:{tag}", short, blob, f"sha256:{match.group(1)}")
