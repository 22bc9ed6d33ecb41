"""bench.quality: its statistics against hand-computed values, its arms, and a tiny end-to-end run."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lite
from bench.quality import arms, data, stats
from bench.quality.arms import ARMS, Context
from bench.quality.report import NOT_MEASURED
from bench.quality.target import final_number
from tests.helpers import make_slice
from tools import fixtures


# ---- statistics --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("wins", "losses", "p"), [
    (8, 2, 2 * (1 + 10 + 45) / 2**10),  # 0.109375
    (10, 0, 2 / 2**10),
    (0, 12, 2 / 2**12),
    (5, 5, 1.0),
    (3, 1, 2 * (1 + 4) / 2**4),  # 0.625
])
def test_sign_test_matches_the_binomial_by_hand(wins, losses, p):
    d = [-1.0] * wins + [2.0] * losses + [0.0, 0.0]  # ties are dropped
    assert stats.sign_test(d) == (wins, losses, pytest.approx(p))


def test_bootstrap_of_a_constant_is_that_constant():
    ci = stats.cluster_bootstrap([0.3] * 12, ["en"] * 6 + ["fr"] * 6)
    assert (ci.mean, ci.low, ci.high, ci.n, ci.clusters) == (pytest.approx(0.3),) * 3 + (12, 2)


def test_bootstrap_resamples_languages():
    """Two languages at +1 and -1, no spread within: drawing two languages with replacement gives
    means -1, 0, +1 with chances 1/4, 1/2, 1/4, so the 95% interval is [-1, +1]."""
    ci = stats.cluster_bootstrap([1.0] * 5 + [-1.0] * 5, ["a"] * 5 + ["b"] * 5)
    assert ci.mean == pytest.approx(0.0)
    assert (ci.low, ci.high) == (pytest.approx(-1.0), pytest.approx(1.0))
    assert not ci.excludes_zero


def test_bootstrap_resamples_questions_within_a_language():
    """One language holding 0 and 1: resampled means 0, 1/2, 1 with chances 1/4, 1/2, 1/4 -> [0, 1]."""
    ci = stats.cluster_bootstrap([0.0, 1.0], ["a", "a"])
    assert (ci.mean, ci.low, ci.high) == (0.5, 0.0, 1.0)


def test_bootstrap_interval_of_a_mean_is_about_1_96_standard_errors():
    values = np.random.default_rng(0).normal(0.5, 1.0, size=400)
    ci = stats.cluster_bootstrap(values, ["x"] * 400)
    half = 1.96 * values.std(ddof=1) / np.sqrt(400)
    assert ci.high - ci.mean == pytest.approx(half, rel=0.15)
    assert ci.mean - ci.low == pytest.approx(half, rel=0.15)
    assert ci.excludes_zero


def test_log_ratio_floors_zero_kl():
    d = stats.log_ratio([0.0, 0.2, 0.1], [0.0, 0.1, 0.0])
    assert d[0] == 0.0
    assert d[1] == pytest.approx(np.log(2))
    assert d[2] == pytest.approx(np.log(0.1 / stats.KL_FLOOR))


# ---- arms ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pruner(smollm2_slice):
    return lite.load(smollm2_slice, threads=1)


def ctx(pruner, text, budget, lang, seed=None, question=None):
    return Context(pruner, text, question, budget, 0.7, lang, seed)


@pytest.mark.parametrize("lang", ["bn", "th", "zh"])
def test_fair_random_never_breaks_a_character(pruner, mgsm, lang):
    for text in mgsm.exemplars(lang)[:4]:
        assert "\ufffd" not in text
        n = pruner.count_tokens(text)
        for rate in (0.9, 0.7, 0.5):
            for seed in arms.RANDOM_SEEDS:
                for name in ("random", "random_words"):
                    out = ARMS[name].fn(ctx(pruner, text, round(rate * n), lang, seed))
                    assert "\ufffd" not in out
                    assert is_subsequence(out, text)


def is_subsequence(part: str, whole: str) -> bool:
    it = iter(whole)
    return all(ch in it for ch in part)


@pytest.mark.parametrize("lang", ["en", "th", "bn"])
def test_every_arm_keeps_the_budget_through_the_units(pruner, mgsm, lang):
    text = mgsm.exemplars(lang)[2]
    n = pruner.count_tokens(text)
    budget = round(0.7 * n)
    outputs = {}
    for name in ("lite", "attention", "random", "random_words", "truncation", "rarity", "sentences"):
        out = ARMS[name].fn(ctx(pruner, text, budget, lang, seed=0, question="How many?"))
        kept = pruner.prune(text, target_tokens=budget).compressed_tokens
        assert is_subsequence(out, text)
        outputs[name] = out
        # the text re-tokenized may merge pieces; it never holds more than the budget plus a unit's worth
        assert pruner.count_tokens(out) <= budget + 3, name
        assert kept <= budget
    assert len(set(outputs.values())) >= 5  # the arms differ
    # truncation keeps the text's beginning (the unit that overflows may be skipped for a smaller later one)
    out = outputs["truncation"]
    common = next((i for i, (a, b) in enumerate(zip(out, text)) if a != b), len(out))
    assert common >= 0.95 * len(out)


def test_rarity_is_log_n_over_count():
    np.testing.assert_allclose(arms.rarity_scores(np.array([5, 7, 5, 9])), np.log([2, 4, 2, 4]))


@pytest.mark.parametrize("lang", data.XQUAD_LANGUAGES)
def test_sentence_spans_tile_the_passage(lang):
    passage = data.paragraphs(lang)[0]["context"]
    spans = arms.sentence_spans(passage, lang)
    assert "".join(passage[a:b] for a, b in spans) == passage
    assert all(b > a for a, b in spans)
    assert len(spans) >= 2


def test_sentences_arm_keeps_the_sentence_sharing_the_questions_words(pruner):
    text = "The weather was mild that year. The bridge was built by Gustave Eiffel in 1889. Many people came."
    n = pruner.count_tokens(text)
    budget = pruner.count_tokens("The bridge was built by Gustave Eiffel in 1889. ")
    out = ARMS["sentences"].fn(ctx(pruner, text, budget, "en", question="Who built the bridge?"))
    assert "Gustave Eiffel in 1889" in out and "weather" not in out
    assert budget < n


def test_articles_are_five_consecutive_paragraphs_joined():
    for split in ("dev", "test"):
        items = data.xquad_article_items("en", split)
        by_article = {}
        for qa in items:
            by_article.setdefault(qa.article, set()).add(qa.paragraph)
            first = qa.article * data.ARTICLE_PARAGRAPHS
            members = range(first, first + data.ARTICLE_PARAGRAPHS)
            assert qa.passage == data.SEPARATOR.join(data.paragraphs("en")[p]["context"] for p in members)
            assert qa.answer in data.paragraphs("en")[qa.paragraph]["context"]
        assert len(by_article) == 12 and all(len(p) == 5 for p in by_article.values())
        assert {p for ps in by_article.values() for p in ps} == set(data.XQUAD_SPLITS[split])
    assert len(data.xquad_article_items("zh", "test", articles=2)) < len(data.xquad_article_items("zh", "test"))


def test_question_arm_ranks_several_passages_within_one_budget(pruner):
    passages = ["The weather was mild that year, and the harvest came early in most villages.",
                "A market opened in the town square, selling bread, cheese and wool from the valley.",
                "The bridge over the river was built by Gustave Eiffel in 1889 with iron from Lorraine."]
    text = data.SEPARATOR.join(passages)
    budget = pruner.count_tokens(passages[2]) + 2
    out = ARMS["lite+question"].fn(ctx(pruner, text, budget, "en", question="Who built the bridge over the river?"))
    assert "Gustave Eiffel in 1889" in out and "weather" not in out and "market" not in out
    assert pruner.count_tokens(out) <= budget
    # one passage: the same call as prune(passage, question=...)
    one = ARMS["lite+question"].fn(ctx(pruner, passages[2], 8, "en", question="Who built the bridge?"))
    assert one == pruner.prune(passages[2], target_tokens=8, question="Who built the bridge?").text


def test_final_number():
    assert final_number("So 5 + 6 = 11. The answer is 1,100.") == "1100"
    assert final_number("no number") is None


def test_every_language_is_in_one_resource_bin():
    for lang in set(data.MGSM_LANGUAGES) | set(data.XQUAD_LANGUAGES):
        assert sum(lang in langs for langs in data.RESOURCE_BINS.values()) == 1, lang


def test_splits_do_not_overlap():
    assert not set(data.MGSM_SPLITS["dev"]) & set(data.MGSM_SPLITS["test"])
    assert len(data.MGSM_SPLITS["dev"]) + len(data.MGSM_SPLITS["test"]) == 250
    assert not set(data.XQUAD_SPLITS["dev"]) & set(data.XQUAD_SPLITS["test"])


def test_each_question_draws_its_own_shots():
    from bench.quality.run import draw_shots

    pool, lengths = tuple(range(8)), {i: 100 + i for i in range(8)}
    drawn = {q: draw_shots(q, pool, 2, lengths, 50, None) for q in range(12)}
    assert drawn == {q: draw_shots(q, pool, 2, lengths, 50, None) for q in range(12)}  # seeded: reproducible
    assert all(len(d) == 2 and d == sorted(d) and set(d) <= set(pool) for d in drawn.values())
    assert len({tuple(d) for d in drawn.values()}) >= 6  # not one prompt for every question
    assert draw_shots(0, pool, 2, lengths, 50, None, seed=1) != drawn[0] or draw_shots(1, pool, 2, lengths, 50, None,
                                                                                          seed=1) != drawn[1]
    # the cap drops the last drawn until the shots and the question fit, one shot at least
    four = draw_shots(3, pool, 4, lengths, 50, None)
    capped = draw_shots(3, pool, 4, lengths, 50, 2 * 107 + 50)
    assert len(capped) == 2 and set(capped) <= set(four)
    assert len(draw_shots(3, pool, 4, lengths, 50, 10)) == 1


# ---- a tiny end-to-end run -------------------------------------------------------------------------------
def test_tiny_end_to_end_run_and_report(tmp_path):
    """1 language, 2 questions, a tiny target: records for every arm, equal budgets, a report with CIs."""
    from bench.quality import selfinfo  # noqa: F401 - registers the ceiling arm
    from bench.quality.cache import DiskCache
    from bench.quality.report import write_report
    from bench.quality.run import Bench, Settings, records
    from bench.quality.target import Target

    folder = fixtures.tiny("llama3-gqa")
    pruner = lite.load(make_slice(folder, tmp_path / "tiny.safetensors"), threads=1)

    def fake_peer(ctx):
        """A peer like LLMLingua: it keeps round(asked rate * n) * 1.1 tokens, and keeps text under 100 tokens whole."""
        n = ctx.pruner.count_tokens(ctx.text)
        if n < 100:
            return ctx.text
        return arms.prune_with_scores(arms.replace_budget(ctx, min(n, round(ctx.rate * n * 1.1))),
                                      lambda ids: -np.arange(len(ids), dtype=np.float64))

    arms.register("fake_peer", fake_peer, kind="peer", question_aware=True, expensive=True)
    names = ("none", "lite", "random", "truncation", "rarity", "selfinfo", "sentences", "fake_peer")
    settings = Settings(split="dev", arms=names, rates=(0.8,), mgsm_languages=("en",), mgsm_questions=3,
                        agreement_questions=1, max_new=8, kl_tokens=6, rag_languages=("en",), rag_rates=(0.5,),
                        rag_paragraphs=1, rag_kl_items=1, rag5_languages=("en",), rag5_articles=1, rag5_kl_items=1,
                        rag5_peer_items=0)
    results = tmp_path / "quality-tiny-dev.jsonl"
    bench = Bench(pruner, Target(folder, threads=1), settings, results, DiskCache(tmp_path / "cache.jsonl"),
                  log=lambda m: None)
    bench.run()
    found = records(results)
    mgsm = [r for r in found if r["regime"] == "mgsm"]
    # the peer keeps an exemplar under 100 tokens whole: it is left out of the questions holding one; an exemplar it
    # pruned to the budget has the peer's count in every question holding it, the others the nominal budget
    long = {f"q{q}" for q in range(3)
            if all(pruner.count_tokens(data.exemplars("en")[i]) >= 100 for i in bench.pick_shots("en", q))}
    assert 0 < len(long) < 3
    assert {r["arm"] for r in mgsm} == set(names) - {"sentences"}
    assert {r["item"] for r in mgsm if r["arm"] == "fake_peer"} == long
    assert long <= {r["item"] for r in mgsm if r["peer_budget"]}
    assert len([r for r in mgsm if r["arm"] == "random"]) == 3 * len(arms.RANDOM_SEEDS)
    # each question its own shots, drawn from the 8: here three questions, three prompts
    shots = {r["item"]: tuple(r["shots"]) for r in mgsm if r["arm"] == "lite"}
    assert shots == {f"q{q}": tuple(bench.pick_shots("en", q)) for q in range(3)} and len(set(shots.values())) == 3
    assert all(r["kl"] >= 0 and 0 <= r["flip"] <= 1 for r in mgsm)
    assert all(r["kl"] == 0 for r in mgsm if r["arm"] == "none")
    assert any(r["kl"] > 0 for r in mgsm if r["arm"] == "random")
    assert len({r["budget"] for r in mgsm if r["arm"] != "none" and r["item"] == "q0"}) == 1  # equal budgets
    assert all(r["split"] == "dev" and r["origin_pruner"] >= r["kept_pruner"] for r in found)
    rag = [r for r in found if r["regime"] == "rag"]
    several = [r for r in found if r["regime"] == "rag5"]
    # several passages: every question of the article's five paragraphs, one (about paragraph 0) with the KL
    questions = {qa.qid for qa in data.xquad_article_items("en", "dev", articles=1)}
    assert {r["item"] for r in several} == questions and len(questions) > 5
    assert {r["item"] for r in several if "kl" in r} == {data.paragraphs("en")[0]["qas"][0]["id"]}
    assert {r["arm"] for r in several} == set(names) - {"fake_peer"}  # the peer on no question here
    assert {r["arm"] for r in rag} == set(names)
    assert all(isinstance(r["retained"], bool) for r in rag)
    assert [r for r in rag if r["arm"] == "none"][0]["retained"] is True
    # the passage is long enough: the peer is driven to the budget and every arm gets exactly what it kept
    peer = [r for r in rag if r["arm"] == "fake_peer"]
    assert len(peer) == 1 and peer[0]["peer_budget"]
    same_item = [r for r in rag if r["item"] == peer[0]["item"] and r["arm"] != "none"]
    assert {r["budget"] for r in same_item} == {peer[0]["kept_pruner"]}
    n = peer[0]["origin_pruner"]
    assert abs(peer[0]["kept_pruner"] - round(0.5 * n)) <= max(1, 0.03 * n)
    notes = [json.loads(line) for line in results.read_text().splitlines() if '"peer"' in line]
    assert {(n["peer"].split("/")[0], n["reached_budget"]) for n in notes} == {("mgsm", len(long)), ("rag", 1)}
    # a rerun finds everything done
    lines = results.read_text().count("\n")
    Bench(pruner, bench.target, settings, results, bench.cache, log=lambda m: None).run()
    assert results.read_text().count("\n") == lines
    report = write_report(tmp_path).read_text()
    assert "dev split" in report and "d vs random [95% CI]" in report and "answer retained" in report
    assert "reached the budget" in report
    assert "per language: en 3/3." in report  # distinct prompts / questions
    assert "Regime (c): five passages" in report
    assert (tmp_path / "quality.png").stat().st_size > 0
    del arms.ARMS["fake_peer"]
    assert json.loads(results.read_text().splitlines()[-1])["done"]


# ---- the named tables in README.md and docs/ -----------------------------------------------------------
def fake_results(path, split="test", target="smollm2-135m-instruct"):
    """A results file written by hand: MGSM and one passage, arms with fixed KLs (lite always below random)."""
    from bench.quality.report import Results

    lines = []
    kl = {"lite": 0.1, "random": 0.4, "rarity": 0.2, "truncation": 0.3, "llmlingua": 0.9, "lite+question": 0.3,
          "sentences": 0.3}
    for regime, rate, arms_run in (("mgsm", 0.7, ("lite", "random", "rarity", "truncation", "llmlingua")),
                                   ("rag", 0.5, ("lite", "random", "truncation", "lite+question", "sentences"))):
        for arm in arms_run:
            job = f"{regime}/en/{rate}/{arm}/0"
            for i in range(8):
                lang = ("en", "fr")[i % 2]
                lines.append({"job": job, "regime": regime, "lang": lang, "split": split, "item": f"q{i}",
                              "arm": arm, "rate": rate, "target": target, "kl": kl[arm] * (1 + 0.1 * i),
                              "budget": 70, "origin_pruner": 100, "kept_pruner": 70, "origin_target": 90,
                              "kept_target": 63, "retained": (arm == "lite+question" or i % 2 == 0)
                              if regime == "rag" else None})
            lines.append({"done": job, "cpu_s": 0.05 if arm != "llmlingua" else 5.0, "input_tokens": 1000})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return Results(path)


def test_named_tables_come_from_the_test_split_only(tmp_path):
    from bench.quality.report import named_tables

    dev = named_tables([fake_results(tmp_path / "quality-quick-dev.jsonl", split="dev")])
    assert dev == {}  # nothing from the dev split reaches the docs
    tables = named_tables([fake_results(tmp_path / "quality-quick-test.jsonl")])
    assert {"verdict", "retention-rag", "pooled-smollm2", "peer", "cpu", "vs-rarity", "question-kl",
            "headline"} <= set(tables)
    assert "pooled-gemma3" not in tables and "retention-rag5" not in tables  # not run: left out, not empty
    pooled = tables["pooled-smollm2"].splitlines()
    assert pooled[0].startswith("| arm | MGSM few-shot @0.7 | one passage @0.5 |")
    lite = next(row for row in pooled if row.startswith("| `lite` |"))
    assert f"**{np.log(0.1) - np.log(0.4):+.2f} [" in lite and "(8)" in lite  # d constant over questions: bold
    headline = tables["headline"].splitlines()
    assert 3 <= len(headline) - 2 <= 8
    assert "100x less" in tables["headline"]  # 5,000 vs 50 ms per 1,000 tokens


def test_write_docs_replaces_between_markers_idempotently(tmp_path):
    from bench.quality.report import write_docs

    (tmp_path / "docs").mkdir()
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- table:headline -->\nold\n| hand | copied |\n<!-- /table:headline -->\nafter\n")
    doc = tmp_path / "docs" / "quality.md"
    doc.write_text("text `<!-- table:cpu -->` in a sentence is no marker\n<!-- table:cpu -->\n<!-- /table:cpu -->\n"
                   "<!-- table:stale -->\nkept\n<!-- /table:stale -->\n")
    tables = {"headline": "| a | b |\n|---|---|\n| 1 | 2 |", "cpu": "| c |\n|---|", "orphan": "| o |"}
    update = write_docs(tables, tmp_path)
    assert readme.read_text() == ("# x\n\n<!-- table:headline -->\n| a | b |\n|---|---|\n| 1 | 2 |\n"
                                  "<!-- /table:headline -->\nafter\n")
    assert "<!-- table:cpu -->\n| c |\n|---|\n<!-- /table:cpu -->" in doc.read_text()
    assert "<!-- table:stale -->\nkept\n<!-- /table:stale -->" in doc.read_text()  # no table for it: as it was
    assert update.written == {"headline": ["README.md"], "cpu": ["docs/quality.md"]}
    assert update.not_found == ["orphan"] and update.no_table == {"stale": ["docs/quality.md"]}
    assert "orphan" in update.summary() and "stale" in update.summary()
    before = (readme.read_text(), doc.read_text())
    again = write_docs(tables, tmp_path)
    assert (readme.read_text(), doc.read_text()) == before and again.changed == []
    assert not list(tmp_path.rglob("*.partial"))


@pytest.mark.parametrize(("text", "message"), [
    ("<!-- table:cpu -->\n| x |\n", "no closing"),
    ("| x |\n<!-- /table:cpu -->\n", "closes no open"),
    ("<!-- table:cpu -->\n<!-- table:peer -->\n<!-- /table:peer -->\n<!-- /table:cpu -->\n", "opens inside"),
    ("<!-- table:cpu -->\n<!-- /table:peer -->\n", "closes no open"),
])
def test_write_docs_refuses_an_unpaired_marker_and_writes_nothing(tmp_path, text, message):
    from bench.quality.report import DocsTableError, write_docs

    (tmp_path / "docs").mkdir()
    good = tmp_path / "README.md"
    good.write_text("<!-- table:headline -->\nold\n<!-- /table:headline -->\n")
    bad = tmp_path / "docs" / "x.md"
    bad.write_text(text)
    with pytest.raises(DocsTableError, match=message):
        write_docs({"headline": "| new |", "cpu": "| c |"}, tmp_path)
    assert good.read_text() == "<!-- table:headline -->\nold\n<!-- /table:headline -->\n"
    assert bad.read_text() == text


# A QUALITY.md in the report's shape: the SmolLM2 section's MGSM @0.7 and one passage @0.5, the summary's retention
# table; no Gemma-3 section, no five passages.
SMALL_REPORT = """# Pruning quality (bench v2)

