"""What a prune takes and gives: `Segment` (one part of a prompt with its own budget) and `PruneResult`.

`join_results` makes one result of texts pruned one by one (their texts joined, token positions one
after the other).
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    pieces: list[tuple[str, bool]] = []
    offset = 0
    shown = False  # has a non-empty text been joined yet
    for i, result in enumerate(results):
        if i and separator:
            pieces.append((separator, not skip_empty or (shown and bool(result.text))))
        shown = shown or bool(result.text)
        pieces.extend(result.pieces)
        kept.extend(position + offset for position in result.kept)
        offset += result.origin_tokens
    return PruneResult(
        text=separator.join(r.text for r in results if r.text or not skip_empty),
        kept=tuple(kept),
        origin_tokens=offset,
        compressed_tokens=len(kept),
        pieces=tuple(pieces),
        segments=tuple(results),
    )
