"""The layer-0 importance against transformers, on tiny random models and on real SmolLM2 weights."""

from __future__ import annotations

import numpy as np
import pytest

from lite.errors import LiteError
from lite.score.scorer import Scorer
from tests.helpers import RATES, assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import kept_set, reference_importance

TINY = sorted(fixtures.TINY_MODELS)


@pytest.fixture(scope="module", params=[(name, sharded) for name in TINY for sharded in (False, True)],
                ids=lambda p: f"{p[0]}-{'sharded' if p[1] else 'single'}")
def tiny_model(request, slices_dir):
    name, sharded = request.param
    folder = fixtures.tiny(name, sharded=sharded)
    return folder, Scorer(make_slice(folder, slices_dir / f"{name}-{sharded}.safetensors"))


@pytest.mark.parametrize("n", [1, 2, 3, 17, 64, 257, 1000, 2048])
def test_tiny_models_match_transformers(tiny_model, n):
    folder, scorer = tiny_model
    ids = np.random.default_rng(n).integers(0, scorer.spec.vocab_size, n)
    ref = reference_importance(folder, ids)
    for kernel in ("numba", "numpy"):
        assert_matches_reference(scorer.importance(ids, kernel=kernel, method="attention"), ref)


def test_tiny_model_attention_is_far_from_uniform(tiny_model):
    folder, scorer = tiny_model
    scores = scorer.importance(np.random.default_rng(0).integers(0, scorer.spec.vocab_size, 256), method="attention")
    assert scores.max() / scores.min() > 10  # the fixtures exercise the softmax, not a flat average


def test_repeated_ids_share_work_without_changing_the_result(tiny_model):
    folder, scorer = tiny_model
    ids = np.array([5, 9, 5, 5, 300, 9, 5, 7] * 40)
    assert_matches_reference(scorer.importance(ids, method="attention"), reference_importance(folder, ids))


def test_llama3_rope_scaling_changes_the_result(slices_dir):
    """The llama3 fixture's original_max_position_embeddings is small enough for scaling to matter."""
    import json

    from lite.model import rope, spec_from_config

    folder = fixtures.tiny("llama3-gqa")
    spec = spec_from_config(json.loads((folder / "config.json").read_text()))
    assert spec.rope.rope_type == "llama3"
    plain = rope.ROPE_TYPES["default"](spec.rope, 100)
    assert not np.allclose(rope.inv_freq(spec.rope, 100), plain)


@pytest.fixture(scope="module")
def smollm2_scorer(smollm2_slice):
    return Scorer(smollm2_slice)


@pytest.mark.parametrize("lang", ["en", "zh", "bn", "te", "th", "ja"])
def test_smollm2_on_mgsm_matches_transformers(smollm2, smollm2_scorer, mgsm, lang):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(smollm2 / "tokenizer.json"))
    ids = tokenizer.encode(mgsm.prompt(lang, 0)).ids
    assert len(ids) > 500
    assert_matches_reference(smollm2_scorer.importance(ids, method="attention"), reference_importance(smollm2, ids))


def test_smollm2_at_2048_tokens(smollm2, smollm2_scorer, mgsm):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(smollm2 / "tokenizer.json"))
    text = "\n\n".join(mgsm.prompt(lang, i) for lang in ("de", "ru", "sw") for i in range(2))
    ids = tokenizer.encode(text).ids[:2048]
    assert len(ids) == 2048
    assert_matches_reference(smollm2_scorer.importance(ids, method="attention"), reference_importance(smollm2, ids))


