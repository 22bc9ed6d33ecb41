"""bench/rag: the multi-passage bench end to end on a tiny subset, and its arms' numbers checked by construction."""

from __future__ import annotations

import json
from functools import partial

import pytest

import lite
from bench.rag import arms as rag_arms
from bench.rag.__main__ import main
from bench.rag.arms import ARMS, Arm, Env, auto_supported, ordered
from bench.rag.contexts import Context, answer_kept, xquad_contexts
from bench.rag.run import records, run, sets_of

GOLD = "The Meridian bridge over the river Oskel was designed by the engineer Hanna Varga in 1931."
OTHERS = ("Tomatoes grow best in warm soil and need plenty of sun during the summer months.",
          "The violin has four strings tuned in fifths and is played with a bow made of horsehair.",
          "Glaciers carve deep valleys as they move slowly downhill under their own great weight.",
          "A marathon is a long-distance foot race with a distance of about forty-two kilometres.")


def synthetic(gold_at: int = 2) -> Context:
    passages = list(OTHERS)
    passages.insert(gold_at, GOLD)
    return Context("synthetic", "en", "q0", "Who designed the Meridian bridge over the Oskel?", ("Hanna Varga",),
                   tuple(passages), gold_at)


@pytest.fixture(scope="module")
def env(smollm2_slice) -> Env:
    return Env(lite.load(smollm2_slice, threads=1))


def test_truncation_at_rate_one_keeps_every_passage_whole(env):
    for ctx in xquad_contexts("en", "dev", 5, "hard")[:3] + [synthetic()]:
        kept = rag_arms.truncation_arm(env, ctx, 1.0)
        assert kept.texts == ctx.passages and answer_kept(kept.texts[ctx.gold], ctx)
        assert kept.tokens == sum(env.count(p) for p in ctx.passages)


@pytest.mark.parametrize("family", ["bm25", "minilm"])
def test_whole_passages_at_the_gold_share_keep_the_gold_when_only_it_matches(env, family):
    ctx = synthetic()
    n = sum(env.count(p) for p in ctx.passages)
    rate = env.count(GOLD) / n  # round(rate * n) is the gold passage's tokens exactly
    kept = rag_arms.FAMILIES[family](env, ctx, rate)
    assert kept.texts == tuple(GOLD if i == ctx.gold else "" for i in range(len(ctx.passages)))
    assert kept.tokens == env.count(GOLD) and answer_kept(kept.texts[ctx.gold], ctx)
    # one token more than the gold: the next passage in rank order gives its first token, and no more
    more = rag_arms.FAMILIES[family](env, ctx, (env.count(GOLD) + 1) / n)
    assert more.tokens == env.count(GOLD) + 1 and sum(1 for t in more.texts if t) == 2


def test_every_arm_keeps_its_budget_and_the_order_variants_move_the_gold(env):
    ctx = synthetic(gold_at=0)
    n = sum(env.count(p) for p in ctx.passages)
    for rate in (0.2, 0.5):
        for family in ("lite", "truncation", "bm25"):
            kept = rag_arms.FAMILIES[family](env, ctx, rate)
            assert 0 < kept.tokens <= round(rate * n), (family, rate)
    kept = rag_arms.bm25_arm(env, ctx, 0.5)
    assert ordered(kept, ctx, "first")[0] == GOLD and ordered(kept, ctx, "last")[-1] == GOLD
    assert ordered(kept, ctx, "original") == [t for t in kept.texts if t]


def test_a_plain_list_of_contexts_runs_and_auto_is_run_or_announced(env, tmp_path):
    logged = []
    arms = [ARMS["bm25@0.2"], ARMS["auto"], Arm("truncation@1", partial(rag_arms.truncation_arm, rate=1.0), 1.0,
                                                   "truncation")]
    run(env, sets_of([synthetic(), synthetic(gold_at=4)]), arms, "dev", tmp_path / "r.jsonl", log=logged.append)
    found = records(tmp_path / "r.jsonl")
    assert all(r["retained"] for r in found if r["arm"] == "truncation@1")
    if auto_supported(env):
        assert any(r["arm"] == "auto" for r in found)
    else:
        assert any("auto" in line and "skipped" in line for line in logged)
        assert not any(r["arm"] == "auto" for r in found)