## Summary

*test split*

| target | regime | bin | @0.7 |
|---|---|---|---|
| gemma-3-270m | MGSM few-shot | high (en) | **-1.00 [-1.50, -0.50] beats** |
| smollm2-135m-instruct | MGSM few-shot | high (en, fr) | -0.50 [-0.90, +0.10] tie |

**Answer retention per language**, one passage, target smollm2-135m-instruct, test split (the share ...):

| rate | strategy | de | mean | questions |
|---|---|---|---|---|
| 0.5 | **lite+question** | 0.90 | 0.900 | 20 |
| 0.5 | truncation | 0.60 | 0.600 | 20 |

## `quality-quick-test-smollm2.jsonl`: target smollm2-135m-instruct, **test split**

### Regime (a): MGSM few-shot exemplars pruned, question kept

#### Rate 0.7 (test split)

| arm | mean KL | d vs random [95% CI] | wins/losses (p) | beats random | CPU ms / 1k tokens |
|---|---|---|---|---|---|
| lite (rank_mix) | 0.031 | -0.50 [-0.90, -0.10] | 7/3 (0.34) | **yes** | 40.2 |
| llmlingua | 0.518 | +1.75 [+1.08, +2.81] | 1/9 (0.02) | no (worse) | 4020.0 |
| random | 0.059 | – | – | – | 14.7 |

