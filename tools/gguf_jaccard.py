"""How much quantization moves the kept set: Jaccard of kept sets, a quantized GGUF slice against the F16 one.

    python -m tools.gguf_jaccard            # prints the markdown table of docs/gguf.md

Tiny models of tools/gguf_fixtures.py (random weights, SmolLM2's tokenizer), 20 MGSM questions (2 per
language of 10 languages), kept sets at rates 0.9 / 0.8 / 0.7 (method "attention"); the mean Jaccard
|A & B| / |A | B| per quant type. Q5_K and Q6_K fixtures are random blocks (not quantized from the
model), so they are left out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tools import fixtures, mgsm
from tools.gguf_fixtures import tiny_gguf
from tools.reference import kept_set

RATES = (0.9, 0.8, 0.7)
QTYPES = ("BF16", "Q8_0", "Q5_1", "Q5_0", "Q4_1", "Q4_0", "Q4_K")


def texts_ids() -> list[np.ndarray]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(fixtures.smollm2_folder() / "tokenizer.json"))
    return [np.array(tokenizer.encode(q).ids) for lang in mgsm.LANGUAGES[:10] for q, _ in mgsm.questions(lang)[:2]]


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b)


def table(family: str, folder: Path) -> list[str]:
    from lite.score.scorer import Scorer
    from lite.slice.gguf import make_gguf_slice

    def scorer(qtype: str) -> Scorer:
        return Scorer(make_gguf_slice(tiny_gguf(family, qtype), folder / f"{family}-{qtype}.safetensors").path)

    ids = texts_ids()
    reference = scorer("F16")
    base = [reference.importance(x, method="attention") for x in ids]
    rows = []
    for qtype in QTYPES:
        quantized = scorer(qtype)
        scores = [quantized.importance(x, method="attention") for x in ids]
        means = [np.mean([jaccard(kept_set(s, rate), kept_set(b, rate)) for s, b in zip(scores, base)])
                 for rate in RATES]
        rows.append(f"| {family} | {qtype} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    return rows


def main() -> None:
    print("| tiny model | type | " + " | ".join(f"rate {r}" for r in RATES) + " |")
    print("|---|---|" + "---|" * len(RATES))
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("llama", "gemma3"):
            print("\n".join(table(family, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
