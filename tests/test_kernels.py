"""The numba kernels and their polynomial exponential against the plain numpy references, on adversarial inputs."""

from __future__ import annotations

import numpy as np
import pytest

from lite.score import kernels_numba, kernels_numpy
from lite.score.kernels_numba import EXP_FLOOR, exp_negative_array, softmax_colsum
from lite.score.kernels_numpy import soft_cap

EXP_RTOL = 2e-7  # exp_negative against float64 exp on [EXP_FLOOR, 0]
COLSUM_RTOL, COLSUM_ATOL = 2e-5, 1e-9  # column sums: float32 accumulation over a block's rows


def test_exp_negative_is_within_its_tolerance_on_the_softmax_range():
    x = np.concatenate([
        -np.random.default_rng(0).random(200_000, dtype=np.float32) * -EXP_FLOOR,
        np.float32([0.0, -0.0, -1e-30, -1e-7, -0.3465736, -0.3465737, -0.6931472, -1.0, -10.0, -86.99, EXP_FLOOR]),
        -np.arange(0, 87, dtype=np.float32) * np.float32(np.log(2)),  # the reduction's boundaries: k ln 2
    ]).astype(np.float32)
    out = np.empty_like(x)
    exp_negative_array(x, out)
    exact = np.exp(x.astype(np.float64))
    np.testing.assert_allclose(out, exact, rtol=EXP_RTOL, atol=0)


def test_exp_negative_clamps_below_its_floor_to_a_tiny_normal_value():
    x = np.float32([-87.5, -100.0, -1e4, -3e38, -np.inf])
    out = np.empty_like(x)
    exp_negative_array(x, out)
    assert np.all(out > 0) and np.all(out <= np.exp(np.float64(EXP_FLOOR)) * (1 + EXP_RTOL))


def run_both(logits: np.ndarray, softcap: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Column sums of the soft-capped logits by the numba kernel and by the numpy reference."""
    capped = soft_cap(logits.copy(), softcap)  # [rows, n]
    fast, plain = np.zeros(logits.shape[1]), np.zeros(logits.shape[1])
    kernels_numba.softmax_colsum(capped.copy(), fast)
    kernels_numpy.softmax_colsum(capped.copy(), plain)
    return fast, plain


LOGITS = {
    "normal": lambda rng, rows, n: rng.standard_normal((rows, n), dtype=np.float32) * 3,
    "huge": lambda rng, rows, n: rng.standard_normal((rows, n), dtype=np.float32) * 1e4,  # one-hot rows
    "tiny": lambda rng, rows, n: rng.standard_normal((rows, n), dtype=np.float32) * 1e-6,  # near uniform
    "shifted": lambda rng, rows, n: rng.standard_normal((rows, n), dtype=np.float32) + 3e4,  # large common offset
    "constant": lambda rng, rows, n: np.full((rows, n), -7.5, dtype=np.float32),  # exact ties
    "spread": lambda rng, rows, n: np.linspace(-200, 50, rows * n, dtype=np.float32).reshape(rows, n),
}


@pytest.mark.parametrize("kind", sorted(LOGITS))
@pytest.mark.parametrize("rows,n", [(1, 1), (1, 7), (3, 1), (5, 33), (37, 257), (128, 2048)])
def test_kernel_matches_numpy_reference(kind, rows, n):
    fast, plain = run_both(LOGITS[kind](np.random.default_rng(rows * n), rows, n))
    np.testing.assert_allclose(fast, plain, rtol=COLSUM_RTOL, atol=COLSUM_ATOL)
    assert abs(fast.sum() - rows) < 1e-4 * rows  # each row's softmax sums to 1


@pytest.mark.parametrize("softcap", [0.0, 50.0, 1.0])
def test_kernel_softcap_matches_numpy_reference(softcap):
    logits = np.random.default_rng(3).standard_normal((19, 301), dtype=np.float32) * 80
    fast, plain = run_both(logits, softcap)
    np.testing.assert_allclose(fast, plain, rtol=COLSUM_RTOL, atol=COLSUM_ATOL)
    capped = logits.astype(np.float64)
    if softcap > 0:
        capped = np.tanh(capped / softcap) * softcap
    probs = np.exp(capped - capped.max(axis=1, keepdims=True))
    expected = (probs / probs.sum(axis=1, keepdims=True)).sum(axis=0)  # [n], in float64 from the formula
    np.testing.assert_allclose(fast, expected, rtol=COLSUM_RTOL, atol=COLSUM_ATOL)


def test_soft_cap_is_tanh_in_place():
    logits = np.float32([[-300.0, -50.0, -1.0, 0.0, 1e-3, 20.0, 1e4]])
    expected = np.tanh(logits.astype(np.float64) / 50.0) * 50.0
    out = soft_cap(logits, 50.0)
    assert out is logits
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    assert np.array_equal(soft_cap(np.float32([1e4]), 0.0), np.float32([1e4]))  # 0: no cap


@pytest.mark.parametrize("softcap", [0.0, 20.0])
def test_row_logsumexp_kernel_equals_numpy_reference(softcap):
    logits = soft_cap((np.random.default_rng(3).standard_normal((57, 301)) * 8).astype(np.float32), softcap)
    fast, plain = np.empty(57), np.empty(57)
    kernels_numba.row_logsumexp(logits, fast)
    kernels_numpy.row_logsumexp(logits, plain)
    np.testing.assert_allclose(fast, plain, rtol=1e-6, atol=1e-6)


def test_kernel_adds_into_the_accumulator():
    logits = np.random.default_rng(4).standard_normal((6, 40), dtype=np.float32)
    acc = np.ones(40)
    softmax_colsum(logits, acc)
    assert abs(acc.sum() - (40 + 6)) < 1e-5