Mean KL per language, rate 0.7 (bold: lower than random):

| arm | en (high) | fr (high) |
|---|---|---|
| lite | **0.030** | 0.032 |

### Regime (b): an XQuAD passage pruned, the question after it kept

#### Rate 0.5 (test split)

| arm | mean KL | d vs random [95% CI] | wins/losses (p) | beats random | answer retained | CPU ms / 1k tokens |
|---|---|---|---|---|---|---|
| lite (rank_mix) | 0.313 | +0.20 [-0.10, +0.40] | 3/5 (0.73) | tie | 0.58 | 47.5 |
| random | 0.219 | – | – | – | 0.56 | 10.3 |

Answer retention, paired differences (all items of the split sample), rate 0.5:

| arm | retained | minus truncation [95% CI] |
|---|---|---|
| truncation | 0.60 | – |
| lite+question | 0.90 | **+0.30 [+0.20, +0.40]** |
"""


def test_headline_from_a_quality_report_takes_each_number_from_its_cell():
    from bench.quality.report import named_tables_from_report

    tables = named_tables_from_report(SMALL_REPORT)
    assert tables["headline"].splitlines()[2:] == [
        "| Few-shot prompts (MGSM, 2 languages) @0.7: lite vs random clauses, SmolLM2 target "
        "| d = -0.50 [-0.90, -0.10] (10 questions) | better |",
        "| the same, Gemma-3-270M target (cross-family) | " + NOT_MEASURED + " | – |",  # no Gemma-3 section
        "| Few-shot @0.7: lite vs in-text rarity alone (no model) | " + NOT_MEASURED + " | – |",  # no d vs rarity
        "| One passage, no question @0.5: lite vs random clauses | d = +0.20 [-0.10, +0.40] (8 questions) | tie |",
        "| One passage + question @0.5: answer kept, lite vs truncation "
        "| 0.90 vs 0.60; difference +0.30 [+0.20, +0.40] (20 questions) | better |",
        "| Five passages + question @0.5: answer kept, lite vs truncation | " + NOT_MEASURED + " | – |",
        "| One passage + question @0.5: target's KL, lite vs truncation | " + NOT_MEASURED + " | – |",
        "| CPU ms per 1,000 tokens (few-shot): lite vs LLMLingua (same SmolLM2) | 40 vs 4,020 | 100x less |",
    ]
    verdict = tables["verdict"].splitlines()  # as QUALITY.md has it, SmolLM2 first as named_tables writes it
    assert verdict[2].startswith("| smollm2-135m-instruct |") and verdict[3].startswith("| gemma-3-270m |")
    assert tables["retention-rag"].startswith("| rate | strategy |") and len(tables["retention-rag"].splitlines()) == 4
    assert tables["retention-rag"] in SMALL_REPORT  # verbatim
    assert "retention-rag5" not in tables


def test_a_missing_cell_in_the_quality_report_is_not_measured():
    from bench.quality.report import named_tables_from_report

    for cut in ("| 7/3 (0.34) |", "| -0.50 [-0.90, -0.10] |"):  # the count, or the interval, gone
        text = SMALL_REPORT.replace(cut, "| – |")
        first = named_tables_from_report(text)["headline"].splitlines()[2]
        assert first.endswith("| " + NOT_MEASURED + " | – |")
    unequal = SMALL_REPORT.replace("| 0.600 | 20 |", "| 0.600 | 19 |")  # questions not the same: no count to give
    assert "| One passage + question @0.5: answer kept, lite vs truncation | " + NOT_MEASURED + " | – |" in \
        named_tables_from_report(unequal)["headline"]


def test_readme_headline_is_what_the_report_builds_from_the_committed_quality_md():
    from bench.quality.report import REPO, marker_pairs, named_tables_from_report

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (start, end), = [(s, e) for name, s, e in marker_pairs(readme, "README.md") if name == "headline"]
    built = named_tables_from_report((REPO / "bench" / "results" / "QUALITY.md").read_text(encoding="utf-8"))
    assert readme[start:end].strip("\n") == built["headline"]  # a hand edit fails: rerun the report --docs-only
