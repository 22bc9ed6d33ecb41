"""Which units to keep: a token budget, forced units first, then the most important units.

Selection counts tokens, not units: a unit of three tokens costs three. Units are ranked by the
mean importance of their tokens (importance per token of budget spent), ties by position, and
taken in that order while they fit the budget. Everything here is a pure function of arrays.
"""

from __future__ import annotations

import numpy as np

from ..errors import LiteError


def token_budget(n_tokens: int, rate: float | None = None, target_tokens: int | None = None) -> int:
    """How many tokens to keep: round(rate * n) or target_tokens, at least 1, at most n.

    The arguments are those of a PruneOptions (lite/prune/options.py), which checked them.
    """
    wanted = int(target_tokens) if target_tokens is not None else round(float(rate) * n_tokens)
    return min(n_tokens, max(1, wanted)) if n_tokens else 0


def unit_importance(importance: np.ndarray, first_token: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean importance of each unit's tokens."""
    if len(first_token) == 0:
        return np.zeros(0, dtype=np.float32)
    sums = np.add.reduceat(importance.astype(np.float64), first_token)  # [n_units]
    return (sums / sizes).astype(np.float32)  # [n_units]


def rank_units(scores: np.ndarray) -> np.ndarray:
    """Unit indices from most to least important; equal scores in position order."""
    positions = np.arange(len(scores))
    return np.lexsort((positions, -scores.astype(np.float64)))  # [n_units]


def require_finite(scores: np.ndarray, what: str) -> None:
    """A LiteError if any score is NaN or infinite: ranking it would keep arbitrary units."""
    if not np.isfinite(scores).all():
        bad = int(np.flatnonzero(~np.isfinite(scores))[0])
        raise LiteError(
            f"the importance is not finite (NaN or infinity) for {int((~np.isfinite(scores)).sum())} of {len(scores)} "
            f"{what} (first: {what.rstrip('s')} {bad}); the slice's weights or config are broken: make the slice again"
        )


def select_units(scores: np.ndarray, sizes: np.ndarray, budget: int, forced: np.ndarray) -> np.ndarray:
    """Mask of the units to keep.

    Forced units are kept even beyond the budget and count towards it. The others are taken
    by rank while they fit; a unit that would overshoot is passed over for smaller ones further
    down, so the kept count falls short of the budget by less than the smallest unit left.
    If nothing fits at all, the top-ranked unit is kept (at least one unit survives).
    A score that is NaN or infinite is an error: ranking it would keep arbitrary units.
    """
    require_finite(scores, "units")
    keep = forced.copy()  # [n_units]
    kept = int(sizes[keep].sum())
    for unit in rank_units(scores):
        if kept >= budget:
            break
        if not keep[unit] and kept + sizes[unit] <= budget:
            keep[unit] = True
            kept += int(sizes[unit])
    if not keep.any() and len(scores) and budget > 0:
        keep[rank_units(scores)[0]] = True
    return keep


def drop_consecutive_repeats(unit_texts: list[str], keep: np.ndarray, forced_strings: list[str]) -> np.ndarray:
    """Unkeep a kept unit that is one of the forced strings when the kept unit before it is the same string.

    Spaces around a unit's text are ignored when comparing ("\\n" and " \\n" repeat each other).
    """
    wanted = {s.strip(" ") for s in forced_strings if s.strip(" ")}
    keep = keep.copy()
    previous = None
    for unit in np.flatnonzero(keep):
        text = unit_texts[unit].strip(" ")
        if text in wanted and text == previous:
            keep[unit] = False
            continue
        previous = text
    return keep


def split_budget(total: int, lengths: list[int]) -> list[int]:
    """Split a token budget over parts in proportion to their lengths (largest remainder), at least 1 each."""
    whole = sum(lengths)
    if whole == 0:
        return [0 for _ in lengths]
    shares = [total * length / whole for length in lengths]
    floors = [int(share) for share in shares]
    by_remainder = sorted(range(len(lengths)), key=lambda i: (floors[i] - shares[i], i))
    for i in by_remainder[: total - sum(floors)]:
        floors[i] += 1
    return [min(length, max(1, share)) if length else 0 for share, length in zip(floors, lengths)]
