"""What a prune takes and gives: `Segment` (one part of a prompt with its own budget) and `PruneResult`.

`join_results` makes one result of texts pruned one by one (their texts joined, token positions one
after the other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

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
    offsets = np.cumsum([0] + [r.origin_tokens for r in results])  # [n_results + 1]
    kept = np.concatenate([np.asarray(r.kept, dtype=np.int64) + offset for r, offset in zip(results, offsets)]
                          or [np.zeros(0, dtype=np.int64)])  # [compressed_tokens]
    pieces: list[tuple[str, bool]] = []
    for i, (result, shown) in enumerate(zip(results, separators_kept([bool(r.text) for r in results], skip_empty))):
        if i and separator:
            pieces.append((separator, shown))
        pieces.extend(result.pieces)
    return PruneResult(
        text=separator.join(r.text for r in results if r.text or not skip_empty),
        kept=tuple(kept.tolist()),
        origin_tokens=int(offsets[-1]),
        compressed_tokens=len(kept),
        pieces=tuple(pieces),
        segments=tuple(results),
    )


def separators_kept(nonempty: list[bool], skip_empty: bool) -> list[bool]:
    """Whether the separator before each text (the first's is never used) is kept: always, except with
    skip_empty where the text after it, or every text before it, keeps nothing (a passage that gave its
    whole budget away is left out of the join, with its separator). The one place the join's rule is
    spelled out: join_results and joined_pieces (the output as the guard sees it) both follow it."""
    found, shown = [], False  # shown: has a text that keeps something been joined yet
    for keeps in nonempty:
        found.append(not skip_empty or (shown and keeps))
        shown = shown or keeps
    return found


def joined_pieces(texts: list[list[tuple[str, bool, T]]], separator: str,
                  skip_empty: bool) -> list[tuple[str, bool, T | None]]:
    """The (piece, kept, tag) pieces of several texts joined with `separator` as join_results joins them,
    the separators' tag None."""
    nonempty = [any(k and piece for piece, k, _ in text) for text in texts]
    pieces: list[tuple[str, bool, T | None]] = []
    for i, (text, shown) in enumerate(zip(texts, separators_kept(nonempty, skip_empty))):
        if i and separator:
            pieces.append((separator, shown, None))
        pieces.extend(text)
    return pieces
