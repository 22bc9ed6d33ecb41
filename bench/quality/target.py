"""The target model (transformers, CPU, float32): prefix caches, greedy answers, teacher-forced log-probs, KL.

A prompt is a prefix (the 8 exemplars, pruned or not) and a suffix (the question, never pruned).
The prefix's KV cache is computed once and reused for every question: after each question the
cache is cropped back to the prefix. Greedy decoding stops at EOS or after `max_new` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


@dataclass
class Prefix:
    cache: object  # a transformers Cache holding the prefix's keys and values
    length: int


class Target:
    def __init__(self, folder: str | Path, threads: int | None = None):
        if threads:
            torch.set_num_threads(threads)
        self.folder = Path(folder)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        self.leading = self.tokenizer("", add_special_tokens=True)["input_ids"]  # e.g. [BOS], or []
        self.eos = self.tokenizer.eos_token_id

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    @torch.no_grad()
    def prefix(self, ids: list[int]) -> Prefix:
        """Run the prefix (after the tokenizer's leading specials) and keep its cache."""
        full = torch.tensor([self.leading + list(ids)])  # [1, p]
        out = self.model(full, use_cache=True, logits_to_keep=1)
        return Prefix(out.past_key_values, full.shape[1])

    def rewind(self, prefix: Prefix) -> None:
        extra = prefix.cache.get_seq_length() - prefix.length
        if extra > 0:
            prefix.cache.crop(-extra)

    @torch.no_grad()
    def log_probs(self, prefix: Prefix, question: list[int], answer: list[int]) -> torch.Tensor:
        """Teacher-forced log-probs of the next token at each answer position: [len(answer), vocab] float32."""
        suffix = torch.tensor([list(question) + list(answer[:-1])])  # [1, s]
        logits = self.model(suffix, past_key_values=prefix.cache, use_cache=True).logits[0]  # [s, vocab]
        self.rewind(prefix)
        return torch.log_softmax(logits[len(question) - 1 :], dim=-1)  # [len(answer), vocab]

    @torch.no_grad()
    def greedy(self, prefix: Prefix, question: list[int], max_new: int) -> list[int]:
        """The greedy continuation of prefix + question, up to max_new tokens or EOS (not included)."""
        answer: list[int] = []
        step = torch.tensor([list(question)])  # [1, s]
        for _ in range(max_new):
            logits = self.model(step, past_key_values=prefix.cache, use_cache=True, logits_to_keep=1).logits
            token = int(logits[0, -1].argmax())
            if token == self.eos:
                break
            answer.append(token)
            step = torch.tensor([[token]])  # [1, 1]
        self.rewind(prefix)
        return answer

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)


def mean_kl(reference: torch.Tensor, other: torch.Tensor) -> float:
    """Mean over positions of KL(reference || other), both log-probs [positions, vocab]."""
    kl = (reference.exp() * (reference - other)).sum(dim=-1)  # [positions]
    return float(kl.mean())


NUMBER = r"-?\d[\d,]*(?:\.\d+)?"


def final_number(text: str) -> str | None:
    """The last number in a text, without thousands separators (None if there is none)."""
    import re

    found = re.findall(NUMBER, text)
    return found[-1].replace(",", "").rstrip(".") if found else None


def first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0].strip()


def same_tokenizer(target: Target, pruner_tokenizer_json: str) -> bool:
    """Does the target tokenize as the pruner does? Then the kept ids go to the target as they are."""
    import json

    backend = getattr(target.tokenizer, "backend_tokenizer", None) or getattr(target.tokenizer, "_tokenizer", None)
    if backend is None:
        return False
    ours, theirs = json.loads(backend.to_str()), json.loads(pruner_tokenizer_json)
    return ours.get("model") == theirs.get("model") and np.all(
        [ours.get(k) == theirs.get(k) for k in ("pre_tokenizer", "normalizer")]
    )
