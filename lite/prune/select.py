"""Which units to keep: forced units first, then units in the order a mode gives, while they fit the budget.

Every mode (by score, by whole clauses, by relevance to a question) produces an *order* over the
units, best first; `select_in_order` is the one selection that consumes it. Selection counts tokens,
not units: a unit of three tokens costs three. Everything here is a pure function of arrays.
"""

from __future__ import annotations

import numpy as np

from ..errors import LiteError
from .units import Units, digit_ranges, occurrences, units_covering


def order_by(priority: np.ndarray) -> np.ndarray:
    """Indices from the highest priority to the lowest; equal priorities in position order: int64 [n]."""
    return np.lexsort((np.arange(len(priority)), -np.asarray(priority, dtype=np.float64)))  # [n]


def ranks_of(order: np.ndarray) -> np.ndarray:
    """Each index's place in `order` (0: first): int64 [n]."""
    found = np.empty(len(order), dtype=np.int64)
    found[order] = np.arange(len(order))
    return found  # [n]


def require_finite(importance: np.ndarray) -> np.ndarray:
    """The scores, or a LiteError if any is NaN or infinite (ranking it would keep arbitrary tokens)."""
    bad = ~np.isfinite(importance)
    if bad.any():
        raise LiteError(
            f"the importance is not finite (NaN or infinity) for {int(bad.sum())} of {len(importance)} tokens "
            f"(first: token {int(np.flatnonzero(bad)[0])}); the slice's weights or config are broken: make the "
            "slice again"
        )
    return importance


def unit_importance(importance: np.ndarray, first_token: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean importance of each unit's tokens (importance per token of budget spent): float32 [n_units]."""
    if len(first_token) == 0:
        return np.zeros(0, dtype=np.float32)
    sums = np.add.reduceat(importance.astype(np.float64), first_token)  # [n_units]
    return (sums / sizes).astype(np.float32)  # [n_units]


def select_in_order(order: np.ndarray, sizes: np.ndarray, budget: int, forced: np.ndarray) -> np.ndarray:
    """Mask of the units to keep ([n_units] bool).

    Forced units are kept even beyond the budget and count towards it. The others are taken in
    `order` while they fit; a unit that would overshoot is passed over for smaller ones further
    down, so the kept count falls short of the budget by less than the smallest unit left. If
    nothing fits at all, the first unit of the order is kept (at least one unit survives).
    """
    keep = forced.copy()  # [n_units]
    kept = int(sizes[keep].sum())
    free = np.asarray(order, dtype=np.int64)[~keep[order]]  # [n_free] the others, in order
    total = kept + np.cumsum(sizes[free])  # [n_free] the count if every one up to here were taken
    fits = int(np.searchsorted(total, budget, side="right"))  # the leading ones that all fit are taken
    keep[free[:fits]] = True
    kept = int(total[fits - 1]) if fits else kept
    rest = free[fits:]  # [n_rest] then ones that still fit, while something is left: a few, smaller than one unit
    while kept < budget and len(rest):
        smaller = np.flatnonzero(sizes[rest] <= budget - kept)  # [n_smaller]
        if not len(smaller):
            break
        keep[rest[smaller[0]]] = True
        kept += int(sizes[rest[smaller[0]]])
        rest = rest[smaller[0] + 1 :]
    if not keep.any() and len(order) and budget > 0:
        keep[order[0]] = True
    return keep


def forced_units(text: str, units: Units, n_tokens: int, force: tuple[str, ...], force_digits: bool,
                 keep_last: int) -> np.ndarray:
    """Mask of the units that must be kept: forced strings, digits, the last N tokens: bool [n_units]."""
    ranges = [r for s in force for r in occurrences(text, s)]
    if force_digits:
        ranges += digit_ranges(text)
    forced = units_covering(units, ranges)  # [n_units]
    if keep_last > 0:
        forced[units.token_unit(n_tokens)[-keep_last:]] = True
    return forced


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
