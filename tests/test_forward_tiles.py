"""Long inputs: the column sums a tile of keys at a time (forward.tiled_colsums), and RoPE tables in blocks.

From TILED_FROM keys on, the forward multiplies and exponentiates a tile of keys at a time and puts each
query's softmax together from its tiles. Here the threshold and the tile are made small so that tiny models
take that path: it must give transformers' attention (every query, and sampled ones), equal the whole-row
path within float32 accumulation, and not depend on the worker count.
"""

from __future__ import annotations

import numpy as np
import pytest

from lite.score import forward
from lite.score.kernels import kernels
from lite.score.scorer import Scorer
from tests.helpers import assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import reference_importance

FAMILIES = sorted(fixtures.TINY_MODELS)
COLSUM_RTOL, COLSUM_ATOL = 2e-5, 1e-9  # float32 accumulation over a block's rows, as tests/test_kernels.py


@pytest.fixture
def small_tiles(monkeypatch):
    """Every input takes the tiled path, with tiles of 48 keys (a ragged last tile for most n)."""
    monkeypatch.setattr(forward, "TILED_FROM", 1)
    monkeypatch.setattr(forward, "KEY_TILE", 48)


def formula(queries: np.ndarray, keys_t: np.ndarray, softcap: float, n_rep: int, exclude: bool) -> np.ndarray:
    """The column sums from their definition, in float64: [KV, n]."""
    logits = np.einsum("grd,gdn->grn", queries.astype(np.float64), keys_t.astype(np.float64))  # [KV, rows, n]
    if softcap > 0:
        logits = np.tanh(logits / softcap) * softcap
    if exclude:
        rows = np.arange(queries.shape[1])  # [rows]
        logits[:, rows, rows // n_rep] = -np.inf
        logits[:, :, 0] = -np.inf
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))  # [KV, rows, n]
    return (probs / probs.sum(axis=2, keepdims=True)).sum(axis=1)  # [KV, n]


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
@pytest.mark.parametrize("softcap,exclude", [(0.0, False), (30.0, False), (0.0, True)])
@pytest.mark.parametrize("n", [3, 47, 48, 49, 301])
def test_tiled_column_sums_equal_the_formula_and_the_whole_rows(kernel, softcap, exclude, n, monkeypatch):
    rng = np.random.default_rng(n)
    groups, rep, d = 2, 3, 16
    queries = (rng.standard_normal((groups, n * rep, d)) * 3).astype(np.float32)  # [KV, n * rep, D]
    keys_t = rng.standard_normal((groups, d, n)).astype(np.float32)  # [KV, D, n]
    expected = formula(queries, keys_t, softcap, rep, exclude)  # [KV, n]
    monkeypatch.setattr(forward, "KEY_TILE", 48)
    found = {}
    for tiled_from in (1, 10**9):
        monkeypatch.setattr(forward, "TILED_FROM", tiled_from)
        found[tiled_from] = forward.attention_colsums(queries, keys_t, softcap, kernels(kernel), workers=2,
                                                      block_rows=40, n_rep=rep, exclude_self_and_first=exclude)
        np.testing.assert_allclose(found[tiled_from], expected, rtol=COLSUM_RTOL, atol=1e-6)
    np.testing.assert_allclose(found[1], found[10**9], rtol=COLSUM_RTOL, atol=1e-6)


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_tiled_column_sums_do_not_depend_on_the_worker_count(kernel, small_tiles):
    rng = np.random.default_rng(25)
    queries = (rng.standard_normal((2, 700 * 3, 16)) * 2).astype(np.float32)  # [KV, n * rep, D]
    keys_t = rng.standard_normal((2, 16, 700)).astype(np.float32)  # [KV, D, n]
    first = forward.attention_colsums(queries, keys_t, 0.0, kernels(kernel), workers=1, block_rows=64)
    for workers in (2, 3, 5):
        again = forward.attention_colsums(queries, keys_t, 0.0, kernels(kernel), workers=workers, block_rows=64)
        assert np.array_equal(first, again), workers


