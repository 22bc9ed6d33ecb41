"""Two slices on the same texts: do their scores agree, do they keep the same tokens, do the outputs read alike?

For each text: RAD (mean absolute difference of importance) and cosine similarity when both
tokenizers give the same ids (importance over the text's own tokens, renormalized to sum to 1:
a BOS the tokenizer adds is scored but, as in pruning, not compared); at each rate the Jaccard
overlap of the kept sets (token positions when the ids agree, character positions otherwise) and
the chrF of B's pruned text against A's (A is the reference: the larger model, say).
Texts are averaged with equal weight; chrF is corpus-level over the texts (n-gram counts summed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import LiteError
from ..score.methods import DEFAULT_METHOD
from .metrics import chrf, cosine, jaccard, rad

RATES = (0.9, 0.8, 0.7)


@dataclass(frozen=True)
class TextComparison:
    name: str
    tokens_a: int
    tokens_b: int
    same_ids: bool
    rad: float | None  # None when the ids differ
    cosine: float | None
    jaccard: dict[float, float]  # rate -> kept-set overlap
    chrf: dict[float, float]  # rate -> chrF of B's output against A's

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "tokens_a": self.tokens_a,
            "tokens_b": self.tokens_b,
            "same_ids": self.same_ids,
            "rad": self.rad,
            "cosine": self.cosine,
            "jaccard": {str(r): v for r, v in self.jaccard.items()},
            "chrf": {str(r): v for r, v in self.chrf.items()},
        }


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    method: str
    rates: tuple[float, ...]
    same_tokenizer: bool  # every text tokenized to the same ids by both
    rad: float | None  # means over the texts (None unless same_tokenizer)
    cosine: float | None
    jaccard: dict[float, float]  # rate -> mean over texts
    chrf: dict[float, float]  # rate -> corpus chrF, B against A
    texts: list[TextComparison] = field(default_factory=list)

    @property
    def jaccard_unit(self) -> str:
        return "tokens" if self.same_tokenizer else "characters"

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "method": self.method,
            "rates": list(self.rates),
            "same_tokenizer": self.same_tokenizer,
            "jaccard_unit": self.jaccard_unit,
            "rad": self.rad,
            "cosine": self.cosine,
            "jaccard": {str(r): v for r, v in self.jaccard.items()},
            "chrf": {str(r): v for r, v in self.chrf.items()},
            "texts": [t.to_dict() for t in self.texts],
        }


def own_importance(pruner, text: str, method: str) -> tuple[list[int], np.ndarray]:
    """The ids the model sees and the importance of the text's own tokens, renormalized."""
    encoding = pruner.tokenizer.encode(text)
    own = np.array([i for i, s in enumerate(encoding.sequence_ids) if s is not None], dtype=np.int64)  # [n]
    if len(own) == 0:
        return list(encoding.ids), np.zeros(0, dtype=np.float64)
    scores = pruner.importance(encoding.ids, method=method)[own].astype(np.float64)  # [n]
    return list(encoding.ids), scores / scores.sum()


def kept_characters(pieces) -> set[int]:
    kept, position = set(), 0
    for piece, is_kept in pieces:
        if is_kept:
            kept.update(range(position, position + len(piece)))
        position += len(piece)
    return kept


def compare_text(a, b, name: str, text: str, rates: Sequence[float], method: str) -> tuple[TextComparison, dict]:
    ids_a, score_a = own_importance(a, text, method)
    ids_b, score_b = own_importance(b, text, method)
    if len(score_a) == 0 or len(score_b) == 0:  # nothing to score: its cosine 0 and chrF 0 would skew every mean
        raise LiteError(f"{name} holds no text to compare (no tokens)")
    same = ids_a == ids_b
    overlaps, outputs = {}, {}
    for rate in rates:
        ra, rb = a.prune(text, rate=rate, method=method), b.prune(text, rate=rate, method=method)
        sets = (ra.kept, rb.kept) if same else (kept_characters(ra.pieces), kept_characters(rb.pieces))
        overlaps[rate] = jaccard(*sets)
        outputs[rate] = (rb.text, ra.text)
    return TextComparison(
        name=name,
        tokens_a=len(score_a),
        tokens_b=len(score_b),
        same_ids=same,
        rad=rad(score_a, score_b) if same else None,
        cosine=cosine(score_a, score_b) if same else None,
        jaccard=overlaps,
        chrf={rate: chrf([pair]) for rate, pair in outputs.items()},
    ), outputs


def compare(
    a,
    b,
    texts: Sequence[tuple[str, str]],
    rates: Sequence[float] = RATES,
    method: str = DEFAULT_METHOD,
    names: tuple[str, str] = ("A", "B"),
) -> Comparison:
    """Compare pruners a and b on (name, text) pairs; see the module docstring."""
    results, pairs = [], {rate: [] for rate in rates}
    for name, text in texts:
        result, outputs = compare_text(a, b, name, text, rates, method)
        results.append(result)
        for rate in rates:
            pairs[rate].append(outputs[rate])
    same = bool(results) and all(r.same_ids for r in results)
    mean = (lambda values: float(np.mean(values))) if results else (lambda values: None)
    return Comparison(
        a=names[0],
        b=names[1],
        method=method,
        rates=tuple(rates),
        same_tokenizer=same,
        rad=mean([r.rad for r in results]) if same else None,
        cosine=mean([r.cosine for r in results]) if same else None,
        jaccard={rate: mean([r.jaccard[rate] for r in results]) for rate in rates},
        chrf={rate: chrf(pairs[rate]) for rate in rates},
        texts=results,
    )
