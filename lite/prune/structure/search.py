"""Meet a Layout's token budget: prose shrunk first (the longest first for JSON), then groups dropped.

The budget is the pruner's: round(rate * n) of the input's n tokens, or target_tokens, counted on
the output itself (re-tokenized: joins and removed separators change counts). Two knobs, each
searched by bisection on the measured output:
- first the layout's early droppables (JSON's line breaks and indentation, Markdown's HTML and
  badge lines), one by one, all prose kept;
- B, the tokens given to the prose spans, shared by `allocate`; never below the layout's floor
  (a share of each span; 0 for JSON strings) before other droppables go;
- which droppables go: in the layout's order, skipping at first those much larger than what is
  still missing, until the floors fit; then any that can come back come back (`to_drop`).
If even every droppable gone and no prose left does not fit, that smallest output is returned and
its count says so (as `prune` does when forced keeps exceed a budget).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..budget import token_budget
from ..options import PruneOptions
from ..results import PruneResult
from .layout import FLOOR, Layout, apply_atoms

MIN_SLACK = 16  # a droppable this small may always go first, whatever is still missing


def floors_of(lengths: list[int], floor: float = FLOOR) -> list[int]:
    return [math.ceil(floor * t) for t in lengths]


def allocate(budget: int, lengths: list[int], longest_first: bool, floor: float = FLOOR) -> list[int]:
    """Tokens for each prose span, `budget` in all: above the floors, the longest spans give first
    (water-filling: each span keeps min(length, max(floor, cap))) or all in proportion."""
    total, floors = sum(lengths), floors_of(lengths, floor)
    if budget >= total:
        return list(lengths)
    low = sum(floors)
    if budget <= low:  # below the floors: the floors in proportion
        return [f * budget // low if low else 0 for f in floors]
    if not longest_first:
        return [max(f, t * budget // total) for t, f in zip(lengths, floors)]
    cap_low, cap_high = 0, max(lengths)
    while cap_low < cap_high:  # the largest cap whose shares fit the budget
        cap = (cap_low + cap_high + 1) // 2
        if sum(min(t, max(f, cap)) for t, f in zip(lengths, floors)) <= budget:
            cap_low = cap
        else:
            cap_high = cap - 1
    return [min(t, max(f, cap_low)) for t, f in zip(lengths, floors)]


def largest(fits: Callable[[int], bool], low: int, high: int) -> int | None:
    """The largest x in [low, high] with fits(x) (fits assumed to hold below a point), or None."""
    found = None
    while low <= high:
        middle = (low + high) // 2
        if fits(middle):
            found, low = middle, middle + 1
        else:
            high = middle - 1
    return found


def smallest(fits: Callable[[int], bool], low: int, high: int) -> int | None:
    found = None
    while low <= high:
        middle = (low + high) // 2
        if fits(middle):
            found, high = middle, middle - 1
        else:
            low = middle + 1
    return found


class Search:
    """The outputs of one layout for each (prose budget, droppables gone), remembered."""

    def __init__(self, pruner: Any, layout: Layout, options: PruneOptions, longest_first: bool):
        self.pruner, self.layout, self.longest_first = pruner.remembering(), layout, longest_first
        self.plain = replace(options, structure="text", rate=1.0, target_tokens=None, keep_last=0,
                             target_tokenizer=None, question=None)
        self.lengths = [pruner.count_tokens(layout.text[a:b]) for a, b in layout.prose]
        self.count = functools.cache(pruner.count_tokens)
        self.prose_masks: dict[tuple[int, int], np.ndarray] = {}
        self.masks: dict[tuple[int, int], np.ndarray] = {}

    def prose_mask(self, i: int, keep: int) -> np.ndarray:
        """Which characters of prose span i the pruner keeps for a budget of `keep` tokens: bool [span length]."""
        start, end = self.layout.prose[i]
        if keep >= self.lengths[i] or keep <= 0:
            return np.full(end - start, keep > 0)
        if (i, keep) not in self.prose_masks:
            result = self.pruner.run(self.layout.text[start:end], replace(self.plain, rate=None, target_tokens=keep))
            self.prose_masks[i, keep] = np.concatenate(
                [np.full(len(piece), kept) for piece, kept in result.pieces]).astype(bool)
        return self.prose_masks[i, keep]

    def mask(self, budget: int, gone: tuple[int, ...] = ()) -> np.ndarray:
        """Kept characters for this prose budget with these droppables gone: bool [len(text)]."""
        if (budget, gone) not in self.masks:
            layout = self.layout
            mask = np.ones(len(layout.text), dtype=bool)  # [chars]
            for i, keep in enumerate(allocate(budget, self.lengths, self.longest_first, layout.floor)):
                start, end = layout.prose[i]
                mask[start:end] = self.prose_mask(i, keep)
            apply_atoms(layout, mask)
            layout.drop(mask, gone)
            self.masks[budget, gone] = mask
        return self.masks[budget, gone]

    def size(self, budget: int, gone: tuple[int, ...] = ()) -> int:
        return self.count(output(self.layout.text, self.mask(budget, gone)))

    def to_drop(self, budget: int, limit: int, first: tuple[int, ...]) -> tuple[int, ...]:
        """The droppables to drop, prose at `budget`, after `first`: tier by tier, in the layout's order, first
        those no larger than twice what is still missing (so one big part does not go for a few tokens),
        then any; then those that can come back (the last dropped first) come back."""
        spans, tiers = self.layout.droppables, self.layout.tiers or [0] * len(self.layout.droppables)
        sizes = [self.count(self.layout.text[a:b]) for a, b in spans]
        gone: list[int] = list(first)
        for tier in sorted(set(tiers)):
            for strict in (True, False):
                for k in (k for k in range(len(spans)) if tiers[k] == tier and k not in gone):
                    need = self.size(budget, tuple(sorted(gone))) - limit
                    if need <= 0:
                        break
                    if not (strict and sizes[k] > max(2 * need, MIN_SLACK)):
                        gone.append(k)
        for k in reversed(gone[len(first) :]):
            trial = tuple(sorted(g for g in gone if g != k))
            if self.size(budget, trial) <= limit:
                gone.remove(k)
        return tuple(sorted(gone))

    def best(self, limit: int) -> np.ndarray:
        """The kept characters: the most prose and the fewest droppables gone whose output fits `limit` tokens.

        First the early droppables go, one by one, all prose kept; then prose shrinks to its floors; then
        other droppables go (to_drop); then prose grows back as far as the budget allows.
        """
        total, low = sum(self.lengths), sum(floors_of(self.lengths, self.layout.floor))
        gone: tuple[int, ...] = ()
        for k in range(self.layout.early + 1):
            if self.size(total, gone) <= limit:  # those that can come back come back, the last gone first
                for back in reversed(gone[:-1]):
                    trial = tuple(g for g in gone if g != back)
                    gone = trial if self.size(total, trial) <= limit else gone
                return self.mask(total, gone)
            gone = gone + (k,) if k < self.layout.early else gone
        if self.size(low, gone) > limit:
            gone = self.to_drop(low, limit, gone)
        if self.size(low, gone) > limit:  # even with the floors' prose gone: less prose still
            budget = largest(lambda b: self.size(b, gone) <= limit, 0, low)
            return self.mask(0 if budget is None else budget, gone)
        budget = largest(lambda b: self.size(b, gone) <= limit, low, total)
        return self.mask(low if budget is None else budget, gone)


def output(text: str, mask: np.ndarray) -> str:
    return "".join(pieces_of(text, mask, kept_only=True))


def pieces_of(text: str, mask: np.ndarray, kept_only: bool = False) -> list:
    """The text cut where the mask changes: [(piece, kept)], or the kept pieces' strings."""
    cuts = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1  # [changes]
    bounds = [0, *cuts.tolist(), len(text)]
    pieces = [(text[a:b], bool(mask[a])) for a, b in zip(bounds, bounds[1:]) if b > a]
    return [p for p, k in pieces if k] if kept_only else pieces


