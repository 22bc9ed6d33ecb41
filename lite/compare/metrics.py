"""The comparison's measures, as pure functions.

chrF is sacreBLEU's default chrF (Popović 2015): character n-grams of orders 1..6 with whitespace
removed, precision and recall averaged over the orders both sides have, F-beta with beta = 2,
on a 0-100 scale; several pairs are scored at corpus level (their n-gram statistics summed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

CHRF_ORDER = 6
CHRF_BETA = 2.0


def char_ngrams(text: str, n: int) -> Counter:
    text = "".join(text.split())  # whitespace is not part of any n-gram
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf_statistics(hypothesis: str, reference: str) -> list[tuple[int, int, int]]:
    """Per order: (hypothesis n-grams, reference n-grams, matched n-grams)."""
    stats = []
    for n in range(1, CHRF_ORDER + 1):
        hyp, ref = char_ngrams(hypothesis, n), char_ngrams(reference, n)
        stats.append((sum(hyp.values()), sum(ref.values()), sum((hyp & ref).values())))
    return stats


def chrf(pairs: Iterable[tuple[str, str]]) -> float:
    """Corpus chrF of (hypothesis, reference) pairs, 0-100 (100: the same characters)."""
    totals = np.zeros((CHRF_ORDER, 3), dtype=np.int64)  # [order, (hyp, ref, match)]
    for hypothesis, reference in pairs:
        totals += np.array(chrf_statistics(hypothesis, reference), dtype=np.int64)
    precisions = [m / h for h, r, m in totals if h > 0 and r > 0]
    recalls = [m / r for h, r, m in totals if h > 0 and r > 0]
    if not precisions:
        return 0.0
    p, r = float(np.mean(precisions)), float(np.mean(recalls))
    if p + r == 0:
        return 0.0
    factor = CHRF_BETA**2
    return 100 * (1 + factor) * p * r / (factor * p + r)


def jaccard(a: Iterable[int], b: Iterable[int]) -> float:
    """|A ∩ B| / |A ∪ B| (1.0 for two empty sets)."""
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def rad(a: Sequence[float], b: Sequence[float]) -> float:
    """Mean absolute difference of two importance vectors over the same tokens."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)  # [n], [n]
    return float(np.mean(np.abs(a - b))) if len(a) else 0.0


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two importance vectors (1.0: the same direction)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)  # [n], [n]
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0
