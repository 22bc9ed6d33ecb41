"""lite-pruner compare: chrF (against a hand-computed value and sacreBLEU), the other measures, two real slices."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lite.compare import chrf, compare, cosine, jaccard, rad
from lite.compare.metrics import chrf_statistics
from tests.helpers import REPO, make_slice
from tools import fixtures


def test_chrf_by_hand():
    # "abc" against "abd": 1-grams 2 of 3 match, 2-grams 1 of 2, 3-grams 0 of 1, no 4..6-grams:
    # P = R = (2/3 + 1/2 + 0) / 3 = 7/18, and F2 = 5PR / (4P + R) = P
    assert chrf_statistics("abc", "abd")[:4] == [(3, 3, 2), (2, 2, 1), (1, 1, 0), (0, 0, 0)]
    assert chrf([("abc", "abd")]) == pytest.approx(100 * 7 / 18, abs=1e-12)
    assert chrf([("a b c", "abc")]) == 100.0  # whitespace is not counted
    assert chrf([("xyz", "abc")]) == 0.0 and chrf([("", "abc")]) == 0.0
    # recall weighs four times precision: a short hypothesis loses more than a long one
    assert chrf([("abcd", "abcdefgh")]) < chrf([("abcdefgh", "abcd")])


def test_chrf_equals_sacrebleu(mgsm, pruner):
    from sacrebleu.metrics import CHRF

    reference = CHRF()  # sacreBLEU's default chrF: 6 character orders, beta 2, whitespace removed
    pairs = []
    for lang in ("en", "zh", "bn"):
        for text in mgsm.exemplars(lang)[:2]:
            pairs.append((pruner.prune(text, rate=0.6).text, pruner.prune(text, rate=0.8).text))
    for hypothesis, ref in pairs:
        assert chrf([(hypothesis, ref)]) == pytest.approx(reference.sentence_score(hypothesis, [ref]).score, abs=1e-9)
    hypotheses, refs = zip(*pairs)
    assert chrf(pairs) == pytest.approx(reference.corpus_score(list(hypotheses), [list(refs)]).score, abs=1e-9)


def test_jaccard_rad_cosine():
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5 and jaccard([], []) == 1.0
    assert rad([0.5, 0.25, 0.25], [0.25, 0.25, 0.5]) == pytest.approx(1 / 6)
    assert cosine([1, 0], [0, 1]) == 0.0 and cosine([0.2, 0.8], [0.4, 1.6]) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def tiny_pruner(slices_dir):
    from lite.prune import load

    return load(make_slice(fixtures.tiny("llama3-gqa"), slices_dir / "tiny-llama3.safetensors"))


@pytest.fixture(scope="module")
def other_tokenizer_slice(slices_dir, tmp_path_factory):
    """The tiny model with a different tokenizer: SmolLM2's BPE with only its first 3,000 merges."""
    folder = tmp_path_factory.mktemp("fewer-merges")
    for path in fixtures.tiny("llama3-gqa").iterdir():
        shutil.copy(path, folder / path.name)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    tokenizer["model"]["merges"] = tokenizer["model"]["merges"][:3000]
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    return make_slice(folder, slices_dir / "fewer-merges.safetensors")


def test_a_text_with_no_tokens_is_an_error_not_a_zero_in_the_means(pruner, mgsm):
    from lite import LiteError

    with pytest.raises(LiteError, match="empty.txt holds no text to compare"):
        compare(pruner, pruner, [("en", mgsm.exemplars("en")[0]), ("empty.txt", "")])


def test_rates_given_twice_are_one_rate():
    from lite.compare.cli import parse_rates

    assert parse_rates("0.9,0.8,0.9") == (0.9, 0.8)


def test_a_slice_against_itself(pruner, mgsm):
    texts = [(f"en{i}", t) for i, t in enumerate(mgsm.exemplars("en")[:2])]
    same = compare(pruner, pruner, texts)
    assert same.same_tokenizer and same.rad == 0.0 and same.cosine == pytest.approx(1.0)
    assert all(v == 1.0 for v in same.jaccard.values()) and all(v == 100.0 for v in same.chrf.values())


def test_two_models_sharing_a_tokenizer(pruner, tiny_pruner, mgsm):
    texts = [(lang, mgsm.exemplars(lang)[0]) for lang in ("en", "zh")]
    result = compare(pruner, tiny_pruner, texts, rates=(0.9, 0.5))
    assert result.same_tokenizer and result.jaccard_unit == "tokens"
    for (_, text), per_text in zip(texts, result.texts):
        encoding = pruner.tokenizer.encode(text)
        own = np.array([i for i, s in enumerate(encoding.sequence_ids) if s is not None])
        a = pruner.importance(encoding.ids)[own].astype(np.float64)
        b = tiny_pruner.importance(encoding.ids)[own].astype(np.float64)
        a, b = a / a.sum(), b / b.sum()
        assert per_text.rad == pytest.approx(float(np.abs(a - b).mean()), rel=1e-9)
        assert per_text.cosine == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), rel=1e-9)
        kept_a, kept_b = set(pruner.prune(text, rate=0.5).kept), set(tiny_pruner.prune(text, rate=0.5).kept)
        assert per_text.jaccard[0.5] == len(kept_a & kept_b) / len(kept_a | kept_b)
    assert result.rad == pytest.approx(np.mean([t.rad for t in result.texts]))
    assert result.rad > 0 and 0 < result.cosine < 1  # a random model does not score like SmolLM2
    assert result.jaccard[0.9] < 1 and 0 < result.chrf[0.5] < 100


def test_different_tokenizers_compare_characters(pruner, other_tokenizer_slice, mgsm):
    from lite.prune import load

    other = load(other_tokenizer_slice)
    result = compare(pruner, other, [("en", mgsm.exemplars("en")[0])])
    assert not result.same_tokenizer and result.rad is None and result.cosine is None
    assert result.jaccard_unit == "characters" and all(0 < v < 1 for v in result.jaccard.values())
    assert result.texts[0].tokens_b > result.texts[0].tokens_a  # fewer merges, more tokens


def test_compare_command(smollm2_slice, slices_dir, tiny_pruner, mgsm, tmp_path):
    files = []
    for lang in ("en", "de"):
        path = tmp_path / f"{lang}.txt"
        path.write_text(mgsm.exemplars(lang)[0], encoding="utf-8")
        files.append(str(path))
    tiny = str(slices_dir / "tiny-llama3.safetensors")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "lite", "compare", str(smollm2_slice), tiny, *files]
    shown = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "same tokenizer" in shown.stdout and "RAD" in shown.stdout
    assert [line.split()[0] for line in shown.stdout.splitlines()[-3:]] == ["0.9", "0.8", "0.7"]
    as_json = json.loads(
        subprocess.run(
            [*command, "--json", "--rates", "0.6"], capture_output=True, text=True, env=env, timeout=120
        ).stdout
    )
    assert as_json["rates"] == [0.6] and [t["name"] for t in as_json["texts"]] == files
    assert as_json["same_tokenizer"] is True and set(as_json["chrf"]) == {"0.6"}
    bad = subprocess.run(
        [*command[:6], "--rates", "1.5", files[0]], capture_output=True, text=True, env=env, timeout=60
    )
    assert bad.returncode == 2 and "rates must be in (0, 1]" in bad.stderr