def test_the_tile_kernels_agree(small_tiles):
    rng = np.random.default_rng(7)
    tile = (rng.standard_normal((301, 37)) * 20).astype(np.float32)  # [w, rows]
    out = {}
    for name in ("numpy", "numba"):
        pair, work = kernels(name), tile.copy()
        peaks, sums, acc = np.empty(37), np.empty(37), np.ones(301)
        pair.tile_exp(work, peaks, sums)
        pair.weighted_key_sums(work, (1.0 / sums).astype(np.float32), acc)
        out[name] = peaks, sums, acc
    np.testing.assert_array_equal(out["numba"][0], tile.max(axis=0))
    np.testing.assert_allclose(out["numba"][1], out["numpy"][1], rtol=1e-5)
    np.testing.assert_allclose(out["numba"][2], out["numpy"][2], rtol=COLSUM_RTOL)
    probs = np.exp(tile.astype(np.float64) - tile.max(axis=0))  # [w, rows], the formula
    np.testing.assert_allclose(out["numba"][2], 1 + (probs / probs.sum(axis=0)).sum(axis=1), rtol=COLSUM_RTOL)


@pytest.mark.parametrize("name", FAMILIES)
def test_tiled_path_matches_transformers(name, slices_dir, small_tiles):
    folder = fixtures.tiny(name)
    scorer = Scorer(make_slice(folder, slices_dir / f"{name}-False.safetensors"), threads=2)
    for n in (17, 300):
        ids = np.random.default_rng(n).integers(0, scorer.spec.vocab_size, n)
        reference = reference_importance(folder, ids)
        for kernel in ("numba", "numpy"):
            assert_matches_reference(scorer.importance(ids, kernel=kernel, method="attention"), reference)


def test_keys_are_stored_keys_major_from_the_threshold_on(monkeypatch):
    rng = np.random.default_rng(1)
    k_unique = rng.standard_normal((5, 2, 8)).astype(np.float32)  # [u, KV, D]
    inverse = rng.integers(0, 5, 300)  # [n]
    rope = forward.Rope(np.float32(10000.0) ** -(np.arange(0, 8, 2, dtype=np.float32) / 8), 1.0)
    monkeypatch.setattr(forward, "TILED_FROM", 10**9)
    whole = forward.rotated_keys(k_unique, inverse, rope, workers=2)  # [KV, D, n]
    monkeypatch.setattr(forward, "TILED_FROM", 1)
    keys_major = forward.rotated_keys(k_unique, inverse, rope, workers=2)  # a view of [KV, n, D]
    assert whole.flags.c_contiguous and keys_major.transpose(0, 2, 1).flags.c_contiguous
    assert np.array_equal(whole, keys_major)


def test_rope_tables_in_blocks_equal_the_whole_table():
    rope = forward.Rope(np.float32(500000.0) ** -(np.arange(0, 64, 2, dtype=np.float32) / 64), 1.0)
    n = 131072 + 37
    cos, sin = rope.at(np.arange(n))  # [n, 64]
    for start in (0, 4096, 65536, 131072):
        block_cos, block_sin = rope.at(np.arange(start, min(start + 4096, n)))
        assert np.array_equal(block_cos, cos[start : start + 4096])
        assert np.array_equal(block_sin, sin[start : start + 4096])


def test_smollm2_past_the_threshold_matches_transformers(smollm2, smollm2_slice, mgsm):
    """Real weights, the default settings: 4,608 tokens take the tiled path, against transformers."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(smollm2 / "tokenizer.json"))
    text = "\n\n".join(mgsm.prompt(lang, i) for lang in ("de", "ru", "sw", "zh", "th") for i in range(3))
    ids = tokenizer.encode(text).ids[:4608]
    assert len(ids) == 4608 >= forward.TILED_FROM
    assert_matches_reference(Scorer(smollm2_slice, threads=2).importance(ids, method="attention"),
                             reference_importance(smollm2, ids))