def test_the_bench_end_to_end_writes_a_consistent_report(tmp_path):
    argv = ["--split", "dev", "--languages", "en", "zh", "--sizes", "5", "10", "--kinds", "hard", "--questions", "3",
            "--arms", "lite@0.05", "lite@0.2", "bm25@0.2", "truncation@0.5", "--results", str(tmp_path)]
    assert main(argv) == 0
    lines = [json.loads(x) for x in (tmp_path / "rag-dev.jsonl").read_text().splitlines()]
    found = records(tmp_path / "rag-dev.jsonl")
    assert len(found) == 2 * 2 * 3 * 4 and sum("done" in x for x in lines) == 2 * 2 * 4
    for r in found:
        assert 0 < r["kept"] <= max(1, round(r["rate"] * r["n"])) and r["share"] == r["kept"] / r["n"]
    report = (tmp_path / "RAG-dev.md").read_text()
    assert (tmp_path / "rag-dev.png").stat().st_size > 0
    assert "| lite@0.2 |" in report and "rate 0.2: lite's retention ≥ bm25's" in report
    assert main(argv) == 0  # resumes: nothing left to run, nothing appended
    assert len((tmp_path / "rag-dev.jsonl").read_text().splitlines()) == len(lines)


def test_longllmlingua_pieces_go_back_to_their_passages_and_it_is_not_a_default_arm():
    ctx = synthetic(gold_at=3)
    pieces = ["Tomatoes grow warm soil", "Meridian bridge designed Hanna Varga 1931.", "marathon long race"]
    assert [[j for _, _, j in spans] for spans in rag_arms.assign(pieces, ctx.passages)] == [[0], [3], [4]]
    assert rag_arms.assign([], ctx.passages) == []
    # the separator between two passages compressed away: the piece is cut where the passage changes
    merged = "Meridian bridge designed engineer Hanna Varga 1931. marathon long-distance foot race distance kilometres"
    spans = rag_arms.assign(["violin four strings bow", merged], ctx.passages)
    assert [j for _, _, j in spans[0]] == [1] and [j for _, _, j in spans[1]] == [3, 4]
    assert merged[spans[1][0][0]:spans[1][0][1]] == "Meridian bridge designed engineer Hanna Varga 1931."
    peer = [a for a in ARMS.values() if a.family == "longllmlingua"]
    assert {a.rate for a in peer} == set(rag_arms.RATES) and not any(a.default for a in peer)


def test_the_report_compares_longllmlingua_on_its_subset_only(tmp_path):
    from bench.rag.report import peer_section

    def rec(arm, family, lang, qid, retained, **extra):
        return {"split": "test", "source": "xquad", "lang": lang, "size": 20, "kind": "hard", "id": qid, "gold": 0,
                "arm": arm, "family": family, "rate": 0.1, "n": 1000, "kept": 100, "share": 0.1,
                "retained": retained, "passages_kept": 1, "cpu_ms": 2000.0, **extra}

    rows = [rec("lite@0.1", "lite", lang, q, True) for lang in ("en", "de") for q in ("a", "b")]
    rows += [rec("longllmlingua@0.1", "longllmlingua", lang, "a", lang == "en", hit=True) for lang in ("en", "de")]
    text = "\n".join(peer_section(rows))
    assert "2 questions (20 passages, hard distractors; en 1, de 1)" in text
    assert "| 0.1 | 0.500 (0.100) | 1.000 (0.100) |" in text and "| 2 of 2 | 2.0 |" in text
    assert peer_section([r for r in rows if r["family"] == "lite"]) == []


def test_the_whole_passage_study_is_what_prune_keeps(env):
    from bench.rag import whole

    for size in (5, 20):
        for ctx in xquad_contexts("en", "dev", size, "hard")[:2]:
            rows = whole.outcomes(env.pruner, env, ctx, check=True)  # stops if a share's outcome is not prune's
            assert [r["rate"] for r in rows] == list(whole.RATES)
            for r in rows:
                kept = answer_kept(rag_arms.bm25_arm(env, ctx, r["rate"]).texts[ctx.gold], ctx)
                assert r["bm25"] == kept and all(isinstance(r[s], bool) for s in whole.SHARES)
    rows = [{"rate": 0.1, "bm25": True, "lang": "en", "size": 5, **{s: s > 0 for s in whole.SHARES}},
            {"rate": 0.1, "bm25": False, "lang": "de", "size": 5, **dict.fromkeys(whole.SHARES, True)}]
    line = next(line for line in whole.table(rows) if line.startswith("| 5 | 0.1 |"))
    assert line == "| 5 | 0.1 | 0.500 | 0.500 (1) −1 +1 | 1.000 (2) −0 +1 | 1.000 (2) −0 +1 | 1.000 (2) −0 +1 |"