def test_numba_kernel_equals_numpy_reference(smollm2_scorer):
    ids = np.random.default_rng(1).integers(0, 49152, 700)
    fast = smollm2_scorer.importance(ids, kernel="numba", method="attention")
    plain = smollm2_scorer.importance(ids, kernel="numpy", method="attention")
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("kernel", ["numba", "numpy"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_count_does_not_change_the_result(smollm2_slice, threads, kernel):
    ids = np.random.default_rng(2).integers(0, 49152, 333)
    base = Scorer(smollm2_slice, threads=1).importance(ids, kernel=kernel, method="attention")
    scores = Scorer(smollm2_slice, threads=threads).importance(ids, kernel=kernel, method="attention")
    np.testing.assert_allclose(scores, base, rtol=1e-5, atol=1e-9)


def test_auto_kernel_takes_numpy_for_small_inputs_only(smollm2_scorer):
    from lite.score import kernels_numba, kernels_numpy
    from lite.score.kernels import NUMPY_UP_TO, kernel_name, kernels

    small = int((NUMPY_UP_TO / 9) ** 0.5)  # SmolLM2 has 9 heads
    assert kernel_name("auto", small, 9) == "numpy" and kernel_name("auto", small + 1, 9) == "numba"
    assert kernels("numpy").softmax_colsum is kernels_numpy.softmax_colsum
    assert kernels("numpy").row_logsumexp is kernels_numpy.row_logsumexp
    assert kernels("numba").softmax_colsum is kernels_numba.softmax_colsum
    assert kernels("numba").row_logsumexp is kernels_numba.row_logsumexp
    with pytest.raises(LiteError, match="kernel"):
        smollm2_scorer.importance([1, 2], kernel="fast", method="attention")


def test_threads_from_environment(smollm2_slice, monkeypatch):
    monkeypatch.setenv("LITE_NUM_THREADS", "1")
    assert Scorer(smollm2_slice).threads == 1
    monkeypatch.setenv("LITE_NUM_THREADS", "many")
    with pytest.raises(LiteError, match="LITE_NUM_THREADS"):
        Scorer(smollm2_slice)


@pytest.mark.parametrize("ids,message", [
    ([0, 49152], "outside the vocabulary"),
    ([-1], "outside the vocabulary"),
    ([], "non-empty"),
    ([[1, 2]], "1-D"),
    ([0.5, 1.0], "integers"),
])
def test_bad_ids_give_clear_errors(smollm2_scorer, ids, message):
    with pytest.raises(LiteError, match=message):
        smollm2_scorer.importance(ids, method="attention")


def peak_bytes(scorer: Scorer, n: int, method: str) -> int:
    import tracemalloc

    ids = np.random.default_rng(n).integers(0, scorer.spec.vocab_size, n)
    tracemalloc.start()
    scores = scorer.importance(ids, method=method)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert abs(float(scores.sum(dtype=np.float64)) - 1) < 1e-5
    return peak


@pytest.mark.parametrize("method", ["rank_mix", "attention", "centred"])
def test_memory_grows_linearly_not_quadratically(smollm2_scorer, method):
    """Peak numpy allocation at n = 8192 is far below one head's n x n float32 matrix, and ~2x that at 4096."""
    at_4096, at_8192 = peak_bytes(smollm2_scorer, 4096, method), peak_bytes(smollm2_scorer, 8192, method)
    one_head = 8192 * 8192 * 4
    assert at_8192 < one_head / 2, (at_8192, one_head)
    assert at_8192 < 2.5 * at_4096, (at_4096, at_8192)


@pytest.mark.parametrize("method", ["attention", "rank_mix", "centred"])
def test_scores_are_reproducible_to_the_bit_and_across_thread_counts(smollm2_slice, mgsm, smollm2, method):
    """Same input, same bits, run after run; other thread counts give the same kept sets."""
    from tokenizers import Tokenizer

    ids = Tokenizer.from_file(str(smollm2 / "tokenizer.json")).encode(mgsm.prompt("th", 1)).ids[:1500]
    two = Scorer(smollm2_slice, threads=2)
    first = two.importance(ids, kernel="numba", method=method)
    assert np.array_equal(first.view(np.uint32), two.importance(ids, kernel="numba", method=method).view(np.uint32))
    for threads in (1, 3):
        other = Scorer(smollm2_slice, threads=threads).importance(ids, kernel="numba", method=method)
        for rate in RATES:
            assert kept_set(other, rate) == kept_set(first, rate)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_float32_and_float16_checkpoints(slices_dir, dtype):
    """Checkpoints published in F32 (google/gemma-2-2b) or F16 are widened exactly too."""
    model_type, kwargs = fixtures.TINY_MODELS["llama3-gqa"]
    folder = fixtures.tiny_model(model_type, kwargs, dtype=dtype)
    scorer = Scorer(make_slice(folder, slices_dir / f"llama3-{dtype}.safetensors"))
    assert scorer.slice.header.entries[scorer.spec.embed_name].dtype == {"float32": "F32", "float16": "F16"}[dtype]
    ids = np.random.default_rng(7).integers(0, scorer.spec.vocab_size, 300)
    assert_matches_reference(scorer.importance(ids, method="attention"), reference_importance(folder, ids))
