"""What every slicer shares: the report of a slice written, and the check that its tokenizer loads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import LiteError
from ..model import AttentionSpec


@dataclass(frozen=True)
class SliceReport:
    path: Path
    size: int  # bytes of the slice file
    tensor_bytes: int  # bytes of tensor data fetched
    tensors: list[str]
    spec: AttentionSpec


def check_tokenizer(tokenizer_json: str, where: str) -> None:
    """The tokenizer.json loads with the tokenizers library (as the pruner will load it), else a one-line error."""
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_str(tokenizer_json)
    except Exception as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LiteError(f"{where} cannot be loaded by the tokenizers library ({reason})") from None
