"""The bench's statistics (numpy only): log-KL ratios, a bootstrap clustered by language, the sign test.

- `log_ratio(kl, reference)`: per question d = log KL(arm) - log KL(reference), both floored at
  KL_FLOOR (1e-6 nats: a KL of 0 means the pruned prompt gave the very same distributions, e.g.
  nothing was dropped; the floor keeps the log finite and counts such a question as a tie with
  anything else below 1e-6). d < 0: the arm moved the target's answer less.
- `cluster_bootstrap(values, clusters)`: the mean over all questions and its percentile 95% CI,
  resampling languages with replacement, then questions with replacement within each drawn language
  (a two-stage bootstrap: the CI covers both the choice of languages and of questions).
- `sign_test(d)`: wins (d < 0), losses (d > 0), ties dropped, and the exact two-sided binomial p.

"Beats" is claimed only where the CI excludes 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

KL_FLOOR = 1e-6
N_BOOT = 2000


def log_ratio(kl: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """log max(kl, floor) - log max(reference, floor), elementwise. [n]"""
    kl = np.maximum(np.asarray(kl, dtype=np.float64), KL_FLOOR)
    reference = np.maximum(np.asarray(reference, dtype=np.float64), KL_FLOOR)
    return np.log(kl) - np.log(reference)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int  # questions
    clusters: int  # languages

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def fmt(self, digits: int = 2) -> str:
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def cluster_bootstrap(values, clusters, n_boot: int = N_BOOT, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean of `values` and its two-stage (clusters, then members) bootstrap percentile CI."""
    values = np.asarray(values, dtype=np.float64)  # [n]
    clusters = np.asarray(clusters)  # [n]
    if values.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0)
    names = sorted(set(clusters.tolist()))
    groups = [values[clusters == c] for c in names]
    k = len(groups)
    rng = np.random.default_rng(seed)
    chosen = rng.integers(k, size=(n_boot, k))  # [B, K]: the languages drawn for each replicate
    sums = np.zeros((n_boot, k))  # [B, K]
    counts = np.zeros((n_boot, k))  # [B, K]
    for c, group in enumerate(groups):
        draws = group[rng.integers(len(group), size=(n_boot, k, len(group)))]  # [B, K, n_c]: a fresh resample per slot
        mask = chosen == c  # [B, K]
        sums += np.where(mask, draws.sum(axis=2), 0.0)
        counts += np.where(mask, len(group), 0)
    means = sums.sum(axis=1) / counts.sum(axis=1)  # [B]
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(values.mean()), float(low), float(high), int(values.size), k)


def sign_test(d) -> tuple[int, int, float]:
    """(wins: d < 0, losses: d > 0, exact two-sided binomial p with ties dropped)."""
    d = np.asarray(d, dtype=np.float64)
    wins, losses = int((d < 0).sum()), int((d > 0).sum())
    n = wins + losses
    if n == 0:
        return 0, 0, 1.0
    tail = sum(comb(n, i) for i in range(min(wins, losses) + 1)) / 2 ** n
    return wins, losses, min(1.0, 2 * tail)
