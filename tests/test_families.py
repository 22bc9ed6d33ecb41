"""Gemma 2, Gemma 3 (text and multimodal), Qwen2, Qwen3 and Phi-3 against transformers, on tiny random models."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from lite.errors import LiteError
from lite.model import rope, spec_from_config
from lite.model.families import (
    FAMILIES,
    GEMMA2_DEFAULTS,
    GEMMA3_TEXT_DEFAULTS,
    PHI3_DEFAULTS,
    QWEN3_DEFAULTS,
)
from lite.score.scorer import Scorer
from lite.store.slicefile import SliceFile
from tests.helpers import assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import reference_importance

FAMILY_FIXTURES = sorted(fixtures.TINY_FAMILIES)
LENGTHS = (1, 2, 64, 65, 100, 1000)  # 64 | 65: either side of the phi3 fixture's original_max_position_embeddings

# fixture -> the layer-0 self_attn tensors its slice holds (besides the embedding and the input norm)
ATTENTION_TENSORS = {
    "gemma2": ["q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"],
    "gemma3-text": ["q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "q_norm.weight",
                    "k_norm.weight"],
    "qwen2": ["q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias",
              "o_proj.weight"],
    "qwen3": ["q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "q_norm.weight", "k_norm.weight"],
    "phi3": ["qkv_proj.weight", "o_proj.weight"],
}
ATTENTION_TENSORS.update({name: ATTENTION_TENSORS["gemma3-text"] for name in FAMILY_FIXTURES if "gemma3-" in name})
PREFIXES = {"gemma3-vision": "language_model.model.", "gemma3-vision-v5names": "model.language_model."}


def config_of(name: str) -> dict:
    return json.loads((fixtures.tiny(name) / "config.json").read_text())


@pytest.fixture(scope="module", params=[(name, sharded) for name in FAMILY_FIXTURES for sharded in (False, True)],
                ids=lambda p: f"{p[0]}-{'sharded' if p[1] else 'single'}")
def family_model(request, slices_dir):
    name, sharded = request.param
    folder = fixtures.tiny(name, sharded=sharded)
    path = make_slice(folder, slices_dir / f"family-{name}-{sharded}.safetensors")
    return name, folder, path, Scorer(path)


@pytest.mark.parametrize("n", LENGTHS)
def test_families_match_transformers(family_model, n):
    _, folder, _, scorer = family_model
    ids = np.random.default_rng(n).integers(0, scorer.spec.vocab_size, n)
    assert_matches_reference(scorer.importance(ids, method="attention"), reference_importance(folder, ids))


def test_repeated_ids(family_model):
    _, folder, _, scorer = family_model
    ids = np.array([5, 9, 5, 5, 300, 9, 5, 7] * 40)
    assert_matches_reference(scorer.importance(ids, method="attention"), reference_importance(folder, ids))


def test_attention_is_far_from_uniform(family_model):
    _, _, _, scorer = family_model
    scores = scorer.importance(np.random.default_rng(0).integers(0, scorer.spec.vocab_size, 256), method="attention")
    assert scores.max() / scores.min() > 10  # the fixtures exercise the softmax, not a flat average


def test_slice_holds_exactly_what_layer0_needs(family_model):
    name, _, path, scorer = family_model
    prefix = PREFIXES.get(name, "model.")
    expected = [prefix + "embed_tokens.weight", prefix + "layers.0.input_layernorm.weight"]
    expected += [prefix + "layers.0.self_attn." + leaf for leaf in ATTENTION_TENSORS[name]]
    assert sorted(SliceFile(path).header.entries) == sorted(expected)
    assert scorer.spec.prefix == prefix


def test_specs_read_each_family():
    gemma2 = spec_from_config(config_of("gemma2"))
    assert (gemma2.embed_scale, gemma2.norm_offset, gemma2.softcap) == (8.0, 1.0, 20.0)
    assert gemma2.scale == 20**-0.5 and gemma2.head_dim == 24
    sliding = spec_from_config(config_of("gemma3-text"))  # layer 0 slides: the local base, no scaling
    assert (sliding.rope.rope_type, sliding.rope.theta, sliding.qk_norm, sliding.softcap) == ("default", 1e4, True, 0)
    full = spec_from_config(config_of("gemma3-text-full0"))  # layer 0 is global: rope_theta and scaling
    assert (full.rope.rope_type, full.rope.theta, full.rope.param("factor")) == ("linear", 1e6, 8.0)
    vision = spec_from_config(config_of("gemma3-vision"))
    assert (vision.family, vision.hidden_size, vision.rope.theta) == ("gemma3", 64, 1e4)
    assert spec_from_config(config_of("qwen2")).qkv_bias
    qwen3 = spec_from_config(config_of("qwen3"))
    assert qwen3.qk_norm and qwen3.head_dim == 32 and qwen3.norm_offset == 0
    phi3 = spec_from_config(config_of("phi3"))
    assert phi3.fused_qkv and phi3.rope.rotary_dim == 12 and phi3.rope.rope_type == "longrope"
    assert phi3.rope.param("original_max_position_embeddings") == 64


def test_gemma2_softcap_changes_the_result(slices_dir):
    """The fixture's logits reach the cap, so scoring without it would not match."""
    folder = fixtures.tiny("gemma2")
    scorer = Scorer(make_slice(folder, slices_dir / "family-gemma2-False.safetensors"))
    ids = np.random.default_rng(3).integers(0, scorer.spec.vocab_size, 300)
    capped = scorer.importance(ids, kernel="numpy", method="attention")
    scorer.spec = dataclasses.replace(scorer.spec, softcap=0.0)
    for kernel in ("numpy", "numba"):
        uncapped = scorer.importance(ids, kernel=kernel, method="attention")
        assert np.max(np.abs(uncapped - reference_importance(folder, ids))) > 1e-3
        assert np.max(np.abs(uncapped - capped)) > 1e-3


