"""The scoring options (lite.METHODS) against the same formulas applied to transformers' attention."""

from __future__ import annotations

import numpy as np
import pytest

import lite
from lite.errors import LiteError
from lite.score.scorer import Scorer
from tests.helpers import assert_matches_reference, make_slice
from tools import fixtures
from tools.reference import layer0_attention


def normalised(scores: np.ndarray) -> np.ndarray:
    return scores / scores.sum() if len(scores) > 1 else np.ones(1)


def reference_method(method: str, weights: np.ndarray, values: np.ndarray, ids) -> np.ndarray:
    """float64 [n]: the method computed from full probabilities [H, n, n] and value states [n, KV, D]."""
    n_heads, n_kv = weights.shape[0], values.shape[1]
    group_of_head = np.arange(n_heads) // (n_heads // n_kv)  # [H]
    received = weights.sum(axis=1)  # [H, n]: sum over queries i of p[h, i, j]
    if method == "attention":
        return normalised(received.sum(axis=0))
    if method == "value_norm":
        norms = np.linalg.norm(values, axis=-1)  # [n, KV]
        return normalised((received * norms[:, group_of_head].T).sum(axis=0))
    if method == "no_self":
        return normalised((received - np.einsum("hjj->hj", weights)).sum(axis=0))
    if method == "group_norm":
        groups = np.stack([received[group_of_head == g].sum(axis=0) for g in range(n_kv)])  # [KV, n]
        return normalised((groups / groups.max(axis=1, keepdims=True)).mean(axis=0))
    if method == "rarity_mix":
        return 0.5 * normalised(received.sum(axis=0)) + 0.5 * normalised(rarity_prior(ids))
    if method == "rarity":
        prior = rarity_prior(ids)
        return normalised(prior) if prior.sum() > 0 else np.full(len(prior), 1 / len(prior))
    if method == "centred":
        return normalised(centred_reference(weights))
    if method in ("rank_mix", "centred_mix"):
        model = received.sum(axis=0) if method == "rank_mix" else centred_reference(weights)  # [n]
        return normalised((rankdata(model) + rankdata(rarity_prior(ids))) / (2 * len(ids)))
    raise AssertionError(f"no reference for {method}")


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n by counting, ties sharing their mean rank: [n] float64."""
    x = np.asarray(x)
    below, equal = (x[None, :] < x[:, None]).sum(axis=1), (x[None, :] == x[:, None]).sum(axis=1)  # [n], [n]
    return below + (equal + 1) / 2


def rarity_prior(ids) -> np.ndarray:
    ids = list(ids)
    return np.array([np.log(len(ids) / ids.count(i)) for i in ids])  # [n]


def centred_reference(weights: np.ndarray) -> np.ndarray:
    """float64 [n]: `centred` from the probabilities [H, n, n] alone.

    log p[h, i, j] = s[h, i, j] - lse[h, i], so log p minus its mean over queries i is the logit of the
    centred query, (q_i - mean q) . k_j, up to a constant per query, which the softmax over keys cancels.
    """
    n = weights.shape[-1]
    logp = np.log(weights)  # [H, n, n]
    logits = logp - logp.mean(axis=1, keepdims=True)  # [H, n, n]
    if n > 1:
        logits[:, np.arange(n), np.arange(n)] = -np.inf  # no self-attention
    if n > 2:
        logits[:, :, 0] = -np.inf  # no first-token sink
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))  # [H, n, n]
    received = (probs / probs.sum(axis=2, keepdims=True)).sum(axis=(0, 1))  # [n]
    if n > 2:
        received[0] = np.median(received[1:])
    return received


def test_every_method_has_a_reference():
    assert list(lite.METHODS)[0] == lite.DEFAULT_METHOD == "rank_mix" and "attention" in lite.METHODS
    assert all(isinstance(line, str) and line for line in lite.METHODS.values())  # one line each
    for method in lite.METHODS:
        reference_method(method, np.full((2, 3, 3), 1 / 3), np.ones((3, 1, 2)), [1, 2, 1])


@pytest.fixture(scope="module")
def tiny(slices_dir):
    folder = fixtures.tiny("llama3-gqa")
    return folder, Scorer(make_slice(folder, slices_dir / "methods-llama3-gqa.safetensors"))


@pytest.mark.parametrize("method", lite.METHODS)
@pytest.mark.parametrize("n", [1, 2, 37, 300])
def test_tiny_model_methods_match_transformers(tiny, method, n):
    folder, scorer = tiny
    ids = np.random.default_rng(n).integers(0, 40, n)  # a small id range: repeats, for rarity_mix
    weights, values = layer0_attention(folder, ids)
    assert_matches_reference(scorer.importance(ids, method=method), reference_method(method, weights, values, ids))


@pytest.fixture(scope="module")
def smollm2_mgsm(smollm2, smollm2_slice, mgsm):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(smollm2 / "tokenizer.json"))
    texts = {lang: "\n\n".join([mgsm.exemplars(lang)[0], mgsm.questions(lang)[0][0]]) for lang in ("en", "zh")}
    ids = {lang: tokenizer.encode(text).ids for lang, text in texts.items()}
    return {lang: (i, *layer0_attention(smollm2, i)) for lang, i in ids.items()}


@pytest.mark.parametrize("method", lite.METHODS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_smollm2_methods_match_transformers(smollm2_slice, smollm2_mgsm, method, lang):
    ids, weights, values = smollm2_mgsm[lang]
    scorer = Scorer(smollm2_slice)
    assert_matches_reference(scorer.importance(ids, method=method), reference_method(method, weights, values, ids))


def test_methods_rank_differently(smollm2_slice, smollm2_mgsm):
    ids = smollm2_mgsm["en"][0]
    scorer = Scorer(smollm2_slice)
    half = len(ids) // 2
    top = {m: tuple(np.argsort(-scorer.importance(ids, method=m), kind="stable")[:half]) for m in lite.METHODS}
    assert len(set(top.values())) == len(lite.METHODS)


@pytest.mark.parametrize("method", ["no_self", "value_norm", "centred"])
def test_numba_and_numpy_paths_agree(smollm2_slice, method, monkeypatch):
    """kernel="numba" and kernel="numpy" give the same scores, and each run takes only its own pair."""
    from lite.score import kernels_numba, kernels_numpy

    calls: dict[str, int] = {}

    def counting(module, name):
        function = getattr(module, name)

        def wrapper(*args):
            key = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            calls[key] = calls.get(key, 0) + 1
            return function(*args)

        monkeypatch.setattr(module, name, wrapper)

    for module in (kernels_numba, kernels_numpy):
        for name in ("softmax_colsum", "row_logsumexp"):
            counting(module, name)
    scorer = Scorer(smollm2_slice)
    ids = np.random.default_rng(4).integers(0, 49152, 500)
    fast = scorer.importance(ids, kernel="numba", method=method)
    assert calls.get("kernels_numba.softmax_colsum", 0) > 0 and not any(k.startswith("kernels_numpy") for k in calls)
    assert (calls.get("kernels_numba.row_logsumexp", 0) > 0) == (method == "no_self")
    calls.clear()
    plain = scorer.importance(ids, kernel="numpy", method=method)
    assert calls.get("kernels_numpy.softmax_colsum", 0) > 0 and not any(k.startswith("kernels_numba") for k in calls)
    assert (calls.get("kernels_numpy.row_logsumexp", 0) > 0) == (method == "no_self")
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-9)


def test_pruner_takes_a_method(pruner, mgsm):
    text = mgsm.exemplars("en")[1]
    by_method = {m: pruner.prune(text, rate=0.6, method=m) for m in lite.METHODS}
    assert by_method[lite.DEFAULT_METHOD].text == pruner.prune(text, rate=0.6).text
    assert len({r.text for r in by_method.values()}) > 1
    out = pruner.compress_prompt([text], question="Why?", rate=0.6, method="value_norm", rank_by_question=False)
    assert out["compressed_prompt"].startswith(by_method["value_norm"].text)


def test_unknown_method_is_a_clear_error(pruner):
    with pytest.raises(LiteError, match="not one of rank_mix, attention"):
        pruner.prune("some text to prune here", rate=0.5, method="bogus")
    with pytest.raises(LiteError, match="not one of"):
        pruner.importance([1, 2, 3], method="bogus")