def prune_layout(pruner: Any, layout: Layout, options: PruneOptions, longest_first: bool = False):
    """The PruneResult of a layout at the options' rate or target (counted on the output)."""
    text = layout.text
    encoding = pruner.tokenize(text)
    own = [i for i, s in enumerate(encoding.sequence_ids) if s is not None]
    offsets = encoding.offsets  # a fresh list on every access: read it once
    starts = np.array([offsets[i][0] for i in own], dtype=np.int64)  # [n]
    n = len(own)
    search = Search(pruner, layout, options, longest_first)
    mask = search.best(token_budget(n, options.rate, options.target_tokens)).copy()
    pieces = pieces_of(text, mask)
    repaired = pruner.guard.repair([p for p, _ in pieces], np.array([k for _, k in pieces]))
    if not repaired.all() or not mask.all():
        guarded = [(p, bool(k)) for (p, _), k in zip(pieces, repaired)]
        if layout.valid is None or layout.valid("".join(p for p, k in guarded if k)):
            pieces = guarded
        else:  # keeping a piece again broke the structure: give the input back rather than break it
            pieces = [(text, True)]
    kept_text = "".join(p for p, k in pieces if k)
    kept_chars = np.concatenate([np.full(len(p), k) for p, k in pieces]).astype(bool) if text else mask
    kept = tuple(int(i) for i, s in enumerate(starts) if kept_chars[s]) if n else ()
    return PruneResult(text=kept_text, kept=kept, origin_tokens=n,
                       compressed_tokens=search.count(kept_text), pieces=tuple(pieces))