def test_longrope_switches_at_the_original_length():
    spec = spec_from_config(config_of("phi3"))
    short, long = rope.inv_freq(spec.rope, 64), rope.inv_freq(spec.rope, 65)
    assert short.shape == long.shape == (6,) and not np.allclose(short, long)
    assert rope.attention_scaling(spec.rope) == pytest.approx(2**0.5)  # factor 4096 / 64: sqrt(1 + ln 64 / ln 64)


@pytest.mark.parametrize("legacy", ["su", "yarn"])
def test_phi3_legacy_rope_names_mean_longrope(legacy):
    """Phi3Config.convert_rope_params_to_dict reads "su" and "yarn" as longrope."""
    config = config_of("phi3")
    del config["rope_scaling"]["rope_type"]
    config["rope_scaling"]["type"] = legacy
    spec = spec_from_config(config)
    assert spec.rope == spec_from_config(config_of("phi3")).rope


def test_defaults_are_transformers_defaults():
    from transformers import Gemma2Config, Gemma3TextConfig, Phi3Config, Qwen3Config

    def agree(defaults: dict, config) -> None:
        for key, value in defaults.items():
            assert getattr(config, key) == value, key

    agree(GEMMA2_DEFAULTS, Gemma2Config())
    gemma3 = Gemma3TextConfig()
    agree({k: v for k, v in GEMMA3_TEXT_DEFAULTS.items() if "rope" not in k and "pattern" not in k}, gemma3)
    assert GEMMA3_TEXT_DEFAULTS["rope_theta"] == gemma3.rope_parameters["full_attention"]["rope_theta"]
    assert GEMMA3_TEXT_DEFAULTS["rope_local_base_freq"] == gemma3.rope_parameters["sliding_attention"]["rope_theta"]
    assert GEMMA3_TEXT_DEFAULTS["sliding_window_pattern"] == gemma3._sliding_window_pattern
    agree(PHI3_DEFAULTS, Phi3Config())
    agree(QWEN3_DEFAULTS, Qwen3Config())


def test_sparse_hub_gemma3_config_reads_as_transformers_does():
    """gemma-3-4b-it's config.json leaves most text keys to the defaults."""
    from transformers import Gemma3Config

    hub = {"model_type": "gemma3", "torch_dtype": "bfloat16", "text_config": {
        "hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text", "num_hidden_layers": 34,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024}}
    spec = spec_from_config(hub)
    text = Gemma3Config(text_config=hub["text_config"]).text_config
    assert (spec.n_heads, spec.n_kv_heads, spec.head_dim, spec.vocab_size) == (
        text.num_attention_heads, text.num_key_value_heads, text.head_dim, text.vocab_size)
    assert spec.scale == text.query_pre_attn_scalar**-0.5
    assert text.layer_types[0] == "sliding_attention"
    sliding = text.rope_parameters["sliding_attention"]
    assert (spec.rope.rope_type, spec.rope.theta) == ("default", sliding["rope_theta"])


def test_unsupported_model_type_lists_every_family():
    with pytest.raises(LiteError) as err:
        spec_from_config({"model_type": "mamba"})
    message = str(err.value)
    assert "\n" not in message and all(family in message for family in FAMILIES)
