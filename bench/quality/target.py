"""The target model (transformers, CPU, float32): prefix caches, teacher-forced log-probs, greedy answers, KL.

A prompt is a prefix (pruned exemplars or a pruned passage, then the separator) and a suffix (the
question, never pruned). The target tokenizes each of the two texts itself. A prefix's KV cache is
computed once and copied for every question that follows it (a copy, not a crop: Gemma's sliding
layers cannot be cropped). Logits are computed only at the answer positions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


@dataclass
class Prefix:
    cache: object  # a transformers Cache holding the prefix's keys and values
    length: int  # tokens in the cache (leading specials included)


class Target:
    def __init__(self, folder: str | Path, threads: int | None = None):
        if threads:
            torch.set_num_threads(threads)
        self.folder = Path(folder)
        self.name = self.folder.name
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        self.leading = self.tokenizer("", add_special_tokens=True)["input_ids"]  # e.g. [BOS], or []
        self.eos = {self.tokenizer.eos_token_id, *([self.model.generation_config.eos_token_id]
                    if isinstance(self.model.generation_config.eos_token_id, int)
                    else (self.model.generation_config.eos_token_id or []))} - {None}

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def count(self, text: str) -> int:
        return len(self.encode(text))

    @torch.no_grad()
    def prefix(self, text: str) -> Prefix:
        """Run the prefix text (after the tokenizer's leading specials) and keep its cache."""
        ids = torch.tensor([self.leading + self.encode(text)])  # [1, p]
        out = self.model(ids, use_cache=True, logits_to_keep=1)
        cache = getattr(out, "cache", None) or out.past_key_values
        return Prefix(cache, ids.shape[1])

    @torch.no_grad()
    def log_probs(self, prefix: Prefix, question: list[int], answer: list[int]) -> torch.Tensor:
        """Teacher-forced log-probs of each answer token's position: [len(answer), vocab] float32."""
        suffix = torch.tensor([list(question) + list(answer[:-1])])  # [1, s]
        cache = copy.deepcopy(prefix.cache)
        logits = self.model(suffix, cache=cache, use_cache=True, logits_to_keep=len(answer)).logits[0]
        # logits: [len(answer), vocab], the positions of the question's last token and answer[:-1]
        return torch.log_softmax(logits.float(), dim=-1)  # [len(answer), vocab]

    @torch.no_grad()
    def greedy(self, prefix: Prefix, question: list[int], max_new: int, stop: str | None = None) -> list[int]:
        """The greedy continuation of prefix + question: up to max_new tokens, EOS, or `stop` in the text."""
        cache = copy.deepcopy(prefix.cache)
        answer: list[int] = []
        step = torch.tensor([list(question)])  # [1, s]
        for _ in range(max_new):
            logits = self.model(step, cache=cache, use_cache=True, logits_to_keep=1).logits  # [1, 1, vocab]
            token = int(logits[0, -1].argmax())
            if token in self.eos:
                break
            answer.append(token)
            if stop and stop in self.decode(answer[-4:]):
                break
            step = torch.tensor([[token]])  # [1, 1]
        return answer

    @torch.no_grad()
    def self_information(self, text: str) -> tuple[list[float], list[tuple[int, int]]]:
        """-log p of each of the text's tokens given the tokens before it (Selective Context), with char offsets.

        The first token is conditioned on the leading specials only (or gets the mean of the others
        when the tokenizer adds none).
        """
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        if not ids:
            return [], []
        full = torch.tensor([self.leading + ids])  # [1, l + n]
        logits = self.model(full).logits[0].float()  # [l + n, vocab]
        logp = torch.log_softmax(logits[:-1], dim=-1)  # [l + n - 1, vocab]: predicts positions 1..
        nll = -logp.gather(1, full[0, 1:, None])[:, 0]  # [l + n - 1]
        info = nll[len(self.leading) - 1:].tolist() if self.leading else [float(nll.mean()) if len(nll) else 0.0,
                                                                            *nll.tolist()]
        return info, [tuple(o) for o in offsets]

    def chat_parts(self) -> tuple[str, str] | None:
        """(text before, text after) one user turn in the chat template, or None without a template."""
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        marker = "@@USER@@"
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": marker}], tokenize=False,
                                                  add_generation_prompt=True)
        head, tail = text.split(marker)
        for special in (self.tokenizer.bos_token,):  # the tokenizer adds its own BOS
            if special and head.startswith(special):
                head = head[len(special):]
        return head, tail

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)


def kl_and_flips(reference: torch.Tensor, other: torch.Tensor) -> tuple[float, float]:
    """Mean over positions of KL(reference || other), and the share of positions whose argmax differs."""
    kl = (reference.exp() * (reference - other)).sum(dim=-1)  # [positions]
    flips = (reference.argmax(dim=-1) != other.argmax(dim=-1)).float()  # [positions]
    return float(kl.clamp_min(0).mean()), float(flips.mean())


NUMBER = r"-?\d[\d,]*(?:\.\d+)?"


def final_number(text: str) -> str | None:
    """The last number in a text, without thousands separators (None if there is none)."""
    import re

    found = re.findall(NUMBER, text)
    return found[-1].replace(",", "").rstrip(".") if found else None
