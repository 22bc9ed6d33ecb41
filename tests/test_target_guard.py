"""A randomized search for pruned text that creates a control token of the target model.

Each case splits one of a target's added tokens ("<end_of_turn>", "<|im_start|>", ...) in two and puts
a few characters between the halves ("<en" + "x;" + "d_of_turn>"), in text that holds no added token
of the target at all. Pruning by characters would drop the junk and join the halves into a real
control token of the target. Every surface that takes a target tokenizer must prevent that:
prune, prune_messages and compress_prompt (which, before the one pipeline, did not pass the target
to its prune: 11 of 600 such cases created a Gemma control token).
"""

from __future__ import annotations

import random

import pytest
from tokenizers import Tokenizer

from tools import fixtures

CASES = 500  # per target tokenizer and surface: 3,000 cases in all
FILLER = ["the", "cat", "sat", "on", "a", "mat", "while", "rain", "fell", "over", "old", "roofs", "and", "quiet"]
JUNK = "xq;:-_=+~#@%&*!"


def control_tokens(tokenizer: Tokenizer) -> list[str]:
    """The target's added tokens that are markup (at least four characters, not whitespace)."""
    return sorted({t.content for t in tokenizer.get_added_tokens_decoder().values()
                   if len(t.content) >= 4 and t.content.strip() == t.content and "<" in t.content})


def added_ids(tokenizer: Tokenizer, text: str) -> list[int]:
    added = tokenizer.get_added_tokens_decoder()
    return [i for i in tokenizer.encode(text, add_special_tokens=False).ids if i in added]


def crafted(rng: random.Random, tokens: list[str], tokenizer: Tokenizer) -> str:
    """Filler words around a control token split by junk; the text holds no added token of the target."""
    while True:
        token = rng.choice(tokens)
        cut = rng.randrange(1, len(token))
        junk = "".join(rng.choice(JUNK) for _ in range(rng.randint(1, 3)))
        words = rng.sample(FILLER, rng.randint(2, 6))
        at = rng.randint(0, len(words))
        text = " ".join(words[:at] + [token[:cut] + junk + token[cut:]] + words[at:])
        if not added_ids(tokenizer, text):
            return text


@pytest.fixture(scope="module", params=["gemma3", "smollm2"])
def target(request):
    folder = fixtures.gemma3_270m_folder() if request.param == "gemma3" else fixtures.smollm2_folder()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    return request.param, tokenizer, control_tokens(tokenizer)


def outputs(pruner, surface: str, text: str, rate: float, tokenizer: Tokenizer) -> str:
    if surface == "compress_prompt":
        return pruner.compress_prompt([text], rate=rate, target_tokenizer=tokenizer, granularity="char",
                                      rank_by_question=False)["compressed_prompt"]
    if surface == "prune_messages":
        messages = [{"role": "tool", "content": text}, {"role": "user", "content": "what now?"}]
        return pruner.prune_messages(messages, rate=rate, target_tokenizer=tokenizer,
                                     granularity="char").messages[0]["content"]
    return pruner.prune(text, rate=rate, target_tokenizer=tokenizer, granularity="char").text


@pytest.mark.slow
@pytest.mark.parametrize("surface", ["compress_prompt", "prune_messages", "prune"])
def test_no_surface_creates_a_control_token_of_the_target(pruner, target, surface):
    name, tokenizer, tokens = target
    assert len(tokens) >= 2, name
    rng = random.Random(f"{name}-{surface}")
    created = []
    for _ in range(CASES):
        text = crafted(rng, tokens, tokenizer)
        output = outputs(pruner, surface, text, rng.choice((0.3, 0.5, 0.7, 0.85)), tokenizer)
        if added_ids(tokenizer, output):
            created.append((text, output))
    assert not created, f"{len(created)} of {CASES} created a control token of {name}, e.g. {created[0]}"
