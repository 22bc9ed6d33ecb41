"""No pruned text holds a special or added token that its input did not hold at the same place.

Cutting text out joins what was around it: `<--|im_start|>` without its `--` is the chat-control
token `<|im_start|>`, which a model reads as a turn boundary. After selection, the output is
tokenized again (with the pruner's tokenizer, and the target model's when one is given); an
added token in it is *created* unless its characters are one contiguous stretch of the input
where the input's own tokenization holds the same token. For each created token the dropped
pieces inside it are kept again (they are what separated its parts); when none are inside, the
nearest dropped piece on each side is kept. This repeats until no token is created. It ends:
each round keeps at least one more piece, and keeping every piece gives the input back. The
price is a kept count above the budget by the pieces kept again, only where a token was created.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer

LITERAL_LIMIT = 512  # added tokens looked for as strings (one pattern) before a text is tokenized to find them


def literal_pattern(tokenizer: Tokenizer) -> re.Pattern | None:
    """A pattern that finds every string the tokenizer could read as one of its added tokens, when they are
    matched as written (not after a normalizer) and at most LITERAL_LIMIT; else None. No match: no added token."""
    tokens = list(tokenizer.get_added_tokens_decoder().values())
    if len(tokens) > LITERAL_LIMIT or (tokenizer.normalizer is not None and any(t.normalized for t in tokens)):
        return None
    contents = sorted({t.content for t in tokens}, key=len, reverse=True)
    return re.compile("|".join(re.escape(content) for content in contents))


class AddedTokenGuard:
    """Keeps pruned text free of added tokens the input did not have, for one or more tokenizers."""

    def __init__(self, tokenizers: Sequence[Tokenizer]):
        self.checks = [(t, frozenset(t.get_added_tokens_decoder())) for t in tokenizers]
        self.checks = [(t, added) for t, added in self.checks if added]
        self.patterns = [literal_pattern(t) for t, _ in self.checks]

    @staticmethod
    def placed(tokenizer: Tokenizer, added: frozenset[int], text: str) -> list[tuple[int, int, int]]:
        """(id, start, end) of every added token in the text, as this tokenizer reads it."""
        encoding = tokenizer.encode(text, add_special_tokens=False)
        if added.isdisjoint(encoding.ids):
            return []
        return [(i, s, e) for i, (s, e) in zip(encoding.ids, encoding.offsets) if i in added and e > s]

    def clean(self, text: str) -> bool:
        """Does the text hold no added token of any of the tokenizers (so no piece of it can have created one)?"""
        return not any((pattern is None or pattern.search(text)) and self.placed(tokenizer, added, text)
                       for (tokenizer, added), pattern in zip(self.checks, self.patterns))

    def repair(self, pieces: Sequence[str], keep: np.ndarray) -> np.ndarray:
        """The keep mask over `pieces` (which tile the input, in order), with pieces kept again until clean."""
        keep = np.asarray(keep, dtype=bool).copy()  # [n_pieces]
        if not self.checks or keep.all():
            return keep
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)  # [n_pieces]
        in_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # [n_pieces]
        source = "".join(pieces)
        originals: list[set | None] = [None] * len(self.checks)
        for _ in range(len(pieces) + 1):
            kept = np.flatnonzero(keep)  # [k]
            out_start = np.concatenate([[0], np.cumsum(lengths[kept])[:-1]])  # [k]
            output = "".join(pieces[i] for i in kept)
            created: list[tuple[int, int]] = []  # (first piece, last piece) of each created token
            for c, (tokenizer, added) in enumerate(self.checks):
                for token, a, b in self.placed(tokenizer, added, output):
                    first = int(np.searchsorted(out_start, a, side="right")) - 1  # [k] index of the piece holding a
                    last = int(np.searchsorted(out_start, b - 1, side="right")) - 1
                    start = in_start[kept[first]] + a - out_start[first]
                    end = in_start[kept[last]] + b - 1 - out_start[last] + 1
                    if end - start == b - a:
                        if originals[c] is None:
                            originals[c] = set(self.placed(tokenizer, added, source))
                        if (token, start, end) in originals[c]:
                            continue
                    created.append((int(kept[first]), int(kept[last])))
            if not created:
                return keep
            for first, last in created:
                inside = np.flatnonzero(~keep[first:last])
                if len(inside):
                    keep[first + inside] = True
                    continue
                before = np.flatnonzero(~keep[:first])
                after = np.flatnonzero(~keep[last + 1 :])
                if len(before):
                    keep[before[-1]] = True
                if len(after):
                    keep[last + 1 + after[0]] = True
        keep[:] = True  # not reached: each round keeps one more piece, and the whole input is clean
        return keep
