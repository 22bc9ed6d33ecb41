"""What a prune takes and gives: `Segment` (one part of a prompt with its own budget) and `PruneResult`.

`join_results` makes one result of texts pruned one by one (their texts joined, token positions one
after the other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Segment:
    """One part of a prompt, pruned on its own: with its own rate or target, or kept whole."""

    text: str
    rate: float | None = None  # None: the rate (or share of target_tokens) of the prune call
    target_tokens: int | None = None
    keep: bool = False  # keep the whole segment (e.g. the question)
    keep_last: int = 0  # always keep the last N tokens of this segment


@dataclass(frozen=True)
class PruneResult:
    """The pruned text and what was kept.

    `kept` holds the positions of the kept tokens, ascending, among the text's own tokens (no
    BOS); for a list of segments, among the segments' tokens one after the other. `pieces` is the
    input cut into unit spans (and separators), each with whether it was kept: joining all of
    them gives the input, joining the kept ones gives `text`.
    """

    text: str
    kept: tuple[int, ...]
    origin_tokens: int
    compressed_tokens: int
    pieces: tuple[tuple[str, bool], ...]
    segments: tuple[PruneResult, ...] = field(default=())
    target_origin_tokens: int | None = None  # the same counts in the target tokenizer, when one was given
    target_compressed_tokens: int | None = None

    @property
    def rate(self) -> float:
        """Fraction of tokens kept (1.0 for an empty input)."""
        return self.compressed_tokens / self.origin_tokens if self.origin_tokens else 1.0

    def to_dict(self) -> dict:
        data = {
            "text": self.text,
            "origin_tokens": self.origin_tokens,
            "compressed_tokens": self.compressed_tokens,
            "rate": round(self.rate, 6),
            "kept": list(self.kept),
        }
        if self.target_origin_tokens is not None:
            data["target_origin_tokens"] = self.target_origin_tokens
            data["target_compressed_tokens"] = self.target_compressed_tokens
        return data



def join_results(results: list[PruneResult], separator: str, skip_empty: bool = False) -> PruneResult:
    """One result for segments pruned one by one: texts joined, token positions one after the other.

    skip_empty: results whose text is empty (a passage that gave its whole budget away) are left
    out of the join, and the separators around them are marked dropped in `pieces`.
    """
    kept: list[int] = []
    offset = 0
    for result in results:
        kept.extend(position + offset for position in result.kept)
        offset += result.origin_tokens
    pieces = joined_pieces([[(text, k, None) for text, k in r.pieces] for r in results], separator, skip_empty)
    return PruneResult(
        text=separator.join(r.text for r in results if r.text or not skip_empty),
        kept=tuple(kept),
        origin_tokens=offset,
        compressed_tokens=len(kept),
        pieces=tuple((text, k) for text, k, _ in pieces),
        segments=tuple(results),
    )


def joined_pieces(texts: list[list[tuple[str, bool, T]]], separator: str,
                  skip_empty: bool) -> list[tuple[str, bool, T | None]]:
    """The (piece, kept, tag) pieces of several texts joined with `separator`, the separators' tag None.

    A separator is kept, except with skip_empty where the text after it, or every text before it, keeps
    nothing (a passage that gave its whole budget away is left out of the join, with its separator). The
    one place the join is spelled out: join_results joins results by it, and the guard sees the output
    the same way (engine.guard_joined).
    """
    pieces: list[tuple[str, bool, T | None]] = []
    shown = False  # has a text that keeps something been joined yet
    for i, text in enumerate(texts):
        nonempty = any(k and piece for piece, k, _ in text)
        if i and separator:
            pieces.append((separator, not skip_empty or (shown and nonempty), None))
        shown = shown or nonempty
        pieces.extend(text)
    return pieces
